package api_test

// End-to-end tests of the connection lifecycle: the built oro-msync binary
// talks to a started cmd/graphsim, as the PHP host and a browser would.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	e2eClientID = "0b9d6f0e-7d8c-4f4e-9a51-3f7c1d2e8a10"
	e2eSecret   = "e2e-Client_Secret.value~42"
	e2eRedirect = "http://localhost:8400/oauth/callback"
	e2eUPN      = "megan@contoso.example"
)

// binaries builds oro-msync and graphsim into a temporary directory.
func binaries(t *testing.T) (sidecar, sim string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	dir := t.TempDir()
	for _, pkg := range []string{"oro-msync", "graphsim"} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, pkg), "../../cmd/"+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("building %s: %v\n%s", pkg, err, out)
		}
	}
	return filepath.Join(dir, "oro-msync"), filepath.Join(dir, "graphsim")
}

// simProc is a running cmd/graphsim.
type simProc struct {
	Authority, Graph, Control string
}

func startSim(t *testing.T, bin string) *simProc {
	t.Helper()
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--auto-consent",
		"--client-id", e2eClientID, "--client-secret", e2eSecret, "--redirect-uri", e2eRedirect)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadBytes('\n')
	if err != nil {
		t.Fatalf("graphsim did not start: %v\n%s", err, stderr.String())
	}
	var s simProc
	var m map[string]string
	if err := json.Unmarshal(line, &m); err != nil {
		t.Fatal(err)
	}
	s.Authority, s.Graph, s.Control = m["authority"], m["graph"], m["control"]
	return &s
}

func (s *simProc) control(t *testing.T, method, path string, body any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.Control+path, r)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
}

func (s *simProc) counts(t *testing.T) map[string]int {
	t.Helper()
	resp, err := http.Get(s.Control + "/counts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	return m
}

// sidecar is a running oro-msync.
type sidecar struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *lockedBuffer
	id     int
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startSidecar(t *testing.T, bin string, sim *simProc) *sidecar {
	t.Helper()
	cmd := exec.Command(bin, "--log-level", "debug", "--authority-url", sim.Authority, "--graph-url", sim.Graph)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &sidecar{t: t, cmd: cmd, in: in, out: bufio.NewReader(out), stderr: &lockedBuffer{}}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return s
}

type rpcError struct {
	Code    int64  `json:"code"`
	Message string `json:"message"`
	Data    struct {
		Kind         string  `json:"kind"`
		Field        string  `json:"field"`
		UpstreamCode string  `json:"upstreamCode"`
		Tokens       *tokens `json:"tokens"`
	} `json:"data"`
}

// call sends one request and returns the raw reply line, its result and its error.
func (s *sidecar) call(method string, params any) (string, json.RawMessage, *rpcError) {
	s.t.Helper()
	return s.reply(s.send(method, params))
}

// send sends a request, or a notification when method starts with $/, and
// returns its id.
func (s *sidecar) send(method string, params any) int {
	s.t.Helper()
	msg := map[string]any{"jsonrpc": "2.0", "method": method, "params": params}
	if !strings.HasPrefix(method, "$/") {
		s.id++
		msg["id"] = s.id
	}
	req, _ := json.Marshal(msg)
	if _, err := s.in.Write(append(req, '\n')); err != nil {
		s.t.Fatal(err)
	}
	return s.id
}

// reply reads the next reply, which must be the one to id.
func (s *sidecar) reply(id int) (string, json.RawMessage, *rpcError) {
	s.t.Helper()
	method := "request " + strconv.Itoa(id)
	type reply struct {
		line string
		err  error
	}
	ch := make(chan reply, 1)
	go func() {
		l, err := s.out.ReadString('\n')
		ch <- reply{l, err}
	}()
	var r reply
	select {
	case r = <-ch:
	case <-time.After(60 * time.Second):
		s.t.Fatalf("%s: no reply within 60s; stderr:\n%s", method, s.stderr.String())
	}
	if r.err != nil {
		s.t.Fatalf("%s: reading the reply: %v; stderr:\n%s", method, r.err, s.stderr.String())
	}
	var m struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.line), &m); err != nil || m.ID != id {
		s.t.Fatalf("%s: bad reply %q (%v)", method, r.line, err)
	}
	return r.line, m.Result, m.Error
}

