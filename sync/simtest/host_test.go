package simtest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/graphclient/calendar"
	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

const (
	clientID = "3f2a8c1e-6b4d-4e7f-9a10-2c5d8e9f0a1b"
	secret   = "sim-secret"
	redirect = "http://localhost/callback"
	upn      = "adele@contoso.example"
)

var (
	window  = calsync.Window{Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	enabled = true
)

// world is a simulator with one signed-in user plus a model of the Oro host
// that calls the engine in process.
type world struct {
	t     testing.TB
	sim   *graphsim.Sim
	cfg   graphclient.Config
	app   graphclient.App
	tok   graphclient.Tokens
	host  *host
	user  string // the signed-in user, whose mailbox the sync reads
	dir   calsync.Direction
	strat calsync.ConflictResolution
	// requests counts the Graph requests of the last run, by kind.
	requests map[string]int
}

func newWorld(t testing.TB, opts graphsim.Options) *world {
	t.Helper()
	opts.AutoConsent = true
	if opts.Logf == nil {
		opts.Logf = func(string, ...any) {}
	}
	sim := graphsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.RegisterApp(graphsim.App{ClientID: clientID, ClientSecret: secret, RedirectURIs: []string{redirect}})
	sim.AddUser(graphsim.User{UPN: upn, DisplayName: "Adele Vance", Mail: upn})
	w := &world{t: t, sim: sim, host: newHost(), user: upn, dir: calsync.DirectionBoth, strat: calsync.ConflictResolution("oro_wins"),
		cfg: graphclient.Config{Endpoints: graphclient.Endpoints{Authority: srv.URL, Graph: srv.URL + "/v1.0"}, Logger: zerolog.Nop()},
		app: graphclient.App{Tenant: "common", ClientID: clientID, ClientSecret: secret, RedirectURI: redirect}}
	w.signIn()
	return w
}

// signIn signs w.user in through the simulator (which consents at once and
// creates the user and mailbox if needed) and keeps the tokens.
func (w *world) signIn() {
	w.t.Helper()
	auth, err := graphclient.NewAuthorization(w.cfg, w.app, graphclient.AuthorizationRequest{LoginHint: w.user})
	if err != nil {
		w.t.Fatal(err)
	}
	code := authorize(w.t, auth.URL)
	g, err := graphclient.Exchange(context.Background(), w.cfg, w.app, code, auth.CodeVerifier)
	if err != nil {
		w.t.Fatal(err)
	}
	w.tok = g.Tokens
}

// authorize follows the sign-in URL (the simulator consents at once) and
// returns the code from the redirect.
func authorize(t testing.TB, authURL string) string {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("authorize: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

// sync runs the engine once for the host's current request. It returns the
// result (not yet applied) or the run's error.
func (w *world) sync(ctx context.Context, opts calsync.Options) (calsync.Result, error) {
	session, err := graphclient.NewSession(ctx, w.cfg, w.app, w.tok)
	if err != nil {
		return calsync.Result{}, err
	}
	r := calendar.New(session, calendar.Options{Backoff: 20 * time.Millisecond})
	req := w.host.request(w.dir, w.strat, opts)
	res, err := calsync.Run(ctx, req, r, calsync.RunOptions{})
	if t, rotated := session.Tokens(); rotated {
		w.tok = t
	}
	w.requests = r.GraphRequests()
	return res, err
}

// mustSync runs and applies one sync that must succeed without issues.
func (w *world) mustSync(opts calsync.Options) calsync.Result {
	w.t.Helper()
	res, err := w.sync(context.Background(), opts)
	if err != nil {
		w.t.Fatalf("sync: %v", err)
	}
	if len(res.Issues) > 0 {
		w.t.Fatalf("sync issues: %+v", res.Issues)
	}
	w.host.apply(res)
	return res
}

// host models the Oro side: its events, the links and the state it stores,
// and which events it must send next time.
type host struct {
	events map[string]*calsync.Event // by Oro id; tombstones have Deleted set
	dirty  map[string]bool           // changed (or reported) since the last applied result
	// sent: changed events that went out in a request no applied result
	// confirmed yet; a lost result may have created them in Microsoft 365
	sent  map[string]bool
	state *calsync.State
	seq   int
	now   time.Time
	// writeAttendees is the organization's writeAttendees setting (nil:
	// not set, the default)
	writeAttendees *bool
}

func newHost() *host {
	return &host{events: map[string]*calsync.Event{}, dirty: map[string]bool{}, sent: map[string]bool{}, now: time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)}
}

func (h *host) tick() time.Time {
	h.now = h.now.Add(time.Second)
	return h.now
}

// request builds sync.run's engine part: a full request (every event) when
// there is no usable state, the dirty events otherwise.
func (h *host) request(dir calsync.Direction, strat calsync.ConflictResolution, opts calsync.Options) calsync.Request {
	req := calsync.Request{
		Cascade: calsync.Cascade{Organization: &calsync.ScopeSettings{Enabled: &enabled, Direction: &dir, ConflictResolution: &strat, WriteAttendees: h.writeAttendees}},
		State:   h.state, Window: &window, Options: opts, Events: []calsync.Event{},
	}
	full := h.state == nil || h.state.NeedsFull
	if full {
		req.Mode = calsync.ModeFull
	} else {
		req.Mode = calsync.ModeIncremental
	}
	for _, id := range slices.Sorted(maps.Keys(h.events)) {
		if full || h.dirty[id] {
			req.Events = append(req.Events, *h.events[id])
			h.sent[id] = h.sent[id] || h.dirty[id]
		}
	}
	return req
}

// apply applies a result's operations as the PHP host would, and stores
// the state.
func (h *host) apply(res calsync.Result) {
	for _, op := range res.Operations {
		ev := h.find(op)
		if ev != nil && op.ExpectedUpdatedAt != nil && !ev.UpdatedAt.Equal(*op.ExpectedUpdatedAt) {
			continue // changed meanwhile: skipped, sent again next run
		}
		switch op.Op {
		case calsync.OpCreate, calsync.OpUpdate:
			if ev == nil {
				if op.Op == calsync.OpUpdate {
					continue
				}
				h.seq++
				ev = &calsync.Event{ID: fmt.Sprintf("ms-%d", h.seq)}
				h.events[ev.ID] = ev
			}
			id, uid := ev.ID, cmp.Or(ev.UID, op.Event.UID) // an existing event keeps its uid
			*ev = *op.Event
			ev.ID, ev.UID, ev.Link, ev.UpdatedAt, ev.Deleted = id, uid, op.Link, h.tick(), false
		case calsync.OpDelete:
			if ev != nil {
				delete(h.events, ev.ID)
				delete(h.dirty, ev.ID)
			}
		case calsync.OpLink:
			if ev != nil {
				ev.Link = op.Link
			}
		}
	}
	clear(h.dirty)
	for _, is := range res.Issues {
		if is.OroID != "" && h.events[is.OroID] != nil {
			h.dirty[is.OroID] = true
		}
	}
	// The result confirms every event it was sent for, except those it
	// reports an issue for.
	for id := range h.sent {
		if !h.dirty[id] {
			delete(h.sent, id)
		}
	}
	// Tombstones whose delete went through are gone; the others stay dirty.
	for id, ev := range h.events {
		if ev.Deleted && !h.dirty[id] {
			delete(h.events, id)
		}
	}
	h.state = res.State
}

// find returns the Oro event an operation is about: by Oro id, else by the
// Microsoft id of its stored link.
func (h *host) find(op calsync.Operation) *calsync.Event {
	if ev := h.events[op.OroID]; op.OroID != "" && ev != nil {
		return ev
	}
	if op.RemoteID == "" {
		return nil
	}
	for _, ev := range h.events {
		if ev.Link != nil && ev.Link.RemoteID == op.RemoteID {
			return ev
		}
	}
	return nil
}

// The user's edits in Oro.
func (h *host) create(title string, start time.Time) string {
	h.seq++
	id := fmt.Sprintf("oro-%d", h.seq)
	h.events[id] = &calsync.Event{ID: id, UID: "uid-" + id, Title: title, Start: start.Format(time.RFC3339),
		End: start.Add(time.Hour).Format(time.RFC3339), UpdatedAt: h.tick()}
	h.dirty[id] = true
	return id
}

func (h *host) edit(id, title string) {
	ev := h.events[id]
	ev.Title, ev.UpdatedAt = title, h.tick()
	h.dirty[id] = true
}

// remove deletes an event: a linked one, or one sent but not confirmed
// synced yet, leaves a tombstone (CONFLICTS.md, what the host must do, 3).
func (h *host) remove(id string) {
	ev := h.events[id]
	if ev.Link == nil && !h.sent[id] {
		delete(h.events, id)
		delete(h.dirty, id)
		return
	}
	*ev = calsync.Event{ID: id, UID: ev.UID, Deleted: true, Link: ev.Link, UpdatedAt: h.tick()}
	h.dirty[id] = true
}

// live returns the host's non-deleted events.
func (h *host) live() []*calsync.Event {
	var out []*calsync.Event
	for _, id := range slices.Sorted(maps.Keys(h.events)) {
		if ev := h.events[id]; !ev.Deleted {
			out = append(out, ev)
		}
	}
	return out
}

// msEvents returns the Microsoft side as subject → start, failing on a
// duplicate subject (subjects are unique in these tests).
func (w *world) msEvents() map[string]string {
	w.t.Helper()
	out := map[string]string{}
	for _, e := range w.sim.Events(w.user) {
		subj, _ := e["subject"].(string)
		start, _ := e["start"].(map[string]any)
		if _, dup := out[subj]; dup {
			w.t.Errorf("duplicate event %q in Microsoft 365", subj)
		}
		s, _ := start["dateTime"].(string)
		if t, err := time.Parse("2006-01-02T15:04:05.9999999", s); err == nil {
			s = t.Format(time.RFC3339)
		}
		out[subj] = s
	}
	return out
}

// oroEvents returns the Oro side as title → start (UTC), failing on a
// duplicate title or a live event without a link.
func (w *world) oroEvents() map[string]string {
	w.t.Helper()
	out := map[string]string{}
	for _, ev := range w.host.live() {
		if _, dup := out[ev.Title]; dup {
			w.t.Errorf("duplicate event %q in Oro", ev.Title)
		}
		if ev.Link == nil {
			w.t.Errorf("Oro event %s %q has no link after a clean sync", ev.ID, ev.Title)
		}
		s := ev.Start
		if t, err := time.Parse(time.RFC3339, s); err == nil {
			s = t.UTC().Format(time.RFC3339)
		}
		out[ev.Title] = s
	}
	return out
}

// agree fails unless both sides hold the same events.
func (w *world) agree() {
	w.t.Helper()
	ms, oro := w.msEvents(), w.oroEvents()
	if !maps.Equal(ms, oro) {
		w.t.Errorf("sides differ:\n microsoft %v\n oro       %v", sortedPairs(ms), sortedPairs(oro))
	}
}

func sortedPairs(m map[string]string) string {
	var s []string
	for k, v := range m {
		s = append(s, k+"@"+v)
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}
