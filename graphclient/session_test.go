package graphclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/users"
	"github.com/rs/zerolog"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

const (
	testClientID = "6731de76-14a6-49ae-97bc-6eba6914391e"
	testSecret   = "s3cr3t-Value~of.the_app"
	testRedirect = "http://127.0.0.1:8400/oauth/callback"
	testUPN      = "adele@contoso.example"
	testTenant   = "72f988bf-86f1-41af-91ab-2d7cd011db47"
)

// recorder is the network below the SDK pipeline: it keeps the headers of
// every request so tests can see what went on the wire.
type recorder struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req.Clone(context.Background()))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *recorder) graphRequests() []*http.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*http.Request
	for _, q := range r.reqs {
		if strings.HasPrefix(q.URL.Path, "/v1.0/") {
			out = append(out, q)
		}
	}
	return out
}

type env struct {
	sim *graphsim.Sim
	cfg Config
	app App
	rec *recorder
	log *bytes.Buffer
}

func newEnv(t *testing.T, opts graphsim.Options) *env {
	t.Helper()
	opts.AutoConsent = true
	opts.Logf = t.Logf
	opts.DefaultTenantID = testTenant
	sim := graphsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.RegisterApp(graphsim.App{ClientID: testClientID, ClientSecret: testSecret, RedirectURIs: []string{testRedirect}})
	sim.AddUser(graphsim.User{UPN: testUPN, DisplayName: "Adele Vance", Mail: testUPN})
	e := &env{sim: sim, rec: &recorder{}, log: &bytes.Buffer{}}
	e.cfg = Config{
		Endpoints: Endpoints{Authority: srv.URL, Graph: srv.URL + "/v1.0"},
		Version:   "1.2.3-test",
		Logger:    zerolog.New(zerolog.SyncWriter(e.log)).Level(zerolog.DebugLevel),
		Transport: e.rec,
	}
	e.app = App{Tenant: "common", ClientID: testClientID, ClientSecret: testSecret, RedirectURI: testRedirect}
	return e
}

