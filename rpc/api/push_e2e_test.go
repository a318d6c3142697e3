package api_test

// End-to-end tests of push: the built oro-msync binary and cmd/graphsim,
// with a local listener playing the host's notification endpoint.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// hostEndpoint plays the host's notification and lifecycle URLs: it echoes
// validationToken as text/plain (the handshake) and queues every other body
// with the time it arrived.
type hostEndpoint struct {
	srv      *httptest.Server
	notified chan received
	life     chan received
}

type received struct {
	body string
	at   time.Time
}

func newHostEndpoint(t *testing.T) *hostEndpoint {
	t.Helper()
	h := &hostEndpoint{notified: make(chan received, 64), life: make(chan received, 64)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, tok) // Query() has URL-decoded it
			return
		}
		b, _ := io.ReadAll(r.Body)
		rc := received{body: string(b), at: time.Now()}
		if r.URL.Path == "/lifecycle" {
			h.life <- rc
		} else {
			h.notified <- rc
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// next waits for the next POST on ch; a minute without one fails the test.
func next(t *testing.T, ch chan received, what string) received {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(time.Minute):
		t.Fatalf("no %s within a minute", what)
	}
	return received{}
}

type subRecord struct {
	ID          string    `json:"id"`
	ExpiresAt   time.Time `json:"expiresAt"`
	ClientState string    `json:"clientState"`
	RenewAt     time.Time `json:"renewAt"`
}

type ensured struct {
	Subscription subRecord `json:"subscription"`
	Created      bool      `json:"created"`
	Tokens       *tokens   `json:"tokens"`
}

type verified struct {
	Sync []struct {
		User, SubscriptionID string
		Changes              int
	} `json:"sync"`
	Lifecycle []struct{ User, SubscriptionID, Event, Action string } `json:"lifecycle"`
	Keys      []string                                               `json:"keys"`
	Ignored   map[string]int                                         `json:"ignored"`
}

type pushEnv struct {
	t    *testing.T
	sim  *simProc
	sc   *sidecar
	f    *flow
	host *hostEndpoint
	tok  tokens
}

func newPushEnv(t *testing.T) *pushEnv {
	sidecarBin, simBin := binaries(t)
	sim := startSim(t, simBin)
	sc := startSidecar(t, sidecarBin, sim)
	f := &flow{t: t, sc: sc}
	p := &pushEnv{t: t, sim: sim, sc: sc, f: f, host: newHostEndpoint(t)}
	p.tok = f.connect()
	return p
}

func (p *pushEnv) ensure(rec *subRecord) ensured {
	p.t.Helper()
	params := map[string]any{"app": app(true), "tokens": p.tok,
		"notificationUrl": p.host.srv.URL + "/notify", "lifecycleNotificationUrl": p.host.srv.URL + "/lifecycle"}
	if rec != nil {
		params["subscription"] = rec
	}
	var r ensured
	p.sc.ok("subscription.ensure", params, &r)
	if r.Tokens != nil {
		p.tok = *r.Tokens
	}
	s := r.Subscription
	if s.ID == "" || len(s.ClientState) < 32 || !s.RenewAt.Equal(s.ExpiresAt.Add(-24*time.Hour)) {
		p.t.Fatalf("ensure = %+v", r)
	}
	return r
}

func (p *pushEnv) verify(body string, rec subRecord, recent []string) verified {
	p.t.Helper()
	var v verified
	params := map[string]any{"body": body, "subscriptions": []map[string]string{{"id": rec.ID, "clientState": rec.ClientState, "user": "42"}}}
	if recent != nil {
		params["recentKeys"] = recent
	}
	p.sc.ok("notification.verify", params, &v)
	return v
}

type syncResult struct {
	Status     string          `json:"status"`
	Reason     string          `json:"reason"`
	NextSyncAt time.Time       `json:"nextSyncAt"`
	State      json.RawMessage `json:"state"`
	Tokens     *tokens         `json:"tokens"`
	Operations []struct {
		Op    string `json:"op"`
		Event *struct {
			Title string `json:"title"`
		} `json:"event"`
	} `json:"operations"`
}

func (p *pushEnv) syncRun(mode string, state json.RawMessage) syncResult {
	p.t.Helper()
	params := map[string]any{"app": app(true), "tokens": p.tok, "cascade": map[string]any{"system": map[string]any{"enabled": true}},
		"mode": mode, "events": []any{}}
	if state != nil {
		params["state"] = state
	}
	var r syncResult
	p.sc.ok("sync.run", params, &r)
	if r.Tokens != nil {
		p.tok = *r.Tokens
	}
	return r
}

