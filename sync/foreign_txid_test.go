package calsync_test

import (
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// An event another installation (a staging copy connected to the same
// mailbox) created for ITS Oro event "e2" carries a transactionId naming
// e2. Its operation names no Oro event (only the remoteId, which no stored
// link here has), so this host's unrelated e2 keeps its content and link.
func TestForeignTransactionIDNeverNamesAnOroEvent(t *testing.T) {
	w := newWorld(t)
	w.host.Add(calsync.Event{ID: "e2", Title: "dentist", Start: "2026-01-14T09:00:00Z", End: "2026-01-14T10:00:00Z"})
	w.sync(calsync.Options{})
	mine := w.host.Events["e2"].Link.RemoteID
	s := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	foreign := w.fake.Seed("", calsync.RemoteEvent{Subject: "staging: board prep", IsOrganizer: true, Start: s, End: s.Add(time.Hour),
		TransactionID: calsync.TransactionID("e2", "uid-of-staging-e2", "")})
	res := w.sync(calsync.Options{})
	for _, op := range res.Operations {
		if op.OroID != "" {
			t.Errorf("op %s oroId=%s remoteId=%s: an operation names an Oro event by a transactionId", op.Op, op.OroID, op.RemoteID)
		}
	}
	if e := w.host.Events["e2"]; e.Title != "dentist" || e.Link.RemoteID != mine || len(w.host.Events) != 1 {
		t.Errorf("e2 is now %q linked to %s (foreign %s), %d Oro events; want dentist linked to %s alone", e.Title, e.Link.RemoteID, foreign, len(w.host.Events), mine)
	}
}

// The same when this host's e2 is in the request (edited in Oro): the
// foreign item does not pair with it (its link has another remoteId), e2's
// edit is pushed to its own copy, and the foreign event is left alone.
func TestForeignTransactionIDDoesNotPairWithSentEvent(t *testing.T) {
	w := newWorld(t)
	w.host.Add(calsync.Event{ID: "e2", Title: "dentist", Start: "2026-01-14T09:00:00Z", End: "2026-01-14T10:00:00Z"})
	w.sync(calsync.Options{})
	mine := w.host.Events["e2"].Link.RemoteID
	s := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	foreign := w.fake.Seed("", calsync.RemoteEvent{Subject: "staging: board prep", IsOrganizer: true, Start: s, End: s.Add(time.Hour),
		TransactionID: calsync.TransactionID("e2", "uid-of-staging-e2", "")})
	w.host.Edit("e2", func(ev *calsync.Event) { ev.Title = "dentist (moved)" })
	res := w.sync(calsync.Options{})
	for _, op := range res.Operations {
		if op.RemoteID == foreign && op.OroID != "" {
			t.Errorf("op %s oroId=%s remoteId=%s: the foreign item names an Oro event", op.Op, op.OroID, op.RemoteID)
		}
	}
	if e := w.host.Events["e2"]; e.Title != "dentist (moved)" || e.Link.RemoteID != mine || len(w.host.Events) != 1 {
		t.Errorf("e2 is now %q linked to %s (foreign %s), %d Oro events; want its edit linked to %s", e.Title, e.Link.RemoteID, foreign, len(w.host.Events), mine)
	}
	if got, _ := w.fake.Get(t.Context(), foreign); got.Subject != "staging: board prep" {
		t.Errorf("foreign event now %q; want it left alone", got.Subject)
	}
	if got, _ := w.fake.Get(t.Context(), mine); got.Subject != "dentist (moved)" {
		t.Errorf("e2's copy now %q; want the Oro edit", got.Subject)
	}
}

// A lookup by Oro id finds a staging copy's event for ITS e2 (our extended
// property, its own transactionId). The tombstone of this host's e2, whose
// create failed and was never linked, must not take it for the copy a lost
// run made: it is not ours, neither linked to e2 nor deleted (it is pulled
// as any other Microsoft event).
func TestForeignEventFoundByOroIDNotTaken(t *testing.T) {
	w := newWorld(t)
	remote := &finalRemote{Remote: w.fake, err: &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.createEvent", Message: "service unavailable"}}
	w.remote = remote
	w.host.Add(calsync.Event{ID: "e2", Title: "dentist", Start: "2026-01-14T09:00:00Z", End: "2026-01-14T10:00:00Z"})
	w.sync(calsync.Options{}) // the create fails: e2 is sent, never linked
	s := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	foreign := w.fake.Seed("", calsync.RemoteEvent{Subject: "staging: board prep", IsOrganizer: true, Start: s, End: s.Add(time.Hour),
		OroID: "e2", TransactionID: calsync.TransactionID("e2", "uid-of-staging-e2", "")})
	w.host.Remove("e2")
	remote.err = nil
	res := w.sync(calsync.Options{})
	if remote.find != 1 {
		t.Fatalf("e2's tombstone looked up %d times; want once", remote.find)
	}
	if _, ok := w.fake.Event(foreign); !ok {
		t.Errorf("the staging copy's event %s was deleted: %+v", foreign, res.Writes)
	}
	for _, op := range res.Operations {
		if op.RemoteID == foreign && op.OroID == "e2" {
			t.Errorf("op %s oroId=e2 names the staging copy's event", op.Op)
		}
	}
}
