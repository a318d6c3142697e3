package calsync_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// slowDelta is the fake whose delta pages cost the clock d each and whose
// other requests are free, so that a time budget splits a delta round
// without running out while removals are confirmed.
type slowDelta struct {
	*scenario.Fake
	clock *scenario.Clock
	d     time.Duration
}

func (r *slowDelta) Delta(ctx context.Context, w calsync.Window, link string) (calsync.DeltaPage, error) {
	r.clock.Advance(r.d)
	return r.Fake.Delta(ctx, w, link)
}

// world is a host and a fake calendar driven by a test.
type world struct {
	t      *testing.T
	clock  *scenario.Clock
	fake   *scenario.Fake
	remote calsync.Remote
	host   *scenario.Host
}

func newWorld(t *testing.T) *world {
	clock := scenario.NewClock(t0)
	fake := scenario.NewFake(clock)
	return &world{t: t, clock: clock, fake: fake, remote: fake, host: scenario.NewHost(clock)}
}

var bothWays = calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(calsync.DirectionBoth), ConflictResolution: ptr(calsync.ConflictOroWins)}}

// sync runs one call (full when the state asks for it) and applies its
// result as the host does.
func (w *world) sync(opts calsync.Options) calsync.Result {
	w.t.Helper()
	mode := calsync.ModeIncremental
	if w.host.State == nil || w.host.State.NeedsFull {
		mode = calsync.ModeFull
	}
	req := w.host.Request(mode, bothWays, opts)
	res, err := calsync.Run(context.Background(), req, w.remote, calsync.RunOptions{Now: w.clock.Now})
	if err != nil {
		w.t.Fatalf("run: %v", err)
	}
	w.host.Apply(req, res)
	w.clock.Advance(time.Minute)
	return res
}

// seedLinked creates n Microsoft events and pulls them into Oro; it
// returns their Microsoft ids.
func (w *world) seedLinked(n int) []string {
	w.t.Helper()
	var ids []string
	for i := range n {
		s := time.Date(2026, 1, 12+i%10, 9+i/10, 0, 0, 0, time.UTC)
		ids = append(ids, w.fake.Seed("", calsync.RemoteEvent{Subject: fmt.Sprintf("m%02d", i), IsOrganizer: true, Start: s, End: s.Add(time.Hour)}))
	}
	if res := w.sync(calsync.Options{}); res.Status != calsync.StatusCompleted || len(w.host.Events) != n {
		w.t.Fatalf("first sync: %s, %d Oro events", res.Status, len(w.host.Events))
	}
	return ids
}

func countOps(res calsync.Result, kind calsync.OpKind) int {
	n := 0
	for _, op := range res.Operations {
		if op.Op == kind {
			n++
		}
	}
	return n
}

// splitRound makes every delta page cost 300ms and Microsoft's pages hold 3
// items, so that a 1-second budget reads a round of 15 removals in several
// calls.
func (w *world) splitRound() {
	w.fake.SetLatency(0)
	w.fake.PageSize = 3
	w.remote = &slowDelta{Fake: w.fake, clock: w.clock, d: 300 * time.Millisecond}
}

// The guard stops the Oro-side deletions of the first call of a round that
// the time budget splits: the state must stay before them, so that the
// host's confirmation (allowMassDelete) brings every one of them back.
func TestGuardSplitRoundKeepsStoppedDeletions(t *testing.T) {
	w := newWorld(t)
	ids := w.seedLinked(20)
	for _, id := range ids[:15] {
		w.fake.Delete(id)
	}
	w.splitRound()
	res := w.sync(calsync.Options{TimeBudgetSeconds: 1, MassDeleteThreshold: 0.2})
	if res.Status != calsync.StatusPartial || res.Reason != calsync.ReasonMassDeleteGuard || len(res.Guards) != 1 || countOps(res, calsync.OpDelete) != 0 {
		t.Fatalf("first call: %s (%s), guards %+v, %d deletes; want partial (mass_delete_guard), no delete", res.Status, res.Reason, res.Guards, countOps(res, calsync.OpDelete))
	}
	for i := 0; res.Status != calsync.StatusCompleted; i++ {
		if i == 10 {
			t.Fatalf("no completed run with allowMassDelete: %s (%s)", res.Status, res.Reason)
		}
		res = w.sync(calsync.Options{TimeBudgetSeconds: 1, AllowMassDelete: true})
	}
	if n := len(w.host.Events); n != 5 {
		t.Errorf("%d Oro events left, want 5: deletions stopped by the guard were lost", n)
	}
}

// A round split into calls is judged as a whole: with threshold 0.5, 15
// deletions of 20 events trip the guard even though no single call returns
// more than 10.
func TestGuardCountsWholeSplitRound(t *testing.T) {
	w := newWorld(t)
	ids := w.seedLinked(20)
	for _, id := range ids[:15] {
		w.fake.Delete(id)
	}
	w.splitRound()
	var guards []calsync.GuardReport
	for i := 0; ; i++ {
		res := w.sync(calsync.Options{TimeBudgetSeconds: 1})
		guards = append(guards, res.Guards...)
		if deleted := 20 - len(w.host.Events); deleted > 10 {
			t.Fatalf("call %d: %d of 20 events deleted without allowMassDelete (threshold 0.5)", i+1, deleted)
		}
		if res.Status == calsync.StatusCompleted || i == 10 {
			break
		}
	}
	if len(guards) == 0 || guards[0].Side != "oro" || guards[0].Deletes <= 10 || guards[0].Total != 20 {
		t.Fatalf("guards %+v; want the Oro side stopped at more than 10 of 20", guards)
	}
	for i := 0; ; i++ {
		if res := w.sync(calsync.Options{TimeBudgetSeconds: 1, AllowMassDelete: true}); res.Status == calsync.StatusCompleted {
			break
		}
		if i == 10 {
			t.Fatal("no completed run with allowMassDelete")
		}
	}
	if n := len(w.host.Events); n != 5 {
		t.Errorf("%d Oro events left, want 5", n)
	}
}