// signIn runs the browser's part: open the URL, follow nothing, read the
// redirect back to the app.
func (e *env) signIn(t *testing.T, r AuthorizationRequest) (Authorization, url.Values) {
	t.Helper()
	if r.LoginHint == "" {
		r.LoginHint = testUPN
	}
	a, err := NewAuthorization(e.cfg, e.app, r)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(a.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("authorize answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return a, loc.Query()
}

func (e *env) connect(t *testing.T) (Authorization, Grant, string) {
	t.Helper()
	a, q := e.signIn(t, AuthorizationRequest{})
	g, err := Exchange(context.Background(), e.cfg, e.app, q.Get("code"), a.CodeVerifier)
	if err != nil {
		t.Fatal(err)
	}
	return a, g, q.Get("code")
}

func TestAuthorizationURL(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	a, err := NewAuthorization(e.cfg, e.app, AuthorizationRequest{LoginHint: testUPN, Prompt: "select_account"})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(a.URL)
	q := u.Query()
	if want := e.cfg.Endpoints.Authority + "/common/oauth2/v2.0/authorize"; u.Scheme+"://"+u.Host+u.Path != want {
		t.Errorf("url = %s, want %s", a.URL, want)
	}
	sum := sha256.Sum256([]byte(a.CodeVerifier))
	for k, want := range map[string]string{
		"response_type": "code", "client_id": testClientID, "redirect_uri": testRedirect,
		"scope": "openid offline_access User.Read Calendars.ReadWrite", "state": a.State,
		"code_challenge_method": "S256", "code_challenge": base64.RawURLEncoding.EncodeToString(sum[:]),
		"login_hint": testUPN, "prompt": "select_account",
	} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	if b, err := base64.RawURLEncoding.DecodeString(a.State); err != nil || len(b) < 16 {
		t.Errorf("state %q carries fewer than 128 bits", a.State)
	}
	if !validVerifier(a.CodeVerifier) {
		t.Errorf("verifier %q is not RFC 7636", a.CodeVerifier)
	}
	b, _ := NewAuthorization(e.cfg, e.app, AuthorizationRequest{})
	if b.State == a.State || b.CodeVerifier == a.CodeVerifier {
		t.Error("state or verifier repeats between sign-ins")
	}
	if _, err := NewAuthorization(e.cfg, e.app, AuthorizationRequest{Prompt: "always"}); calsync.KindOf(err) != calsync.KindInvalidInput {
		t.Errorf("bad prompt: %v", err)
	}
	bad := e.app
	bad.Tenant = "a/b"
	if _, err := NewAuthorization(e.cfg, bad, AuthorizationRequest{}); calsync.AsError(err).Field != "app.tenant" {
		t.Errorf("bad tenant: %v", err)
	}
}

// TestConnect runs sign-in, code redemption and /me, and checks what went on
// the wire and into the log.
func TestConnect(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	a, g, code := e.connect(t)
	if g.Tokens.AccessToken == "" || g.Tokens.RefreshToken == "" || time.Until(g.Tokens.ExpiresAt) < 50*time.Minute {
		t.Fatalf("tokens = %+v", g.Tokens)
	}
	if !HasScope(g.GrantedScopes, RequiredScope) || g.TenantID != testTenant {
		t.Errorf("granted %v, tenant %q", g.GrantedScopes, g.TenantID)
	}
	s, err := NewSession(context.Background(), e.cfg, e.app, g.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	acct, err := s.Me(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if acct.DisplayName != "Adele Vance" || acct.Email != testUPN || acct.ID == "" {
		t.Errorf("account = %+v", acct)
	}
	cal, err := s.DefaultCalendar(context.Background())
	if err != nil || cal.ID == "" || !cal.CanEdit {
		t.Errorf("calendar = %+v, %v", cal, err)
	}
	if _, rotated := s.Tokens(); rotated {
		t.Error("fresh tokens reported as rotated")
	}
	if got := s.RequestCounts(); got["GET /me"] != 1 || got["GET /me/calendar"] != 1 || len(got) != 2 {
		t.Errorf("RequestCounts = %v", got)
	}
	reqs := e.rec.graphRequests()
	if len(reqs) != 2 {
		t.Fatalf("%d Graph requests on the wire, want 2", len(reqs))
	}
	for _, r := range reqs {
		if !containsValue(r.Header.Values("Prefer"), `IdType="ImmutableId"`) {
			t.Errorf("%s: Prefer = %q", r.URL.Path, r.Header.Values("Prefer"))
		}
		if ua := r.Header.Get("User-Agent"); !strings.Contains(ua, "oro-msync/1.2.3-test") {
			t.Errorf("%s: User-Agent = %q", r.URL.Path, ua)
		}
		if r.Header.Get("Authorization") != "Bearer "+g.Tokens.AccessToken {
			t.Errorf("%s: no bearer token", r.URL.Path)
		}
	}
	logs := e.log.String()
	if !strings.Contains(logs, `"request_id":"`) || !strings.Contains(logs, `"path":"/v1.0/me"`) {
		t.Errorf("Graph calls not logged with their request id:\n%s", logs)
	}
	assertNoSecrets(t, logs, testSecret, code, a.CodeVerifier, g.Tokens.AccessToken, g.Tokens.RefreshToken)
}

func containsValue(vs []string, want string) bool {
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if strings.TrimSpace(p) == want {
				return true
			}
		}
	}
	return false
}

func assertNoSecrets(t *testing.T, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("a secret (%.6s…) appears in the output", s)
		}
	}
}

func TestExchangeErrors(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	ctx := context.Background()
	t.Run("reused code", func(t *testing.T) {
		a, q := e.signIn(t, AuthorizationRequest{})
		if _, err := Exchange(ctx, e.cfg, e.app, q.Get("code"), a.CodeVerifier); err != nil {
			t.Fatal(err)
		}
		_, err := Exchange(ctx, e.cfg, e.app, q.Get("code"), a.CodeVerifier)
		wantInvalid(t, err, "code", q.Get("code"))
	})
	t.Run("unknown code", func(t *testing.T) {
		a, _ := e.signIn(t, AuthorizationRequest{})
		_, err := Exchange(ctx, e.cfg, e.app, "M.C-made-up", a.CodeVerifier)
		wantInvalid(t, err, "code", "M.C-made-up")
	})
	t.Run("wrong verifier", func(t *testing.T) {
		_, q := e.signIn(t, AuthorizationRequest{})
		other, _ := e.signIn(t, AuthorizationRequest{})
		_, err := Exchange(ctx, e.cfg, e.app, q.Get("code"), other.CodeVerifier)
		wantInvalid(t, err, "codeVerifier", other.CodeVerifier)
	})
	t.Run("malformed verifier", func(t *testing.T) {
		_, q := e.signIn(t, AuthorizationRequest{})
		_, err := Exchange(ctx, e.cfg, e.app, q.Get("code"), "short")
		wantInvalid(t, err, "codeVerifier", "short")
	})
	t.Run("wrong secret", func(t *testing.T) {
		a, q := e.signIn(t, AuthorizationRequest{})
		app := e.app
		app.ClientSecret = "not-the-secret-value"
		_, err := Exchange(ctx, e.cfg, app, q.Get("code"), a.CodeVerifier)
		wantInvalid(t, err, "app.clientSecret", app.ClientSecret)
	})
	t.Run("unknown client", func(t *testing.T) {
		a, q := e.signIn(t, AuthorizationRequest{})
		app := e.app
		app.ClientID = "00000000-0000-0000-0000-000000000001"
		_, err := Exchange(ctx, e.cfg, app, q.Get("code"), a.CodeVerifier)
		wantInvalid(t, err, "app.clientId", testSecret)
	})
}

