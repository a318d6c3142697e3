package calendar

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

var window = calsync.Window{
	Start: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
	End:   time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
}

func timed(i int) calsync.RemoteEvent {
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(i) * 24 * time.Hour)
	return calsync.RemoteEvent{Subject: fmt.Sprintf("Event %d", i), Body: fmt.Sprintf("body %d", i),
		Location: "Room " + fmt.Sprint(i%3), Start: start, End: start.Add(90 * time.Minute)}
}

func creates(n int) []calsync.Write {
	ws := make([]calsync.Write, n)
	for i := range ws {
		id := fmt.Sprintf("oro-%d", i)
		ws[i] = calsync.Write{Key: id, Op: calsync.WriteCreate, OroID: id, TransactionID: "tx-" + id, Event: timed(i)}
	}
	return ws
}

// apply runs Apply and fails the test on a per-write error; results are
// returned by key.
func apply(t *testing.T, r *Remote, ws []calsync.Write) map[string]calsync.WriteResult {
	t.Helper()
	res, err := r.Apply(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(ws) {
		t.Fatalf("%d results for %d writes", len(res), len(ws))
	}
	out := map[string]calsync.WriteResult{}
	for _, x := range res {
		out[x.Key] = x
	}
	return out
}

func mustOK(t *testing.T, res map[string]calsync.WriteResult) {
	t.Helper()
	for k, x := range res {
		if x.Err != nil {
			t.Errorf("write %s: %v", k, x.Err)
		}
	}
}

// pull runs a whole delta round and returns the events by id and the
// deltaLink.
func pull(t *testing.T, r *Remote, link string) (map[string]calsync.RemoteEvent, string, int) {
	t.Helper()
	got := map[string]calsync.RemoteEvent{}
	for pages := 1; pages < 1000; pages++ {
		p, err := r.Delta(context.Background(), window, link)
		if err != nil {
			t.Fatalf("delta page %d: %v", pages, err)
		}
		for _, e := range p.Events {
			got[e.ID] = e
		}
		if p.DeltaLink != "" {
			return got, p.DeltaLink, pages
		}
		link = p.NextLink
	}
	t.Fatal("endless delta round")
	return nil, "", 0
}

func sameContent(t *testing.T, what string, got, want calsync.RemoteEvent) {
	t.Helper()
	if got.Subject != want.Subject || got.Body != want.Body || got.Location != want.Location ||
		got.AllDay != want.AllDay || !got.Start.Equal(want.Start) || !got.End.Equal(want.End) {
		t.Errorf("%s: got %q %q %q allDay=%v %v–%v, want %q %q %q allDay=%v %v–%v", what,
			got.Subject, got.Body, got.Location, got.AllDay, got.Start, got.End,
			want.Subject, want.Body, want.Location, want.AllDay, want.Start, want.End)
	}
}

func TestRoundTrip(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{PageSize: 2})
	allDay := calsync.RemoteEvent{Subject: "Holiday", AllDay: true,
		Start: time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 5, 3, 0, 0, 0, 0, time.UTC)}
	ws := append(creates(4), calsync.Write{Key: "ad", Op: calsync.WriteCreate, OroID: "ad", TransactionID: "tx-ad", Event: allDay})
	res := apply(t, r, ws)
	mustOK(t, res)
	for _, w := range ws {
		ev := res[w.Key].Event
		if ev == nil || ev.ID == "" || ev.ETag == "" || ev.OroID != w.OroID || !ev.IsOrganizer || ev.TransactionID != w.TransactionID {
			t.Fatalf("create %s: event %+v", w.Key, ev)
		}
		sameContent(t, "create "+w.Key, *ev, w.Event)
		got, err := r.Get(context.Background(), ev.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.OroID != w.OroID || got.ETag != ev.ETag {
			t.Errorf("get %s: oroId %q etag %q, want %q %q", w.Key, got.OroID, got.ETag, w.OroID, ev.ETag)
		}
		sameContent(t, "get "+w.Key, got, w.Event)
		found, err := r.FindByOroID(context.Background(), w.OroID)
		if err != nil || len(found) != 1 || found[0].ID != ev.ID {
			t.Errorf("find %s: %+v, %v", w.OroID, found, err)
		}
	}

	events, link, pages := pull(t, r, "")
	if len(events) != len(ws) || pages < 3 {
		t.Errorf("initial round: %d events in %d pages, want %d in ≥3 (page size 2)", len(events), pages, len(ws))
	}
	for _, w := range ws {
		e := events[res[w.Key].Event.ID]
		sameContent(t, "delta "+w.Key, e, w.Event)
		if e.OroID != "" {
			t.Errorf("delta carried an OroID (%q); it cannot, delta rejects $expand", e.OroID)
		}
	}

	// Update one field conditionally, delete another, then pull the changes.
	upd := res["oro-0"].Event
	moved := timed(0)
	moved.Location = ""
	res2 := apply(t, r, []calsync.Write{
		{Key: "u", Op: calsync.WriteUpdate, OroID: "oro-0", ID: upd.ID, IfMatch: upd.ETag, Fields: []string{"location"}, Event: moved},
		{Key: "d", Op: calsync.WriteDelete, OroID: "oro-1", ID: res["oro-1"].Event.ID, IfMatch: res["oro-1"].Event.ETag},
	})
	mustOK(t, res2)
	if e := res2["u"].Event; e == nil || e.Location != "" || e.ETag == upd.ETag || e.Subject != upd.Subject {
		t.Errorf("update result %+v", e)
	}
	changes, _, _ := pull(t, r, link)
	if e := changes[upd.ID]; e.Location != "" || e.Removed {
		t.Errorf("delta after update: %+v", e)
	}
	if e := changes[res["oro-1"].Event.ID]; !e.Removed {
		t.Errorf("delta after delete: %+v, want removed", e)
	}
	if got := f.sim.OutboundMail(); len(got) != 0 {
		t.Errorf("writes sent mail: %+v", got)
	}
	if u := f.sim.Unimplemented(); len(u) != 0 {
		t.Errorf("requests off the simulated surface: %q", u)
	}
}

