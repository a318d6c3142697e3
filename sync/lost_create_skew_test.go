package calsync_test

import (
	"context"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// lostCreateRun runs one sync of w under the strategy, applying the result
// unless lost.
func lostCreateRun(t *testing.T, w *world, strategy calsync.ConflictResolution, apply bool) calsync.Result {
	t.Helper()
	cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: ptr(calsync.DirectionBoth), ConflictResolution: ptr(strategy)}}
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
	return res
}

func conflictList(res calsync.Result) []string {
	var out []string
	for k, n := range res.Stats.Conflicts {
		for range n {
			out = append(out, k)
		}
	}
	return out
}

// Oro's clock runs 30 s ahead of Microsoft's (within ClockSkewTolerance).
// After a lost create only Outlook edits the copy: Oro's updatedAt, a few
// seconds after the copy's createdDateTime on Oro's clock, is not an Oro
// edit, so the Outlook edit is pulled with no conflict, even under
// oro_wins. An Oro edit made well after the create still is one.
func TestLostCreateOroClockAhead(t *testing.T) {
	const original, outlook, oro = "Review", "Review (moved to room 4)", "Review (agenda attached)"
	for _, c := range []struct {
		name     string
		editOro  bool
		want     string
		conflict string
	}{
		{"outlook edit only", false, outlook, ""},
		{"both edited", true, oro, "oro_won"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			lostCreateRun(t, w, calsync.ConflictOroWins, true)
			w.host.Add(calsync.Event{ID: "e1", Title: original, Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
			w.host.Events["e1"].UpdatedAt = w.clock.Now().Add(30 * time.Second) // Oro's clock is ahead
			w.clock.Advance(5 * time.Second)
			lostCreateRun(t, w, calsync.ConflictOroWins, false) // creates the copy; the result is lost
			copies := w.fake.Events()
			if len(copies) != 1 {
				t.Fatalf("Microsoft events after the lost run: %+v; want e1's copy", copies)
			}
			id := copies[0].ID
			w.clock.Advance(time.Minute)
			w.fake.Edit(id, func(ev *calsync.RemoteEvent) { ev.Subject = outlook })
			w.clock.Advance(time.Minute)
			if c.editOro {
				w.host.Edit("e1", func(ev *calsync.Event) { ev.Title = oro })
				w.clock.Advance(time.Minute)
			}
			res := lostCreateRun(t, w, calsync.ConflictOroWins, true)
			got, _ := w.fake.Event(id)
			if e := w.host.Events["e1"]; got.Subject != c.want || e.Title != c.want || e.Link == nil || e.Link.RemoteID != id {
				t.Errorf("Microsoft %q, Oro %q (link %v); want both %q linked to %s", got.Subject, e.Title, e.Link, c.want, id)
			}
			if cs := conflictList(res); c.conflict == "" && len(cs) != 0 || c.conflict != "" && (len(cs) != 1 || cs[0] != c.conflict) {
				t.Errorf("conflicts %v; want %q", cs, c.conflict)
			}
		})
	}
}

// Lost create, the copy edited in Outlook, then the Oro event deleted: the
// pair is an edit against a deletion, resolved like a linked pair's:
// microsoft_wins keeps the copy and brings it back to Oro; oro_wins deletes
// it. A copy not edited since its creation is simply deleted.
func TestLostCreateTombstoneVsOutlookEdit(t *testing.T) {
	const outlook = "Review (moved to room 4)"
	for _, c := range []struct {
		name        string
		strategy    calsync.ConflictResolution
		editOutlook bool
		kept        bool
		conflict    string
	}{
		{"outlook edit, microsoft_wins", calsync.ConflictMicrosoftWins, true, true, "microsoft_won"},
		{"outlook edit, most_recent", calsync.ConflictMostRecent, true, true, "microsoft_won"},
		{"outlook edit, oro_wins", calsync.ConflictOroWins, true, false, "oro_won"},
		{"no outlook edit, microsoft_wins", calsync.ConflictMicrosoftWins, false, false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			lostCreateRun(t, w, c.strategy, true)
			w.clock.Advance(time.Minute)
			w.host.Add(calsync.Event{ID: "e1", Title: "Review", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
			w.clock.Advance(time.Minute)
			lostCreateRun(t, w, c.strategy, false) // creates the copy; the result is lost
			copies := w.fake.Events()
			if len(copies) != 1 {
				t.Fatalf("Microsoft events after the lost run: %+v; want e1's copy", copies)
			}
			id := copies[0].ID
			w.clock.Advance(time.Minute)
			w.host.Remove("e1")
			w.clock.Advance(5 * time.Minute) // past ClockSkewTolerance: the Outlook edit is the more recent
			if c.editOutlook {
				w.fake.Edit(id, func(ev *calsync.RemoteEvent) { ev.Subject = outlook })
				w.clock.Advance(time.Minute)
			}
			res := lostCreateRun(t, w, c.strategy, true)
			_, inMS := w.fake.Event(id)
			var inOro bool
			for _, e := range w.host.Events {
				if !e.Deleted && e.Title == outlook && e.Link != nil && e.Link.RemoteID == id {
					inOro = true
				}
			}
			if inMS != c.kept || inOro != c.kept {
				t.Errorf("copy in Microsoft %v, in Oro %v; want %v (writes %+v ops %+v)", inMS, inOro, c.kept, res.Writes, res.Operations)
			}
			if cs := conflictList(res); c.conflict == "" && len(cs) != 0 || c.conflict != "" && (len(cs) != 1 || cs[0] != c.conflict) {
				t.Errorf("conflicts %v; want %q", cs, c.conflict)
			}
		})
	}
}
