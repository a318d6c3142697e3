package simtest

import (
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// oroException adds an exception of the Oro series master to the host,
// as Oro keeps one (its own row, recurringEventId naming the master), and
// marks both to be sent: the contract sends a series master with its
// changed exceptions.
func (h *host) oroException(master string, ev calsync.Event) string {
	h.seq++
	ev.ID = "x" + strings.TrimPrefix(master, "oro-") + "-" + time.Unix(int64(h.seq), 0).UTC().Format("150405")
	ev.RecurringEventID, ev.UpdatedAt = master, h.tick()
	h.events[ev.ID] = &ev
	h.dirty[ev.ID], h.dirty[master] = true, true
	return ev.ID
}

// TestSeriesExceptionsFromOro: a two-year weekly series made in Oro; one
// occurrence cancelled in Oro costs one DELETE of that occurrence (after
// one listing of the instances around it) and Microsoft 365 shows it
// cancelled; one occurrence moved and renamed in Oro costs one PATCH and
// Microsoft 365 holds it as an exception at the new time; reruns, an
// incremental one and a full one that sends every exception again, write
// nothing and pull nothing back.
func TestSeriesExceptionsFromOro(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	start := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC) // Monday 09:00 Berlin
	id := w.host.mondays("standup", start, 104)
	w.mustSync(calsync.Options{})
	link, simID := w.seriesLink(t, id)
	before := w.sim.UserOccurrences(upn, simID, window.Start, window.End)

	// the 21st occurrence (2025-07-21 09:00 Berlin, summer time) cancelled in Oro
	cancelled := time.Date(2025, 7, 21, 7, 0, 0, 0, time.UTC)
	w.host.oroException(id, calsync.Event{Title: "standup", Start: "2025-07-21T07:00:00Z", End: "2025-07-21T07:15:00Z",
		OriginalStart: cancelled.Format(time.RFC3339), IsCancelled: true})
	res := w.mustSync(calsync.Options{})
	if len(res.Writes) != 1 || res.Writes[0].Op != calsync.WriteDelete || res.Writes[0].Outcome != "done" {
		t.Errorf("writes %+v; want one delete, done", res.Writes)
	}
	t.Logf("cancel in Oro: requests %v", w.requests)
	// the minimum: the delta page, the master read (to compare), the
	// instances listing (the occurrence's id), the $batch, the master read
	// again (what Graph now shows) and the settle round's delta page
	if w.requests["delta"] != 2 || w.requests["get"] != 2 || w.requests["instances"] != 1 || w.requests["batch"] != 1 || len(w.requests) != 4 {
		t.Errorf("requests %v; want two delta pages, two reads of the master, one instances listing, one $batch", w.requests)
	}
	after := w.sim.UserOccurrences(upn, simID, window.Start, window.End)
	if len(after) != len(before)-1 {
		t.Errorf("%d occurrences in the window, want %d: one cancelled", len(after), len(before)-1)
	}
	r, ok := w.remoteEvent(link.RemoteID)
	if !ok || r.Series == nil || len(r.Series.Cancelled) != 1 || !r.Series.Cancelled[0].Equal(cancelled) {
		t.Fatalf("Microsoft's series %+v; want %s cancelled", r.Series, cancelled)
	}
	idle := func(step string) {
		t.Helper()
		res := w.mustSync(calsync.Options{})
		if len(res.Writes) != 0 || len(res.Operations) != 0 {
			t.Errorf("%s: writes %+v, operations %+v; want none", step, res.Writes, res.Operations)
		}
		t.Logf("%s: requests %v", step, w.requests)
	}
	idle("idle run after the cancellation")
	if w.requests["delta"] != 1 || len(w.requests) != 1 {
		t.Errorf("idle run: requests %v; want one delta page", w.requests)
	}

	// the 30th (2025-09-22 09:00 Berlin) moved to 11:00 and renamed in Oro
	moved := time.Date(2025, 9, 22, 7, 0, 0, 0, time.UTC)
	w.host.oroException(id, calsync.Event{Title: "standup (board room)", Start: "2025-09-22T09:00:00Z", End: "2025-09-22T09:15:00Z",
		OriginalStart: moved.Format(time.RFC3339)})
	res = w.mustSync(calsync.Options{})
	if len(res.Writes) != 1 || res.Writes[0].Op != calsync.WriteUpdate || res.Writes[0].Outcome != "done" ||
		strings.Join(res.Writes[0].Fields, ",") != "subject,start,end,allDay" {
		t.Errorf("writes %+v; want one update of subject and time, done", res.Writes)
	}
	t.Logf("move in Oro: requests %v", w.requests)

	r, _ = w.remoteEvent(link.RemoteID)
	if r.Series == nil || len(r.Series.Exceptions) != 1 {
		t.Fatalf("Microsoft's series %+v; want one exception", r.Series)
	}
	if x := r.Series.Exceptions[0]; !x.OriginalStart.Equal(moved) || x.Subject != "standup (board room)" ||
		!x.Start.Equal(time.Date(2025, 9, 22, 9, 0, 0, 0, time.UTC)) || !x.End.Equal(time.Date(2025, 9, 22, 9, 15, 0, 0, time.UTC)) {
		t.Errorf("exception %+v; want the occurrence of %s renamed, at 09:00Z", x, moved)
	}
	if len(r.Series.Cancelled) != 1 {
		t.Errorf("cancelled %v; want the one cancellation kept", r.Series.Cancelled)
	}
	idle("idle run after the move")

	// a full run sends every event, the exceptions included
	w.host.state.NeedsFull = true
	idle("full run")
	if evs := w.sim.Events(upn); len(evs) != 2 {
		t.Errorf("Microsoft 365 holds %d items, want the series and its one exception", len(evs))
	}
}

