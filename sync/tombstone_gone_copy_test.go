package calsync_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// A copy deleted in Outlook while its Oro event was edited: a call whose
// round the time budget splits decides the removal (the re-creation waits
// for the round's end); the next call, whose result is lost, finds the old
// copy gone when it writes (404) and re-creates it. The Oro event is then
// deleted. The call after continues the round, which began before the
// re-creation and no longer shows the removal: the tombstone's delete of
// its linked copy answers 404. That must not just drop the link (the host
// would purge the tombstone and the re-created copy would leak): the
// tombstone is looked up by its Oro id and the re-creation is deleted
// (model budget seed 13154).
func TestTombstoneDeleteNotFoundFindsLostRecreation(t *testing.T) {
	w := newWorld(t)
	w.fake.PageSize = 1
	w.host.Add(calsync.Event{ID: "e1", Title: "Review", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
	w.sync(calsync.Options{})
	old := w.host.Events["e1"].Link.RemoteID
	w.fake.Delete(old)
	for i := range 5 { // later pages of the round
		s := time.Date(2026, 1, 13+i, 9, 0, 0, 0, time.UTC)
		w.fake.Seed("", calsync.RemoteEvent{Subject: fmt.Sprintf("m%d", i), IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
	}
	w.host.Edit("e1", func(ev *calsync.Event) { ev.Title = "Review (moved)" })
	w.clock.Advance(time.Minute)

	w.fake.SetLatency(200 * time.Millisecond)
	res := w.sync(calsync.Options{TimeBudgetSeconds: 1})
	if res.Status != calsync.StatusPartial || w.host.State.NextLink == "" {
		t.Fatalf("the first call did not split the round: %s %+v", res.Status, w.host.State)
	}
	w.fake.SetLatency(10 * time.Millisecond)
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
	for i := 0; ; i++ {
		res := w.sync(calsync.Options{})
		if res.Status == calsync.StatusCompleted && len(res.Issues) == 0 {
			break
		}
		if i == 5 {
			t.Fatalf("no clean run: %s %+v", res.Status, res.Issues)
		}
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
