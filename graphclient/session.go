package graphclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"golang.org/x/oauth2"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// Retry policy of the SDK's retry middleware (429, 503, 504 only). Waits
// follow Retry-After, or DelaySeconds·2^(n-1) without it; a wait that would
// outlast the request's deadline is not started (see shouldRetry).
const (
	maxRetries   = 5
	delaySeconds = 2
	maxRedirects = 5
	// clientTimeout bounds one Graph call, retries included, when the
	// caller's context has no deadline of its own.
	clientTimeout = 2 * time.Minute
)

// Session is one user's connection to Graph for the length of one request.
// It is safe for concurrent use.
type Session struct {
	tenant  string // as the app registration names it
	graph   graphBase
	src     *capturingSource
	adapter *msgraph.GraphRequestAdapter
	client  *msgraph.GraphServiceClient
	counts  *counter
}

// NewSession checks the registration and the tokens and builds a Graph
// client for them. Nothing is sent yet: the access token is refreshed on
// the first Graph call when it is expired or expires within five minutes
// (by cfg.Now). ctx bounds the refreshes made by this session.
func NewSession(ctx context.Context, cfg Config, app App, tok Tokens) (*Session, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Endpoints.Validate(); err != nil {
		return nil, &calsync.Error{Kind: calsync.KindInternal, Op: "graph.session", Message: "bad endpoint configuration", Err: err}
	}
	if err := app.Validate(true); err != nil {
		return nil, err
	}
	stale := tok.AccessToken == "" || !cfg.Now().Add(refreshMargin).Before(tok.ExpiresAt)
	if stale && tok.RefreshToken == "" {
		return nil, calsync.Invalid("tokens.refreshToken",
			"the access token is missing or expired and there is no refresh token; connect the account again")
	}
	initial := &oauth2.Token{AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, TokenType: "Bearer", Expiry: tok.ExpiresAt}
	if stale {
		// x/oauth2 decides expiry by the wall clock and treats a zero
		// Expiry as "never"; a past Expiry makes it refresh now.
		initial.Expiry = time.Unix(1, 0)
	}
	oc := oauthConfig(cfg, app, nil)
	octx := oauthContext(ctx, cfg)
	src := &capturingSource{oc: oc, ctx: octx, src: oauth2.ReuseTokenSource(initial, oc.TokenSource(octx, initial)), initial: tok}

	g, err := url.Parse(cfg.Endpoints.Graph)
	if err != nil {
		return nil, &calsync.Error{Kind: calsync.KindInternal, Op: "graph.session", Message: "bad graph endpoint", Err: err}
	}
	base := graphBase{u: g}
	counts := newCounter(g.Path)
	hosts, err := absauth.NewAllowedHostsValidatorErrorCheck([]string{g.Hostname()})
	if err != nil {
		return nil, &calsync.Error{Kind: calsync.KindInternal, Op: "graph.session", Message: "bad graph endpoint", Err: err}
	}
	auth := absauth.NewBaseBearerTokenAuthenticationProvider(&tokenProvider{src: src, graph: base, hosts: hosts})
	hc := &http.Client{
		Transport:     khttp.NewCustomTransportWithParentTransport(cfg.Transport, middleware(cfg, src, base, counts)...),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       clientTimeout,
	}
	adapter, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		return nil, &calsync.Error{Kind: calsync.KindInternal, Op: "graph.session", Message: "cannot build the Graph client", Err: err}
	}
	// Before newGraphClient: batch item URLs freeze the base URL when the
	// client is built.
	adapter.SetBaseUrl(cfg.Endpoints.Graph)
	return &Session{tenant: app.Tenant, graph: base, src: src, adapter: adapter, client: newGraphClient(adapter), counts: counts}, nil
}

// sdkGlobals sets up msgraph-sdk-go's process-global state once.
var sdkGlobals sync.Once

