package calsync_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// seriesFake is the fake calendar with the occurrences of its series
// masters: listed (calsync.OccurrenceLister), deleted (the occurrence is
// cancelled) and patched (it becomes an exception), as Graph does.
// Occurrence and exception ids are the master's id, "~" and the original
// start.
type seriesFake struct {
	*scenario.Fake
	listings int
}

func occurrenceID(master string, t time.Time) string {
	return master + "~" + strconv.FormatInt(t.Unix(), 10)
}

func (f *seriesFake) Occurrences(_ context.Context, id string, from, to time.Time) ([]calsync.RemoteEvent, error) {
	f.listings++
	m, ok := f.Event(id)
	if !ok || m.Series == nil {
		return nil, &calsync.Error{Kind: calsync.KindNotFound, Message: "not found"}
	}
	d := m.End.Sub(m.Start)
	var out []calsync.RemoteEvent
	for _, t := range m.Series.Recurrence.Occurrences(m.Start, from.Add(-d), to) {
		changed := slices.ContainsFunc(m.Series.Exceptions, func(x calsync.RemoteEvent) bool { return x.OriginalStart.Equal(t) })
		if changed || slices.ContainsFunc(m.Series.Cancelled, t.Equal) {
			continue
		}
		out = append(out, calsync.RemoteEvent{ID: occurrenceID(id, t), ETag: "occ", Type: "occurrence", SeriesMasterID: id, IsOrganizer: true,
			Subject: m.Subject, Body: m.Body, Location: m.Location, Start: t, End: t.Add(d), OriginalStart: t})
	}
	return out, nil
}

// Apply writes to occurrences and exceptions itself, the rest through the
// fake. An update naming the recurrence of an event without a series
// ("recurrence": null) makes a series master a single event at its first
// occurrence's time, as Graph does: the times written with it are not
// taken, nor is the answer the event as it now stands.
func (f *seriesFake) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	var rest []calsync.Write
	var out []calsync.WriteResult
	var single []string
	for _, w := range writes {
		master, unix, ok := strings.Cut(w.ID, "~")
		if !ok {
			if w.Op == calsync.WriteUpdate && w.Event.Series == nil && slices.Contains(w.Fields, "recurrence") {
				single = append(single, w.ID)
				w.Fields = slices.DeleteFunc(slices.Clone(w.Fields), func(f string) bool {
					return f == "recurrence" || f == "start" || f == "end" || f == "allDay"
				})
			}
			rest = append(rest, w)
			continue
		}
		sec, _ := strconv.ParseInt(unix, 10, 64)
		orig := time.Unix(sec, 0).UTC()
		var written *calsync.RemoteEvent
		f.Edit(master, func(m *calsync.RemoteEvent) {
			s := *m.Series
			s.Exceptions = slices.DeleteFunc(slices.Clone(s.Exceptions), func(x calsync.RemoteEvent) bool {
				if x.OriginalStart.Equal(orig) {
					written = &x
					return true
				}
				return false
			})
			if w.Op == calsync.WriteDelete {
				s.Cancelled, written = append(slices.Clone(s.Cancelled), orig), nil
				m.Series = &s
				return
			}
			if written == nil {
				written = &calsync.RemoteEvent{ID: w.ID, Type: "exception", SeriesMasterID: master, IsOrganizer: true,
					Subject: m.Subject, Body: m.Body, Location: m.Location, Start: orig, End: orig.Add(m.End.Sub(m.Start)), OriginalStart: orig}
			}
			for _, fl := range w.Fields {
				switch fl {
				case "subject":
					written.Subject = w.Event.Subject
				case "start":
					written.Start = w.Event.Start
				case "end":
					written.End = w.Event.End
				}
			}
			s.Exceptions = append(s.Exceptions, *written)
			m.Series = &s
		})
		out = append(out, calsync.WriteResult{Key: w.Key, Event: written})
	}
	res, err := f.Fake.Apply(ctx, rest)
	for _, id := range single {
		f.Edit(id, func(m *calsync.RemoteEvent) {
			if m.Series == nil {
				return
			}
			d := m.End.Sub(m.Start)
			for _, t := range m.Series.Recurrence.Occurrences(m.Start, m.Start, m.Start.AddDate(10, 0, 0)) {
				if !slices.ContainsFunc(m.Series.Cancelled, t.Equal) {
					m.Start, m.End = t, t.Add(d)
					break
				}
			}
			m.Type, m.Series = "singleInstance", nil
		})
	}
	return append(out, res...), err
}

