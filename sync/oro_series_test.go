package calsync_test

import (
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// An Oro series master, including an event linked before it became a
// series, is reported and left unchanged on both sides: never written as a
// single event, and its old copy neither updated nor deleted. Its
// exceptions are left out without an issue of their own.
func TestOroSeriesNotWritten(t *testing.T) {
	w := newWorld(t)
	ids := w.seedLinked(1)
	weekly := &calsync.Recurrence{RecurrenceType: calsync.RecurrenceWeekly, Interval: 1, DayOfWeek: []string{"monday"},
		StartTime: time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC), TimeZone: "Europe/Berlin"}
	w.host.Add(calsync.Event{ID: "s1", Title: "Standup", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T09:15:00Z", Recurrence: weekly})
	w.host.Add(calsync.Event{ID: "x1", Title: "Standup (moved)", Start: "2026-01-19T10:00:00Z", End: "2026-01-19T10:15:00Z",
		RecurringEventID: "s1", OriginalStart: "2026-01-19T09:00:00Z"})
	var linked string
	for id, e := range w.host.Events {
		if e.Link != nil && e.Link.RemoteID == ids[0] {
			linked = id
		}
	}
	w.host.Edit(linked, func(e *calsync.Event) { e.Title, e.Recurrence = "now a series", weekly })
	before, _ := w.fake.Event(ids[0])
	res := w.sync(calsync.Options{})
	if len(res.Writes) != 0 {
		t.Errorf("writes %+v; want none", res.Writes)
	}
	got := map[string]bool{}
	for _, is := range res.Issues {
		if is.Reason == calsync.ReasonRecurring && is.Kind == calsync.KindForbidden && !is.Retryable {
			got[is.OroID] = true
		}
	}
	if got["x1"] {
		t.Errorf("an issue for the exception x1: %+v", res.Issues)
	}
	for _, id := range []string{"s1", linked} {
		if !got[id] {
			t.Errorf("no recurring_not_supported issue for %s: %+v", id, res.Issues)
		}
	}
	if after, ok := w.fake.Event(ids[0]); !ok || after.ChangeKey != before.ChangeKey {
		t.Errorf("the old copy of the event that became a series changed: %+v", after)
	}
}

// TestValidateSeries names the bad field of an Oro series.
func TestValidateSeries(t *testing.T) {
	rec := func() *calsync.Recurrence {
		return &calsync.Recurrence{RecurrenceType: calsync.RecurrenceDaily, Interval: 1, StartTime: time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC), TimeZone: "Europe/Berlin"}
	}
	bad := rec()
	bad.Interval = 100
	for _, c := range []struct {
		ev    calsync.Event
		field string
	}{
		{calsync.Event{Recurrence: bad}, "events[0].recurrence.interval"},
		{calsync.Event{Recurrence: rec(), RecurringEventID: "s1", OriginalStart: "2026-01-12T09:00:00Z"}, "events[0].recurringEventId"},
		{calsync.Event{RecurringEventID: "s1", OriginalStart: "2026-01-12"}, "events[0].originalStart"},
		{calsync.Event{IsCancelled: true}, "events[0].recurringEventId"},
	} {
		c.ev.ID, c.ev.Title, c.ev.Start, c.ev.End = "e1", "t", "2026-01-12T09:00:00Z", "2026-01-12T10:00:00Z"
		req := calsync.Request{Events: []calsync.Event{c.ev}}
		err := req.Validate()
		if e, ok := err.(*calsync.Error); !ok || e.Field != c.field {
			t.Errorf("%+v: %v, want an error naming %s", c.ev, err, c.field)
		}
	}
}
