package calsync_test

import (
	"context"
	"testing"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// A linked Oro event whose content became invalid still pairs with its
// Microsoft copy, which is then left alone: no pull over the user's pending
// edit (an upsert in a full run, an update in an incremental one), no push,
// and only the invalid_event issue.
func TestInvalidLinkedEventKeepsItsMicrosoftCopyApart(t *testing.T) {
	for _, mode := range []calsync.Mode{calsync.ModeFull, calsync.ModeIncremental} {
		t.Run(string(mode), func(t *testing.T) {
			w := newWorld(t)
			w.host.Add(calsync.Event{ID: "e1", Title: "planning", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
			w.sync(calsync.Options{})
			rid := w.host.Events["e1"].Link.RemoteID
			w.host.Edit("e1", func(ev *calsync.Event) { ev.Title, ev.Start = "planning (new agenda)", "2026-01-12 09:30" })
			if mode == calsync.ModeIncremental {
				w.fake.Edit(rid, func(ev *calsync.RemoteEvent) { ev.Location = "room 4" })
			}
			req := w.host.Request(mode, bothWays, calsync.Options{})
			res, err := calsync.Run(context.Background(), req, w.remote, calsync.RunOptions{Now: w.clock.Now})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Operations) != 0 || len(res.Writes) != 0 || res.Stats.Pulled != 0 || res.Stats.Pushed != 0 {
				t.Errorf("operations %+v writes %+v; want none for the invalid event's copy", res.Operations, res.Writes)
			}
			if len(res.Issues) != 1 || res.Issues[0].OroID != "e1" || res.Issues[0].Reason != calsync.ReasonInvalidEvent {
				t.Errorf("issues %+v; want only e1's invalid_event", res.Issues)
			}
			w.host.Apply(req, res)
			if got := w.host.Events["e1"]; got.Title != "planning (new agenda)" || got.Link == nil || got.Link.RemoteID != rid {
				t.Errorf("Oro e1 now %q %s link %+v: the pending edit or the link was lost", got.Title, got.Start, got.Link)
			}
			if got, _ := w.fake.Get(context.Background(), rid); mode == calsync.ModeFull && got.Subject != "planning" {
				t.Errorf("Microsoft copy now %q; want it left alone", got.Subject)
			}
		})
	}
}
