package graphclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	ktext "github.com/microsoft/kiota-serialization-text-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"golang.org/x/oauth2"

	calsync "github.com/oro-msync/oro-msync/sync"
)

func odataErr(status int, code string, hdr map[string]string) error {
	oe := odataerrors.NewODataError()
	oe.ResponseStatusCode = status
	me := odataerrors.NewMainError()
	if code != "" {
		me.SetCode(&code)
	}
	oe.SetErrorEscaped(me) // no message: (*ODataError).Error() would panic
	for k, v := range hdr {
		oe.ResponseHeaders.Add(k, v)
	}
	return oe
}

func apiErr(status int, hdr map[string]string) error {
	ae := abs.NewApiError()
	ae.ResponseStatusCode = status
	for k, v := range hdr {
		ae.ResponseHeaders.Add(k, v)
	}
	return ae
}

func oauthErr(status int, code string, aadsts int, hdr http.Header) error {
	body := fmt.Sprintf(`{"error":%q,"error_description":"AADSTS%d: secret-looking text","error_codes":[%d],"correlation_id":"c0"}`, code, aadsts, aadsts)
	if aadsts == 0 {
		body = fmt.Sprintf(`{"error":%q}`, code)
	}
	return &oauth2.RetrieveError{
		Response:  &http.Response{StatusCode: status, Header: hdr},
		Body:      []byte(body),
		ErrorCode: code, ErrorDescription: fmt.Sprintf("AADSTS%d: secret-looking text", aadsts),
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestClassify is the classification table: every row names the condition,
// the Kind and (through Kind.Retryable) whether a retry may help.
func TestClassify(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("refreshing the access token: %w", err) }
	cases := []struct {
		name       string
		err        error
		kind       calsync.Kind
		field      string
		code       string
		retryAfter time.Duration
	}{
		{"graph 400", odataErr(400, "ErrorInvalidIdMalformed", nil), calsync.KindRejected, "", "ErrorInvalidIdMalformed", 0},
		{"graph 401", odataErr(401, "InvalidAuthenticationToken", nil), calsync.KindReconnectRequired, "", "InvalidAuthenticationToken", 0},
		{"graph 403", odataErr(403, "ErrorAccessDenied", nil), calsync.KindForbidden, "", "ErrorAccessDenied", 0},
		{"graph 404", odataErr(404, "ErrorItemNotFound", nil), calsync.KindNotFound, "", "ErrorItemNotFound", 0},
		{"graph 409", odataErr(409, "ErrorIrresolvableConflict", nil), calsync.KindConflict, "", "ErrorIrresolvableConflict", 0},
		{"graph 410", odataErr(410, "SyncStateNotFound", nil), calsync.KindResyncRequired, "", "SyncStateNotFound", 0},
		{"graph 412", odataErr(412, "ErrorIrresolvableConflict", nil), calsync.KindConflict, "", "ErrorIrresolvableConflict", 0},
		{"graph 429 fractional Retry-After", odataErr(429, "TooManyRequests", map[string]string{"Retry-After": "2.128"}), calsync.KindThrottled, "", "TooManyRequests", 2128 * time.Millisecond},
		{"graph 500", odataErr(500, "InternalServerError", nil), calsync.KindUnavailable, "", "InternalServerError", 0},
		{"graph 503 Retry-After", odataErr(503, "ServiceNotAvailable", map[string]string{"Retry-After": "7"}), calsync.KindUnavailable, "", "ServiceNotAvailable", 7 * time.Second},
		{"graph 504", odataErr(504, "", nil), calsync.KindUnavailable, "", "", 0},
		{"graph 408", odataErr(408, "", nil), calsync.KindUnavailable, "", "", 0},
		{"graph 422", odataErr(422, "", nil), calsync.KindRejected, "", "", 0},
		{"empty body 404", apiErr(404, nil), calsync.KindNotFound, "", "", 0},
		{"empty body 429", apiErr(429, map[string]string{"Retry-After": "3"}), calsync.KindThrottled, "", "", 3 * time.Second},
		{"text body", ktext.NoStructuredDataError, calsync.KindUnavailable, "", "", 0},
		{"revoked 50173", wrapped(oauthErr(400, "invalid_grant", 50173, nil)), calsync.KindReconnectRequired, "", "AADSTS50173", 0},
		{"expired 70008", oauthErr(400, "invalid_grant", 70008, nil), calsync.KindReconnectRequired, "", "AADSTS70008", 0},
		{"inactive 700082", oauthErr(400, "invalid_grant", 700082, nil), calsync.KindReconnectRequired, "", "AADSTS700082", 0},
		{"spa lifetime 700084", oauthErr(400, "invalid_grant", 700084, nil), calsync.KindReconnectRequired, "", "AADSTS700084", 0},
		{"mfa 50076", oauthErr(400, "invalid_grant", 50076, nil), calsync.KindReconnectRequired, "", "AADSTS50076", 0},
		{"no consent 65001", oauthErr(400, "invalid_grant", 65001, nil), calsync.KindConsentRequired, "", "AADSTS65001", 0},
		{"declined 65004", oauthErr(400, "access_denied", 65004, nil), calsync.KindConsentRequired, "", "AADSTS65004", 0},
		{"admin consent 90094", oauthErr(400, "invalid_grant", 90094, nil), calsync.KindConsentRequired, "", "AADSTS90094", 0},
		{"consent_required w/o AADSTS", oauthErr(400, "consent_required", 0, nil), calsync.KindConsentRequired, "", "consent_required", 0},
		{"interaction_required", oauthErr(400, "interaction_required", 0, nil), calsync.KindReconnectRequired, "", "interaction_required", 0},
		{"redirect mismatch 500112", oauthErr(400, "invalid_grant", 500112, nil), calsync.KindInvalidInput, "app.redirectUri", "AADSTS500112", 0},
		{"redirect not registered 50011", oauthErr(400, "invalid_request", 50011, nil), calsync.KindInvalidInput, "app.redirectUri", "AADSTS50011", 0},
		{"pkce 50148", oauthErr(400, "invalid_grant", 50148, nil), calsync.KindInvalidInput, "codeVerifier", "AADSTS50148", 0},
		{"pkce 501481", oauthErr(400, "invalid_grant", 501481, nil), calsync.KindInvalidInput, "codeVerifier", "AADSTS501481", 0},
		{"code reused 54005", oauthErr(400, "invalid_grant", 54005, nil), calsync.KindInvalidInput, "code", "AADSTS54005", 0},
		{"unknown app 700016", oauthErr(400, "unauthorized_client", 700016, nil), calsync.KindInvalidInput, "app.clientId", "AADSTS700016", 0},
		{"unknown tenant 90002", oauthErr(400, "invalid_tenant", 90002, nil), calsync.KindInvalidInput, "app.tenant", "AADSTS90002", 0},
		{"bad secret 7000215", oauthErr(401, "invalid_client", 7000215, nil), calsync.KindInvalidInput, "app.clientSecret", "AADSTS7000215", 0},
		{"expired secret 7000222", oauthErr(401, "invalid_client", 7000222, nil), calsync.KindInvalidInput, "app.clientSecret", "AADSTS7000222", 0},
		{"invalid_client other", oauthErr(401, "invalid_client", 7000218, nil), calsync.KindInvalidInput, "app", "AADSTS7000218", 0},
		{"invalid_scope", oauthErr(400, "invalid_scope", 70011, nil), calsync.KindInvalidInput, "scopes", "AADSTS70011", 0},
		{"token endpoint 429", oauthErr(429, "temporarily_unavailable", 0, http.Header{"Retry-After": {"4"}}), calsync.KindThrottled, "", "temporarily_unavailable", 4 * time.Second},
		{"token endpoint 503", oauthErr(503, "server_error", 0, nil), calsync.KindUnavailable, "", "server_error", 0},
		{"temporarily_unavailable 400", oauthErr(400, "temporarily_unavailable", 0, nil), calsync.KindUnavailable, "", "temporarily_unavailable", 0},
		{"invalid_grant unknown", oauthErr(400, "invalid_grant", 9002313, nil), calsync.KindReconnectRequired, "", "AADSTS9002313", 0},
		{"cancelled", fmt.Errorf("x: %w", context.Canceled), calsync.KindCancelled, "", "", 0},
		{"deadline", &url.Error{Op: "Get", URL: "https://graph.microsoft.com/v1.0/me", Err: context.DeadlineExceeded}, calsync.KindUnavailable, "", "", 0},
		{"graph 429 Retry-After overflow", odataErr(429, "TooManyRequests", map[string]string{"Retry-After": "1e300"}), calsync.KindThrottled, "", "TooManyRequests", maxRetryAfter},
		{"graph 429 Retry-After Inf", odataErr(429, "TooManyRequests", map[string]string{"Retry-After": "+Inf"}), calsync.KindThrottled, "", "TooManyRequests", maxRetryAfter},
		{"calsync passes through", calsync.Invalid("tokens.refreshToken", "missing"), calsync.KindInvalidInput, "tokens.refreshToken", "", 0},
		{"anything else", errors.New("boom"), calsync.KindInternal, "", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Classify(c.err)
			if got.Kind != c.kind || got.Field != c.field || got.Code != c.code {
				t.Fatalf("Classify = kind %q field %q code %q; want %q %q %q", got.Kind, got.Field, got.Code, c.kind, c.field, c.code)
			}
			if got.RetryAfter != c.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", got.RetryAfter, c.retryAfter)
			}
			if got.Message == "" {
				t.Error("no message for people")
			}
			// Error() must neither panic (ODataError without message) nor
			// carry the token endpoint's description.
			if s := got.Error(); strings.Contains(s, "secret-looking") {
				t.Errorf("error text leaks the upstream description: %s", s)
			}
		})
	}
	if Classify(nil) != nil {
		t.Error("Classify(nil) != nil")
	}
}

