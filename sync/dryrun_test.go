package calsync_test

import (
	"testing"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// A dry run returns both halves of a merge: the Microsoft-side write as
// planned and the Oro-side update with the merged content.
func TestDryRunReturnsOroHalfOfMerge(t *testing.T) {
	w := newWorld(t)
	merge := calsync.ConflictMerge
	cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(calsync.DirectionBoth), ConflictResolution: &merge}}
	w.host.Add(calsync.Event{ID: "e1", Title: "one", Start: "2026-01-20T09:00:00Z", End: "2026-01-20T10:00:00Z"})
	w.sync(calsync.Options{})
	w.host.Edit("e1", func(ev *calsync.Event) { ev.Title = "oro title" })
	w.fake.Edit(w.host.Events["e1"].Link.RemoteID, func(ev *calsync.RemoteEvent) { ev.Location = "ms room" })
	req := w.host.Request(calsync.ModeIncremental, cascade, calsync.Options{DryRun: true})
	res, err := calsync.Run(t.Context(), req, w.fake, calsync.RunOptions{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Writes) != 1 || res.Writes[0].Outcome != "planned" {
		t.Fatalf("writes %+v; want one planned update", res.Writes)
	}
	if len(res.Operations) != 1 || res.Operations[0].Op != calsync.OpUpdate || res.Operations[0].Event.Title != "oro title" || res.Operations[0].Event.Location != "ms room" {
		t.Fatalf("operations %+v; want the merged update of e1", res.Operations)
	}
}
