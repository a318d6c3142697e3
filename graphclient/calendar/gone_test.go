package calendar

import (
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestDeleteAlreadyGone: a DELETE of an event already deleted, which
// Graph may answer 410 (and, for a cancelled occurrence, 403; semantics
// §1.7), is not found, as a 404 is: never resync_required (a 410 means
// that only for a delta token) nor forbidden.
func TestDeleteAlreadyGone(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	res := apply(t, r, creates(1))
	mustOK(t, res)
	single := res["oro-0"].Event
	if err := f.sim.UserDeleteEvent(f.upn, single.ID); err != nil {
		t.Fatal(err)
	}
	series := map[string]any{"subject": "weekly",
		"start":      map[string]any{"dateTime": "2025-03-03T09:00:00", "timeZone": "UTC"},
		"end":        map[string]any{"dateTime": "2025-03-03T10:00:00", "timeZone": "UTC"},
		"recurrence": map[string]any{"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}}, "range": map[string]any{"type": "numbered", "startDate": "2025-03-03", "numberOfOccurrences": 3}}}
	if _, err := f.sim.UserCreateEvent(f.upn, series); err != nil {
		t.Fatal(err)
	}
	page, err := r.Delta(t.Context(), calsync.Window{Start: time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 4, 1, 0, 0, 0, 0, time.UTC)}, "")
	if err != nil {
		t.Fatal(err)
	}
	var occ []string
	for _, ev := range page.Events {
		if ev.Type == "occurrence" {
			occ = append(occ, ev.ID)
		}
	}
	if len(occ) < 2 {
		t.Fatalf("occurrences %v; want at least 2", occ)
	}
	if err := f.sim.UserDeleteEvent(f.upn, occ[0]); err != nil { // cancelled
		t.Fatal(err)
	}
	got := apply(t, r, []calsync.Write{
		{Key: "single", Op: calsync.WriteDelete, ID: single.ID},
		{Key: "cancelled", Op: calsync.WriteDelete, ID: occ[0]},
	})
	for _, key := range []string{"single", "cancelled"} {
		if k := calsync.KindOf(got[key].Err); k != calsync.KindNotFound {
			t.Errorf("%s: kind %q (%v); want not_found", key, k, got[key].Err)
		}
	}
}
