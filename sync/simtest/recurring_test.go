package simtest

import (
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestRecurringSeriesNotSynchronized: a weekly series in Microsoft 365 (its
// master and four occurrences on delta pages, then an exception) is neither
// pulled into Oro nor written nor counted, and is reported once per series
// as a non-retryable recurring_not_supported issue, not once per occurrence.
func TestRecurringSeriesNotSynchronized(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	ev := outlookEvent("weekly standup", time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC))
	ev["recurrence"] = map[string]any{
		"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}},
		"range":   map[string]any{"type": "numbered", "startDate": "2025-03-03", "numberOfOccurrences": 4},
	}
	if _, err := w.sim.UserCreateEvent(upn, ev); err != nil {
		t.Fatal(err)
	}
	single := outlookEvent("one-off", time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC))
	if _, err := w.sim.UserCreateEvent(upn, single); err != nil {
		t.Fatal(err)
	}
	check := func(run string, res calsync.Result) {
		t.Helper()
		var series []calsync.Issue
		for _, is := range res.Issues {
			if is.Reason == calsync.ReasonRecurring {
				series = append(series, is)
			} else {
				t.Errorf("%s: unexpected issue %+v", run, is)
			}
		}
		if len(series) != 1 || series[0].Retryable || series[0].RemoteID == "" || series[0].OroID != "" {
			t.Errorf("%s: recurring issues %+v; want one, not retryable, naming the series", run, series)
		}
		for _, op := range res.Operations {
			if op.Event != nil && op.Event.Title != "one-off" {
				t.Errorf("%s: %s of %q pulled into Oro", run, op.Op, op.Event.Title)
			}
		}
	}
	since := len(w.sim.Requests())
	res, err := w.sync(t.Context(), calsync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check("first sync", res)
	w.host.apply(res)
	if titles := len(w.host.live()); titles != 1 {
		t.Errorf("first sync: %d Oro events, want only the single event", titles)
	}
	if res.State.MicrosoftCount != 1 {
		t.Errorf("first sync: microsoftCount %d, want 1 (the series is not counted)", res.State.MicrosoftCount)
	}

	// an occurrence edited in Outlook becomes an exception; the series
	// comes back on the delta round
	var occurrence string
	for _, r := range w.remoteEvents() {
		if r.Type == "occurrence" {
			occurrence = r.ID
			break
		}
	}
	if occurrence == "" {
		t.Fatal("no occurrence in the delta round")
	}
	if err := w.sim.UserUpdateEvent(upn, occurrence, map[string]any{"subject": "standup (moved room)"}); err != nil {
		t.Fatal(err)
	}
	res, err = w.sync(t.Context(), calsync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	check("after an exception", res)
	w.host.apply(res)
	if len(res.Operations) != 0 {
		t.Errorf("after an exception: operations %+v, want none", res.Operations)
	}
	if writes := w.graphWrites(since); len(writes) != 0 {
		t.Errorf("Microsoft 365 written: %v", writes)
	}
}
