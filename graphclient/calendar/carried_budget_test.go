package calendar

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// graphItems counts the Graph requests the simulator saw as Microsoft
// counts them against the mailbox: each batch item, and each request that
// is not a $batch.
func (f *fixture) graphItems() int {
	n := 0
	for _, r := range f.sim.Requests() {
		switch {
		case r.Path == "/v1.0/$batch":
			n += len(r.BatchItems)
		case strings.HasPrefix(r.Path, "/v1.0/"):
			n++
		}
	}
	return n
}

// TestCarriedBudget: a state that carries 9,990 requests sent in the
// current minute lets the call send the 10 that fit Microsoft's 10,000 per
// 10 minutes (its delta read and 9 creates); the call ends partial
// (time_budget) with a nextSyncAt when the carried minute has left the
// window (its end + 10 minutes), and its state carries all 10,000.
func TestCarriedBudget(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	// 10 s into a minute, so that the call stays in it
	now := f.sim.Now()
	f.sim.Advance(now.Truncate(time.Minute).Add(70 * time.Second).Sub(now))
	minute := f.sim.Now().Truncate(time.Minute)
	before := f.graphItems()
	state := &calsync.State{V: calsync.StateVersion, Window: window, NeedsFull: true,
		Sent: []calsync.SentMinute{{At: minute, N: 9990}}}
	res := engineCall(t, f, calsync.ModeFull, state, oroEvents(30), 60, Options{}, 0)
	if res.Status != calsync.StatusPartial || res.Reason != calsync.ReasonTimeBudget || res.Stats.Pushed != 9 {
		t.Errorf("%s (%s), pushed %d; want partial (time_budget), 9 pushed", res.Status, res.Reason, res.Stats.Pushed)
	}
	if sent := f.graphItems() - before; sent != 10 {
		t.Errorf("%d requests sent to the mailbox, want 10", sent)
	}
	if free := minute.Add(11 * time.Minute); res.NextSyncAt.Before(free) || res.NextSyncAt.After(free.Add(2*time.Second)) {
		t.Errorf("nextSyncAt %s, want when the carried minute leaves the window, %s", res.NextSyncAt.Format(time.RFC3339Nano), free.Format(time.RFC3339))
	}
	if want := []calsync.SentMinute{{At: minute, N: 10000}}; res.State == nil || len(res.State.Sent) != 1 || res.State.Sent[0] != want[0] {
		t.Errorf("state carries %+v, want %+v", res.State, want)
	}
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled, want 0", n)
	}
}

// TestBackToBackPushes: two large pushes one after the other against the
// simulator's per-mailbox limit (scaled down to 50 requests per 10
// minutes, the Remote's budget likewise): the first sends what the budget
// allows and ends partial; the second, called at once with its state,
// sends nothing, ends partial too with the same nextSyncAt (both date the
// first call's requests at the end of their minute), and Microsoft
// answers no request 429. Called then (the clock moved there), a third
// pushes the rest.
func TestBackToBackPushes(t *testing.T) {
	f := newFixture(t, graphsim.Options{MailboxRequestLimit: 50})
	opts := Options{RequestBudget: 50}
	evs := oroEvents(80)
	first := engineCall(t, f, calsync.ModeFull, nil, evs, 60, opts, 0)
	if first.Status != calsync.StatusPartial || first.Stats.Pushed == 0 || first.State == nil {
		t.Fatalf("first call %s (%s), pushed %d; want partial after some", first.Status, first.Reason, first.Stats.Pushed)
	}
	sentFirst := f.graphItems()
	second := engineCall(t, f, calsync.ModeIncremental, first.State, pendingOf(first, evs), 60, opts, 0)
	if second.Status != calsync.StatusPartial || second.Reason != calsync.ReasonTimeBudget || second.Stats.Pushed != 0 {
		t.Errorf("second call %s (%s), pushed %d; want partial (time_budget), nothing pushed", second.Status, second.Reason, second.Stats.Pushed)
	}
	if n := f.graphItems() - sentFirst; n != 0 {
		t.Errorf("the second call sent %d requests, want none", n)
	}
	if d := second.NextSyncAt.Sub(first.NextSyncAt).Abs(); d > time.Second {
		t.Errorf("second nextSyncAt %s, first's %s: want the same", second.NextSyncAt, first.NextSyncAt)
	}
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled, want 0", n)
	}
	f.sim.Advance(second.NextSyncAt.Sub(f.sim.Now()))
	third := engineCall(t, f, calsync.ModeIncremental, second.State, pendingOf(first, evs), 60, opts, 0)
	if third.Status != calsync.StatusCompleted || first.Stats.Pushed+third.Stats.Pushed != len(evs) {
		t.Errorf("third call %s (%s), pushed %d after %d; want completed, all %d pushed", third.Status, third.Reason, third.Stats.Pushed, first.Stats.Pushed, len(evs))
	}
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled, want 0", n)
	}
}

// TestReadWaitsForBudget: a read the request budget does not allow waits
// for the window to free a request when ctx's deadline leaves time, as
// Apply's writes do, instead of failing the call throttled.
func TestReadWaitsForBudget(t *testing.T) {
	const window = 300 * time.Millisecond
	f := newFixture(t, graphsim.Options{MailboxRequestLimit: 2, MailboxRequestWindow: window})
	r := New(f.session, Options{RequestBudget: 2})
	r.slots.budget.window = window
	res := apply(t, r, creates(1))
	mustOK(t, res)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	for range 2 {
		if _, err := r.Get(ctx, res["oro-0"].Event.ID); err != nil {
			t.Fatalf("a read past the budget with time to wait: %v", err)
		}
	}
	if d := time.Since(start); d < window/2 {
		t.Errorf("two reads after a write at 2 per %v took %v: they did not wait", window, d)
	}
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled, want 0", n)
	}
}

// TestBudgetCountsEveryRequestSent: the request budget counts what the
// mailbox was sent, as Microsoft's limit does: a delta read that the SDK's
// retry handler sent again after a 503 counts twice, and a lookup by Oro id
// that takes two pages counts two.
func TestBudgetCountsEveryRequestSent(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{Now: f.sim.Now})
	sent := func() int {
		n := 0
		for _, m := range r.SentRequests() {
			n += m.N
		}
		return n
	}
	ctx := context.Background()

	f.sim.AddFault(graphsim.Fault{Method: "GET", Path: "/v1.0/me/calendarView/delta*", Status: 503, Header: http.Header{"Retry-After": {"0"}}})
	if _, err := r.Delta(ctx, window, ""); err != nil {
		t.Fatal(err)
	}
	if n, seen := sent(), f.graphItems(); n != 2 || seen != 2 {
		t.Errorf("a delta page answered 503 and sent again: %d requests counted, %d seen by Graph; want 2 and 2", n, seen)
	}

	ws := creates(12) // more than a page of the lookup (the simulator's 10)
	for i := range ws {
		ws[i].OroID = "oro-dup"
	}
	mustOK(t, apply(t, r, ws))
	before, seen := sent(), f.graphItems()
	found, err := r.FindByOroID(ctx, "oro-dup")
	if err != nil || len(found) != len(ws) {
		t.Fatalf("found %d events (%v), want %d", len(found), err, len(ws))
	}
	if n, pages := sent()-before, f.graphItems()-seen; n != 2 || pages != 2 {
		t.Errorf("a lookup of %d events: %d requests counted, %d pages served; want 2 and 2", len(ws), n, pages)
	}
}
