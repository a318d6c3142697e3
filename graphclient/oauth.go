package graphclient

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// DefaultScopes are requested when the host names none: a refresh token, the
// profile for the account name, and the calendar.
var DefaultScopes = []string{"offline_access", "User.Read", "Calendars.ReadWrite"}

// RequiredScope is the delegated permission sync cannot work without.
const RequiredScope = "Calendars.ReadWrite"

// refreshMargin is how close to expiry an access token is refreshed rather
// than used: a Graph call started just before expiry must not fail with 401.
const refreshMargin = 5 * time.Minute

func oauthConfig(cfg Config, app App, scopes []string) *oauth2.Config {
	base := cfg.Endpoints.Authority + "/" + url.PathEscape(app.Tenant) + "/oauth2/v2.0/"
	return &oauth2.Config{
		ClientID:     app.ClientID,
		ClientSecret: app.ClientSecret,
		RedirectURL:  app.RedirectURI,
		Scopes:       scopes,
		Endpoint: oauth2.Endpoint{
			AuthURL:   base + "authorize",
			TokenURL:  base + "token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
	}
}

// oauthContext makes x/oauth2 use the configured transport, wrapped so that
// token-endpoint calls are logged (status and request ids, never bodies).
// The client follows no redirect: a token request carries the client
// secret and a refresh token, code or verifier, and the identity platform
// never redirects it, so a 3xx is refused and nothing is sent again.
func oauthContext(ctx context.Context, cfg Config) context.Context {
	hc := &http.Client{
		Transport:     tokenAnswerGuard{next: &loggingTransport{next: cfg.Transport, cfg: cfg, what: "oauth"}},
		CheckRedirect: refuseTokenRedirect,
		Timeout:       time.Minute,
	}
	return context.WithValue(ctx, oauth2.HTTPClient, hc)
}

// refuseTokenRedirect is the token client's CheckRedirect. A redirect from
// the token endpoint means the authority URL is wrong (or something between
// us and Microsoft answers in its place): a configuration error, never
// retryable, since trying again meets the same redirect.
func refuseTokenRedirect(req *http.Request, via []*http.Request) error {
	status := 0
	if req.Response != nil {
		status = req.Response.StatusCode
	}
	return &calsync.Error{Kind: calsync.KindConfiguration, Op: "oauth.token", Cause: CauseRedirect,
		Message: fmt.Sprintf("the Microsoft token endpoint %s answered with a redirect (status %d), which is never followed: check the authority URL the sidecar was started with (--authority-url)",
			via[0].URL.Redacted(), status)}
}

// maxTokenAnswerBytes is what x/oauth2 reads of a token answer.
const maxTokenAnswerBytes = 1 << 20

// tokenAnswerGuard makes sure that a successful answer of the token
// endpoint is a JSON object carrying an access token (or an error, which
// x/oauth2 reports as a RetrieveError for Classify) before x/oauth2 reads
// it. x/oauth2 turns anything else (a gateway's HTML page, a body cut
// short, an object without access_token) into an untyped error that would
// read as our bug: it is Microsoft sign-in being unavailable, retryable.
type tokenAnswerGuard struct{ next http.RoundTripper }

func (g tokenAnswerGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := g.next.RoundTrip(req)
	if err != nil || resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp, err
	}
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxTokenAnswerBytes+1))
	resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	switch {
	case rerr != nil:
		return nil, badTokenAnswer("broke off")
	case len(body) > maxTokenAnswerBytes:
		return nil, badTokenAnswer("is too large")
	case !jsonContent(resp.Header) || !jsonObject(body) || json.Unmarshal(body, &tok) != nil:
		return nil, badTokenAnswer("is not a JSON object")
	case tok.AccessToken == "" && tok.Error == "":
		return nil, badTokenAnswer("has no access token")
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

func badTokenAnswer(what string) *calsync.Error {
	return &calsync.Error{Kind: calsync.KindUnavailable, Op: "oauth.token",
		Message: "the answer of Microsoft sign-in " + what + "; try again later"}
}

// AuthorizationRequest holds the optional parts of a sign-in request.
type AuthorizationRequest struct {
	Scopes    []string // DefaultScopes when empty
	LoginHint string
	Prompt    string // login, none, consent or select_account
}

// Authorization is the start of a sign-in: the URL to open, and the state
// and PKCE verifier the host keeps in the user's session until the callback.
type Authorization struct {
	URL          string `json:"url"`
	State        string `json:"state"`
	CodeVerifier string `json:"codeVerifier"`
}

// NewAuthorization builds the sign-in URL with a fresh state (256 bits from
// crypto/rand) and a PKCE S256 challenge for a fresh RFC 7636 verifier.
func NewAuthorization(cfg Config, app App, r AuthorizationRequest) (Authorization, error) {
	cfg = cfg.withDefaults()
	if err := app.Validate(false); err != nil {
		return Authorization{}, err
	}
	switch r.Prompt {
	case "", "login", "none", "consent", "select_account":
	default:
		return Authorization{}, calsync.Invalid("prompt", "must be login, none, consent or select_account")
	}
	scopes := r.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	if !HasScope(scopes, "openid") {
		// The id_token names the account's tenant; openid needs no consent.
		scopes = append([]string{"openid"}, scopes...)
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return Authorization{}, &calsync.Error{Kind: calsync.KindInternal, Op: "oauth.authorize", Message: "no randomness for state", Err: err}
	}
	state := base64.RawURLEncoding.EncodeToString(b)
	verifier := oauth2.GenerateVerifier()
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("response_mode", "query")}
	if r.LoginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", r.LoginHint))
	}
	if r.Prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", r.Prompt))
	}
	u := oauthConfig(cfg, app, scopes).AuthCodeURL(state, opts...)
	return Authorization{URL: u, State: state, CodeVerifier: verifier}, nil
}

