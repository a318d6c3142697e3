package calsync_test

import (
	"context"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// After a run whose result the host lost created the Microsoft copy of a
// new Oro event, the next run decides against what that create wrote (the
// Oro event as it was then): an edit made in Outlook since is a Microsoft
// edit, pulled under every strategy; an edit made in Oro since is pushed;
// both are a conflict the strategy resolves. Before, the copy counted as
// unchanged, so Outlook's edit was overwritten with no conflict recorded.
func TestLostCreateKeepsMicrosoftEdit(t *testing.T) {
	const original, outlook, oro = "Review", "Review (moved to room 4)", "Review (agenda attached)"
	cases := []struct {
		name                 string
		strategy             calsync.ConflictResolution
		editOutlook, editOro bool
		want                 string // the title both sides hold afterwards
		conflict             string // the conflict recorded, "" for none
	}{
		{"outlook edit, oro_wins", calsync.ConflictOroWins, true, false, outlook, ""},
		{"outlook edit, microsoft_wins", calsync.ConflictMicrosoftWins, true, false, outlook, ""},
		{"outlook edit, merge", calsync.ConflictMerge, true, false, outlook, ""},
		{"oro edit, microsoft_wins", calsync.ConflictMicrosoftWins, false, true, oro, ""},
		{"oro edit, oro_wins", calsync.ConflictOroWins, false, true, oro, ""},
		{"both, microsoft_wins", calsync.ConflictMicrosoftWins, true, true, outlook, "microsoft_won"},
		{"both, oro_wins", calsync.ConflictOroWins, true, true, oro, "oro_won"},
		{"both, merge (no base: oro_wins)", calsync.ConflictMerge, true, true, oro, "oro_won"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(calsync.DirectionBoth), ConflictResolution: ptr(c.strategy)}}
			run := func(apply bool) calsync.Result {
				t.Helper()
				mode := calsync.ModeIncremental
				if w.host.State == nil {
					mode = calsync.ModeFull
				}
				req := w.host.Request(mode, cascade, calsync.Options{})
				res, err := calsync.Run(context.Background(), req, w.fake, calsync.RunOptions{Now: w.clock.Now})
				if err != nil {
					t.Fatalf("run: %v", err)
				}
				if apply {
					w.host.Apply(req, res)
				}
				w.clock.Advance(time.Minute)
				return res
			}
			run(true) // the first sync: a state
			w.host.Add(calsync.Event{ID: "e1", Title: original, Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
			w.clock.Advance(time.Minute)
			run(false) // creates the copy; the host loses the result
			copies := w.fake.Events()
			if len(copies) != 1 || copies[0].OroID != "e1" {
				t.Fatalf("Microsoft events after the lost run: %+v; want e1's copy", copies)
			}
			id := copies[0].ID
			if c.editOutlook {
				w.fake.Edit(id, func(ev *calsync.RemoteEvent) { ev.Subject = outlook })
				w.clock.Advance(time.Minute)
			}
			if c.editOro {
				w.host.Edit("e1", func(ev *calsync.Event) { ev.Title = oro })
				w.clock.Advance(time.Minute)
			}
			res := run(true)
			got, _ := w.fake.Event(id)
			if e := w.host.Events["e1"]; e.Title != c.want || got.Subject != c.want || e.Link == nil || e.Link.RemoteID != id {
				t.Errorf("Oro %q (link %v), Microsoft %q; want both %q, linked to %s", e.Title, e.Link, got.Subject, c.want, id)
			}
			var conflicts []string
			for k, n := range res.Stats.Conflicts {
				for range n {
					conflicts = append(conflicts, k)
				}
			}
			if c.conflict == "" && len(conflicts) != 0 || c.conflict != "" && (len(conflicts) != 1 || conflicts[0] != c.conflict) {
				t.Errorf("conflicts %v; want %q", conflicts, c.conflict)
			}
			if n := len(w.fake.Events()); n != 1 {
				t.Errorf("%d Microsoft events; want 1", n)
			}
		})
	}
}
