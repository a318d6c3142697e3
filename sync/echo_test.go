package calsync_test

import (
	"context"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// slowApply makes every Apply cost the clock d.
type slowApply struct {
	*scenario.Fake
	clock *scenario.Clock
	d     time.Duration
}

func (r *slowApply) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	r.clock.Advance(r.d)
	return r.Fake.Apply(ctx, writes)
}

// When the budget leaves no time for the settle round, our own creates
// come back in the next run's delta round: they are echoes (counted so, not
// pulled) and are named by their Oro id as updates, never as new events.
func TestEchoWithoutSettleRoundIsNotPulled(t *testing.T) {
	w := newWorld(t)
	w.host.Add(calsync.Event{ID: "e1", Title: "one", Start: "2026-01-20T09:00:00Z", End: "2026-01-20T10:00:00Z"})
	w.host.Add(calsync.Event{ID: "e2", Title: "two", Start: "2026-01-21T09:00:00Z", End: "2026-01-21T10:00:00Z"})
	w.remote = &slowApply{Fake: w.fake, clock: w.clock, d: 2 * time.Second}
	if res := w.sync(calsync.Options{TimeBudgetSeconds: 1}); res.Stats.Pushed != 2 || res.Stats.Calls["delta"] != 1 {
		t.Fatalf("first run: pushed %d, delta calls %d; want 2 creates and no settle round", res.Stats.Pushed, res.Stats.Calls["delta"])
	}
	w.remote = w.fake
	res := w.sync(calsync.Options{})
	if res.Stats.Pulled != 0 || res.Stats.Echoes != 2 {
		t.Errorf("pulled %d, echoes %d; want 0 and 2", res.Stats.Pulled, res.Stats.Echoes)
	}
	for _, op := range res.Operations {
		if op.Op != calsync.OpUpdate || op.OroID != "" || op.RemoteID == "" || op.Reason != calsync.ReasonMicrosoftChanged {
			t.Errorf("operation %s oro=%q ms=%s (%s); want an update of the Oro event by its link's remoteId", op.Op, op.OroID, op.RemoteID, op.Reason)
		}
	}
	if n := len(w.host.Events); n != 2 {
		t.Errorf("%d Oro events, want 2", n)
	}
}