func (s *sidecar) ok(method string, params any, into any) {
	s.t.Helper()
	_, res, e := s.call(method, params)
	if e != nil {
		s.t.Fatalf("%s: error %+v", method, e)
	}
	if err := json.Unmarshal(res, into); err != nil {
		s.t.Fatal(err)
	}
}

type tokens struct {
	AccessToken  string `json:"accessToken"`
	RefreshToken string `json:"refreshToken,omitempty"`
	ExpiresAt    string `json:"expiresAt"`
}

type checkResult struct {
	Status       string  `json:"status"`
	Message      string  `json:"message"`
	Kind         string  `json:"kind"`
	UpstreamCode string  `json:"upstreamCode"`
	Tokens       *tokens `json:"tokens"`
	Account      *struct {
		Email string `json:"email"`
	} `json:"account"`
	Calendar *struct {
		CanEdit bool `json:"canEdit"`
	} `json:"calendar"`
}

func app(secret bool) map[string]string {
	a := map[string]string{"tenant": "common", "clientId": e2eClientID, "redirectUri": e2eRedirect}
	if secret {
		a["clientSecret"] = e2eSecret
	}
	return a
}

// flow keeps every secret the test saw, to look for on stderr.
type flow struct {
	t       *testing.T
	sc      *sidecar
	secrets []string
}

func (f *flow) keep(s ...string) { f.secrets = append(f.secrets, s...) }

// signIn asks for the URL, plays the browser and returns code, state and verifier.
func (f *flow) signIn() (code, state, expected, verifier string) {
	f.t.Helper()
	var a struct{ URL, State, CodeVerifier string }
	f.sc.ok("connection.authorizationUrl", map[string]any{"app": app(false), "loginHint": e2eUPN}, &a)
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Get(a.URL)
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || resp.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
		f.t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	q := loc.Query()
	f.keep(q.Get("code"), a.CodeVerifier)
	return q.Get("code"), q.Get("state"), a.State, a.CodeVerifier
}

func (f *flow) connect() tokens {
	f.t.Helper()
	code, state, expected, verifier := f.signIn()
	var r struct {
		Tokens  tokens
		Account struct{ ID, DisplayName, Email, TenantID string }
		Scopes  []string `json:"grantedScopes"`
	}
	f.sc.ok("connection.exchangeCode", map[string]any{"app": app(true), "code": code, "state": state,
		"expectedState": expected, "codeVerifier": verifier}, &r)
	if r.Account.Email != e2eUPN || r.Account.ID == "" || r.Account.TenantID == "" || r.Tokens.RefreshToken == "" {
		f.t.Fatalf("exchangeCode = %+v", r)
	}
	f.keep(r.Tokens.AccessToken, r.Tokens.RefreshToken)
	return r.Tokens
}

func (f *flow) check(tok tokens) checkResult {
	f.t.Helper()
	var r checkResult
	f.sc.ok("connection.check", map[string]any{"app": app(true), "tokens": tok}, &r)
	if r.Tokens != nil {
		f.keep(r.Tokens.AccessToken, r.Tokens.RefreshToken)
	}
	if r.Message == "" {
		f.t.Errorf("check %s without a message", r.Status)
	}
	return r
}

func expired(tok tokens) tokens {
	tok.ExpiresAt = time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
	return tok
}

// repeatedKey returns a key that one object of the JSON text line holds
// twice, or "".
func repeatedKey(line []byte) string {
	dec := json.NewDecoder(bytes.NewReader(line))
	var object func() string
	var value func() string
	object = func() string {
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return ""
			}
			key, _ := k.(string)
			if seen[key] {
				return key
			}
			seen[key] = true
			if d := value(); d != "" {
				return d
			}
		}
		_, _ = dec.Token() // }
		return ""
	}
	value = func() string {
		t, err := dec.Token()
		if err != nil {
			return ""
		}
		switch t {
		case json.Delim('{'):
			return object()
		case json.Delim('['):
			for dec.More() {
				if d := value(); d != "" {
					return d
				}
			}
			_, _ = dec.Token() // ]
		}
		return ""
	}
	return value()
}