// TestTransportCause: a transport failure says what went wrong on the way
// in Cause (data.cause), not in Code, which is Microsoft's own code.
func TestTransportCause(t *testing.T) {
	cases := []struct {
		name  string
		err   error
		kind  calsync.Kind
		cause string
	}{
		{"net timeout", &url.Error{Op: "Get", URL: "u", Err: timeoutErr{}}, calsync.KindUnavailable, CauseTimeout},
		{"connection refused", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}, calsync.KindUnavailable, CauseConnectionRefused},
		{"connection reset", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}}, calsync.KindUnavailable, CauseConnectionReset},
		{"dns not found", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "no such host", Name: "graph.example", IsNotFound: true}}}, calsync.KindConfiguration, CauseDNSNotFound},
		{"dns failure", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Err: &net.DNSError{Err: "server misbehaving", Name: "graph.example", IsTemporary: true}}}, calsync.KindUnavailable, CauseDNS},
		{"other network failure", &url.Error{Op: "Get", URL: "u", Err: &net.OpError{Op: "dial", Err: errors.New("network is unreachable")}}, calsync.KindUnavailable, CauseNetwork},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Classify(c.err)
			if got.Kind != c.kind || got.Cause != c.cause || got.Code != "" {
				t.Fatalf("Classify = kind %q cause %q code %q; want %q %q and no code", got.Kind, got.Cause, got.Code, c.kind, c.cause)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		v    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0.5", 500 * time.Millisecond, true},
		{"1.9", 1900 * time.Millisecond, true},
		{"120", 2 * time.Minute, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{"-3", 0, false},
		{"soon", 0, false},
	}
	for _, c := range cases {
		got, ok := retryAfter(http.Header{"Retry-After": {c.v}}, now)
		if got != c.want || ok != c.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", c.v, got, ok, c.want, c.ok)
		}
	}
}

