package graphsim

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func aadCode(m map[string]any) int {
	codes, _ := m["error_codes"].([]any)
	if len(codes) == 0 {
		return 0
	}
	return int(codes[0].(float64))
}

// TestTokenErrors is one case per identity fact (facts §9).
func TestTokenErrors(t *testing.T) {
	cases := []struct {
		name    string
		setup   func(e *env) url.Values
		status  int
		errCode string
		aadsts  int
	}{
		{"§9 code is single-use", func(e *env) url.Values {
			c := e.authorize(testUPN, fullScopes)
			e.tokenReq(codeForm(c))
			return codeForm(c)
		}, 400, "invalid_grant", 54005},
		{"§9 PKCE verifier must match the S256 challenge", func(e *env) url.Values {
			f := codeForm(e.authorize(testUPN, fullScopes))
			f.Set("code_verifier", "wrong-verifier-wrong-verifier-wrong-verifier-1")
			return f
		}, 400, "invalid_grant", 501481},
		{"§9 client secret required", func(e *env) url.Values {
			f := codeForm(e.authorize(testUPN, fullScopes))
			f.Set("client_secret", "nope")
			return f
		}, 401, "invalid_client", 7000215},
		{"§9 codes live about 10 minutes", func(e *env) url.Values {
			f := codeForm(e.authorize(testUPN, fullScopes))
			e.sim.Advance(11 * time.Minute)
			return f
		}, 400, "invalid_grant", 70008},
		{"§9 redirect_uri must match on redemption", func(e *env) url.Values {
			f := codeForm(e.authorize(testUPN, fullScopes))
			f.Set("redirect_uri", "http://localhost:9/other")
			return f
		}, 400, "invalid_grant", 500112},
		{"§9 revoked refresh token → AADSTS50173", func(e *env) url.Values {
			rt := e.signIn(testUPN, fullScopes)["refresh_token"].(string)
			e.sim.RevokeRefreshTokens(testUPN)
			return refreshForm(rt)
		}, 400, "invalid_grant", 50173},
		{"§9 refresh token expires after 90 days of inactivity → AADSTS700082", func(e *env) url.Values {
			rt := e.signIn(testUPN, fullScopes)["refresh_token"].(string)
			e.sim.Advance(91 * 24 * time.Hour)
			return refreshForm(rt)
		}, 400, "invalid_grant", 700082},
		{"§9 withdrawn consent → AADSTS65001", func(e *env) url.Values {
			rt := e.signIn(testUPN, fullScopes)["refresh_token"].(string)
			e.sim.WithdrawConsent(testUPN)
			return refreshForm(rt)
		}, 400, "invalid_grant", 65001},
		{"§9 refresh for more scopes than granted → AADSTS65001", func(e *env) url.Values {
			f := refreshForm(e.signIn(testUPN, "offline_access User.Read")["refresh_token"].(string))
			f.Set("scope", "Calendars.ReadWrite")
			return f
		}, 400, "invalid_grant", 65001},
		{"§9 unknown grant type", func(e *env) url.Values {
			return url.Values{"grant_type": {"password"}, "client_id": {testClient}, "client_secret": {testSecret}}
		}, 400, "unsupported_grant_type", 70003},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			status, m := e.tokenReq(tc.setup(e))
			if status != tc.status || m["error"] != tc.errCode || aadCode(m) != tc.aadsts {
				t.Fatalf("got %d %v, want %d %s AADSTS%d", status, m, tc.status, tc.errCode, tc.aadsts)
			}
			desc, _ := m["error_description"].(string)
			if !strings.HasPrefix(desc, "AADSTS") {
				t.Errorf("error_description %q does not start with the AADSTS code", desc)
			}
			for _, k := range []string{"timestamp", "trace_id", "correlation_id"} {
				if m[k] == nil {
					t.Errorf("missing %s", k)
				}
			}
			if tc.aadsts == 65001 && m["suberror"] != "consent_required" {
				t.Errorf("suberror = %v, want consent_required", m["suberror"])
			}
		})
	}
}

