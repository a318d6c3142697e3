package calendar

import (
	"encoding/json"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestSeriesInfo maps a series master's answer, and refuses the parts of
// one the engine could not use as Microsoft's fault (retryable).
func TestSeriesInfo(t *testing.T) {
	master := calsync.RemoteEvent{ID: "AAMkM", Start: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC)}
	weekly := `"recurrence":{"pattern":{"type":"weekly","interval":1,"daysOfWeek":["monday"],"firstDayOfWeek":"sunday"},
		"range":{"type":"noEnd","startDate":"2025-03-03","recurrenceTimeZone":"W. Europe Standard Time"}},
		"originalStartTimeZone":"W. Europe Standard Time"`
	exception := `{"id":"AAMkX","type":"exception","seriesMasterId":"AAMkM","subject":"moved","originalStart":"2025-03-10T08:00:00Z",
		"start":{"dateTime":"2025-03-10T10:00:00","timeZone":"UTC"},"end":{"dateTime":"2025-03-10T10:30:00","timeZone":"UTC"}}`
	for _, c := range []struct {
		name, body string
		problem    string
		bad        bool
	}{
		{"a series", `{` + weekly + `,"cancelledOccurrences":["OID.AAMkM=.2025-03-31"],"exceptionOccurrences":[` + exception + `]}`, "", false},
		{"no recurrence", `{}`, problemUnsupported, false},
		{"a custom zone", `{"recurrence":{"pattern":{"type":"daily","interval":1},"range":{"type":"noEnd","startDate":"2025-03-03"}},"originalStartTimeZone":"tzone://Microsoft/Custom"}`, problemCustomZone, false},
		{"an unreadable cancelled id", `{` + weekly + `,"cancelledOccurrences":["2025-03-31"]}`, "", true},
		{"a null exception", `{` + weekly + `,"exceptionOccurrences":[null]}`, "", true},
		{"an exception without originalStart", `{` + weekly + `,"exceptionOccurrences":[{"id":"AAMkX","type":"exception"}]}`, "", true},
		{"an exception without an id", `{` + weekly + `,"exceptionOccurrences":[{"type":"exception","originalStart":"2025-03-10T08:00:00Z"}]}`, "", true},
	} {
		var a seriesAnswer
		if err := json.Unmarshal([]byte(c.body), &a); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		s, err := seriesInfo(&a, master)
		switch {
		case c.bad:
			if calsync.KindOf(err) != calsync.KindUnavailable {
				t.Errorf("%s: %v, want unavailable", c.name, err)
			}
		case err != nil || s.Problem != c.problem:
			t.Errorf("%s: %+v %v, want problem %q", c.name, s, err, c.problem)
		case c.problem == "":
			if s.Recurrence == nil || len(s.Cancelled) != 1 || !s.Cancelled[0].Equal(time.Date(2025, 3, 31, 7, 0, 0, 0, time.UTC)) ||
				len(s.Exceptions) != 1 || !s.Exceptions[0].OriginalStart.Equal(time.Date(2025, 3, 10, 8, 0, 0, 0, time.UTC)) || s.Exceptions[0].Subject != "moved" {
				t.Errorf("%s: %+v; want the pattern, 2025-03-31 09:00 Berlin (after DST) cancelled, and the exception", c.name, s)
			}
		}
	}
}

// TestSeriesInfoAllDay: a cancelled occurrence of an all-day series
// started at midnight in the series' zone, as Graph's originalStart of its
// occurrences says, not at midnight UTC (the time the engine holds an
// all-day start at).
func TestSeriesInfoAllDay(t *testing.T) {
	for _, c := range []struct {
		zone, iana string
		want       time.Time
	}{
		{"W. Europe Standard Time", "Europe/Berlin", time.Date(2025, 3, 30, 22, 0, 0, 0, time.UTC)}, // CEST
		{"Pacific Standard Time", "America/Los_Angeles", time.Date(2025, 3, 31, 7, 0, 0, 0, time.UTC)},
		{"UTC", "Etc/UTC", time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)},
	} {
		body := `{"recurrence":{"pattern":{"type":"weekly","interval":1,"daysOfWeek":["monday"],"firstDayOfWeek":"sunday"},
			"range":{"type":"noEnd","startDate":"2025-03-03","recurrenceTimeZone":"` + c.zone + `"}},
			"originalStartTimeZone":"` + c.zone + `","cancelledOccurrences":["OID.AAMkM=.2025-03-31"]}`
		var a seriesAnswer
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			t.Fatal(err)
		}
		master := calsync.RemoteEvent{ID: "AAMkM", AllDay: true, Start: time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)}
		s, err := seriesInfo(&a, master)
		if err != nil || s.Problem != "" || len(s.Cancelled) != 1 || !s.Cancelled[0].Equal(c.want) {
			t.Errorf("%s: %+v %v; want 2025-03-31 cancelled at midnight %s (%s)", c.zone, s, err, c.iana, c.want)
		}
	}
}
