package simtest

import (
	"context"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// Exchange keeps bodies as HTML, so a description comes back from Microsoft
// with CRLF line breaks and a trailing CRLF (facts §2; graphsim's default).
// The engine must not take that for a change: after the first run nothing
// is written and nothing pulled, in incremental and in full runs; an edit of
// another field on one side and of a description on the other merge without
// a conflict; and the descriptions on both sides keep their text.
func TestBodyConversionNoChange(t *testing.T) {
	for _, strategy := range []calsync.ConflictResolution{calsync.ConflictOroWins, calsync.ConflictMerge} {
		t.Run(string(strategy), func(t *testing.T) {
			clock := scenario.NewClock(scenario.T0)
			remote := newSimRemote(t, clock, "")
			h := scenario.NewHost(clock)
			dir, enabled := calsync.DirectionBoth, true
			cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: &enabled, Direction: &dir, ConflictResolution: &strategy}}
			run := func(mode calsync.Mode) calsync.Result {
				t.Helper()
				req := h.Request(mode, cascade, calsync.Options{})
				res, err := calsync.Run(context.Background(), req, remote, calsync.RunOptions{Now: clock.Now})
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Issues) > 0 || len(res.Stats.Conflicts) > 0 {
					t.Errorf("%s run: issues %+v, conflicts %v", mode, res.Issues, res.Stats.Conflicts)
				}
				h.Apply(req, res)
				clock.Advance(time.Minute)
				return res
			}
			quiet := func(what string, res calsync.Result) {
				t.Helper()
				for _, op := range res.Operations {
					if op.Op != calsync.OpLink {
						t.Errorf("%s: operation %s %s/%s (%s)", what, op.Op, op.OroID, remote.Name(op.RemoteID), op.Reason)
					}
				}
				for _, w := range res.Writes {
					t.Errorf("%s: write %s %s %v (%s)", what, w.Op, w.OroID, w.Fields, w.Reason)
				}
			}

			start := "2026-01-10T09:00:00Z"
			end := "2026-01-10T10:00:00Z"
			for id, d := range map[string]string{"e1": "Agenda:\n- one\n- two\n", "e2": "Windows\r\nline endings", "e3": "trailing space \n\n"} {
				h.Add(calsync.Event{ID: id, Title: id, Description: d, Start: start, End: end})
			}
			at := time.Date(2026, 1, 12, 14, 0, 0, 0, time.UTC)
			remote.Seed("m1", calsync.RemoteEvent{Subject: "m1", Body: "from\nOutlook", IsOrganizer: true, Start: at, End: at.Add(time.Hour)})
			run(calsync.ModeFull)
			quiet("second run", run(calsync.ModeIncremental))
			quiet("full run", run(calsync.ModeFull))

			remote.Edit(h.Events["e1"].Link.RemoteID, func(ev *calsync.RemoteEvent) { ev.Location = "Room 2" })
			h.Edit("e2", func(ev *calsync.Event) { ev.Description = "edited\nin Oro\n" })
			run(calsync.ModeIncremental)
			if e := h.Events["e1"]; e.Location != "Room 2" || calsync.NormalizeText(e.Description) != "Agenda:\n- one\n- two" {
				t.Errorf("e1 after the Outlook edit: location %q, description %q", e.Location, e.Description)
			}
			quiet("run after the edits", run(calsync.ModeIncremental))
			quiet("last full run", run(calsync.ModeFull))

			for id, e := range h.Events {
				got, err := remote.Get(context.Background(), e.Link.RemoteID)
				if err != nil {
					t.Fatal(err)
				}
				if want := calsync.NormalizeText(e.Description); got.Body != want {
					t.Errorf("%s: Microsoft has %q, Oro %q", id, got.Body, e.Description)
				}
			}
			if o := h.Events["o1"]; o == nil || o.Description != "from\nOutlook" {
				t.Errorf("event pulled from Outlook: %+v", o)
			}
		})
	}
}
