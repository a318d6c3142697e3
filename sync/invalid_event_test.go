package calsync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestInvalidEventIsAnIssue: an event whose content cannot be read is that
// event's issue (invalid_input, not retryable, naming the field), and the
// rest of the run goes on; an all-day event whose dates come with a
// midnight time, as Oro's REST API writes them, is accepted as the dates
// written, whatever the offset.
func TestInvalidEventIsAnIssue(t *testing.T) {
	w := newWorld(t)
	w.host.Add(calsync.Event{ID: "e0", Title: "good", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
	w.host.Add(calsync.Event{ID: "e1", Title: "holiday", AllDay: true, Start: "2026-02-02T00:00:00+01:00", End: "2026-02-03T00:00:00+01:00"})
	w.host.Add(calsync.Event{ID: "e2", Title: "bad start", Start: "tomorrow", End: "2026-01-12T10:00:00Z"})
	w.host.Add(calsync.Event{ID: "e3", Title: "all-day at ten", AllDay: true, Start: "2026-02-02T10:00:00+01:00", End: "2026-02-03T00:00:00+01:00"})
	w.host.Add(calsync.Event{ID: "e4", Title: "no updatedAt", Start: "2026-01-13T09:00:00Z", End: "2026-01-13T10:00:00Z"})
	req := w.host.Request(calsync.ModeFull, bothWays, calsync.Options{})
	req.Events[4].UpdatedAt = time.Time{}
	res, err := calsync.Run(context.Background(), req, w.remote, calsync.RunOptions{Now: w.clock.Now})
	if err != nil {
		t.Fatalf("run failed: %v", err)
	}
	want := map[string]string{"e2": "events[2].start", "e3": "events[3].start", "e4": "events[4].updatedAt"}
	for _, is := range res.Issues {
		field, ok := want[is.OroID]
		if !ok || is.Kind != calsync.KindInvalidInput || is.Retryable || is.Reason != calsync.ReasonInvalidEvent || !strings.HasPrefix(is.Message, field+": ") {
			t.Errorf("issue %+v; want invalid_input naming %q", is, field)
		}
		delete(want, is.OroID)
	}
	if len(want) != 0 {
		t.Errorf("no issue for %v", want)
	}
	if res.Status != calsync.StatusCompleted {
		t.Errorf("status %s (%s), want completed", res.Status, res.Reason)
	}
	got := map[string]string{}
	for _, ev := range w.fake.Events() {
		got[ev.Subject] = ev.Start.Format(time.RFC3339) + ".." + ev.End.Format(time.RFC3339)
		if ev.Subject == "holiday" && !ev.AllDay {
			t.Errorf("holiday written as a timed event")
		}
	}
	if len(got) != 2 || got["good"] != "2026-01-12T09:00:00Z..2026-01-12T10:00:00Z" || got["holiday"] != "2026-02-02T00:00:00Z..2026-02-03T00:00:00Z" {
		t.Errorf("Microsoft 365 holds %v; want good and the holiday on 2026-02-02", got)
	}
}
