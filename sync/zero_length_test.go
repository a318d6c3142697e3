package calsync_test

import (
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestZeroLengthTimedEventPushed: a timed event that ends when it starts
// (a reminder, a milestone) is created and updated in Microsoft 365, as
// Graph accepts it; an all-day event still needs at least one day.
func TestZeroLengthTimedEventPushed(t *testing.T) {
	w := newWorld(t)
	w.host.Add(calsync.Event{ID: "e1", Title: "milestone", Start: "2026-01-20T09:00:00Z", End: "2026-01-20T09:00:00Z"})
	w.host.Add(calsync.Event{ID: "e2", Title: "no day", AllDay: true, Start: "2026-01-21", End: "2026-01-21"})
	res := w.sync(calsync.Options{})
	if len(res.Issues) != 1 || res.Issues[0].OroID != "e2" || res.Issues[0].Reason != calsync.ReasonInvalidEvent {
		t.Errorf("issues %+v; want only the empty all-day event reported", res.Issues)
	}
	w.host.Edit("e1", func(ev *calsync.Event) { ev.Title = "milestone reached" })
	if res := w.sync(calsync.Options{}); len(res.Issues) != 1 || res.Issues[0].OroID != "e2" {
		t.Errorf("edit: issues %+v; want only the empty all-day event reported", res.Issues)
	}
	evs := w.fake.Events()
	at := time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC)
	if len(evs) != 1 || evs[0].Subject != "milestone reached" || !evs[0].Start.Equal(at) || !evs[0].End.Equal(at) {
		t.Errorf("Microsoft 365 holds %+v; want the zero-length milestone, edited", evs)
	}
}
