package calsync_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// A copy deleted in Outlook while its Oro event was edited is re-created
// (oro_wins) by a run whose result is lost; the Oro event is then deleted.
// The next call's round is split by the time budget: the removal of the old
// copy is decided before the page holding the re-creation is read. The
// tombstone must not just drop its link (the host would purge it, and the
// re-created copy, whose Oro event is no longer in any request, would leak):
// it is looked up by its Oro id and the re-creation is deleted (model
// budget seed 1542).
func TestTombstoneFindsLostRecreation(t *testing.T) {
	w := newWorld(t)
	w.fake.PageSize = 1
	w.host.Add(calsync.Event{ID: "e1", Title: "Review", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
	w.sync(calsync.Options{})
	old := w.host.Events["e1"].Link.RemoteID
	w.fake.Delete(old)
	for i := range 5 { // later items of the round, before the re-creation
		s := time.Date(2026, 1, 13+i, 9, 0, 0, 0, time.UTC)
		w.fake.Seed("", calsync.RemoteEvent{Subject: fmt.Sprintf("m%d", i), IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
	}
	w.host.Edit("e1", func(ev *calsync.Event) { ev.Title = "Review (moved)" })
	w.clock.Advance(time.Minute)
	req := w.host.Request(calsync.ModeIncremental, bothWays, calsync.Options{})
	if _, err := calsync.Run(context.Background(), req, w.fake, calsync.RunOptions{Now: w.clock.Now}); err != nil {
		t.Fatalf("lost run: %v", err)
	} // re-creates e1's copy; the result is lost
	if !slices.ContainsFunc(w.fake.Events(), func(r calsync.RemoteEvent) bool { return r.OroID == "e1" }) {
		t.Fatalf("the lost run did not re-create e1's copy: %+v", w.fake.Events())
	}
	w.clock.Advance(time.Minute)
	w.host.Remove("e1")
	w.clock.Advance(time.Minute)
	split := false
	for i := 0; ; i++ {
		res := w.sync(calsync.Options{TimeBudgetSeconds: 1})
		split = split || res.Status == calsync.StatusPartial
		if res.Status == calsync.StatusCompleted && len(res.Issues) == 0 {
			break
		}
		if i == 10 {
			t.Fatalf("no clean run: %s %+v", res.Status, res.Issues)
		}
	}
	if !split {
		t.Errorf("no call was split by the time budget; the test does not cover the split round")
	}
	if _, ok := w.host.Events["e1"]; ok {
		t.Errorf("Oro still holds e1: %+v", w.host.Events["e1"])
	}
	for _, r := range w.fake.Events() {
		if r.OroID == "e1" {
			t.Errorf("Microsoft %s still carries e1, whose Oro event is deleted (leaked)", r.ID)
		}
	}
}