func wantInvalid(t *testing.T, err error, field string, secret string) {
	t.Helper()
	e := calsync.AsError(err)
	if e == nil || e.Kind != calsync.KindInvalidInput || e.Field != field {
		t.Fatalf("got %v, want invalid_input on %s", err, field)
	}
	assertNoSecrets(t, e.Error(), secret, testSecret)
}

func TestRefreshRotates(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	_, g, _ := e.connect(t)
	stale := g.Tokens
	stale.ExpiresAt = time.Now().Add(2 * time.Minute) // within the refresh margin
	s, err := NewSession(context.Background(), e.cfg, e.app, stale)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Me(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, rotated := s.Tokens()
	if !rotated || got.AccessToken == g.Tokens.AccessToken || got.RefreshToken == g.Tokens.RefreshToken || !got.ExpiresAt.After(stale.ExpiresAt) {
		t.Fatalf("rotated=%v tokens=%+v", rotated, got)
	}
	if !HasScope(s.GrantedScopes(), RequiredScope) {
		t.Errorf("granted scopes after refresh = %v", s.GrantedScopes())
	}
	if n := e.sim.Counts()["POST /{tenant}/oauth2/v2.0/token"]; n != 2 {
		t.Errorf("%d token requests, want 2 (code + one refresh)", n)
	}
	assertNoSecrets(t, e.log.String(), got.AccessToken, got.RefreshToken, testSecret)
}

// TestReauthOn401: the host's clock says the token is good, Microsoft's says
// it expired; one refresh and resend fix it.
func TestReauthOn401(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	_, g, _ := e.connect(t)
	e.sim.Advance(2 * time.Hour)
	s, _ := NewSession(context.Background(), e.cfg, e.app, g.Tokens)
	if _, err := s.Me(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, rotated := s.Tokens(); !rotated {
		t.Error("tokens not rotated")
	}
	if got := s.RequestCounts()["GET /me"]; got != 2 {
		t.Errorf("GET /me sent %d times, want 2 (401, then resent)", got)
	}
}

func TestRefreshFailures(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(*graphsim.Sim)
		kind    calsync.Kind
		code    string
	}{
		{"revoked", func(s *graphsim.Sim) { _ = s.RevokeRefreshTokens(testUPN) }, calsync.KindReconnectRequired, "AADSTS50173"},
		{"consent withdrawn", func(s *graphsim.Sim) { _ = s.WithdrawConsent(testUPN) }, calsync.KindConsentRequired, "AADSTS65001"},
		{"inactive", func(s *graphsim.Sim) { s.Advance(91 * 24 * time.Hour) }, calsync.KindReconnectRequired, "AADSTS700082"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, graphsim.Options{})
			_, g, _ := e.connect(t)
			c.breakIt(e.sim)
			expired := g.Tokens
			expired.ExpiresAt = time.Now().Add(-time.Minute)
			s, _ := NewSession(context.Background(), e.cfg, e.app, expired)
			_, err := s.Me(context.Background())
			ce := calsync.AsError(err)
			if ce == nil || ce.Kind != c.kind || ce.Code != c.code {
				t.Fatalf("got %v, want %s %s", err, c.kind, c.code)
			}
			if _, rotated := s.Tokens(); rotated {
				t.Error("failed refresh reported as rotation")
			}
			if len(e.rec.graphRequests()) != 0 {
				t.Error("Graph was called without a token")
			}
		})
	}
}

func TestExpiredWithoutRefreshToken(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	_, err := NewSession(context.Background(), e.cfg, e.app, Tokens{AccessToken: "at", ExpiresAt: time.Now().Add(-time.Hour)})
	wantInvalid(t, err, "tokens.refreshToken", "at")
}