func TestIfMatch(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	res := apply(t, r, creates(2))
	mustOK(t, res)
	a, b := res["oro-0"].Event, res["oro-1"].Event
	// Someone edits both in Outlook-equivalent fashion: our update makes the
	// stored ETags stale.
	fresh := apply(t, r, []calsync.Write{
		{Key: "a", Op: calsync.WriteUpdate, ID: a.ID, IfMatch: a.ETag, Fields: []string{"subject"}, Event: calsync.RemoteEvent{Subject: "x"}},
		{Key: "b", Op: calsync.WriteUpdate, ID: b.ID, IfMatch: b.ETag, Fields: []string{"subject"}, Event: calsync.RemoteEvent{Subject: "y"}},
	})
	mustOK(t, fresh)
	stale := apply(t, r, []calsync.Write{
		{Key: "a", Op: calsync.WriteUpdate, ID: a.ID, IfMatch: a.ETag, Fields: []string{"subject"}, Event: calsync.RemoteEvent{Subject: "z"}},
		{Key: "b", Op: calsync.WriteDelete, ID: b.ID, IfMatch: b.ETag},
		{Key: "gone", Op: calsync.WriteDelete, ID: b.ID + "x", IfMatch: b.ETag},
	})
	for key, want := range map[string]calsync.Kind{"a": calsync.KindConflict, "b": calsync.KindConflict} {
		if k := calsync.KindOf(stale[key].Err); k != want {
			t.Errorf("%s: kind %q (%v), want %q", key, k, stale[key].Err, want)
		}
	}
	if k := calsync.KindOf(stale["gone"].Err); k != calsync.KindNotFound && k != calsync.KindRejected {
		t.Errorf("unknown id: kind %q (%v)", k, stale["gone"].Err)
	}
	got, err := r.Get(context.Background(), a.ID)
	if err != nil || got.Subject != "x" {
		t.Errorf("after a 412 the event must be unchanged: %+v, %v", got, err)
	}
	if _, err := r.Get(context.Background(), b.ID); err != nil {
		t.Errorf("after a 412 the event must still exist: %v", err)
	}
}