// validVerifier reports whether v is an RFC 7636 §4.1 code_verifier: 43 to
// 128 unreserved characters. (A regexp with that bounded repetition costs a
// third of a millisecond to compile at every process start.)
func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := range len(v) {
		switch c := v[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '.', c == '_', c == '~', c == '-':
		default:
			return false
		}
	}
	return true
}

// Grant is the result of redeeming an authorization code.
type Grant struct {
	Tokens        Tokens
	GrantedScopes []string // as the token endpoint reported them
	TenantID      string   // from the id_token, "" without one
}

// Exchange redeems an authorization code with the PKCE verifier and the
// client secret. Failures are classified (a bad, reused or expired code is
// invalid_input on field "code").
func Exchange(ctx context.Context, cfg Config, app App, code, codeVerifier string) (Grant, error) {
	cfg = cfg.withDefaults()
	if err := app.Validate(true); err != nil {
		return Grant{}, err
	}
	if code == "" {
		return Grant{}, calsync.Invalid("code", "is required")
	}
	if !validVerifier(codeVerifier) {
		return Grant{}, calsync.Invalid("codeVerifier", "must be the verifier from connection.authorizationUrl: 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636)")
	}
	oc := oauthConfig(cfg, app, DefaultScopes)
	tok, err := oc.Exchange(oauthContext(ctx, cfg), code, oauth2.VerifierOption(codeVerifier))
	if err != nil {
		e := Classify(err)
		e.Op = "oauth.exchangeCode"
		if e.Kind == calsync.KindReconnectRequired {
			// On the code leg an invalid grant is the code itself, not a
			// stored connection: the sign-in must simply be started again.
			e.Kind, e.Field = calsync.KindInvalidInput, "code"
			e.Message = "the authorization code is invalid, expired or already used; start the sign-in again"
		}
		return Grant{}, e
	}
	return Grant{Tokens: tokensOf(tok), GrantedScopes: scopesOf(tok), TenantID: idTokenTenant(tok)}, nil
}

func tokensOf(t *oauth2.Token) Tokens {
	return Tokens{AccessToken: t.AccessToken, RefreshToken: t.RefreshToken, ExpiresAt: t.Expiry.UTC()}
}

func scopesOf(t *oauth2.Token) []string {
	s, _ := t.Extra("scope").(string)
	return strings.Fields(s)
}

// HasScope reports whether granted contains scope, ignoring case and the
// resource prefix Microsoft may add (https://graph.microsoft.com/Calendars.ReadWrite).
func HasScope(granted []string, scope string) bool {
	for _, g := range granted {
		if i := strings.LastIndexByte(g, '/'); i >= 0 {
			g = g[i+1:]
		}
		if strings.EqualFold(g, scope) {
			return true
		}
	}
	return false
}

var errNoRefreshToken = errors.New("no refresh token")

// capturingSource wraps the refreshing TokenSource and remembers the newest
// token, so a rotated refresh token reaches the host.
type capturingSource struct {
	oc  *oauth2.Config
	ctx context.Context // bounds refreshes: the session's request

	src oauth2.TokenSource

	mu      sync.Mutex
	initial Tokens
	last    *oauth2.Token
	scopes  []string // from the last refresh response, nil before
}

func (c *capturingSource) Token() (*oauth2.Token, error) {
	c.mu.Lock()
	src := c.src
	c.mu.Unlock()
	t, err := src.Token()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if src != c.src {
		return c.last, nil // reauthenticate replaced the source meanwhile
	}
	if c.last == nil || t.AccessToken != c.last.AccessToken {
		if s := scopesOf(t); len(s) > 0 {
			c.scopes = s
		}
	}
	c.last = t
	return t, nil
}

// reauthenticate replaces the access token that Graph refused with 401 by a
// freshly refreshed one, unless another call already did. x/oauth2 trusts
// the expiry it was given; Graph may disagree (clock skew, a token revoked
// early), and only a refresh tells a dead grant from a stale access token.
func (c *capturingSource) reauthenticate(refused string) (*oauth2.Token, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cur := c.last
	if cur != nil && cur.AccessToken != refused {
		return cur, nil
	}
	rt := c.initial.RefreshToken
	if cur != nil {
		rt = cur.RefreshToken
	}
	if rt == "" {
		return nil, errNoRefreshToken
	}
	stale := &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)}
	t, err := c.oc.TokenSource(c.ctx, stale).Token()
	if err != nil {
		return nil, err
	}
	if s := scopesOf(t); len(s) > 0 {
		c.scopes = s
	}
	c.last = t
	c.src = oauth2.ReuseTokenSource(t, c.oc.TokenSource(c.ctx, t))
	return t, nil
}

func (c *capturingSource) tokens() (Tokens, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil {
		return c.initial, false
	}
	t := tokensOf(c.last)
	rotated := t.AccessToken != c.initial.AccessToken || t.RefreshToken != c.initial.RefreshToken
	if !rotated {
		return c.initial, false
	}
	return t, true
}
