package graphclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/rs/zerolog"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// sink is a server that must never be reached: it records what it got.
type sink struct {
	*httptest.Server
	mu   sync.Mutex
	got  []string
	body []string
}

func newSink(t *testing.T) *sink {
	t.Helper()
	s := &sink{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.got = append(s.got, r.Method+" "+r.URL.String())
		s.body = append(s.body, string(b))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		// what a hostile server would answer: tokens, or a user
		io.WriteString(w, `{"access_token":"evil","refresh_token":"evil","expires_in":3600,"token_type":"Bearer","id":"evil","displayName":"Evil"}`)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *sink) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// testApp and freshTokens make a session that sends no token request until
// Graph refuses its access token.
var testApp = App{Tenant: "common", ClientID: testClientID, ClientSecret: testSecret, RedirectURI: testRedirect}

func freshTokens() Tokens {
	return Tokens{AccessToken: "at", RefreshToken: "rt-secret-value", ExpiresAt: time.Now().Add(time.Hour)}
}

// TestTokenEndpointRedirectNotFollowed: a token request carries the client
// secret and the refresh token or the code and verifier. A redirect from the
// token endpoint, to any host, is refused: nothing is sent again, and the
// error says to check the configuration instead of calling it retryable.
func TestTokenEndpointRedirectNotFollowed(t *testing.T) {
	for _, status := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect, http.StatusFound} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			evil := newSink(t)
			authority := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, evil.URL+r.URL.Path, status)
			}))
			defer authority.Close()
			cfg := Config{Endpoints: Endpoints{Authority: authority.URL, Graph: authority.URL + "/v1.0"}, Logger: zerolog.Nop()}

			_, err := Exchange(context.Background(), cfg, testApp, "the-code", strings.Repeat("v", 43))
			wantRedirectRefused(t, "exchange", err)

			// a refresh: the access token is expired
			s, err := NewSession(context.Background(), cfg, testApp, Tokens{RefreshToken: "rt-secret-value"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Me(context.Background())
			wantRedirectRefused(t, "refresh", err)

			if got := evil.requests(); len(got) > 0 {
				t.Fatalf("the redirect target received %v, bodies %q", got, evil.body)
			}
		})
	}
}

func wantRedirectRefused(t *testing.T, what string, err error) {
	t.Helper()
	ce := calsync.AsError(err)
	if ce == nil || ce.Kind != calsync.KindConfiguration || ce.Cause != CauseRedirect || !strings.Contains(ce.Message, "--authority-url") {
		t.Fatalf("%s: got %v, want the redirect refused, not retryable", what, err)
	}
	if strings.Contains(ce.Error(), testSecret) || strings.Contains(ce.Error(), "rt-secret-value") {
		t.Fatalf("%s: error leaks a secret: %v", what, ce)
	}
}

// graphStub is a Graph endpoint answering GET /v1.0/me with answer.
func graphStub(t *testing.T, answer http.HandlerFunc) (Config, *Session) {
	t.Helper()
	srv := httptest.NewServer(answer)
	t.Cleanup(srv.Close)
	cfg := Config{Endpoints: Endpoints{Authority: srv.URL, Graph: srv.URL + "/v1.0"}, Logger: zerolog.Nop()}
	s, err := NewSession(context.Background(), cfg, testApp, freshTokens())
	if err != nil {
		t.Fatal(err)
	}
	return cfg, s
}

const userJSON = `{"id":"u1","displayName":"Adele Vance","mail":"adele@contoso.example"}`

// TestGraphRedirects: a Graph redirect is followed only within the Graph
// endpoint; one to another server is not followed at all (the other server
// gets nothing, not even without the token) and is Microsoft's fault.
func TestGraphRedirects(t *testing.T) {
	evil := newSink(t)
	_, s := graphStub(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1.0/me":
			http.Redirect(w, r, evil.URL+"/v1.0/me", http.StatusFound)
		case "/v1.0/me/calendar":
			http.Redirect(w, r, "/v1.0/me/calendars/c1", http.StatusTemporaryRedirect) // within Graph
		case "/v1.0/me/calendars/c1":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":"c1","name":"Calendar","canEdit":true}`)
		default:
			http.NotFound(w, r)
		}
	})
	_, err := s.Me(context.Background())
	if ce := calsync.AsError(err); ce == nil || ce.Kind != calsync.KindUnavailable {
		t.Fatalf("redirect to another server: got %v, want unavailable", err)
	}
	if got := evil.requests(); len(got) > 0 {
		t.Fatalf("the redirect target received %v", got)
	}
	c, err := s.DefaultCalendar(context.Background())
	if err != nil || c.ID != "c1" {
		t.Fatalf("redirect within Graph: got %+v, %v", c, err)
	}
}

