package simtest

import (
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestMeetingWithAttendeesNeverWritten: a meeting the user organizes, with
// an attendee, is never written from Oro, so no run mails anyone: an Oro
// edit is replaced by Microsoft's copy (both directions, under any
// strategy, in a conflict too) or reported (oro_to_microsoft), and an Oro
// deletion keeps the meeting, with a has_attendees issue.
func TestMeetingWithAttendeesNeverWritten(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	ev := outlookEvent("board meeting", time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC))
	ev["attendees"] = []any{map[string]any{"type": "required", "emailAddress": map[string]any{"name": "Ann", "address": "ann@fabrikam.example"}}}
	msID, err := w.sim.UserCreateEvent(upn, ev)
	if err != nil {
		t.Fatal(err)
	}
	noMail := func(step string) {
		t.Helper()
		for _, m := range w.sim.OutboundMail() {
			if m.Source == "graph" {
				t.Errorf("%s: a run mailed %v: %s %q", step, m.To, m.Kind, m.Subject)
			}
		}
	}
	run := func(step string) calsync.Result {
		t.Helper()
		res, err := w.sync(t.Context(), calsync.Options{})
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		w.host.apply(res)
		noMail(step)
		return res
	}
	run("first sync")
	copies := w.host.live()
	if len(copies) != 1 {
		t.Fatalf("first sync: %d Oro events, want the meeting", len(copies))
	}
	id := copies[0].ID

	for _, strategy := range []calsync.ConflictResolution{calsync.ConflictOroWins, calsync.ConflictMerge} {
		w.strat = strategy
		w.host.edit(id, "renamed in Oro")
		run(string(strategy) + ": Oro edit")
		if got := w.host.events[id].Title; got != "board meeting" {
			t.Errorf("%s: Oro edit: Oro holds %q, want Microsoft's copy back", strategy, got)
		}
		// both sides edited: Oro's title would win or be merged
		if err := w.sim.UserUpdateEvent(upn, msID, map[string]any{"location": map[string]any{"displayName": "room 1"}}); err != nil {
			t.Fatal(err)
		}
		w.host.edit(id, "renamed in Oro again")
		run(string(strategy) + ": conflict")
		if got := w.host.events[id]; got.Title != "board meeting" || got.Location != "room 1" {
			t.Errorf("%s: conflict: Oro holds %q at %q, want Microsoft's copy", strategy, got.Title, got.Location)
		}
	}

	w.dir = calsync.DirectionOroToMicrosoft
	w.host.edit(id, "renamed, pushing only")
	res := run("oro_to_microsoft: Oro edit")
	if len(res.Issues) != 1 || res.Issues[0].Kind != calsync.KindForbidden || res.Issues[0].Reason != calsync.ReasonHasAttendees {
		t.Errorf("oro_to_microsoft: issues %+v, want one has_attendees", res.Issues)
	}

	w.dir = calsync.DirectionBoth
	w.host.remove(id)
	res = run("Oro delete")
	if len(res.Issues) != 1 || res.Issues[0].Reason != calsync.ReasonHasAttendees || res.Issues[0].Retryable {
		t.Errorf("Oro delete: issues %+v, want one has_attendees", res.Issues)
	}
	if got := w.msEvents(); len(got) != 1 || got["board meeting"] == "" {
		t.Errorf("Microsoft 365 holds %v, want the meeting unchanged", got)
	}
}