func TestRetry503ThenSuccess(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	_, g, _ := e.connect(t)
	e.sim.AddFault(graphsim.Fault{Method: "GET", Path: "/v1.0/me", Count: 1, Status: 503, Header: http.Header{"Retry-After": {"1"}}})
	s, _ := NewSession(context.Background(), e.cfg, e.app, g.Tokens)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := s.Me(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %v, before Retry-After", d)
	}
	if got := s.RequestCounts()["GET /me"]; got != 2 {
		t.Errorf("GET /me sent %d times, want 2", got)
	}
}

// TestRetryAfterBeyondDeadline: a wait that cannot finish in time is not
// started; the caller learns when to come back.
func TestRetryAfterBeyondDeadline(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	_, g, _ := e.connect(t)
	e.sim.AddFault(graphsim.Fault{Method: "GET", Path: "/v1.0/me", Count: 5, Status: 429, Header: http.Header{"Retry-After": {"30"}}})
	s, _ := NewSession(context.Background(), e.cfg, e.app, g.Tokens)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := s.Me(ctx)
	ce := calsync.AsError(err)
	if ce.Kind != calsync.KindThrottled || ce.RetryAfter != 30*time.Second || ce.Code != "TooManyRequests" {
		t.Fatalf("got %v (retry after %v)", err, ce.RetryAfter)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v: waited for a retry that could not fit the deadline", d)
	}
}

func TestGraphErrorsThroughSDK(t *testing.T) {
	cases := []struct {
		name  string
		fault graphsim.Fault
		kind  calsync.Kind
	}{
		{"404", graphsim.Fault{Status: 404}, calsync.KindNotFound},
		{"500 not retried", graphsim.Fault{Status: 500}, calsync.KindUnavailable},
		{"410", graphsim.Fault{Status: 410}, calsync.KindResyncRequired},
		{"no message", graphsim.Fault{Status: 400, Body: `{"error":{"code":"X"}}`}, calsync.KindRejected},
		{"text body", graphsim.Fault{Status: 502, Body: "bad gateway", Header: http.Header{"Content-Type": {"text/plain"}}}, calsync.KindUnavailable},
		// net/http resends a GET once when a reused connection drops.
		{"dropped", graphsim.Fault{Drop: true, Count: 2}, calsync.KindUnavailable},
	}
	e := newEnv(t, graphsim.Options{})
	_, g, _ := e.connect(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := c.fault
			f.Method, f.Path, f.Count = "GET", "/v1.0/me", max(f.Count, 1)
			e.sim.AddFault(f)
			s, _ := NewSession(context.Background(), e.cfg, e.app, g.Tokens)
			_, err := s.Me(context.Background())
			if k := calsync.KindOf(err); k != c.kind {
				t.Fatalf("kind %s, want %s (%v)", k, c.kind, err)
			}
			e.sim.ClearFaults()
		})
	}
}

// TestForeignHostGetsNoToken: a link to another host fails before anything
// is sent, rather than going out without (or with) the token.
func TestForeignHostGetsNoToken(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	_, g, _ := e.connect(t)
	s, _ := NewSession(context.Background(), e.cfg, e.app, g.Tokens)
	_, err := s.Client().Me().Events().WithUrl("https://evil.example/v1.0/me/events").Get(context.Background(), nil)
	if err == nil || calsync.KindOf(err) != calsync.KindInvalidInput {
		t.Fatalf("got %v", err)
	}
	for _, r := range e.rec.reqs {
		if r.URL.Host == "evil.example" {
			t.Fatal("request sent to a foreign host")
		}
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("unexpected cancel")
	}
}