// TestGraphUnusableAnswers: what gateways and broken servers send (HTML
// error pages, bodies that are not JSON or are cut short, empty answers)
// is Microsoft being unavailable, retryable; never an internal error, never
// a crash on the SDK's nil result.
func TestGraphUnusableAnswers(t *testing.T) {
	cases := []struct {
		name   string
		answer http.HandlerFunc
	}{
		{"204", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }},
		{"304", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) }},
		{"empty 200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
		}},
		{"200 without content type", func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil
			io.WriteString(w, userJSON)
		}},
		{"200 null", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "null")
		}},
		{"200 html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><body>Sign in to the proxy</body></html>")
		}},
		{"200 not json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "<html>oops</html>")
		}},
		{"200 truncated json", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, userJSON[:20])
		}},
		{"200 cut short", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "500")
			io.WriteString(w, userJSON)
		}},
		{"200 id of the wrong type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"id":42,"displayName":["x"],"name":{"a":1}}`)
		}},
		{"500 html", gateway(500)},
		{"502 html", gateway(502)},
		{"503 html", gateway(503)},
		{"504 html", gateway(504)},
		{"500 json without message", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(500)
			io.WriteString(w, `{"error":{"code":"X"}}`)
		}},
		{"502 error not an object", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(502)
			io.WriteString(w, `{"error":"bad gateway"}`)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, s := graphStub(t, c.answer)
			// a deadline shorter than the retry handler's first backoff:
			// a 503 or 504 is answered at once, not retried
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			_, err := s.Me(ctx)
			if ce := calsync.AsError(err); ce == nil || ce.Kind != calsync.KindUnavailable {
				t.Fatalf("Me: got %v, want unavailable", err)
			}
			_, err = s.DefaultCalendar(ctx)
			if ce := calsync.AsError(err); ce == nil || ce.Kind != calsync.KindUnavailable {
				t.Fatalf("DefaultCalendar: got %v, want unavailable", err)
			}
		})
	}
}

func gateway(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		io.WriteString(w, "<html><head><title>"+http.StatusText(status)+"</title></head><body>nginx</body></html>")
	}
}

// TestUpstreamCodeCapped: Graph's error code is copied into Code and into
// the message, capped and without control characters.
func TestUpstreamCodeCapped(t *testing.T) {
	huge := strings.Repeat("Ä", 5000) + "\x1b[31m\r\nInjected: line"
	for _, err := range []error{odataErr(400, huge, map[string]string{"request-id": huge}), oauthErr(400, huge, 0, nil)} {
		e := Classify(err)
		for what, s := range map[string]string{"code": e.Code, "message": e.Message, "error": e.Error()} {
			if len(s) > 400 {
				t.Errorf("%s is %d bytes", what, len(s))
			}
			if strings.IndexFunc(s, unicode.IsControl) >= 0 {
				t.Errorf("%s has control characters: %.120q", what, s)
			}
		}
	}
}

// failing is a network that fails every request with err.
type failing struct{ err error }

func (f failing) RoundTrip(*http.Request) (*http.Response, error) { return nil, f.err }

