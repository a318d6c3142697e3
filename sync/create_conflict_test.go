package calsync_test

import (
	"context"
	"testing"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// conflictRemote answers creates the way Graph does when it refuses a
// repeated transactionId with 409 (graph-facts §3, UNCONFIRMED, the
// simulator's TransactionIDConflict switch): the first create is performed
// but its answer is lost and replaced by a 409; every later create of an
// event that already exists is refused with 409 and not performed.
type conflictRemote struct {
	calsync.Remote
	lost bool
}

func (c *conflictRemote) Apply(ctx context.Context, ws []calsync.Write) ([]calsync.WriteResult, error) {
	conflict := func(w calsync.Write) calsync.WriteResult {
		return calsync.WriteResult{Key: w.Key, Err: &calsync.Error{Kind: calsync.KindConflict, Code: "ErrorIrresolvableConflict"}}
	}
	var out []calsync.WriteResult
	var pass []calsync.Write
	for _, w := range ws {
		if w.Op == calsync.WriteCreate {
			if found, _ := c.Remote.FindByOroID(ctx, w.OroID); len(found) > 0 {
				out = append(out, conflict(w))
				continue
			}
		}
		pass = append(pass, w)
	}
	res, err := c.Remote.Apply(ctx, pass)
	if err != nil {
		return nil, err
	}
	for i, w := range pass {
		if w.Op == calsync.WriteCreate && !c.lost && res[i].Err == nil {
			c.lost = true
			res[i] = conflict(w)
		}
	}
	return append(out, res...), nil
}

// A create answered 409 is looked up by its Oro id, like any create whose
// outcome is unknown: linked to the copy that exists, never reported as a
// bad request, never created twice.
func TestCreateConflictIsLookedUp(t *testing.T) {
	w := newWorld(t)
	w.remote = &conflictRemote{Remote: w.fake}
	w.host.Add(calsync.Event{ID: "e1", UID: "uid-e1", Title: "Kick-off", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
	res := w.sync(calsync.Options{})
	for _, is := range res.Issues {
		t.Errorf("issue %+v; want none", is)
	}
	var copies int
	for _, ev := range w.fake.Events() {
		if ev.OroID == "e1" {
			copies++
		}
	}
	if copies != 1 || w.host.Events["e1"].Link == nil {
		t.Fatalf("%d Microsoft copies of e1, link %v; want one copy, linked", copies, w.host.Events["e1"].Link)
	}
}
