package calsync_test

import (
	"context"
	"slices"
	"strings"
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
			// it says what the user can do
			got[is.OroID] = strings.Contains(is.Message, "create it in Oro as a new series")
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

// singleInOro makes Oro's series s1 a single event (Oro drops its
// exceptions) with edit applied too.
func singleInOro(w *world, edit func(*calsync.Event)) {
	w.host.Edit("s1", func(e *calsync.Event) {
		e.Recurrence, e.Exceptions = nil, nil
		edit(e)
	})
}

// TestSeriesMadeSingleInOro: a series made a single event in Oro is
// written as an update naming the recurrence (Graph's adapter sends
// "recurrence": null), read again and linked as a single event; Graph
// keeps the first occurrence's time, so a time Oro changed with it is
// written next, to the single event. The reruns write and pull nothing.
func TestSeriesMadeSingleInOro(t *testing.T) {
	for _, c := range []struct {
		name   string
		start  string // Oro's single event's start
		writes []string
	}{
		{"at the first occurrence's time", "2026-01-12T09:00:00Z", []string{"subject,recurrence"}},
		{"moved with it", "2026-01-13T15:00:00Z", []string{"subject,start,end,allDay,recurrence", "start,end,allDay"}},
	} {
		w, sf, master := seriesWorld(t)
		singleInOro(w, func(e *calsync.Event) {
			s, _ := time.Parse(time.RFC3339, c.start)
			e.Title, e.Start, e.End = "standup (once)", c.start, s.Add(15*time.Minute).Format(time.RFC3339)
		})
		res := w.sync(calsync.Options{})
		var got []string
		for _, wr := range res.Writes {
			if wr.Op != calsync.WriteUpdate || wr.Outcome != "done" || wr.RemoteID != master {
				t.Errorf("%s: write %+v; want updates of %s, done", c.name, wr, master)
			}
			got = append(got, strings.Join(wr.Fields, ","))
		}
		if !slices.Equal(got, c.writes) || len(res.Issues) != 0 {
			t.Errorf("%s: writes %v issues %+v; want %v", c.name, got, res.Issues, c.writes)
		}
		m, _ := sf.Event(master)
		if m.Type != "singleInstance" || m.Series != nil || m.Subject != "standup (once)" || m.Start.Format(time.RFC3339) != c.start {
			t.Errorf("%s: Microsoft's copy %+v; want a single event at %s", c.name, m, c.start)
		}
		if l := w.host.Events["s1"].Link; l == nil || l.Series || l.RemoteID != master || l.ChangeKey != m.ChangeKey {
			t.Errorf("%s: s1's link %+v; want a single-event link to %s as it stands", c.name, l, master)
		}
		for _, run := range []string{"incremental", "full"} {
			w.host.State.NeedsFull = run == "full"
			if res = w.sync(calsync.Options{}); len(res.Writes) != 0 || len(res.Operations) != 0 || len(res.Issues) != 0 {
				t.Errorf("%s: %s rerun: writes %+v operations %+v issues %+v; want none", c.name, run, res.Writes, res.Operations, res.Issues)
			}
		}
		if len(w.host.Events) != 1 || w.host.Events["s1"].Recurrence != nil {
			t.Errorf("%s: Oro holds %d events; want s1, a single event", c.name, len(w.host.Events))
		}
	}
}

// TestSeriesMadeSingleConflict: a series made a single event in Oro and
// changed in Outlook is a conflict of the strategy: oro_wins writes Oro's
// (the null and Oro's title), microsoft_wins writes nothing and Oro
// receives the series back, merge writes the null and Oro's title, and Oro
// receives Outlook's location. A series the user does not organize, or a
// meeting without writeAttendees, is never written: Oro receives it back;
// with writeAttendees the meeting is written; nothing is written with
// microsoft_to_oro.
func TestSeriesMadeSingleConflict(t *testing.T) {
	for _, c := range []struct {
		name     string
		dir      calsync.Direction
		strategy calsync.ConflictResolution
		edit     func(*calsync.RemoteEvent) // in Outlook
		single   bool                       // Microsoft's copy afterwards
		subject  string                     // Microsoft's copy's subject afterwards
		pulled   bool                       // Oro receives the series back
	}{
		{"oro_wins", calsync.DirectionBoth, calsync.ConflictOroWins, func(m *calsync.RemoteEvent) { m.Subject = "Outlook" }, true, "Oro", false},
		{"microsoft_wins", calsync.DirectionBoth, calsync.ConflictMicrosoftWins, func(m *calsync.RemoteEvent) { m.Subject = "Outlook" }, false, "Outlook", true},
		{"merge", calsync.DirectionBoth, calsync.ConflictMerge, func(m *calsync.RemoteEvent) { m.Location = "Room 2" }, true, "Oro", false},
		{"not organizer", calsync.DirectionBoth, calsync.ConflictOroWins, func(m *calsync.RemoteEvent) { m.IsOrganizer = false }, false, "standup", true},
		{"has attendees", calsync.DirectionBoth, calsync.ConflictOroWins, func(m *calsync.RemoteEvent) { m.HasAttendees = true }, false, "standup", true},
		// writeAttendees accepts that Microsoft 365 mails them the change
		{"has attendees, writeAttendees", calsync.DirectionBoth, calsync.ConflictOroWins, func(m *calsync.RemoteEvent) { m.HasAttendees = true }, true, "Oro", false},
		{"microsoft_to_oro", calsync.DirectionMicrosoftToOro, calsync.ConflictOroWins, func(*calsync.RemoteEvent) {}, false, "standup", false},
	} {
		w, sf, master := seriesWorld(t)
		sf.Edit(master, c.edit)
		singleInOro(w, func(e *calsync.Event) { e.Title = "Oro" })
		cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(c.dir), ConflictResolution: ptr(c.strategy),
			WriteAttendees: ptr(strings.HasSuffix(c.name, "writeAttendees"))}}
		req := w.host.Request(calsync.ModeIncremental, cascade, calsync.Options{})
		res, err := calsync.Run(context.Background(), req, w.remote, calsync.RunOptions{Now: w.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := sf.Event(master)
		if (m.Type == "singleInstance") != c.single || m.Subject != c.subject {
			t.Errorf("%s: Microsoft's copy %s %q; want single=%v %q (writes %+v)", c.name, m.Type, m.Subject, c.single, c.subject, res.Writes)
		}
		pulled := false
		for _, op := range res.Operations {
			if op.OroID == "s1" && op.Op == calsync.OpUpdate && op.Event.Recurrence != nil {
				pulled = true
			}
			if op.Link != nil && op.Link.Series == c.single {
				t.Errorf("%s: link %+v; want series=%v", c.name, op.Link, !c.single)
			}
		}
		if pulled != c.pulled {
			t.Errorf("%s: operations %+v; want the series pulled back: %v", c.name, res.Operations, c.pulled)
		}
	}
}

// TestSeriesMadeSingleNoOccurrenceLeft: a series made a single event in
// Oro whose every occurrence Outlook cancelled is not written (Graph makes
// a series a single event at an occurrence it still holds): an issue says
// so and what to do, whether the run saw the cancellations or not (the
// copy of a series made single is read before it is written).
func TestSeriesMadeSingleNoOccurrenceLeft(t *testing.T) {
	for _, seen := range []bool{true, false} {
		w, sf, master := seriesWorld(t)
		sf.Edit(master, func(m *calsync.RemoteEvent) {
			s := *m.Series
			s.Cancelled = s.Recurrence.Occurrences(m.Start, m.Start, m.Start.AddDate(1, 0, 0))
			m.Series = &s
		})
		if !seen {
			w.sync(calsync.Options{}) // Oro receives the cancellations
		}
		singleInOro(w, func(e *calsync.Event) { e.Title = "standup (once)" })
		res := w.sync(calsync.Options{})
		if len(res.Writes) != 0 || len(res.Issues) != 1 || res.Issues[0].OroID != "s1" || res.Issues[0].Kind != calsync.KindRejected ||
			res.Issues[0].Reason != calsync.ReasonRecurring || !strings.Contains(res.Issues[0].Message, "delete it in Oro and create it again") {
			t.Errorf("seen %v: writes %+v issues %+v; want none written and s1's issue saying what to do", seen, res.Writes, res.Issues)
		}
	}
}