// TestUnreachableEndpoint: the cause of a transport failure is in the error
// (Cause and the message), and a name that does not exist is a
// configuration error naming the flag to check.
func TestUnreachableEndpoint(t *testing.T) {
	refusing, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := refusing.Addr().String()
	refusing.Close() // nothing listens there now

	cfg := Config{Endpoints: Endpoints{Graph: "http://" + addr + "/v1.0"}, Logger: zerolog.Nop()}
	s, err := NewSession(context.Background(), cfg, testApp, freshTokens())
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Me(context.Background())
	if ce := calsync.AsError(err); ce == nil || ce.Kind != calsync.KindUnavailable || ce.Cause != CauseConnectionRefused || !strings.Contains(ce.Message, addr) {
		t.Fatalf("connection refused: got %+v", ce)
	}

	cfg = Config{Endpoints: Endpoints{Graph: "https://graph.microsfot.example/v1.0"}, Logger: zerolog.Nop(),
		Transport: failing{&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "graph.microsfot.example", IsNotFound: true}}}}
	s, err = NewSession(context.Background(), cfg, testApp, freshTokens())
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Me(context.Background())
	if ce := calsync.AsError(err); ce == nil || ce.Kind != calsync.KindConfiguration || ce.Cause != CauseDNSNotFound ||
		!strings.Contains(ce.Message, "graph.microsfot.example") || !strings.Contains(ce.Message, "--graph-url") {
		t.Fatalf("dns not found: got %+v", ce)
	}
}

// TestLogKeys: a Graph request's log line names the HTTP method
// http_method (the request's context may carry another method) and gives
// its duration with a unit, and every key is snake_case like zerolog's own
// and rpc's (rpc_method, elapsed_ms).
func TestLogKeys(t *testing.T) {
	var buf bytes.Buffer
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, userJSON)
	}))
	defer srv.Close()
	log := zerolog.New(&buf).Level(zerolog.DebugLevel).With().Str("method", "connection.check").Logger()
	cfg := Config{Endpoints: Endpoints{Authority: srv.URL, Graph: srv.URL + "/v1.0"}}
	s, err := NewSession(context.Background(), cfg, testApp, freshTokens())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Me(log.WithContext(context.Background())); err != nil {
		t.Fatal(err)
	}
	line, _, _ := bytes.Cut(buf.Bytes(), []byte("\n"))
	dec := json.NewDecoder(bytes.NewReader(line))
	keys := map[string]int{}
	tok, err := dec.Token() // {
	for err == nil && dec.More() {
		if tok, err = dec.Token(); err == nil {
			keys[tok.(string)]++
			var v json.RawMessage
			err = dec.Decode(&v)
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		t.Fatalf("log line %s: %v", line, err)
	}
	for k, n := range keys {
		if n > 1 {
			t.Errorf("key %q repeated in %s", k, line)
		}
		if strings.ToLower(k) != k {
			t.Errorf("key %q is not snake_case in %s", k, line)
		}
	}
	if keys["http_method"] != 1 || keys["duration_ms"] != 1 {
		t.Errorf("log line %s: want http_method and duration_ms", line)
	}
}

// TestTokenEndpointUnreadableAnswer: a 200 from the token endpoint that is
// not a JSON object with an access token is what a gateway in front of
// Microsoft sends: Microsoft sign-in is unavailable (retryable), not our
// bug, for the code exchange and for a refresh alike.
func TestTokenEndpointUnreadableAnswer(t *testing.T) {
	answers := []struct{ name, contentType, body string }{
		{"html page", "text/html", "<html><body>502 Bad Gateway</body></html>"},
		{"cut short", "application/json", `{"access_token":"at-2","token_type":"Bearer","expi`},
		{"no access token", "application/json", `{"token_type":"Bearer","expires_in":3600}`},
		{"empty access token", "application/json", `{"access_token":"","token_type":"Bearer"}`},
		{"json array", "application/json", `[{"access_token":"at-2"}]`},
		{"empty", "application/json", ""},
		{"json labelled text", "text/plain", `{"access_token":"at-2","token_type":"Bearer"}`},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			authority := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", a.contentType)
				io.WriteString(w, a.body)
			}))
			defer authority.Close()
			cfg := Config{Endpoints: Endpoints{Authority: authority.URL, Graph: authority.URL + "/v1.0"}, Logger: zerolog.Nop()}

			_, err := Exchange(context.Background(), cfg, testApp, "the-code", strings.Repeat("v", 43))
			if ce := calsync.AsError(err); ce == nil || ce.Kind != calsync.KindUnavailable {
				t.Fatalf("exchange: got %v, want unavailable", err)
			}
			s, err := NewSession(context.Background(), cfg, testApp, Tokens{RefreshToken: "rt-secret-value"})
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.Me(context.Background())
			if ce := calsync.AsError(err); ce == nil || ce.Kind != calsync.KindUnavailable {
				t.Fatalf("refresh: got %v, want unavailable", err)
			}
		})
	}
}