func TestTransactionIDDedupe(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	ws := creates(3)
	first := apply(t, r, ws)
	mustOK(t, first)
	// A repeated run whose first result was lost sends the same creates.
	again := apply(t, r, ws)
	mustOK(t, again)
	for _, w := range ws {
		if a, b := first[w.Key].Event.ID, again[w.Key].Event.ID; a != b {
			t.Errorf("%s: second create made %s, first %s", w.Key, b, a)
		}
	}
	events, _, _ := pull(t, r, "")
	if len(events) != len(ws) {
		t.Errorf("%d events in the calendar, want %d", len(events), len(ws))
	}
}

func TestFindByOroID(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	ws := creates(3)
	ws[2].OroID = "it's"
	mustOK(t, apply(t, r, ws))
	for _, c := range []struct {
		oroID string
		n     int
	}{{"oro-0", 1}, {"oro-1", 1}, {"it's", 1}, {"oro-9", 0}, {"oro", 0}} {
		got, err := r.FindByOroID(context.Background(), c.oroID)
		if err != nil || len(got) != c.n {
			t.Errorf("find %q: %d events (%v), want %d", c.oroID, len(got), err, c.n)
		}
		for _, e := range got {
			if e.OroID != c.oroID {
				t.Errorf("find %q returned oroId %q", c.oroID, e.OroID)
			}
		}
	}
}

func TestBatchLimits(t *testing.T) {
	f := newFixture(t, graphsim.Options{BatchItemLatency: 2 * time.Millisecond})
	r := New(f.session, Options{})
	mustOK(t, apply(t, r, creates(45)))
	var sizes []int
	for _, rec := range f.sim.Requests() {
		if rec.Path == "/v1.0/$batch" {
			sizes = append(sizes, len(rec.BatchItems))
		}
	}
	sort.Sort(sort.Reverse(sort.IntSlice(sizes)))
	if fmt.Sprint(sizes) != "[20 20 5]" {
		t.Errorf("batch sizes %v, want [20 20 5]", sizes)
	}
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled, want 0", n)
	}
	counts := r.GraphRequests()
	if counts[KindBatch] != 3 || len(counts) != 1 {
		t.Errorf("counts %v", counts)
	}
}

// TestNoThrottleUnderLoad pushes writes while reads run beside them: the
// shared mailbox slots must keep every request within the simulator's
// MailboxConcurrency of 4.
func TestNoThrottleUnderLoad(t *testing.T) {
	f := newFixture(t, graphsim.Options{Latency: time.Millisecond, BatchItemLatency: 3 * time.Millisecond})
	r := New(f.session, Options{})
	first := apply(t, r, creates(8))
	mustOK(t, first)
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			for i := range 10 {
				if _, err := r.Get(context.Background(), first[fmt.Sprintf("oro-%d", (g+i)%8)].Event.ID); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	ws := creates(108)[8:]
	mustOK(t, apply(t, r, ws))
	for range 4 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled, want 0", n)
	}
	if p := f.meter.max(); p > 4 {
		t.Errorf("%d requests ran against the mailbox at once, want at most 4", p)
	}
}

func TestThrottledItemsRetried(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	f.sim.AddFault(graphsim.Fault{Method: "POST", Path: "/v1.0/me/events", Count: 3, Status: http.StatusTooManyRequests,
		Header: http.Header{"Retry-After": {"0.2"}}})
	f.sim.AddFault(graphsim.Fault{Method: "POST", Path: "/v1.0/me/events", Count: 1, Status: http.StatusServiceUnavailable})
	start := time.Now()
	res := apply(t, r, creates(6))
	mustOK(t, res)
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("retried after %v, before Retry-After", d)
	}
	events, _, _ := pull(t, r, "")
	if len(events) != 6 {
		t.Errorf("%d events, want 6", len(events))
	}
	if n, c := f.throttled(), r.GraphRequests(); n != 3 || c[KindBatch] < 2 {
		t.Errorf("%d items throttled, counts %v: want 3 throttled items and a retry batch", n, c)
	}
}

