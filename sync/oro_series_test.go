package calsync_test

import (
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// An Oro series is written to Microsoft 365 as a series, once (its echo
// changes nothing); an event linked as a single event that became a series
// in Oro is reported and its copy left unchanged; an exception of the new
// series waits (a retryable issue) until its series is in Microsoft 365.
func TestOroSeriesWritten(t *testing.T) {
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
	if len(res.Writes) != 1 || res.Writes[0].Op != calsync.WriteCreate || res.Writes[0].OroID != "s1" {
		t.Errorf("writes %+v; want the one create of s1", res.Writes)
	}
	got := map[string]bool{}
	for _, is := range res.Issues {
		switch {
		case is.Reason == calsync.ReasonRecurring && is.Kind == calsync.KindForbidden && !is.Retryable:
			got[is.OroID] = true
		case is.OroID == "x1" && is.Reason == calsync.ReasonRecurring && is.Retryable:
			got["x1 later"] = true // written once its series is
		}
	}
	if !got[linked] || !got["x1 later"] || got["s1"] || got["x1"] {
		t.Errorf("issues %+v; want recurring_not_supported for %s, x1 retried, none for s1", res.Issues, linked)
	}
	if after, ok := w.fake.Event(ids[0]); !ok || after.ChangeKey != before.ChangeKey {
		t.Errorf("the old copy of the event that became a series changed: %+v", after)
	}
	s1 := w.host.Events["s1"]
	if s1.Link == nil || !s1.Link.Series {
		t.Fatalf("s1's link %+v; want a series link", s1.Link)
	}
	copyOf, _ := w.fake.Event(s1.Link.RemoteID)
	if copyOf.Type != "seriesMaster" || copyOf.Series == nil || copyOf.Series.Recurrence.RecurrenceType != calsync.RecurrenceWeekly {
		t.Errorf("Microsoft's copy %+v; want a weekly series master", copyOf)
	}
	if res = w.sync(calsync.Options{}); len(res.Writes) != 0 || len(res.Operations) != 0 {
		t.Errorf("next run: writes %+v operations %+v; want none", res.Writes, res.Operations)
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