// newGraphClient is msgraph.NewGraphServiceClient without its writes to
// process-global state, which race with parsing in concurrent sessions
// (sdk-notes §0.8, §7; TestConcurrentSessions).
//
// Building a client the SDK's way (msgraph-sdk-go v1.89.0
// graph_base_service_client.go NewGraphBaseServiceClient, kiota-abstractions-go
// v1.9.3 api_client_builder.go, kiota-http-go v1.5.4 EnableBackingStore)
// touches three globals:
//
//  1. RegisterDefaultSerializer/RegisterDefaultDeserializer insert the JSON,
//     text, form and multipart factories into
//     serialization.DefaultSerializationWriterFactoryInstance and
//     DefaultParseNodeFactoryInstance, only where the content type is not
//     registered yet;
//  2. EnableBackingStore wraps each registered factory in a backing-store
//     proxy, only where it is not wrapped yet;
//  3. EnableBackingStore(f) with f != nil assigns
//     store.BackingStoreFactoryInstance = f on every call.
//     NewGraphServiceClient passes the current value, so the value never
//     changes, but it is an unsynchronized write that every model
//     constructor (models.NewEvent, NewEntity, …) reads while a response is
//     parsed in another session.
//
// The registries are guarded by a mutex on the write side only: parsing
// (ParseNodeFactoryRegistry.GetRootParseNode, the adapter's serialization)
// reads their maps without it. So 1 and 2 are safe only after they have
// stopped writing, and 3 is never safe. The fix: sdkGlobals does 1 and 2
// once, before any session exists (sync.Once: every NewSession waits for it,
// so nothing parses before it completes); each session's client is then
// built with a nil backing-store factory, which skips 3 and leaves
// store.BackingStoreFactoryInstance at its default,
// store.NewInMemoryBackingStore, the very value NewGraphServiceClient would
// have assigned. Steps 1 and 2 then only read the registries under their
// lock. The resulting client and adapter are the same as
// NewGraphServiceClient's: same factories, backing store enabled, baseurl
// frozen from the adapter.
//
// So nothing in this process may call msgraph.NewGraphServiceClient (it
// would write 3 again), and code that uses the global registries without a
// session (serialization.SerializeToJson, DeserializeFromJson) must not run
// alongside the first NewSession. Parsing with kjson directly (calendar,
// sdk-notes §7) reads only store.BackingStoreFactoryInstance, which is never
// written now.
func newGraphClient(adapter *msgraph.GraphRequestAdapter) *msgraph.GraphServiceClient {
	sdkGlobals.Do(func() {
		// A throwaway adapter (no request is ever sent with it) so the one
		// write-phase happens before any session's client exists.
		boot, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(
			&absauth.AnonymousAuthenticationProvider{}, nil, nil, &http.Client{})
		if err != nil {
			panic("graphclient: cannot set up msgraph-sdk-go: " + err.Error()) // only for a nil auth provider
		}
		msgraph.NewGraphBaseServiceClient(boot, nil)
	})
	return &msgraph.GraphServiceClient{GraphBaseServiceClient: *msgraph.NewGraphBaseServiceClient(adapter, nil)}
}

// middleware is the SDK pipeline in a fixed order (the SDK's own default
// order is random per client). Compression is off so a retried body is
// always what was first sent; redirects are followed only within the Graph
// endpoint, and answerGuard turns any other 3xx, and answers the SDK would
// misread, into errors; a 401 gets one refresh and resend; no token leaves
// for a URL outside the Graph endpoint; the logging handler is innermost so
// every attempt is logged and counted.
func middleware(cfg Config, src *capturingSource, graph graphBase, counts *counter) []khttp.Middleware {
	opts := msgraph.GetDefaultClientOptions()
	return []khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&opts),
		khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs), // Me() → /me
		preferHandler{`IdType="ImmutableId"`},
		khttp.NewCompressionHandlerWithOptions(*khttp.NewCompressionOptionsReference(false)),
		khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{
			MaxRetries: maxRetries, DelaySeconds: delaySeconds, ShouldRetry: shouldRetry,
		}),
		answerGuard{},
		khttp.NewRedirectHandlerWithOptions(khttp.RedirectHandlerOptions{MaxRedirects: maxRedirects, ShouldRedirect: graph.redirectAllowed}),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandlerWithOptions(&khttp.UserAgentHandlerOptions{Enabled: true, ProductName: "oro-msync", ProductVersion: cfg.Version}),
		khttp.NewHeadersInspectionHandler(),
		reauthHandler{src},
		tokenGuard{graph},
		&loggingTransport{cfg: cfg, counts: counts, what: "graph"},
	}
}

// Client is the Graph client of this session.
func (s *Session) Client() *msgraph.GraphServiceClient { return s.client }

// Adapter is the request adapter behind Client, for batches and WithUrl links.
func (s *Session) Adapter() *msgraph.GraphRequestAdapter { return s.adapter }

// Tokens returns the current token set and whether it differs from the one
// the session was built with (a refresh happened). A rotated set must be
// handed back to the host even when a later step failed.
func (s *Session) Tokens() (t Tokens, rotated bool) { return s.src.tokens() }

// GrantedScopes returns the scopes the token endpoint reported on the last
// refresh made by this session, or nil when no refresh happened.
func (s *Session) GrantedScopes() []string {
	s.src.mu.Lock()
	defer s.src.mu.Unlock()
	return append([]string(nil), s.src.scopes...)
}

