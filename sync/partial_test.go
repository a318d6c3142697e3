package calsync_test

import (
	"fmt"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// A first full sync split by the time budget: an Oro event matched by
// iCalendar UID on an early page, with other content, is linked at once
// (its write waits); the continuation, which no longer sees that Microsoft
// event, must not create it again.
func TestPartialFullRoundLinksUIDMatch(t *testing.T) {
	w := newWorld(t)
	for i := range 12 {
		s := time.Date(2026, 1, 12+i, 9, 0, 0, 0, time.UTC)
		w.fake.Seed("", calsync.RemoteEvent{Subject: fmt.Sprintf("m%d", i), IsOrganizer: true, ICalUID: fmt.Sprintf("uid-%d", i), Start: s, End: s.Add(time.Hour)})
	}
	w.fake.SetLatency(400 * time.Millisecond)
	w.host.Add(calsync.Event{ID: "e1", UID: "uid-0", Title: "changed in Oro", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T10:00:00Z"})
	res := w.sync(calsync.Options{TimeBudgetSeconds: 1})
	if res.Status != calsync.StatusPartial || w.host.Events["e1"].Link == nil {
		t.Errorf("first call: %s, e1 link %v; want partial with e1 linked", res.Status, w.host.Events["e1"].Link)
	}
	for i := 0; res.Status != calsync.StatusCompleted; i++ {
		if i == 10 {
			t.Fatalf("no completed run: %s (%s)", res.Status, res.Reason)
		}
		res = w.sync(calsync.Options{TimeBudgetSeconds: 1})
	}
	var copies []string
	for _, ev := range w.fake.Events() {
		if ev.ICalUID == "uid-0" || ev.OroID == "e1" {
			copies = append(copies, fmt.Sprintf("%s %q", ev.ID, ev.Subject))
		}
	}
	if len(copies) != 1 || copies[0] != `AAMk001 "changed in Oro"` {
		t.Errorf("Microsoft copies of e1: %v; want AAMk001 with Oro's title (oro_wins)", copies)
	}
}
