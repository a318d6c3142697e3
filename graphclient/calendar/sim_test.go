package calendar

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// fixture is a simulator on a loopback server with one signed-in user.
type fixture struct {
	sim     *graphsim.Sim
	srv     *httptest.Server
	session *graphclient.Session
	upn     string
	meter   *mailboxMeter
}

const (
	testClientID = "3f2a8c1e-6b4d-4e7f-9a10-2c5d8e9f0a1b"
	testSecret   = "sim-secret"
	testRedirect = "http://localhost/callback"
)

// newFixture starts a simulator with opts (AutoConsent forced on), signs a
// user in through the identity endpoints as the host would (authorization
// URL, code, exchange) and opens a session for the tokens.
func newFixture(t testing.TB, opts graphsim.Options) *fixture {
	t.Helper()
	opts.AutoConsent = true
	if opts.Logf == nil {
		opts.Logf = t.Logf
	}
	sim := graphsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.RegisterApp(graphsim.App{ClientID: testClientID, ClientSecret: testSecret, RedirectURIs: []string{testRedirect}})
	upn := "adele@contoso.example"
	sim.AddUser(graphsim.User{UPN: upn, DisplayName: "Adele Vance", Mail: upn})

	meter := &mailboxMeter{base: http.DefaultTransport}
	cfg := graphclient.Config{
		Endpoints: graphclient.Endpoints{Authority: srv.URL, Graph: srv.URL + "/v1.0"},
		Logger:    zerolog.Nop(),
		Transport: meter,
	}
	app := graphclient.App{Tenant: "common", ClientID: testClientID, ClientSecret: testSecret, RedirectURI: testRedirect}
	ctx := context.Background()
	auth, err := graphclient.NewAuthorization(cfg, app, graphclient.AuthorizationRequest{LoginHint: upn})
	if err != nil {
		t.Fatal(err)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(auth.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	grant, err := graphclient.Exchange(ctx, cfg, app, loc.Query().Get("code"), auth.CodeVerifier)
	if err != nil {
		t.Fatal(err)
	}
	session, err := graphclient.NewSession(ctx, cfg, app, grant.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	sim.ResetLog()
	return &fixture{sim: sim, srv: srv, session: session, upn: upn, meter: meter}
}

// mailboxMeter measures, below the SDK, the peak number of requests running
// against the mailbox: a request counts one, a $batch as many as Graph runs
// of it at once (one when its items depend on each other, which Graph runs
// one at a time; its items, at most 4, when they are unordered). The
// simulator throttles the same limit server-side; measuring it here as well
// shows the client's own peak, not only whether it went over. It also
// keeps the peak number of $batch requests in flight at once, and the
// time requests held slots (the sum over time of how many ran).
type mailboxMeter struct {
	base http.RoundTripper

	mu                   sync.Mutex
	now, peak            int
	held                 time.Duration // slot-time: now integrated over time
	since                time.Time     // when now last changed
	batches, batchesPeak int
	unordered            int // batches of several items without dependsOn
}

func (m *mailboxMeter) RoundTrip(req *http.Request) (*http.Response, error) {
	w := 0
	switch {
	case strings.HasSuffix(req.URL.Path, "/$batch") && req.Body != nil:
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		var b struct {
			Requests []struct{ DependsOn []string }
		}
		if json.Unmarshal(body, &b) == nil {
			w = min(len(b.Requests), 4)
			for _, it := range b.Requests {
				if len(it.DependsOn) > 0 {
					w = 1 // sequential
				}
			}
		}
		m.mu.Lock()
		if w > 1 {
			m.unordered++
		}
		m.batches++
		m.batchesPeak = max(m.batchesPeak, m.batches)
		m.mu.Unlock()
		defer func() {
			m.mu.Lock()
			m.batches--
			m.mu.Unlock()
		}()
	case strings.Contains(req.URL.Path, "/v1.0/"):
		w = 1
	}
	m.mu.Lock()
	m.tick()
	m.now += w
	m.peak = max(m.peak, m.now)
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.tick()
		m.now -= w
		m.mu.Unlock()
	}()
	return m.base.RoundTrip(req)
}

// tick adds the slot-time since the last change of now; m.mu is held.
func (m *mailboxMeter) tick() {
	t := time.Now()
	if !m.since.IsZero() {
		m.held += time.Duration(m.now) * t.Sub(m.since)
	}
	m.since = t
}

// slotTime returns the slot-time requests held so far.
func (m *mailboxMeter) slotTime() time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tick()
	return m.held
}

func (m *mailboxMeter) max() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peak
}

// overlap returns the peak number of $batch requests in flight at once.
func (m *mailboxMeter) overlap() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.batchesPeak
}

// throttled counts the 429 answers in the simulator's log, batch items
// included.
func (f *fixture) throttled() int {
	n := 0
	var walk func([]graphsim.RequestRecord)
	walk = func(rs []graphsim.RequestRecord) {
		for _, r := range rs {
			if r.Status == http.StatusTooManyRequests {
				n++
			}
			walk(r.BatchItems)
		}
	}
	walk(f.sim.Requests())
	return n
}

// ranItems counts the batch items with method that the simulator ran: all
// but those answered 424 (failed dependency), which never ran.
func (f *fixture) ranItems(method string) int {
	n := 0
	for _, r := range f.sim.Requests() {
		for _, it := range r.BatchItems {
			if it.Method == method && it.Status != http.StatusFailedDependency {
				n++
			}
		}
	}
	return n
}