func TestThrottleOutlastsContext(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	f.sim.AddFault(graphsim.Fault{Method: "POST", Path: "/v1.0/me/events", Count: 1, Status: http.StatusTooManyRequests,
		Header: http.Header{"Retry-After": {"30"}}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	res, err := r.Apply(ctx, creates(2))
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("Apply waited %v for a Retry-After beyond its deadline", time.Since(start))
	}
	var throttled int
	for _, x := range res {
		if e := calsync.AsError(x.Err); x.Err != nil {
			if e.Kind != calsync.KindThrottled || e.RetryAfter != 30*time.Second {
				t.Errorf("%s: %v (retryAfter %v)", x.Key, x.Err, e.RetryAfter)
			}
			throttled++
		}
	}
	if throttled != 1 {
		t.Errorf("%d writes throttled, want 1", throttled)
	}
}

func TestDroppedBatchRetriedWithoutDuplicates(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{Backoff: 10 * time.Millisecond})
	f.sim.AddFault(graphsim.Fault{Method: "POST", Path: "/v1.0/$batch", Count: 1, Drop: true})
	mustOK(t, apply(t, r, creates(5)))
	events, _, _ := pull(t, r, "")
	if len(events) != 5 {
		t.Errorf("%d events, want 5", len(events))
	}
}

func TestDeltaGone(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	mustOK(t, apply(t, r, creates(2)))
	_, link, _ := pull(t, r, "")
	if err := f.sim.ExpireDeltaTokens(f.upn); err != nil {
		t.Fatal(err)
	}
	_, err := r.Delta(context.Background(), window, link)
	if k := calsync.KindOf(err); k != calsync.KindResyncRequired {
		t.Fatalf("expired token: kind %q (%v), want %q", k, err, calsync.KindResyncRequired)
	}
	events, _, _ := pull(t, r, "")
	if len(events) != 2 {
		t.Errorf("new round after 410: %d events, want 2", len(events))
	}
}

// TestDeltaRefusesForeignLink: a link from the request (the host keeps
// deltaLinks in its state) that leads outside the Graph endpoint is refused
// as invalid state before any request, so no token goes there.
func TestDeltaRefusesForeignLink(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNotFound)
	}))
	defer other.Close()
	_, link, _ := pull(t, r, "")
	foreign := other.URL + strings.TrimPrefix(link, f.srv.URL)
	_, err := r.Delta(context.Background(), window, foreign)
	if e := calsync.AsError(err); e == nil || e.Kind != calsync.KindInvalidInput || e.Field != "state" || e.Op != "graph.delta" {
		t.Fatalf("foreign link: %+v, want invalid_input on state from graph.delta", e)
	}
	if n, c := hits.Load(), r.GraphRequests(); n != 0 || c[KindDelta] != 1 {
		t.Errorf("%d requests reached the other server, counts %v: want none, and only the first round's page", n, c)
	}
	if _, err := r.Delta(context.Background(), window, link); err != nil {
		t.Errorf("the Graph link itself: %v", err)
	}
}

// TestDeltaConsentRequired: Graph answers a read of the user's own calendar
// 403 only when the permission is missing (withdrawn here), so the round
// fails consent_required naming the scope, not forbidden.
func TestDeltaConsentRequired(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	if err := f.sim.WithdrawConsent(f.upn); err != nil {
		t.Fatal(err)
	}
	_, err := r.Delta(context.Background(), window, "")
	if e := calsync.AsError(err); e == nil || e.Kind != calsync.KindConsentRequired || e.Code != "Calendars.ReadWrite" || e.Op != "graph.delta" {
		t.Fatalf("withdrawn consent: %+v, want consent_required for Calendars.ReadWrite from graph.delta", e)
	}
}