func TestShouldRetry(t *testing.T) {
	mk := func(method string, status int, retryAfter string, timeout time.Duration) (*http.Request, *http.Response) {
		ctx := context.Background()
		if timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, timeout)
			t.Cleanup(cancel)
		}
		req, _ := http.NewRequestWithContext(ctx, method, "https://graph.microsoft.com/v1.0/me", nil)
		resp := &http.Response{StatusCode: status, Header: http.Header{}, Body: http.NoBody}
		if retryAfter != "" {
			resp.Header.Set("Retry-After", retryAfter)
		}
		return req, resp
	}
	cases := []struct {
		name       string
		method     string
		status     int
		retryAfter string
		timeout    time.Duration
		exec       int
		want       bool
	}{
		{"GET 503 no deadline", "GET", 503, "", 0, 0, true},
		{"GET 429 fits deadline", "GET", 429, "1", 10 * time.Second, 0, true},
		{"GET 429 beyond deadline", "GET", 429, "30", 5 * time.Second, 0, false},
		{"GET 503 backoff beyond deadline", "GET", 503, "", 3 * time.Second, 2, false},
		{"POST 429 is safe", "POST", 429, "1", 0, 0, true},
		{"POST 503 may have been executed", "POST", 503, "1", 0, 0, false},
		{"PATCH 504", "PATCH", 504, "1", 0, 0, true},
	}
	for _, c := range cases {
		req, resp := mk(c.method, c.status, c.retryAfter, c.timeout)
		if got := shouldRetry(0, c.exec, req, resp); got != c.want {
			t.Errorf("%s: shouldRetry = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestCounterKinds(t *testing.T) {
	c := newCounter("/v1.0")
	for _, p := range []string{
		"/v1.0/me", "/v1.0/me", "/v1.0/me/calendar", "/v1.0/me/events/AAMkAGI2TG93AAA=",
		"/v1.0/me/events/evt-1", "/v1.0/me/calendarView/delta()", "/v1.0/$batch",
	} {
		c.add(http.MethodGet, p)
	}
	want := map[string]int{
		"GET /me": 2, "GET /me/calendar": 1, "GET /me/events/{id}": 2,
		"GET /me/calendarView/delta()": 1, "GET /$batch": 1,
	}
	got := c.snapshot()
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts = %v, want %v", got, want)
	}
}

func TestAppValidate(t *testing.T) {
	good := App{Tenant: "common", ClientID: "11111111-2222-3333-4444-555555555555", ClientSecret: "s", RedirectURI: "https://oro.example/callback"}
	cases := []struct {
		name  string
		edit  func(*App)
		field string
	}{
		{"ok", func(*App) {}, ""},
		{"tenant guid", func(a *App) { a.Tenant = "72f988bf-86f1-41af-91ab-2d7cd011db47" }, ""},
		{"tenant domain", func(a *App) { a.Tenant = "contoso.onmicrosoft.com" }, ""},
		{"tenant path", func(a *App) { a.Tenant = "../evil" }, "app.tenant"},
		{"tenant empty", func(a *App) { a.Tenant = "" }, "app.tenant"},
		{"tenant word", func(a *App) { a.Tenant = "contoso" }, "app.tenant"},
		{"client id", func(a *App) { a.ClientID = "not-a-guid" }, "app.clientId"},
		{"redirect relative", func(a *App) { a.RedirectURI = "/callback" }, "app.redirectUri"},
		{"redirect http", func(a *App) { a.RedirectURI = "http://oro.example/cb" }, "app.redirectUri"},
		{"redirect http loopback", func(a *App) { a.RedirectURI = "http://127.0.0.1:8080/cb" }, ""},
		{"secret missing", func(a *App) { a.ClientSecret = "" }, "app.clientSecret"},
	}
	for _, c := range cases {
		a := good
		c.edit(&a)
		err := a.Validate(true)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: unexpected %v", c.name, err)
		case c.field != "" && (err == nil || err.Field != c.field || err.Kind != calsync.KindInvalidInput):
			t.Errorf("%s: got %v, want invalid_input on %s", c.name, err, c.field)
		}
	}
}