// RequestCounts returns the Graph HTTP requests made so far (retries
// included), by kind: method and path below the Graph base URL with ids
// replaced by {id}, e.g. "GET /me" or "PATCH /me/events/{id}".
func (s *Session) RequestCounts() map[string]int { return s.counts.snapshot() }

// CheckLink reports whether link, a Graph link the host sent back (field
// names it, e.g. "state.deltaLink"), may be followed with this session: it
// must be under the configured Graph endpoint, with the same scheme, host
// and port, and a path below its base path. The token provider refuses
// other URLs anyway; CheckLink names the field before anything is tried.
func (s *Session) CheckLink(field, link string) error {
	if !s.IsGraphLink(link) {
		return calsync.Invalid(field, "is not a link under the Microsoft Graph endpoint %s", s.graph.u.Redacted())
	}
	return nil
}

// IsGraphLink reports whether link is under the configured Graph endpoint
// (see CheckLink). A link Graph sent that is not (a nextLink, a deltaLink)
// is Graph's fault and must be refused where it comes in, before the host
// stores it.
func (s *Session) IsGraphLink(link string) bool {
	u, err := url.Parse(link)
	return err == nil && s.graph.allows(u)
}

// graphBase is the configured Graph endpoint, the only place the access
// token may go.
type graphBase struct{ u *url.URL }

// allows reports whether u has the endpoint's scheme, host and port (the
// scheme's default port when none is given) and a path at or below the
// endpoint's, without user info and without "." or ".." segments.
func (b graphBase) allows(u *url.URL) bool {
	if u == nil || u.Opaque != "" || u.User != nil ||
		!strings.EqualFold(u.Scheme, b.u.Scheme) || !strings.EqualFold(u.Hostname(), b.u.Hostname()) ||
		portOf(u) != portOf(b.u) {
		return false
	}
	base := strings.TrimRight(b.u.Path, "/")
	if u.Path != base && !strings.HasPrefix(u.Path, base+"/") {
		return false
	}
	for seg := range strings.SplitSeq(u.Path, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// refuse is the error for a token that would have gone to u.
func (b graphBase) refuse(u *url.URL) error {
	return &calsync.Error{Kind: calsync.KindInvalidInput, Op: "graph.authorize",
		Message: fmt.Sprintf("refusing to send the access token to %s://%s%s: it goes only to the Microsoft Graph endpoint %s",
			u.Scheme, u.Host, u.EscapedPath(), b.u.Redacted())}
}

// redirectAllowed is the redirect handler's ShouldRedirect: only a GET (the
// handler cannot replay a body) and only to a URL within the endpoint,
// resolved as the handler resolves it. Any other redirect reaches
// answerGuard, which refuses it.
func (b graphBase) redirectAllowed(req *http.Request, resp *http.Response) bool {
	loc := resp.Header.Get("Location")
	if req.Method != http.MethodGet || loc == "" {
		return false
	}
	if loc[0] == '/' {
		loc = req.URL.Scheme + "://" + req.URL.Host + loc
	}
	u, err := url.Parse(loc)
	return err == nil && b.allows(u)
}

func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// tokenGuard sits right above the network: a request that carries a token
// to a URL outside the Graph endpoint (the SDK's redirect handler keeps the
// token on a redirect to the same host, whatever the path) is not sent.
type tokenGuard struct{ graph graphBase }

func (m tokenGuard) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	if req.Header.Get("Authorization") != "" && !m.graph.allows(req.URL) {
		return nil, m.graph.refuse(req.URL)
	}
	return p.Next(req, i)
}

// tokenProvider hands the SDK access tokens from the session's TokenSource,
// and refuses URLs outside the Graph endpoint instead of silently sending
// the request without a token.
type tokenProvider struct {
	src   oauth2.TokenSource
	graph graphBase
	hosts *absauth.AllowedHostsValidator
}

func (p *tokenProvider) GetAuthorizationToken(_ context.Context, u *url.URL, _ map[string]any) (string, error) {
	if !p.graph.allows(u) {
		return "", p.graph.refuse(u)
	}
	t, err := p.src.Token()
	if err != nil {
		return "", fmt.Errorf("refreshing the access token: %w", err)
	}
	return t.AccessToken, nil
}

// GetAllowedHostsValidator completes the SDK's AccessTokenProvider; nothing
// in the SDK calls it here, and GetAuthorizationToken checks the whole URL.
func (p *tokenProvider) GetAllowedHostsValidator() *absauth.AllowedHostsValidator { return p.hosts }