// seriesWorld is a world over seriesFake with an Oro series of ten
// Mondays, synced.
func seriesWorld(t *testing.T) (*world, *seriesFake, string) {
	w := newWorld(t)
	sf := &seriesFake{Fake: w.fake}
	w.remote = sf
	w.host.Add(calsync.Event{ID: "s1", Title: "standup", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T09:15:00Z",
		Recurrence: &calsync.Recurrence{RecurrenceType: calsync.RecurrenceWeekly, Interval: 1, DayOfWeek: []string{"monday"},
			StartTime: time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC), Count: ptr(10), TimeZone: "UTC"}})
	w.sync(calsync.Options{})
	l := w.host.Events["s1"].Link
	if l == nil || !l.Series {
		t.Fatalf("s1's link %+v; want a series link", l)
	}
	return w, sf, l.RemoteID
}

// oroException adds an Oro exception of s1 and marks s1 to be sent with it.
func oroException(w *world, ev calsync.Event) {
	ev.RecurringEventID = "s1"
	w.host.Add(ev)
	w.host.Edit("s1", func(*calsync.Event) {})
}

// TestOroExceptionsWritten: an occurrence cancelled in Oro is deleted, one
// changed in Oro is patched, in one listing of the occurrences and one
// Apply; a rerun writes nothing and pulls nothing back; an exception whose
// master is not in the request, or whose originalStart is no occurrence,
// is reported.
func TestOroExceptionsWritten(t *testing.T) {
	w, sf, master := seriesWorld(t)
	oroException(w, calsync.Event{ID: "x1", Title: "standup", Start: "2026-01-19T09:00:00Z", End: "2026-01-19T09:15:00Z",
		OriginalStart: "2026-01-19T09:00:00Z", IsCancelled: true})
	oroException(w, calsync.Event{ID: "x2", Title: "standup (late)", Start: "2026-01-26T11:00:00Z", End: "2026-01-26T11:15:00Z",
		OriginalStart: "2026-01-26T09:00:00Z"})
	oroException(w, calsync.Event{ID: "x3", Title: "standup", Start: "2026-01-27T09:00:00Z", End: "2026-01-27T09:15:00Z",
		OriginalStart: "2026-01-27T09:00:00Z", IsCancelled: true})
	res := w.sync(calsync.Options{})
	if sf.listings != 1 || res.Stats.Calls["apply"] != 1 || len(res.Writes) != 2 {
		t.Errorf("%d listings, %d Apply calls, writes %+v; want one listing and one Apply of two writes", sf.listings, res.Stats.Calls["apply"], res.Writes)
	}
	// our writes are not pulled back: s1 gets a link that records the
	// series as it now stands, not an update
	if len(res.Operations) != 1 || res.Operations[0].Op != calsync.OpLink || res.Operations[0].OroID != "s1" || res.Stats.Pulled != 0 {
		t.Errorf("operations %+v; want s1's link only", res.Operations)
	}
	if len(res.Issues) != 1 || res.Issues[0].OroID != "x3" || res.Issues[0].Kind != calsync.KindRejected {
		t.Errorf("issues %+v; want x3 rejected: not an occurrence", res.Issues)
	}
	m, _ := sf.Event(master)
	if len(m.Series.Cancelled) != 1 || !m.Series.Cancelled[0].Equal(time.Date(2026, 1, 19, 9, 0, 0, 0, time.UTC)) {
		t.Errorf("cancelled %v; want 2026-01-19 09:00", m.Series.Cancelled)
	}
	if len(m.Series.Exceptions) != 1 || m.Series.Exceptions[0].Subject != "standup (late)" || m.Series.Exceptions[0].Start.Hour() != 11 {
		t.Errorf("exceptions %+v; want 2026-01-26 at 11:00, renamed", m.Series.Exceptions)
	}
	w.host.Remove("x3")
	if res = w.sync(calsync.Options{}); len(res.Writes) != 0 || len(res.Operations) != 0 {
		t.Errorf("rerun: writes %+v operations %+v; want none", res.Writes, res.Operations)
	}
	// a full run sends every exception again: nothing to write
	w.host.State.NeedsFull = true
	if res = w.sync(calsync.Options{}); len(res.Writes) != 0 || len(res.Operations) != 0 || len(res.Issues) != 0 {
		t.Errorf("full run: writes %+v operations %+v issues %+v; want none", res.Writes, res.Operations, res.Issues)
	}

	w.host.Add(calsync.Event{ID: "x4", RecurringEventID: "s1", Title: "standup", Start: "2026-02-02T09:00:00Z", End: "2026-02-02T09:15:00Z",
		OriginalStart: "2026-02-02T09:00:00Z", IsCancelled: true})
	// a host that sends the changed exception without its master (the
	// host model sends it, as the contract asks)
	req := w.host.Request(calsync.ModeIncremental, bothWays, calsync.Options{})
	req.Events = slices.DeleteFunc(req.Events, func(e calsync.Event) bool { return e.ID == "s1" })
	res, err := calsync.Run(context.Background(), req, w.remote, calsync.RunOptions{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Issues) != 1 || res.Issues[0].OroID != "x4" || res.Issues[0].Kind != calsync.KindInvalidInput || len(res.Writes) != 0 {
		t.Errorf("issues %+v writes %+v; want x4 invalid: its master was not sent", res.Issues, res.Writes)
	}
}

// TestOroExceptionConflict: an occurrence changed in Outlook and in Oro.
// oro_wins writes Oro's over the exception; microsoft_wins writes nothing
// and Oro receives Microsoft's with the series. A pattern change in
// Outlook resets exceptions: Oro's is not written, and Oro receives the
// series as Microsoft 365 holds it.
func TestOroExceptionConflict(t *testing.T) {
	orig := time.Date(2026, 1, 19, 9, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		strategy calsync.ConflictResolution
		pattern  bool
		want     string // Microsoft's exception's subject afterwards
		won      string // the conflict's count in stats
	}{
		{calsync.ConflictOroWins, false, "Oro", "oro_won"},
		{calsync.ConflictMicrosoftWins, false, "Outlook", "microsoft_won"},
		// within the clock-skew tolerance: a tie, which Oro wins
		{calsync.ConflictMostRecent, false, "Oro", "oro_won"},
		{calsync.ConflictOroWins, true, "", ""},
	} {
		w, sf, master := seriesWorld(t)
		sf.Edit(master, func(m *calsync.RemoteEvent) {
			s := *m.Series
			s.Exceptions = []calsync.RemoteEvent{{ID: occurrenceID(master, orig), Type: "exception", SeriesMasterID: master, IsOrganizer: true,
				Subject: "Outlook", Start: orig, End: orig.Add(15 * time.Minute), OriginalStart: orig, LastModified: w.clock.Now()}}
			if c.pattern {
				r := *s.Recurrence
				r.Interval, s.Exceptions = 2, nil
				s.Recurrence = &r
			}
			m.Series = &s
		})
		oroException(w, calsync.Event{ID: "x1", Title: "Oro", Start: "2026-01-19T10:00:00Z", End: "2026-01-19T10:15:00Z",
			OriginalStart: orig.Format(time.RFC3339)})
		cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(calsync.DirectionBoth), ConflictResolution: ptr(c.strategy)}}
		req := w.host.Request(calsync.ModeIncremental, cascade, calsync.Options{})
		res, err := calsync.Run(context.Background(), req, w.remote, calsync.RunOptions{Now: w.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		m, _ := sf.Event(master)
		got := ""
		for _, x := range m.Series.Exceptions {
			got = x.Subject
		}
		if got != c.want {
			t.Errorf("%s, pattern change %v: Microsoft's exception %q, want %q (writes %+v)", c.strategy, c.pattern, got, c.want, res.Writes)
		}
		var op *calsync.Operation
		for i := range res.Operations {
			if res.Operations[i].OroID == "s1" {
				op = &res.Operations[i]
			}
		}
		// Oro receives the series as Microsoft 365 holds it, exceptions included
		if op == nil || op.Op != calsync.OpUpdate || len(op.Event.Exceptions) != len(m.Series.Exceptions) {
			t.Errorf("%s, pattern change %v: operation %+v; want s1 updated with Microsoft's %d exceptions", c.strategy, c.pattern, op, len(m.Series.Exceptions))
		}
		if c.pattern && (len(res.Issues) != 1 || res.Issues[0].OroID != "x1" || res.Issues[0].Kind != calsync.KindConflict) {
			t.Errorf("pattern change: issues %+v; want x1's conflict", res.Issues)
		}
		if !c.pattern && res.Stats.Conflicts[c.won] != 1 {
			t.Errorf("%s: conflicts %v; want one", c.strategy, res.Stats.Conflicts)
		}
	}
}

// TestOroExceptionsNotWritten: microsoft_to_oro writes no Oro exception;
// a dry run lists the write it would make and makes none.
func TestOroExceptionsNotWritten(t *testing.T) {
	for _, c := range []struct {
		name string
		dir  calsync.Direction
		opts calsync.Options
		want []calsync.WriteRecord
	}{
		{"microsoft_to_oro", calsync.DirectionMicrosoftToOro, calsync.Options{}, nil},
		{"dry run", calsync.DirectionBoth, calsync.Options{DryRun: true}, []calsync.WriteRecord{{Op: calsync.WriteDelete, OroID: "x1", Reason: calsync.ReasonOroChanged, Outcome: "planned"}}},
	} {
		w, sf, master := seriesWorld(t)
		before, _ := sf.Event(master)
		oroException(w, calsync.Event{ID: "x1", Title: "standup", Start: "2026-01-19T09:00:00Z", End: "2026-01-19T09:15:00Z",
			OriginalStart: "2026-01-19T09:00:00Z", IsCancelled: true})
		cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(c.dir), ConflictResolution: ptr(calsync.ConflictOroWins)}}
		res, err := calsync.Run(context.Background(), w.host.Request(calsync.ModeIncremental, cascade, c.opts), w.remote, calsync.RunOptions{Now: w.clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		same := len(res.Writes) == len(c.want)
		for i := 0; same && i < len(c.want); i++ {
			g, x := res.Writes[i], c.want[i]
			same = g.Op == x.Op && g.OroID == x.OroID && g.Reason == x.Reason && g.Outcome == x.Outcome && len(g.Fields) == 0
		}
		if !same {
			t.Errorf("%s: writes %+v, want %+v", c.name, res.Writes, c.want)
		}
		if after, _ := sf.Event(master); after.ChangeKey != before.ChangeKey || len(after.Series.Cancelled) != 0 {
			t.Errorf("%s: the series changed in Microsoft 365: %+v", c.name, after.Series)
		}
	}
}

// TestOroExceptionsBesidePull: a round that writes only Oro's exceptions
// and pulls an event made in Outlook is settled over the Oro side as the
// host will hold it (the pulled event created, s1 relinked): the run
// returns s1's link and the create, and a rerun has nothing to do.
func TestOroExceptionsBesidePull(t *testing.T) {
	w, _, _ := seriesWorld(t)
	w.fake.Seed("", calsync.RemoteEvent{Subject: "lunch", IsOrganizer: true,
		Start: time.Date(2026, 1, 20, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 20, 13, 0, 0, 0, time.UTC)})
	oroException(w, calsync.Event{ID: "x1", Title: "standup", Start: "2026-01-19T09:00:00Z", End: "2026-01-19T09:15:00Z",
		OriginalStart: "2026-01-19T09:00:00Z", IsCancelled: true})
	res := w.sync(calsync.Options{})
	var ops []string
	for _, op := range res.Operations {
		ops = append(ops, string(op.Op)+":"+op.OroID)
	}
	slices.Sort(ops)
	if len(res.Writes) != 1 || strings.Join(ops, " ") != "create: link:s1" || len(res.Issues) != 0 {
		t.Errorf("writes %+v operations %v issues %+v; want one write, the create and s1's link", res.Writes, ops, res.Issues)
	}
	if res = w.sync(calsync.Options{}); len(res.Writes) != 0 || len(res.Operations) != 0 {
		t.Errorf("rerun: writes %+v operations %+v; want none", res.Writes, res.Operations)
	}
}

// TestOroExceptionsGraphCannotWrite: an occurrence restored in Oro that
// Microsoft 365 holds cancelled, and an exception row deleted in Oro (its
// tombstone sent with its master) over an occurrence Microsoft 365 holds
// changed or cancelled, have no Graph API: each is reported on its own
// row, naming the series and the occurrence, and nothing is written. A
// row deleted over a plain occurrence, or sent without its master, is
// confirmed.
func TestOroExceptionsGraphCannotWrite(t *testing.T) {
	w, sf, master := seriesWorld(t)
	oroException(w, calsync.Event{ID: "x1", Title: "standup", Start: "2026-01-19T09:00:00Z", End: "2026-01-19T09:15:00Z",
		OriginalStart: "2026-01-19T09:00:00Z", IsCancelled: true})
	oroException(w, calsync.Event{ID: "x2", Title: "standup (late)", Start: "2026-01-26T11:00:00Z", End: "2026-01-26T11:15:00Z",
		OriginalStart: "2026-01-26T09:00:00Z"})
	oroException(w, calsync.Event{ID: "x3", Title: "standup", Start: "2026-02-02T09:00:00Z", End: "2026-02-02T09:15:00Z",
		OriginalStart: "2026-02-02T09:00:00Z"})
	if res := w.sync(calsync.Options{}); len(res.Writes) != 2 || len(res.Issues) != 0 {
		t.Fatalf("writes %+v issues %+v; want x1's delete and x2's update (x3 is the occurrence as it stands)", res.Writes, res.Issues)
	}
	before, _ := sf.Event(master)
	deleteRow := func(id string) { // the host sends a deleted exception row as its tombstone
		w.host.Edit(id, func(e *calsync.Event) { e.Deleted = true })
		w.host.Edit("s1", func(*calsync.Event) {})
	}
	check := func(step string, want map[string]string) {
		t.Helper()
		res := w.sync(calsync.Options{})
		got := map[string]string{}
		for _, is := range res.Issues {
			if is.Kind != calsync.KindRejected || is.Reason != calsync.ReasonRecurring || is.RemoteID != master ||
				!strings.Contains(is.Message, `"standup" (Oro s1)`) {
				t.Errorf("%s: issue %+v; want rejected, recurring_not_supported, naming the series", step, is)
			}
			got[is.OroID] = is.Message
		}
		for id, says := range want {
			if !strings.Contains(got[id], says) {
				t.Errorf("%s: %s's issue %q; want one saying %q", step, id, got[id], says)
			}
		}
		if len(got) != len(want) || len(res.Writes) != 0 {
			t.Errorf("%s: issues %+v writes %+v; want issues for %v and no write", step, res.Issues, res.Writes, want)
		}
	}
	w.host.Edit("x1", func(e *calsync.Event) { e.IsCancelled = false })
	deleteRow("x2")
	deleteRow("x3")
	check("restored, deleted", map[string]string{"x1": "2026-01-19T09:00:00Z was restored in Oro", "x2": "2026-01-26T09:00:00Z was deleted in Oro"})
	deleteRow("x1")
	check("cancelled row deleted", map[string]string{"x1": "stays cancelled", "x2": "stays changed"})
	// sent again without their master (a host that resends what has
	// issues, and not the master; the host model sends it): nothing to
	// compare with, they are confirmed
	req := w.host.Request(calsync.ModeIncremental, bothWays, calsync.Options{})
	req.Events = slices.DeleteFunc(req.Events, func(e calsync.Event) bool { return e.ID == "s1" })
	if res, err := calsync.Run(context.Background(), req, w.remote, calsync.RunOptions{Now: w.clock.Now}); err != nil || len(res.Issues) != 0 || len(res.Writes) != 0 {
		t.Errorf("without their master: issues %+v writes %+v (%v); want none", res.Issues, res.Writes, err)
	}
	if after, _ := sf.Event(master); after.ChangeKey != before.ChangeKey {
		t.Errorf("the series changed in Microsoft 365: %+v", after.Series)
	}
}

// TestOroExceptionsOfUnsentSeriesOneWay: with microsoft_to_oro, an Oro
// series never written to Microsoft 365 keeps its exceptions in Oro with
// no issue (none would ever be written: nothing to retry).
func TestOroExceptionsOfUnsentSeriesOneWay(t *testing.T) {
	w := newWorld(t)
	w.host.Add(calsync.Event{ID: "s1", Title: "standup", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T09:15:00Z",
		Recurrence: &calsync.Recurrence{RecurrenceType: calsync.RecurrenceWeekly, Interval: 1, DayOfWeek: []string{"monday"},
			StartTime: time.Date(2026, 1, 12, 9, 0, 0, 0, time.UTC), Count: ptr(10), TimeZone: "UTC"}})
	oroException(w, calsync.Event{ID: "x1", Title: "standup", Start: "2026-01-19T09:00:00Z", End: "2026-01-19T09:15:00Z",
		OriginalStart: "2026-01-19T09:00:00Z", IsCancelled: true})
	cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(calsync.DirectionMicrosoftToOro), ConflictResolution: ptr(calsync.ConflictOroWins)}}
	res, err := calsync.Run(context.Background(), w.host.Request(calsync.ModeFull, cascade, calsync.Options{}), w.remote, calsync.RunOptions{Now: w.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Issues) != 0 || len(res.Writes) != 0 {
		t.Errorf("issues %+v writes %+v; want none", res.Issues, res.Writes)
	}
}
