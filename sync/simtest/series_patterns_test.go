package simtest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestSeriesPatternsPulled: series made in Outlook with the patterns that
// trip sync products come into Oro with a recurrence whose expansion by
// Oro's rules gives exactly the starts Exchange's rules give, across the
// whole sync window (DST in both hemispheres, the last Friday, day 31,
// every two years, series begun before the window); one
// Oro cannot hold is reported, not approximated.
func TestSeriesPatternsPulled(t *testing.T) {
	for _, c := range []struct {
		name       string
		start, tz  string // wall clock in the Windows zone tz
		recurrence map[string]any
		problem    string // the recurring_not_supported reason expected, "" for a pulled series
	}{
		{"weekly in Sydney across both DST changes", "2025-03-03T18:00:00", "AUS Eastern Standard Time",
			pattern("weekly", 1, map[string]any{"daysOfWeek": []string{"monday", "thursday"}}, "noEnd", nil), ""},
		{"last Friday of the month", "2025-01-31T16:00:00", "W. Europe Standard Time",
			pattern("relativeMonthly", 1, map[string]any{"daysOfWeek": []string{"friday"}, "index": "last"}, "noEnd", nil), ""},
		{"day 31 monthly, 12 times", "2025-01-31T09:00:00", "Eastern Standard Time",
			pattern("absoluteMonthly", 1, map[string]any{"dayOfMonth": 31}, "numbered", map[string]any{"numberOfOccurrences": 12}), ""},
		{"every 2 years, begun in 2023", "2023-06-30T12:00:00", "UTC",
			pattern("absoluteYearly", 2, map[string]any{"dayOfMonth": 30, "month": 6}, "endDate", map[string]any{"endDate": "2031-07-01"}), ""},
		{"every third day until an end date", "2025-05-02T07:30:00", "Tokyo Standard Time",
			pattern("daily", 3, nil, "endDate", map[string]any{"endDate": "2025-08-31"}), ""},
		{"weekly since before the window", "2023-06-05T09:00:00", "GMT Standard Time",
			pattern("weekly", 2, map[string]any{"daysOfWeek": []string{"monday"}}, "noEnd", nil), ""},
		{"weeks from Monday that Oro groups differently", "2025-03-02T09:00:00", "W. Europe Standard Time",
			pattern("weekly", 2, map[string]any{"daysOfWeek": []string{"sunday", "monday"}, "firstDayOfWeek": "monday"}, "noEnd", nil), "week_grouping_differs"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, graphsim.Options{})
			start, _ := time.Parse("2006-01-02T15:04:05", c.start)
			c.recurrence["range"].(map[string]any)["startDate"] = start.Format("2006-01-02")
			ev := map[string]any{"subject": c.name,
				"start":      map[string]any{"dateTime": c.start, "timeZone": c.tz},
				"end":        map[string]any{"dateTime": start.Add(time.Hour).Format("2006-01-02T15:04:05"), "timeZone": c.tz},
				"recurrence": c.recurrence}
			if _, err := w.sim.UserCreateEvent(upn, ev); err != nil {
				t.Fatal(err)
			}
			res, err := w.sync(t.Context(), calsync.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if c.problem != "" {
				if len(res.Issues) != 1 || res.Issues[0].Reason != calsync.ReasonRecurring || !strings.Contains(res.Issues[0].Message, c.problem) || len(res.Operations) != 0 {
					t.Errorf("issues %+v, operations %+v; want one recurring_not_supported issue naming %s and nothing pulled", res.Issues, res.Operations, c.problem)
				}
				return
			}
			if len(res.Issues) != 0 {
				t.Fatalf("issues %+v", res.Issues)
			}
			op := seriesOp(t, "sync", res)
			master, err := time.Parse(time.RFC3339, op.Event.Start)
			if err != nil {
				t.Fatal(err)
			}
			end, _ := time.Parse(time.RFC3339, op.Event.End)
			got := op.Event.Recurrence.Occurrences(master, window.Start, window.End)
			var rec map[string]any // as a request body decodes it
			b, _ := json.Marshal(c.recurrence)
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatal(err)
			}
			want, err := graphsim.ExpandRecurrence(rec, master, end, c.tz, window.Start, window.End)
			if err != nil {
				t.Fatal(err)
			}
			want = slices.DeleteFunc(want, func(s time.Time) bool { return !s.Before(window.End) })
			if len(got) == 0 || !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Errorf("Oro's expansion of %+v:\n %v\nExchange's:\n %v", *op.Event.Recurrence, got, want)
			}
		})
	}
}

// pattern is a patternedRecurrence (its range's startDate set by the test).
func pattern(typ string, interval int, p map[string]any, rangeType string, r map[string]any) map[string]any {
	pat := map[string]any{"type": typ, "interval": interval}
	for k, v := range p {
		pat[k] = v
	}
	rng := map[string]any{"type": rangeType}
	for k, v := range r {
		rng[k] = v
	}
	return map[string]any{"pattern": pat, "range": rng}
}