func (p *pushEnv) outlookCreate(subject string) {
	p.t.Helper()
	day := time.Now().UTC().AddDate(0, 0, 1).Format("2006-01-02")
	p.sim.control(p.t, "POST", "/users/"+url.PathEscape(e2eUPN)+"/events", map[string]any{"subject": subject,
		"start": map[string]string{"dateTime": day + "T14:00:00", "timeZone": "UTC"},
		"end":   map[string]string{"dateTime": day + "T15:00:00", "timeZone": "UTC"}})
}

// An Outlook edit reaches Oro through a notification: notification.verify
// names the user, and the incremental sync.run that follows brings it.
func TestPushEndToEnd(t *testing.T) {
	p := newPushEnv(t)
	first := p.syncRun("full", nil)
	if first.Status != "completed" {
		t.Fatalf("full run: %+v", first)
	}
	sub := p.ensure(nil)
	if !sub.Created || time.Until(sub.Subscription.ExpiresAt) < 10080*time.Minute-10*time.Minute {
		t.Fatalf("first ensure = %+v", sub)
	}
	p.f.keep(sub.Subscription.ClientState)

	edit := time.Now()
	p.outlookCreate("Dentist")
	n := next(t, p.host.notified, "notification")
	v := p.verify(n.body, sub.Subscription, nil)
	if len(v.Sync) != 1 || v.Sync[0].User != "42" || v.Sync[0].SubscriptionID != sub.Subscription.ID {
		t.Fatalf("verify = %+v", v)
	}
	run := p.syncRun("incremental", first.State)
	done := time.Now()
	var found bool
	for _, op := range run.Operations {
		found = found || (op.Event != nil && op.Event.Title == "Dentist")
	}
	if !found {
		t.Fatalf("the Outlook event is not among the operations: %+v", run)
	}
	t.Logf("edit → notification %v, edit → operation %v (notification.verify and an incremental sync.run through the binary)",
		n.at.Sub(edit).Round(time.Millisecond), done.Sub(edit).Round(time.Millisecond))

	// one Outlook edit, notified three times and each delivered twice:
	// one user to sync, one change
	var created struct {
		Value []struct {
			ResourceData struct{ ID string } `json:"resourceData"`
		} `json:"value"`
	}
	if err := json.Unmarshal([]byte(n.body), &created); err != nil || len(created.Value) != 1 {
		t.Fatalf("notification body %s: %v", n.body, err)
	}
	p.sim.control(t, "POST", "/notifications", map[string]any{"updatedRepeats": 3, "duplicate": true})
	p.sim.control(t, "PATCH", "/users/"+url.PathEscape(e2eUPN)+"/events/"+created.Value[0].ResourceData.ID, map[string]any{"subject": "Dentist (moved)"})
	upd := p.verify(next(t, p.host.notified, "update notification").body, sub.Subscription, nil)
	if len(upd.Sync) != 1 || upd.Sync[0].Changes != 1 || upd.Ignored["duplicate"] != 5 {
		t.Fatalf("repeated update: %+v", upd)
	}

	// a replay of the same body is ignored once its keys are kept
	again := p.verify(n.body, sub.Subscription, v.Keys)
	if len(again.Sync) != 0 || again.Ignored["replayed"] == 0 {
		t.Fatalf("replay: %+v", again)
	}
	// a forged clientState is refused
	forged := strings.ReplaceAll(n.body, sub.Subscription.ClientState, "forged-"+sub.Subscription.ClientState[7:])
	if f := p.verify(forged, sub.Subscription, nil); len(f.Sync) != 0 || f.Ignored["clientStateMismatch"] == 0 {
		t.Fatalf("forged: %+v", f)
	}
	// something else than Graph's shape: -32602 on body, no detail
	_, _, e := p.sc.call("notification.verify", map[string]any{"body": `{"value":[{"hello":"` + sub.Subscription.ClientState + `"}]}`,
		"subscriptions": []map[string]string{{"id": sub.Subscription.ID, "clientState": sub.Subscription.ClientState, "user": "42"}}})
	if e == nil || e.Code != -32602 || e.Data.Field != "body" || strings.Contains(e.Message, sub.Subscription.ClientState) {
		t.Fatalf("bad body: %+v", e)
	}
	for _, s := range p.f.secrets {
		if s != "" && strings.Contains(p.sc.stderr.String(), s) {
			t.Errorf("a secret reached stderr")
		}
	}
}

