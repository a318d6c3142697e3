package simtest

import (
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestSeriesMadeSingleInOro: an Oro series whose recurrence is removed in
// Oro (Oro drops its exceptions) is written to Microsoft 365 as
// "recurrence": null on its master, with the rename made with it: the
// simulator turns the series into a single event only for an explicit
// null, so the null is on the wire. Microsoft 365 then holds one single
// event at the first occurrence's time, the Oro event is linked to it as a
// single event, and the next runs pull nothing back and duplicate nothing.
func TestSeriesMadeSingleInOro(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	start := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC) // Monday 09:00 Berlin
	id := w.host.mondays("retro", start, 6)
	w.mustSync(calsync.Options{})
	link, simID := w.seriesLink(t, id)
	occs := w.sim.UserOccurrences(upn, simID, window.Start, window.End)
	if err := w.sim.UserUpdateEvent(upn, occs[1], map[string]any{"subject": "retro (moved room)"}); err != nil {
		t.Fatal(err)
	}
	w.mustSync(calsync.Options{}) // Oro gets the exception

	ev := w.host.events[id]
	ev.Recurrence, ev.Exceptions, ev.Title, ev.UpdatedAt = nil, nil, "retro (once)", w.host.tick()
	w.host.dirty[id] = true
	res := w.mustSync(calsync.Options{})
	if len(res.Writes) != 1 || res.Writes[0].Op != calsync.WriteUpdate || res.Writes[0].Outcome != "done" ||
		strings.Join(res.Writes[0].Fields, ",") != "subject,recurrence" {
		t.Errorf("writes %+v; want one update of subject and recurrence, done", res.Writes)
	}
	r, ok := w.remoteEvent(link.RemoteID)
	if !ok || r.Type != "singleInstance" || r.Series != nil || r.Subject != "retro (once)" || !r.Start.Equal(start) {
		t.Fatalf("Microsoft's copy %+v; want a single event %q at %s", r, "retro (once)", start)
	}
	if evs := w.sim.Events(upn); len(evs) != 1 {
		t.Errorf("Microsoft 365 holds %d items, want the one single event", len(evs))
	}
	l := w.host.events[id].Link
	if l == nil || l.Series || l.RemoteID != link.RemoteID {
		t.Errorf("link %+v; want a single-event link to %s", l, link.RemoteID)
	}
	for _, run := range []string{"incremental", "full"} {
		if run == "full" {
			w.host.state.NeedsFull = true
		}
		res = w.mustSync(calsync.Options{})
		if len(res.Writes) != 0 || len(res.Operations) != 0 {
			t.Errorf("%s run after: writes %+v, operations %+v; want none", run, res.Writes, res.Operations)
		}
	}
	if evs := w.host.live(); len(evs) != 1 || evs[0].Recurrence != nil || evs[0].Title != "retro (once)" {
		t.Errorf("Oro holds %d events (%+v); want the one single event", len(evs), evs)
	}
}

// TestSeriesMadeSingleAndMovedInOro: a series made a single event in Oro
// at another time than its first occurrence: Graph makes it single at the
// first occurrence's time (the simulator takes no time patched with the
// null), so Oro's time is written next, to the single event, in the same
// run; the rerun has nothing to do.
func TestSeriesMadeSingleAndMovedInOro(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	start := time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC) // Monday 09:00 Berlin
	id := w.host.mondays("review", start, 4)
	w.mustSync(calsync.Options{})
	moved := start.Add(26 * time.Hour) // Tuesday 10:00 Berlin
	ev := w.host.events[id]
	ev.Recurrence, ev.Start, ev.End, ev.UpdatedAt = nil, moved.Format(time.RFC3339), moved.Add(time.Hour).Format(time.RFC3339), w.host.tick()
	w.host.dirty[id] = true
	res := w.mustSync(calsync.Options{})
	var fields []string
	for _, wr := range res.Writes {
		fields = append(fields, strings.Join(wr.Fields, ","))
	}
	if strings.Join(fields, " ") != "start,end,allDay,recurrence start,end,allDay" {
		t.Errorf("writes %v; want the null with the time, then the time again", fields)
	}
	r, ok := w.remoteEvent(ev.Link.RemoteID)
	if !ok || r.Type != "singleInstance" || !r.Start.Equal(moved) {
		t.Fatalf("Microsoft's copy %s at %s; want a single event at %s", r.Type, r.Start, moved)
	}
	if res = w.mustSync(calsync.Options{}); len(res.Writes) != 0 || len(res.Operations) != 0 {
		t.Errorf("rerun: writes %+v, operations %+v; want none", res.Writes, res.Operations)
	}
	w.agree()
}