// TestConnectionLifecycle runs the whole flow at debug log level and fails
// if any token, code, verifier or the client secret reaches stderr.
func TestConnectionLifecycle(t *testing.T) {
	sidecarBin, simBin := binaries(t)
	sim := startSim(t, simBin)
	f := &flow{t: t, sc: startSidecar(t, sidecarBin, sim)}
	f.keep(e2eSecret)
	defer func() {
		stderr := f.sc.stderr.String()
		if !strings.Contains(stderr, `"request_id"`) {
			t.Errorf("no Graph request id logged")
		}
		for _, s := range f.secrets {
			if s != "" && strings.Contains(stderr, s) {
				t.Errorf("secret %.8s… appears on stderr", s)
			}
		}
		// Issue 8, finding 9: jq keeps one of two equal keys, so the RPC
		// method and the HTTP method must not share one.
		for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
			if dup := repeatedKey([]byte(line)); dup != "" {
				t.Errorf("log line repeats the key %q: %s", dup, line)
			}
		}
	}()

	tok := f.connect()

	t.Run("connected", func(t *testing.T) {
		r := f.check(tok)
		if r.Status != "connected" || r.Tokens != nil || r.Account == nil || r.Account.Email != e2eUPN || r.Calendar == nil || !r.Calendar.CanEdit {
			t.Fatalf("check = %+v", r)
		}
	})

	t.Run("expired access token is refreshed", func(t *testing.T) {
		r := f.check(expired(tok))
		if r.Status != "connected" || r.Tokens == nil || r.Tokens.AccessToken == tok.AccessToken || r.Tokens.RefreshToken == tok.RefreshToken {
			t.Fatalf("check = %+v", r)
		}
		tok = *r.Tokens
	})

	t.Run("Microsoft's clock ahead: 401, refresh, resend", func(t *testing.T) {
		sim.control(t, "POST", "/clock/advance", map[string]string{"duration": "2h"})
		r := f.check(tok)
		if r.Status != "connected" || r.Tokens == nil {
			t.Fatalf("check = %+v", r)
		}
		tok = *r.Tokens
	})

	t.Run("503 then 200 is retried", func(t *testing.T) {
		before := sim.counts(t)["GET /v1.0/me"]
		sim.control(t, "POST", "/faults", map[string]any{"method": "GET", "path": "/v1.0/me", "count": 1, "status": 503,
			"header": map[string][]string{"Retry-After": {"1"}}})
		start := time.Now()
		r := f.check(tok)
		if r.Status != "connected" {
			t.Fatalf("check = %+v", r)
		}
		if d := time.Since(start); d < time.Second {
			t.Errorf("answered in %v, before Retry-After", d)
		}
		if got := sim.counts(t)["GET /v1.0/me"] - before; got != 2 {
			t.Errorf("GET /me sent %d times, want 2", got)
		}
	})

	t.Run("throttled beyond the deadline is unavailable with a retry time", func(t *testing.T) {
		sim.control(t, "POST", "/faults", map[string]any{"method": "GET", "path": "/v1.0/me", "count": 6, "status": 429,
			"header": map[string][]string{"Retry-After": {"600"}}})
		defer sim.control(t, "DELETE", "/faults", nil)
		var r struct {
			checkResult
			RetryAfterMs int64 `json:"retryAfterMs"`
		}
		// Retry-After (600 s) outlasts clientTimeout (2 min), so no wait starts.
		f.sc.ok("connection.check", map[string]any{"app": app(true), "tokens": tok}, &r)
		if r.Status != "unavailable" || r.RetryAfterMs != 600000 || r.Kind != "throttled" {
			t.Fatalf("check = %+v", r)
		}
	})

	t.Run("Graph fails after the code is redeemed: the tokens still reach the host", func(t *testing.T) {
		code, state, expected, verifier := f.signIn()
		sim.control(t, "POST", "/faults", map[string]any{"method": "GET", "path": "/v1.0/me", "count": 1, "status": 500,
			"body": `{"error":{"code":"InternalServerError","message":"boom"}}`})
		defer sim.control(t, "DELETE", "/faults", nil)
		_, _, e := f.sc.call("connection.exchangeCode", map[string]any{"app": app(true), "code": code, "state": state,
			"expectedState": expected, "codeVerifier": verifier})
		if e == nil || e.Data.Kind != "unavailable" || e.Data.Tokens == nil || e.Data.Tokens.RefreshToken == "" {
			t.Fatalf("exchangeCode error = %+v, want unavailable carrying the new tokens", e)
		}
		f.keep(e.Data.Tokens.AccessToken, e.Data.Tokens.RefreshToken)
		// The host stores them and finishes with a check, no new sign-in.
		if r := f.check(*e.Data.Tokens); r.Status != "connected" {
			t.Fatalf("check with the tokens from the error = %+v", r)
		}
	})

	// Issue 8, finding 8: a cancelled check answers -32800, not a status
	// made of the failure the cancel caused, and tokens it rotated before
	// the cancel still reach the host.
	t.Run("cancelled while Graph is slow", func(t *testing.T) {
		sim.control(t, "POST", "/faults", map[string]any{"method": "GET", "path": "/v1.0/me", "count": 1, "latency": "10s"})
		defer sim.control(t, "DELETE", "/faults", nil)
		refreshes := strings.Count(f.sc.stderr.String(), "oauth2/v2.0/token")
		id := f.sc.send("connection.check", map[string]any{"app": app(true), "tokens": expired(tok)})
		// The refresh is logged once its answer is in: cancel after it,
		// while GET /me waits.
		for deadline := time.Now().Add(20 * time.Second); strings.Count(f.sc.stderr.String(), "oauth2/v2.0/token") == refreshes; {
			if time.Now().After(deadline) {
				t.Fatalf("no token refresh logged; stderr:\n%s", f.sc.stderr.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		f.sc.send("$/cancelRequest", map[string]any{"id": id})
		line, _, e := f.sc.reply(id)
		if e == nil || e.Code != -32800 || e.Data.Kind != "cancelled" {
			t.Fatalf("reply %s, want -32800", line)
		}
		if e.Data.Tokens == nil || e.Data.Tokens.RefreshToken == "" {
			t.Fatalf("the tokens rotated before the cancel were dropped: %s", line)
		}
		f.keep(e.Data.Tokens.AccessToken, e.Data.Tokens.RefreshToken)
		tok = *e.Data.Tokens
	})

	t.Run("revoked refresh token", func(t *testing.T) {
		sim.control(t, "POST", "/users/"+url.PathEscape(e2eUPN)+"/revokeRefreshTokens", nil)
		r := f.check(expired(tok))
		if r.Status != "reconnect_required" || r.UpstreamCode != "AADSTS50173" || r.Tokens != nil {
			t.Fatalf("check = %+v", r)
		}
	})

	t.Run("consent withdrawn", func(t *testing.T) {
		tok = f.connect() // a new sign-in after the revocation
		sim.control(t, "POST", "/users/"+url.PathEscape(e2eUPN)+"/withdrawConsent", nil)
		r := f.check(expired(tok))
		if r.Status != "consent_required" || r.UpstreamCode != "AADSTS65001" {
			t.Fatalf("check = %+v", r)
		}
		// With an access token still valid, Graph itself refuses.
		r = f.check(tok)
		if r.Status != "consent_required" {
			t.Fatalf("check = %+v", r)
		}
	})
}

// TestConnectionBadInput: each mistake is a clear error with its kind and
// field, and nothing secret comes back.
func TestConnectionBadInput(t *testing.T) {
	sidecarBin, simBin := binaries(t)
	sim := startSim(t, simBin)
	f := &flow{t: t, sc: startSidecar(t, sidecarBin, sim)}

	exchange := func(mod func(p map[string]any)) (string, *rpcError, []string) {
		code, state, expected, verifier := f.signIn()
		p := map[string]any{"app": app(true), "code": code, "state": state, "expectedState": expected, "codeVerifier": verifier}
		mod(p)
		line, _, e := f.sc.call("connection.exchangeCode", p)
		return line, e, []string{code, verifier, e2eSecret}
	}
	otherVerifier := func() string { _, _, _, v := f.signIn(); return v }

	var reused string
	cases := []struct {
		name  string
		mod   func(p map[string]any)
		kind  string
		field string
	}{
		{"wrong state", func(p map[string]any) { p["state"] = "forged" + p["expectedState"].(string) }, "invalid_input", "state"},
		{"missing expected state", func(p map[string]any) { p["expectedState"] = "" }, "invalid_input", "expectedState"},
		{"wrong verifier", func(p map[string]any) { p["codeVerifier"] = otherVerifier() }, "invalid_input", "codeVerifier"},
		{"malformed verifier", func(p map[string]any) { p["codeVerifier"] = "too-short" }, "invalid_input", "codeVerifier"},
		{"mismatched redirect URI", func(p map[string]any) {
			a := app(true)
			a["redirectUri"] = "http://localhost:8400/other"
			p["app"] = a
		}, "invalid_input", "app.redirectUri"},
		{"malformed tenant", func(p map[string]any) { a := app(true); a["tenant"] = "../../evil"; p["app"] = a }, "invalid_input", "app.tenant"},
		{"malformed client id", func(p map[string]any) { a := app(true); a["clientId"] = "oro-app"; p["app"] = a }, "invalid_input", "app.clientId"},
		{"wrong client secret", func(p map[string]any) { a := app(true); a["clientSecret"] = "guessed-secret-value"; p["app"] = a }, "invalid_input", "app.clientSecret"},
		{"reused code", func(p map[string]any) {
			if reused == "" {
				t.Fatal("no code to reuse")
			}
			p["code"] = reused
		}, "invalid_input", "code"},
	}
	// A code redeemed once, for the reuse case.
	code, state, expected, verifier := f.signIn()
	var ok json.RawMessage
	f.sc.ok("connection.exchangeCode", map[string]any{"app": app(true), "code": code, "state": state, "expectedState": expected, "codeVerifier": verifier}, &ok)
	reused = code
	f.keep(code)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			line, e, secrets := exchange(c.mod)
			if e == nil || e.Data.Kind != c.kind || e.Data.Field != c.field {
				t.Fatalf("reply %s; want %s on %s", line, c.kind, c.field)
			}
			for _, s := range append(secrets, "guessed-secret-value", reused) {
				if strings.Contains(line, s) {
					t.Errorf("the reply echoes a secret (%.8s…): %s", s, line)
				}
			}
		})
	}

	t.Run("expired tokens without refresh token", func(t *testing.T) {
		line, _, e := f.sc.call("connection.check", map[string]any{"app": app(true),
			"tokens": map[string]string{"accessToken": "opaque-access-token-value", "expiresAt": "2020-01-01T00:00:00Z"}})
		if e == nil || e.Data.Kind != "invalid_input" || e.Data.Field != "tokens.refreshToken" {
			t.Fatalf("reply %s", line)
		}
		if strings.Contains(line, "opaque-access-token-value") {
			t.Errorf("reply echoes the token: %s", line)
		}
	})

	t.Run("authorizationUrl with a malformed client id", func(t *testing.T) {
		a := app(false)
		a["clientId"] = "x"
		line, _, e := f.sc.call("connection.authorizationUrl", map[string]any{"app": a})
		if e == nil || e.Data.Kind != "invalid_input" || e.Data.Field != "app.clientId" {
			t.Fatalf("reply %s", line)
		}
	})

	stderr := f.sc.stderr.String()
	for _, s := range append(f.secrets, e2eSecret, "guessed-secret-value") {
		if s != "" && strings.Contains(stderr, s) {
			t.Errorf("secret %.8s… appears on stderr", s)
		}
	}
}