// TestConsentOrForbidden: a 403 on reading one's own calendar means the
// permission is missing; everything else keeps Classify's kind.
func TestConsentOrForbidden(t *testing.T) {
	denied := odataErr(403, "ErrorAccessDenied", map[string]string{"request-id": "r1"})
	if k := Classify(denied).Kind; k != calsync.KindForbidden {
		t.Fatalf("Classify: %s, want forbidden (per-item refusals)", k)
	}
	for name, err := range map[string]error{
		"odata":              denied,
		"already classified": fmt.Errorf("wrapped: %w", withOp(Classify(denied), "graph.delta")),
	} {
		e := ConsentOrForbidden(err, RequiredScope)
		if e.Kind != calsync.KindConsentRequired || e.Code != RequiredScope || !strings.Contains(e.Message, RequiredScope) {
			t.Errorf("%s: got %+v, want consent_required naming %s", name, e, RequiredScope)
		}
		if name == "already classified" && e.Op != "graph.delta" {
			t.Errorf("%s: op %q lost", name, e.Op)
		}
		if !strings.Contains(e.Error(), "r1") {
			t.Errorf("%s: the Graph request id is gone from the log text %q", name, e.Error())
		}
	}
	for _, err := range []error{odataErr(404, "ErrorItemNotFound", nil), odataErr(429, "", nil), oauthErr(400, "invalid_grant", 70008, nil)} {
		if got, want := ConsentOrForbidden(err, RequiredScope).Kind, Classify(err).Kind; got != want {
			t.Errorf("%v: %s, want %s", Classify(err), got, want)
		}
	}
	if ConsentOrForbidden(nil, RequiredScope) != nil {
		t.Error("nil error classified")
	}
}
