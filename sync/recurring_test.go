package calsync_test

import (
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestLinkedEventTurnedSeriesLeftAlone: an event synced as a single event
// that becomes the master of a recurring series in Microsoft 365 is left
// alone on both sides: the series (master and occurrences) is reported once
// and not pulled; an Oro edit of its copy is not written (the stale link
// answers 412, and the copy read again is a series); an Oro deletion drops
// the link and keeps the series.
func TestLinkedEventTurnedSeriesLeftAlone(t *testing.T) {
	w := newWorld(t)
	w.host.Add(calsync.Event{ID: "e1", Title: "standup", Start: "2026-01-12T09:00:00Z", End: "2026-01-12T09:15:00Z"})
	w.sync(calsync.Options{})
	master := w.host.Events["e1"].Link.RemoteID
	w.fake.Edit(master, func(ev *calsync.RemoteEvent) { ev.Type, ev.Subject = "seriesMaster", "daily standup" })
	for i := 1; i <= 3; i++ {
		s := time.Date(2026, 1, 12+i, 9, 0, 0, 0, time.UTC)
		id := w.fake.Seed("", calsync.RemoteEvent{Subject: "daily standup", IsOrganizer: true, Start: s, End: s.Add(15 * time.Minute)})
		w.fake.Edit(id, func(ev *calsync.RemoteEvent) { ev.Type, ev.SeriesMasterID = "occurrence", master })
	}
	before := w.fake.Events()

	seriesIssues := func(run string, res calsync.Result, oroID string) {
		t.Helper()
		n := 0
		for _, is := range res.Issues {
			if is.Reason != calsync.ReasonRecurring || is.RemoteID != master || is.OroID != oroID || is.Retryable {
				t.Errorf("%s: issue %+v; want recurring_not_supported for %s (Oro %q)", run, is, master, oroID)
			}
			n++
		}
		if n != 1 {
			t.Errorf("%s: %d issues, want one for the series", run, n)
		}
	}
	res := w.sync(calsync.Options{})
	seriesIssues("series appears", res, "")
	if len(res.Operations) != 0 {
		t.Errorf("series appears: operations %+v, want none", res.Operations)
	}
	if got := w.host.Events["e1"].Title; len(w.host.Events) != 1 || got != "standup" {
		t.Errorf("Oro after the series appeared: %d events, e1 %q; want e1 unchanged", len(w.host.Events), got)
	}

	w.host.Edit("e1", func(ev *calsync.Event) { ev.Title = "standup (Oro)" })
	seriesIssues("Oro edit", w.sync(calsync.Options{}), "e1")

	w.host.Remove("e1")
	res = w.sync(calsync.Options{})
	seriesIssues("Oro delete", res, "e1")
	if len(res.Operations) != 1 || res.Operations[0].Op != calsync.OpLink || res.Operations[0].Link != nil {
		t.Errorf("Oro delete: operations %+v, want the link dropped", res.Operations)
	}
	after := w.fake.Events()
	if len(after) != len(before) {
		t.Fatalf("Microsoft 365 has %d events, want the %d of the series", len(after), len(before))
	}
	for i := range after {
		if after[i].Subject != before[i].Subject || after[i].ChangeKey != before[i].ChangeKey {
			t.Errorf("%s written in Microsoft 365: %q (%s), was %q (%s)", after[i].ID, after[i].Subject, after[i].ChangeKey, before[i].Subject, before[i].ChangeKey)
		}
	}
}
