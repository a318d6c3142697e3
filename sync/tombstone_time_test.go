package calsync_test

import (
	"context"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestMostRecentTombstoneWithoutUpdatedAt: under most_recent, an Oro
// deletion whose tombstone carries no updatedAt is taken to be as recent as
// the run: a Microsoft edit made well before it loses (the event is deleted
// in Microsoft 365), one made after the run began wins (re-created in Oro).
func TestMostRecentTombstoneWithoutUpdatedAt(t *testing.T) {
	for _, tc := range []struct {
		name    string
		msAfter time.Duration // the Microsoft edit, after the run starts
		deleted bool          // want the Microsoft copy deleted
	}{
		{"microsoft edited an hour before", -time.Hour, true},
		{"microsoft edited after the run began", 10 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			w.host.Add(calsync.Event{ID: "e1", Title: "review", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
			w.sync(calsync.Options{})
			w.clock.Advance(2 * time.Hour)
			runAt := w.clock.Now()
			w.clock.Advance(tc.msAfter)
			id := w.host.Events["e1"].Link.RemoteID
			w.fake.Edit(id, func(ev *calsync.RemoteEvent) { ev.Location = "room 2" })
			w.host.Remove("e1")
			req := w.host.Request(calsync.ModeIncremental, mostRecent, calsync.Options{})
			req.Events[0].UpdatedAt = time.Time{}
			res, err := calsync.Run(context.Background(), req, w.remote, calsync.RunOptions{Now: func() time.Time { return runAt }})
			if err != nil {
				t.Fatal(err)
			}
			_, kept := w.fake.Event(id)
			recreated := len(res.Operations) == 1 && res.Operations[0].Op == calsync.OpCreate
			if kept == tc.deleted || recreated == tc.deleted {
				t.Errorf("Microsoft copy kept %v, re-created in Oro %v (operations %+v); want deleted %v", kept, recreated, res.Operations, tc.deleted)
			}
		})
	}
}

var mostRecent = calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(calsync.DirectionBoth), ConflictResolution: ptr(calsync.ConflictMostRecent)}}
