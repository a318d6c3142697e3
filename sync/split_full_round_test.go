package calsync_test

import (
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// A Microsoft deletion made while the delta token was lost is found by
// the full round that follows even when the time budget splits it over
// several calls: the call that reads its end confirms every linked event
// absent from the part it read. Before, only a round read in one call was
// checked for absent events, and the deleted event stayed in Oro.
func TestSplitFullRoundFindsDeletion(t *testing.T) {
	w := newWorld(t)
	ids := w.seedLinked(12)
	gone := ids[1] // on the round's first page
	w.fake.Delete(gone)
	w.fake.Fault(scenario.DeltaExpired)
	if res := w.sync(calsync.Options{}); res.State == nil || !res.State.NeedsFull {
		t.Fatalf("after the lost token: %s (%s); want a state that needs a full run", res.Status, res.Reason)
	}
	w.fake.SetLatency(400 * time.Millisecond)
	res := w.sync(calsync.Options{TimeBudgetSeconds: 1})
	if res.State == nil || res.State.NextLink == "" {
		t.Fatalf("the full round was not split: %s (%s)", res.Status, res.Reason)
	}
	for i := 0; res.Status != calsync.StatusCompleted; i++ {
		if i == 20 {
			t.Fatalf("no completed run: %s (%s)", res.Status, res.Reason)
		}
		res = w.sync(calsync.Options{TimeBudgetSeconds: 1})
	}
	if w.hasLinked(gone) {
		t.Errorf("the Oro copy of %s, deleted in Microsoft 365 while the token was lost, is still there", gone)
	}
	if n := len(w.host.Events); n != 11 {
		t.Errorf("%d Oro events; want 11", n)
	}
}