// TestLinksOutsideGraphGetNoToken: a link from the request (a deltaLink
// kept by the host) decides where the SDK sends the request; the token
// goes only to the configured Graph endpoint's scheme, host and port, below
// its base path. Anything else fails before a request is sent, and
// CheckLink names the field.
func TestLinksOutsideGraphGetNoToken(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	_, g, _ := e.connect(t)
	var leaked sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.URL.String(), r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusNotFound)
	}))
	defer other.Close()
	graph, _ := url.Parse(e.cfg.Endpoints.Graph) // http://127.0.0.1:<port>/v1.0
	const rest = "/me/calendarView/delta?$deltatoken=abc"
	bad := map[string]string{
		"other port":   other.URL + "/v1.0" + rest,
		"other scheme": "https://" + graph.Host + "/v1.0" + rest,
		"other host":   "http://localhost:" + graph.Port() + "/v1.0" + rest,
		"other path":   "http://" + graph.Host + "/beta" + rest,
		"dot segments": "http://" + graph.Host + "/v1.0/../beta" + rest,
		"user info":    "http://x@" + graph.Host + "/v1.0" + rest,
		"relative":     "/v1.0" + rest,
	}
	s, err := NewSession(context.Background(), e.cfg, e.app, g.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	for name, link := range bad {
		t.Run(name, func(t *testing.T) {
			if err := s.CheckLink("state.deltaLink", link); calsync.AsError(err) == nil || calsync.AsError(err).Field != "state.deltaLink" {
				t.Errorf("CheckLink(%s) = %v, want invalid_input on state.deltaLink", link, err)
			}
			before := len(e.rec.reqs)
			_, err := s.Client().Me().CalendarView().Delta().WithUrl(link).GetAsDeltaGetResponse(context.Background(), nil)
			ce := calsync.AsError(err)
			if ce == nil || ce.Kind != calsync.KindInvalidInput || ce.Op != "graph.authorize" || !strings.Contains(ce.Message, "refusing to send the access token") {
				t.Fatalf("got %v, want the token refused", Classify(err))
			}
			if n := len(e.rec.reqs); n != before {
				t.Fatalf("%d requests sent: %v", n-before, e.rec.reqs[before].URL)
			}
		})
	}
	leaked.Range(func(k, v any) bool {
		t.Errorf("request to %v with Authorization %q", k, v)
		return true
	})
	for _, ok := range []string{e.cfg.Endpoints.Graph + rest, "http://" + strings.ToUpper("127.0.0.1:"+graph.Port()) + "/v1.0" + rest} {
		if err := s.CheckLink("state.deltaLink", ok); err != nil {
			t.Errorf("CheckLink(%s) = %v", ok, err)
		}
	}
	if err := s.CheckLink("state.deltaLink", "https://graph.microsoft.com:443/v1.0"+rest); err == nil {
		t.Error("a link to production Graph accepted by a session against the simulator")
	}
}

// TestRedirectOutOfGraphGetsNoToken: the SDK's redirect handler keeps the
// token on a redirect to the same host; one that leaves the Graph base path
// is not followed at all, and the answer is Microsoft's fault.
func TestRedirectOutOfGraphGetsNoToken(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	_, g, _ := e.connect(t)
	e.sim.AddFault(graphsim.Fault{Method: "GET", Path: "/v1.0/me", Status: http.StatusFound,
		Header: http.Header{"Location": {strings.TrimSuffix(e.cfg.Endpoints.Graph, "/v1.0") + "/collect"}}, Body: " "})
	s, _ := NewSession(context.Background(), e.cfg, e.app, g.Tokens)
	_, err := s.Me(context.Background())
	if ce := calsync.AsError(err); ce == nil || ce.Kind != calsync.KindUnavailable {
		t.Fatalf("got %v, want the redirect refused as unavailable", err)
	}
	for _, r := range e.rec.reqs {
		if r.URL.Path == "/collect" {
			t.Fatalf("sent to %s with Authorization %q", r.URL, r.Header.Get("Authorization"))
		}
	}
}

// TestDeltaWithoutCalendarPermission: Graph answers the user's own
// calendarView/delta with 403 ErrorAccessDenied when Calendars.ReadWrite was
// not granted; ConsentOrForbidden reports it as consent_required.
func TestDeltaWithoutCalendarPermission(t *testing.T) {
	e := newEnv(t, graphsim.Options{})
	_, g, _ := e.connect(t)
	e.sim.AddFault(graphsim.Fault{Method: "GET", Path: "/v1.0/me/calendarView/delta*", Status: http.StatusForbidden,
		Body: `{"error":{"code":"ErrorAccessDenied","message":"Access is denied. Check credentials and try again."}}`})
	s, _ := NewSession(context.Background(), e.cfg, e.app, g.Tokens)
	start, end := "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
	_, err := s.Client().Me().CalendarView().Delta().GetAsDeltaGetResponse(context.Background(),
		&users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemCalendarViewDeltaRequestBuilderGetQueryParameters{StartDateTime: &start, EndDateTime: &end}})
	if ce := ConsentOrForbidden(err, RequiredScope); ce == nil || ce.Kind != calsync.KindConsentRequired || ce.Code != RequiredScope {
		t.Fatalf("got %v, want consent_required naming %s", ce, RequiredScope)
	}
}