// duringWrite is the fake on which a Microsoft 365 user changes events
// (change) while the engine writes, so that the settle round reads them.
type duringWrite struct {
	*scenario.Fake
	change func(*scenario.Fake)
}

func (r *duringWrite) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	res, err := r.Fake.Apply(ctx, writes)
	if r.change != nil {
		r.change(r.Fake)
		r.change = nil
	}
	return res, err
}

// Deletions the guard stops in the settle round must not be skipped by the
// returned deltaLink: they come back when the host confirms.
func TestGuardInSettleRoundKeepsDeletions(t *testing.T) {
	w := newWorld(t)
	ids := w.seedLinked(12)
	w.remote = &duringWrite{Fake: w.fake, change: func(f *scenario.Fake) {
		for _, id := range ids[:10] {
			f.Delete(id)
		}
	}}
	w.host.Add(calsync.Event{ID: "e1", Title: "new in Oro", Start: "2026-01-20T09:00:00Z", End: "2026-01-20T10:00:00Z"})
	res := w.sync(calsync.Options{})
	if res.Status != calsync.StatusPartial || res.Reason != calsync.ReasonMassDeleteGuard || countOps(res, calsync.OpDelete) != 0 {
		t.Fatalf("run: %s (%s), %d deletes; want partial (mass_delete_guard), no delete", res.Status, res.Reason, countOps(res, calsync.OpDelete))
	}
	w.remote = w.fake
	if res := w.sync(calsync.Options{AllowMassDelete: true}); res.Status != calsync.StatusCompleted {
		t.Fatalf("confirmed run: %s (%s)", res.Status, res.Reason)
	}
	if n := len(w.host.Events); n != 3 {
		t.Errorf("%d Oro events left, want 3 (2 of Microsoft's and e1)", n)
	}
}

// The guard's bases follow what people change: after Microsoft 365 users
// delete 80 of 100 events, deleting the remaining 20 in Oro is a mass
// delete on the Microsoft side.
func TestGuardBasesFollowPeoplesChanges(t *testing.T) {
	w := newWorld(t)
	w.fake.PageSize = 50
	ids := w.seedLinked(100)
	for _, id := range ids[:80] {
		w.fake.Delete(id)
	}
	w.sync(calsync.Options{AllowMassDelete: true})
	if st := w.host.State; st.MicrosoftCount != 20 || st.OroCount != 20 || len(w.host.Events) != 20 {
		t.Fatalf("after 80 deletions in Microsoft 365: counts oro %d microsoft %d, %d Oro events; want 20 each", st.OroCount, st.MicrosoftCount, len(w.host.Events))
	}
	for i := range 4 {
		w.host.Add(calsync.Event{ID: fmt.Sprintf("e%d", i), Title: "new", Start: "2026-01-20T09:00:00Z", End: "2026-01-20T10:00:00Z"})
	}
	w.sync(calsync.Options{})
	if st := w.host.State; st.MicrosoftCount != 24 || st.OroCount != 24 {
		t.Fatalf("after 4 Oro creates: counts oro %d microsoft %d; want 24 each", st.OroCount, st.MicrosoftCount)
	}
	for id, e := range w.host.Events {
		if e.Link != nil && e.Title != "new" {
			w.host.Remove(id)
		}
	}
	res := w.sync(calsync.Options{})
	if len(res.Guards) != 1 || res.Guards[0].Side != "microsoft" || len(w.fake.Events()) != 24 {
		t.Errorf("guards %+v, %d Microsoft events; want the Microsoft side stopped, 24 events kept", res.Guards, len(w.fake.Events()))
	}
}

// A snapshot round (a first, full one) whose settle round picks up a change
// other than our echoes (a Microsoft 365 user adds an event while we
// write) counts the Microsoft side from the snapshot's items plus that
// change, not from the changes alone: the mass-delete guard's base.
func TestSnapshotSettleChangeKeepsMicrosoftCount(t *testing.T) {
	w := newWorld(t)
	for i := range 10 {
		s := time.Date(2026, 1, 12+i, 9, 0, 0, 0, time.UTC)
		w.fake.Seed("", calsync.RemoteEvent{Subject: fmt.Sprintf("m%02d", i), IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
	}
	w.host.Add(calsync.Event{ID: "e1", Title: "new in Oro", Start: "2026-01-20T09:00:00Z", End: "2026-01-20T10:00:00Z"})
	s := time.Date(2026, 1, 25, 9, 0, 0, 0, time.UTC)
	w.remote = &duringWrite{Fake: w.fake, change: func(f *scenario.Fake) {
		f.Seed("", calsync.RemoteEvent{Subject: "added meanwhile", IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
	}}
	if res := w.sync(calsync.Options{}); res.Status != calsync.StatusCompleted {
		t.Fatalf("run: %s (%s) %+v", res.Status, res.Reason, res.Issues)
	}
	if got := w.host.State.MicrosoftCount; got != 12 {
		t.Errorf("microsoftCount %d; want 12 (10 read, 1 created by us, 1 added meanwhile)", got)
	}
}
