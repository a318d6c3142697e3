package calsync_test

import (
	"context"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// oro_to_microsoft, a lost create, then an Outlook edit of the copy's body:
// the pair is linked with what the create wrote as the base and the edit is
// left alone. A later Oro edit of another field must push Oro's whole
// content (both edited: Oro, the master, wins), not only the field it
// changed over the Outlook body (model seed 531).
func TestLostCreateOneWayOroEditAfterOutlookEdit(t *testing.T) {
	w := newWorld(t)
	oneWay := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(calsync.DirectionOroToMicrosoft)}}
	run := func(apply bool) {
		t.Helper()
		mode := calsync.ModeIncremental
		if w.host.State == nil {
			mode = calsync.ModeFull
		}
		req := w.host.Request(mode, oneWay, calsync.Options{})
		res, err := calsync.Run(context.Background(), req, w.fake, calsync.RunOptions{Now: w.clock.Now})
		if err != nil || res.Status != calsync.StatusCompleted || len(res.Issues) != 0 {
			t.Fatalf("run: %v, %s, issues %+v", err, res.Status, res.Issues)
		}
		if apply {
			w.host.Apply(req, res)
		}
		w.clock.Advance(time.Minute)
	}
	run(true)
	w.host.Add(calsync.Event{ID: "e1", Title: "Review", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
	w.clock.Advance(time.Minute)
	run(false) // creates the copy; the result is lost
	copies := w.fake.Events()
	if len(copies) != 1 {
		t.Fatalf("Microsoft events after the lost run: %+v; want e1's copy", copies)
	}
	id := copies[0].ID
	w.fake.Edit(id, func(ev *calsync.RemoteEvent) { ev.Body = "agenda from Outlook" })
	w.clock.Advance(time.Minute)
	run(true) // links the pair, leaves the Outlook edit alone
	if got, _ := w.fake.Event(id); got.Body != "agenda from Outlook" {
		t.Fatalf("Microsoft body %q; the Outlook edit must be left alone", got.Body)
	}
	w.host.Edit("e1", func(ev *calsync.Event) { ev.Title = "Review (final)" })
	w.clock.Advance(time.Minute)
	run(true)
	got, _ := w.fake.Event(id)
	e := w.host.Events["e1"]
	if e.Link == nil || e.Link.RemoteID != id || calsync.ContentHash(e.Event) != calsync.RemoteContentHash(got) {
		t.Errorf("Microsoft %q body %q, Oro %q description %q (link %+v); want Oro's content in both", got.Subject, got.Body, e.Title, e.Description, e.Link)
	}
}
