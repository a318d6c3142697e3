package graphsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

const (
	testClient   = "client-1"
	testSecret   = "s3cret"
	testRedirect = "http://localhost:9/cb"
	testUPN      = "ada@contoso.com"
	fullScopes   = "openid offline_access User.Read Calendars.ReadWrite"
	testVerifier = "verifier-verifier-verifier-verifier-verifier-123"
)

// t0 is a Monday; the fixed clock starts there.
var t0 = time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC)

type env struct {
	t   testing.TB
	sim *Sim
	srv *httptest.Server
	tok string
}

func newEnv(t testing.TB, opts Options) *env {
	t.Helper()
	opts.AutoConsent = true
	if opts.Now == nil {
		opts.Now = func() time.Time { return t0 }
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	sim := New(opts)
	sim.RegisterApp(App{ClientID: testClient, ClientSecret: testSecret, RedirectURIs: []string{testRedirect}})
	sim.AddUser(User{UPN: testUPN, DisplayName: "Ada Lovelace", Mail: testUPN})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e := &env{t: t, sim: sim, srv: srv}
	e.tok = e.signIn(testUPN, fullScopes)["access_token"].(string)
	return e
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func challenge(v string) string {
	s := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// authorize returns the code from an auto-consent authorize redirect.
func (e *env) authorize(upn, scopes string) string {
	e.t.Helper()
	q := url.Values{"client_id": {testClient}, "response_type": {"code"}, "redirect_uri": {testRedirect},
		"scope": {scopes}, "state": {"st"}, "login_hint": {upn}, "code_challenge": {challenge(testVerifier)},
		"code_challenge_method": {"S256"}}
	resp, err := noRedirect.Get(e.srv.URL + "/common/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		e.t.Fatalf("authorize: status %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if loc.Query().Get("state") != "st" {
		e.t.Fatalf("state not echoed: %v", loc)
	}
	return loc.Query().Get("code")
}

// tokenReq posts a form to the token endpoint and decodes the JSON answer.
func (e *env) tokenReq(form url.Values) (int, map[string]any) {
	e.t.Helper()
	resp, err := http.PostForm(e.srv.URL+"/common/oauth2/v2.0/token", form)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, m
}

func codeForm(code string) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "client_id": {testClient}, "client_secret": {testSecret},
		"code": {code}, "redirect_uri": {testRedirect}, "code_verifier": {testVerifier}, "scope": {fullScopes}}
}

func refreshForm(rt string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "client_id": {testClient}, "client_secret": {testSecret}, "refresh_token": {rt}}
}

func (e *env) signIn(upn, scopes string) map[string]any {
	e.t.Helper()
	st, m := e.tokenReq(codeForm(e.authorize(upn, scopes)))
	if st != 200 {
		e.t.Fatalf("token: %d %v", st, m)
	}
	return m
}

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends a Graph request with the env's token (unless headers override).
func (e *env) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = e.srv.URL + path
	}
	req, _ := http.NewRequest(method, u, rd)
	req.Header.Set("Authorization", "Bearer "+e.tok)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Add(hdr[i], hdr[i+1])
		}
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer r.Body.Close()
	raw, _ := io.ReadAll(r.Body)
	out := resp{status: r.StatusCode, header: r.Header, raw: raw}
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &out.body)
	}
	return out
}

func (r resp) code() string {
	if e, ok := r.body["error"].(map[string]any); ok {
		c, _ := e["code"].(string)
		return c
	}
	return ""
}

func (r resp) items() []map[string]any {
	arr, _ := r.body["value"].([]any)
	out := make([]map[string]any, 0, len(arr))
	for _, a := range arr {
		out = append(out, a.(map[string]any))
	}
	return out
}

func (r resp) str(k string) string { s, _ := r.body[k].(string); return s }

func dt(s, tz string) map[string]any { return map[string]any{"dateTime": s, "timeZone": tz} }

func simpleEvent(subject, start, end string) map[string]any {
	return map[string]any{"subject": subject, "start": dt(start, "UTC"), "end": dt(end, "UTC")}
}

func (e *env) create(ev map[string]any, hdr ...string) resp {
	e.t.Helper()
	r := e.do("POST", "/v1.0/me/events", ev, hdr...)
	if r.status != 201 {
		e.t.Fatalf("create: %d %s", r.status, r.raw)
	}
	return r
}

const window = "startDateTime=2025-01-01T00:00:00Z&endDateTime=2025-03-01T00:00:00Z"

// round follows a delta round from link (a path or absolute URL) to its
// deltaLink and returns the items and the deltaLink.
func (e *env) round(link string, hdr ...string) ([]map[string]any, string) {
	e.t.Helper()
	var all []map[string]any
	for range 1000 {
		r := e.do("GET", link, nil, hdr...)
		if r.status != 200 {
			e.t.Fatalf("delta %s: %d %s", link, r.status, r.raw)
		}
		all = append(all, r.items()...)
		if d := r.str("@odata.deltaLink"); d != "" {
			return all, d
		}
		link = r.str("@odata.nextLink")
		if link == "" {
			e.t.Fatalf("delta page without nextLink or deltaLink: %s", r.raw)
		}
	}
	e.t.Fatal("delta round did not end")
	return nil, ""
}

func ids(items []map[string]any) map[string]map[string]any {
	m := map[string]map[string]any{}
	for _, it := range items {
		m[it["id"].(string)] = it
	}
	return m
}
