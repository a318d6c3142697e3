package simtest

import (
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// oro_to_microsoft: our event gets an attendee in Outlook. The run that
// reads that change pulls nothing but refreshes the link (Meeting), so the
// Oro deletion or edit afterwards, whose copy that run does not see, is not
// written: no mail reaches the attendee even when Graph ignores If-Match.
func TestPushOnlyLinkLearnsAttendeesAdded(t *testing.T) {
	for _, op := range []string{"delete", "edit"} {
		for _, ignore := range []bool{false, true} {
			t.Run(op+map[bool]string{false: "/if-match honoured", true: "/IgnoreIfMatch"}[ignore], func(t *testing.T) {
				w := newWorld(t, graphsim.Options{IgnoreIfMatch: ignore})
				w.dir = calsync.DirectionOroToMicrosoft
				id := w.host.create("planning", time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC))
				w.mustSync(calsync.Options{})
				rid := w.host.events[id].Link.RemoteID
				if err := w.sim.UserUpdateEvent(upn, rid, map[string]any{"attendees": []any{map[string]any{"type": "required", "emailAddress": map[string]any{"name": "Ann", "address": "ann@fabrikam.example"}}}}); err != nil {
					t.Fatal(err)
				}
				w.mustSync(calsync.Options{}) // reads the change, pulls nothing
				if l := w.host.events[id].Link; l == nil || !l.Meeting || !l.ReadOnly {
					t.Errorf("link after the attendee was added: %+v; want meeting, read-only", l)
				}
				before := len(w.sim.OutboundMail())
				if op == "delete" {
					w.host.remove(id)
				} else {
					w.host.edit(id, "renamed in Oro")
				}
				res, err := w.sync(t.Context(), calsync.Options{})
				if err != nil {
					t.Fatal(err)
				}
				w.host.apply(res)
				for _, m := range w.sim.OutboundMail()[before:] {
					t.Errorf("a run mailed %v: %s %q (source %s)", m.To, m.Kind, m.Subject, m.Source)
				}
				if len(res.Writes) != 0 {
					t.Errorf("writes %+v; want none", res.Writes)
				}
			})
		}
	}
}
