package calsync_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// callSerially runs one call with reads one at a time, so that the fake's
// clock (every request advances it in turn) measures the call as Microsoft
// would serve it, and applies the result as the host does.
func (w *world) callSerially(cascade calsync.Cascade, opts calsync.Options) calsync.Result {
	w.t.Helper()
	req := w.host.Request(calsync.ModeIncremental, cascade, opts)
	res, err := calsync.Run(context.Background(), req, w.remote, calsync.RunOptions{Now: w.clock.Now, ReadConcurrency: 1})
	if err != nil {
		w.t.Fatalf("run: %v", err)
	}
	w.host.Apply(req, res)
	w.clock.Advance(time.Minute)
	return res
}

// A delta round holding more removals than one call can confirm (a Get
// each) is decided page by page: every call decides the pages it confirmed
// and its state continues after them, so a few calls finish the round and
// every deletion reaches Oro. Before, such a call decided nothing and kept
// its state, and every later call did the same reads again, forever.
func TestRemovalsBeyondBudgetProgressEveryCall(t *testing.T) {
	w := newWorld(t)
	ids := w.seedLinked(30)
	for _, id := range ids[:12] {
		w.fake.Delete(id)
	}
	w.fake.SetLatency(time.Second) // a 6 s budget confirms about 3 removals a call
	seen := map[string]bool{}      // states, as printed
	for call := 1; ; call++ {
		if call > 6 {
			t.Fatalf("the round did not finish in %d calls", call-1)
		}
		res := w.callSerially(bothWays, calsync.Options{TimeBudgetSeconds: 6})
		if res.Status == calsync.StatusCompleted {
			break
		}
		if res.Reason != calsync.ReasonTimeBudget || seen[fmt.Sprintf("%+v", *res.State)] || res.State.NextLink == "" {
			t.Fatalf("call %d: %s (%s), state %+v; want partial (time_budget) continuing the round further each call", call, res.Status, res.Reason, res.State)
		}
		seen[fmt.Sprintf("%+v", *res.State)] = true
	}
	if n := len(w.host.Events); n != 18 {
		t.Errorf("%d Oro events left, want 18", n)
	}
	for _, id := range ids[12:] {
		if !w.hasLinked(id) {
			t.Errorf("no Oro event linked to %s", id)
		}
	}
}

func (w *world) hasLinked(remoteID string) bool {
	for _, e := range w.host.Events {
		if e.Link != nil && e.Link.RemoteID == remoteID && !e.Deleted && !e.Dirty {
			return true
		}
	}
	return false
}

// Oro edits that need Microsoft's copy to be decided (microsoft_to_oro
// reads it) are decided as far as the budget allows; the others stay
// pending with an issue and are sent again, so every call makes progress.
// Before, the call decided none of them and the same reads came again.
func TestUnreadOroEditsProgressEveryCall(t *testing.T) {
	w := newWorld(t)
	w.seedLinked(12)
	for id := range w.host.Events {
		w.host.Edit(id, func(ev *calsync.Event) { ev.Title += " (Oro)" })
	}
	w.fake.SetLatency(time.Second)
	pull := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(calsync.DirectionMicrosoftToOro)}}
	for call := 1; ; call++ {
		if call > 4 {
			t.Fatalf("the Oro edits were not all decided in %d calls", call-1)
		}
		sent := 0
		for _, e := range w.host.Events {
			if e.Dirty {
				sent++
			}
		}
		res := w.callSerially(pull, calsync.Options{TimeBudgetSeconds: 6})
		if res.Status == calsync.StatusCompleted {
			break
		}
		if len(res.Issues) >= sent {
			t.Fatalf("call %d: %d of the %d events sent left pending; want progress", call, len(res.Issues), sent)
		}
	}
	for id, e := range w.host.Events {
		if e.Dirty || e.Link == nil {
			t.Errorf("%s: dirty %v, link %v; want synced", id, e.Dirty, e.Link)
		}
	}
}

// parallelGets holds every Get for a while and records how many were in
// flight at once.
type parallelGets struct {
	*scenario.Fake
	mu       sync.Mutex
	now, max int
}

func (r *parallelGets) Get(ctx context.Context, id string) (calsync.RemoteEvent, error) {
	r.mu.Lock()
	r.now++
	r.max = max(r.max, r.now)
	r.mu.Unlock()
	time.Sleep(20 * time.Millisecond)
	r.mu.Lock()
	r.now--
	r.mu.Unlock()
	return r.Fake.Get(ctx, id)
}

// The removals of a round are confirmed with up to 4 reads in flight,
// Microsoft's limit per mailbox, and never more.
func TestConfirmReadsConcurrently(t *testing.T) {
	w := newWorld(t)
	ids := w.seedLinked(30)
	for _, id := range ids[:12] {
		w.fake.Delete(id)
	}
	r := &parallelGets{Fake: w.fake}
	w.remote = r
	if res := w.sync(calsync.Options{}); res.Status != calsync.StatusCompleted {
		t.Fatalf("%s (%s)", res.Status, res.Reason)
	}
	if r.max != 4 {
		t.Errorf("at most %d reads in flight; want 4", r.max)
	}
	if n := len(w.host.Events); n != 18 {
		t.Errorf("%d Oro events left, want 18", n)
	}
}
