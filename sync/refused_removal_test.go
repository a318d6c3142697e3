package calsync_test

import (
	"context"
	"testing"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// refuseGet refuses (403) the Get of the ids in refuse.
type refuseGet struct {
	*scenario.Fake
	refuse map[string]bool
}

func (r *refuseGet) Get(ctx context.Context, id string) (calsync.RemoteEvent, error) {
	if r.refuse[id] {
		return calsync.RemoteEvent{}, &calsync.Error{Kind: calsync.KindForbidden, Op: "graph.get", Message: "access denied (transient)"}
	}
	return r.Fake.Get(ctx, id)
}

// A removal whose confirming Get Microsoft refuses stops the round at its
// page like the budget: the call is partial, the state does not move past
// it, and the deletion arrives once Get works again.
func TestRefusedRemovalReadIsRetried(t *testing.T) {
	w := newWorld(t)
	ids := w.seedLinked(3)
	rg := &refuseGet{Fake: w.fake, refuse: map[string]bool{ids[0]: true}}
	w.remote = rg
	w.fake.Delete(ids[0])
	res := w.sync(calsync.Options{})
	if res.Status != calsync.StatusPartial || res.Reason != calsync.ReasonReadFailed || res.State.RefusedReads != 1 || len(res.Operations) != 0 {
		t.Errorf("refused: status %s (%s), refusedReads %d, ops %+v; want partial read_failed, 1, none", res.Status, res.Reason, res.State.RefusedReads, res.Operations)
	}
	rg.refuse = nil
	res = w.sync(calsync.Options{})
	if res.Status != calsync.StatusCompleted || res.State.RefusedReads != 0 {
		t.Errorf("retried: status %s, refusedReads %d; want completed, 0", res.Status, res.State.RefusedReads)
	}
	if len(w.host.Events) != 2 {
		t.Errorf("Oro holds %d events; want the Microsoft deletion of %s applied", len(w.host.Events), ids[0])
	}
}

// After MaxRefusedReads calls refused at the same page the removal is given
// up with an issue naming its Microsoft id (and its Oro event when the
// request holds it), so that the round progresses.
func TestRefusedRemovalReadGivesUpAfterCap(t *testing.T) {
	w := newWorld(t)
	ids := w.seedLinked(3)
	w.remote = &refuseGet{Fake: w.fake, refuse: map[string]bool{ids[0]: true}}
	w.fake.Delete(ids[0])
	for i := 1; i < calsync.MaxRefusedReads; i++ {
		if res := w.sync(calsync.Options{}); res.Status != calsync.StatusPartial || res.State.RefusedReads != i {
			t.Fatalf("call %d: status %s, refusedReads %d; want partial, %d", i, res.Status, res.State.RefusedReads, i)
		}
	}
	res := w.sync(calsync.Options{})
	if res.Status != calsync.StatusCompleted || res.State.RefusedReads != 0 {
		t.Errorf("last call: status %s, refusedReads %d; want completed, 0", res.Status, res.State.RefusedReads)
	}
	found := false
	for _, is := range res.Issues {
		found = found || is.RemoteID == ids[0] && is.Reason == calsync.ReasonReadFailed
	}
	if !found {
		t.Errorf("issues %+v; want read_failed for %s", res.Issues, ids[0])
	}
	if res = w.sync(calsync.Options{}); res.Status != calsync.StatusCompleted || len(res.Issues) != 0 {
		t.Errorf("next call: status %s, issues %+v; want the round past the removal", res.Status, res.Issues)
	}
}