func TestPushLifecycle(t *testing.T) {
	p := newPushEnv(t)
	sub := p.ensure(nil)
	rec := sub.Subscription

	// renewal keeps the id and the clientState
	renewed := p.ensure(&rec)
	if renewed.Created || renewed.Subscription.ID != rec.ID || renewed.Subscription.ClientState != rec.ClientState {
		t.Fatalf("renew = %+v", renewed)
	}
	rec = renewed.Subscription

	lifecycle := func(event, action string) {
		t.Helper()
		p.sim.control(t, "POST", "/subscriptions/"+rec.ID+"/lifecycle", map[string]string{"lifecycleEvent": event})
		v := p.verify(next(t, p.host.life, event).body, rec, nil)
		if len(v.Lifecycle) != 1 || v.Lifecycle[0].Event != event || v.Lifecycle[0].Action != action || v.Lifecycle[0].User != "42" {
			t.Fatalf("%s: %+v", event, v)
		}
	}
	lifecycle("reauthorizationRequired", "ensure")
	if r := p.ensure(&rec); r.Created || r.Subscription.ID != rec.ID {
		t.Fatalf("ensure after reauthorizationRequired = %+v", r)
	}
	lifecycle("missed", "full_sync")
	lifecycle("subscriptionRemoved", "recreate")
	// Graph no longer knows it: ensure with the stale record makes a new one
	r := p.ensure(&rec)
	if !r.Created || r.Subscription.ID == rec.ID || r.Subscription.ClientState == rec.ClientState {
		t.Fatalf("ensure after subscriptionRemoved = %+v", r)
	}
	rec = r.Subscription

	// expiry: a record past its expiresAt is not renewed (Graph has dropped
	// it) but replaced; the simulator's own expiry is in its tests, as
	// moving its clock a week would put the sidecar's expiry in its past
	expired := rec
	expired.ExpiresAt = time.Now().Add(-time.Minute)
	r = p.ensure(&expired)
	if !r.Created || r.Subscription.ID == rec.ID {
		t.Fatalf("ensure after expiry = %+v", r)
	}
	rec = r.Subscription

	// remove, then remove again: gone either way
	for i, want := range []bool{true, false} {
		var out struct {
			Removed bool    `json:"removed"`
			Tokens  *tokens `json:"tokens"`
		}
		p.sc.ok("subscription.remove", map[string]any{"app": app(true), "tokens": p.tok, "subscriptionId": rec.ID}, &out)
		if out.Tokens != nil {
			p.tok = *out.Tokens
		}
		if out.Removed != want {
			t.Fatalf("remove #%d = %+v", i+1, out)
		}
	}

	// an endpoint that does not echo the token: Microsoft refuses, the
	// error says what to check
	deaf := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) }))
	defer deaf.Close()
	_, _, e := p.sc.call("subscription.ensure", map[string]any{"app": app(true), "tokens": p.tok, "notificationUrl": deaf.URL})
	if e == nil || e.Data.Kind != "rejected" || !strings.Contains(e.Message, "validationToken") {
		t.Fatalf("deaf endpoint: %+v", e)
	}

	// params are checked, naming the field
	for field, params := range map[string]map[string]any{
		"notificationUrl":          {"app": app(true), "tokens": p.tok, "notificationUrl": "ftp://oro.example.com/x"},
		"lifecycleNotificationUrl": {"app": app(true), "tokens": p.tok, "notificationUrl": p.host.srv.URL, "lifecycleNotificationUrl": "not a url"},
		"subscriptionId":           nil,
	} {
		method := "subscription.ensure"
		if params == nil {
			method, params = "subscription.remove", map[string]any{"app": app(true), "tokens": p.tok, "subscriptionId": ""}
		}
		_, _, e := p.sc.call(method, params)
		if e == nil || e.Code != -32602 || e.Data.Field != field {
			t.Errorf("%s: %+v", field, e)
		}
	}
}

// sync.run starts the mailbox's request budget from state.sent: with
// Microsoft's 10,000 requests of the current minute already carried, the
// call sends nothing, answers partial with a nextSyncAt when that minute
// has left the 10-minute window, and its state carries them on.
func TestSyncRunCarriesRequestBudget(t *testing.T) {
	p := newPushEnv(t)
	first := p.syncRun("full", nil)
	var st map[string]any
	if err := json.Unmarshal(first.State, &st); err != nil {
		t.Fatal(err)
	}
	minute := time.Now().UTC().Truncate(time.Minute)
	st["sent"] = []map[string]any{{"at": minute, "n": 10000}}
	carried, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	run := p.syncRun("incremental", carried)
	if run.Status != "partial" || run.Reason != "time_budget" {
		t.Errorf("%s (%s), want partial (time_budget)", run.Status, run.Reason)
	}
	if free := minute.Add(11 * time.Minute); run.NextSyncAt.Before(free) || run.NextSyncAt.After(free.Add(5*time.Second)) {
		t.Errorf("nextSyncAt %s, want when the carried minute leaves the window, %s", run.NextSyncAt, free)
	}
	var next struct {
		Sent []struct {
			At time.Time `json:"at"`
			N  int       `json:"n"`
		} `json:"sent"`
	}
	if err := json.Unmarshal(run.State, &next); err != nil {
		t.Fatal(err)
	}
	if len(next.Sent) != 1 || !next.Sent[0].At.Equal(minute) || next.Sent[0].N != 10000 {
		t.Errorf("state.sent %+v, want the 10,000 of %s carried on, nothing added", next.Sent, minute)
	}
}