// TestRefreshRotation: §9 every refresh returns a new refresh token; the old
// one is not revoked on use unless Options.InvalidateUsedRefreshTokens.
func TestRefreshRotation(t *testing.T) {
	for _, strict := range []bool{false, true} {
		e := newEnv(t, Options{InvalidateUsedRefreshTokens: strict})
		rt := e.signIn(testUPN, fullScopes)["refresh_token"].(string)
		st, m := e.tokenReq(refreshForm(rt))
		if st != 200 || m["refresh_token"] == rt || m["refresh_token"] == nil || m["access_token"] == nil {
			t.Fatalf("refresh: %d %v", st, m)
		}
		if m["expires_in"].(float64) != 3600 || m["token_type"] != "Bearer" {
			t.Errorf("token response %v", m)
		}
		st, m = e.tokenReq(refreshForm(rt))
		if strict && (st != 400 || aadCode(m) != 70008) {
			t.Errorf("strict reuse: %d %v", st, m)
		}
		if !strict && st != 200 {
			t.Errorf("reuse of a rotated token: %d %v (Microsoft does not revoke on use)", st, m)
		}
	}
}

// TestGrantShape: §9 refresh_token only with offline_access; id_token only
// with openid; consent without Calendars.ReadWrite gives a token without it.
func TestGrantShape(t *testing.T) {
	e := newEnv(t, Options{})
	m := e.signIn(testUPN, "User.Read Calendars.ReadWrite")
	if m["refresh_token"] != nil || m["id_token"] != nil {
		t.Errorf("without offline_access/openid: %v", m)
	}
	e.sim.AddUser(User{UPN: "bob@contoso.com", Mail: "bob@contoso.com", ConsentScopes: []string{"User.Read"}})
	m = e.signIn("bob@contoso.com", fullScopes)
	if strings.Contains(m["scope"].(string), "Calendars") {
		t.Errorf("scope %q includes a scope the user did not consent to", m["scope"])
	}
	e.tok = m["access_token"].(string)
	if r := e.do("GET", "/v1.0/me/calendar", nil); r.status != 403 || r.code() != "ErrorAccessDenied" {
		t.Errorf("calendar without Calendars scope: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", "/v1.0/me", nil); r.status != 200 {
		t.Errorf("/me with User.Read: %d", r.status)
	}
}

// TestAuthorizeErrors: §9 redirect_uri must match exactly (error page, no
// redirect); declining consent redirects with access_denied.
func TestAuthorizeErrors(t *testing.T) {
	sim := New(Options{Logf: func(string, ...any) {}})
	sim.RegisterApp(App{ClientID: testClient, ClientSecret: testSecret, RedirectURIs: []string{testRedirect}})
	srv := newServer(t, sim)
	base := url.Values{"client_id": {testClient}, "response_type": {"code"}, "redirect_uri": {testRedirect}, "scope": {fullScopes}, "state": {"x"}}

	bad := cloneQuery(base)
	bad.Set("redirect_uri", "http://evil/cb")
	r, _ := noRedirect.Get(srv + "/common/oauth2/v2.0/authorize?" + bad.Encode())
	if r.StatusCode != 400 || r.Header.Get("Location") != "" {
		t.Errorf("bad redirect_uri: %d %q", r.StatusCode, r.Header.Get("Location"))
	}
	r, _ = noRedirect.Get(srv + "/common/oauth2/v2.0/authorize?" + base.Encode())
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Errorf("sign-in page: %d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	form := cloneQuery(base)
	form.Set("action", "cancel")
	r, _ = noRedirect.PostForm(srv+"/common/oauth2/v2.0/authorize", form)
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.StatusCode != http.StatusFound || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "x" {
		t.Errorf("cancel: %d %v", r.StatusCode, loc)
	}
	// The form signs in a person who ticks only some scopes.
	form.Set("action", "accept")
	form.Set("login", "carol@contoso.com")
	form["grant"] = []string{"User.Read"}
	r, _ = noRedirect.PostForm(srv+"/common/oauth2/v2.0/authorize", form)
	loc, _ = url.Parse(r.Header.Get("Location"))
	if loc.Query().Get("code") == "" {
		t.Fatalf("accept: %d %v", r.StatusCode, loc)
	}
	r, _ = noRedirect.Get(srv + "/not-a-tenant!/oauth2/v2.0/authorize?" + base.Encode())
	if r.StatusCode != 400 {
		t.Errorf("bad tenant: %d", r.StatusCode)
	}
}

func newServer(t *testing.T, sim *Sim) string {
	t.Helper()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return srv.URL
}