// TestSeriesExceptionsFromOroTogether: occurrences of one series cancelled
// and moved in Oro together are written in one run, although every write
// of the series changes its occurrences' etags (the simulator derives them
// from the master's): a plain occurrence's write is not conditional.
func TestSeriesExceptionsFromOroTogether(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	start := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC) // Monday 09:00 Berlin
	id := w.host.mondays("standup", start, 6)
	w.mustSync(calsync.Options{})
	for _, day := range []int{10, 17} {
		at := time.Date(2025, 3, day, 8, 0, 0, 0, time.UTC).Format(time.RFC3339)
		w.host.oroException(id, calsync.Event{Title: "standup", Start: at, End: at, OriginalStart: at, IsCancelled: true})
	}
	w.host.oroException(id, calsync.Event{Title: "standup (late)", Start: "2025-03-24T10:00:00Z", End: "2025-03-24T11:00:00Z",
		OriginalStart: "2025-03-24T08:00:00Z"})
	res := w.mustSync(calsync.Options{})
	if len(res.Writes) != 3 || res.Stats.Pushed != 3 {
		t.Errorf("writes %+v; want the three, done", res.Writes)
	}
	r, ok := w.remoteEvent(w.host.events[id].Link.RemoteID)
	if !ok || r.Series == nil || len(r.Series.Cancelled) != 2 || len(r.Series.Exceptions) != 1 {
		t.Fatalf("Microsoft's series %+v; want two cancelled and one exception", r.Series)
	}
}

// mondays adds an Oro series of count Mondays at start's time in Berlin,
// from start, not synced yet; it returns its Oro id.
func (h *host) mondays(title string, start time.Time, count int) string {
	id := h.create(title, start)
	h.events[id].Recurrence = &calsync.Recurrence{RecurrenceType: calsync.RecurrenceWeekly, Interval: 1, DayOfWeek: []string{"monday"},
		StartTime: start, Count: &count, TimeZone: "Europe/Berlin"}
	return id
}

// seriesLink returns the link of Oro series id and its master's id in the
// simulator, failing unless it is linked as a series.
func (w *world) seriesLink(t *testing.T, id string) (*calsync.Link, string) {
	t.Helper()
	link := w.host.events[id].Link
	if link == nil || !link.Series {
		t.Fatalf("link %+v; want a series link", link)
	}
	return link, "AAMk" + strings.TrimPrefix(link.RemoteID, "AAkA")
}
