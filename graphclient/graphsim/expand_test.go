package graphsim

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestExpandRecurrence(t *testing.T) {
	decode := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 3, 27, 10, 0, 0, 0, berlin)
	rec := decode(`{"pattern":{"type":"daily","interval":2},"range":{"type":"numbered","startDate":"2026-03-27","numberOfOccurrences":3}}`)
	got, err := ExpandRecurrence(rec, start, start.Add(time.Hour), "W. Europe Standard Time", start, start.AddDate(1, 0, 0))
	if err != nil {
		t.Fatal(err)
	}
	want := []time.Time{
		time.Date(2026, 3, 27, 9, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC), // after the change to summer time
		time.Date(2026, 3, 31, 8, 0, 0, 0, time.UTC),
	}
	if !slices.EqualFunc(got, want, time.Time.Equal) {
		t.Errorf("got %v, want %v", got, want)
	}
	// the window: starts in [from, to)
	got, _ = ExpandRecurrence(rec, start, start.Add(time.Hour), "W. Europe Standard Time", want[1], want[2])
	if !slices.EqualFunc(got, want[1:2], time.Time.Equal) {
		t.Errorf("in [%v, %v): got %v", want[1], want[2], got)
	}
	// a create's checks apply
	for _, c := range []struct {
		rec  string
		dur  time.Duration
		code string
	}{
		{`{"pattern":{"type":"daily","interval":1},"range":{"type":"noEnd","startDate":"2026-03-27"}}`, 25 * time.Hour, "ErrorOccurrenceTimeSpanTooBig"},
		{`{"pattern":{"type":"daily","interval":1},"range":{"type":"noEnd","startDate":"2026-03-28"}}`, time.Hour, "startDate"},
		{`{"pattern":{"type":"hourly","interval":1},"range":{"type":"noEnd","startDate":"2026-03-27"}}`, time.Hour, "not supported"},
	} {
		if _, err := ExpandRecurrence(decode(c.rec), start, start.Add(c.dur), "W. Europe Standard Time", start, start.AddDate(1, 0, 0)); err == nil || !strings.Contains(err.Error(), c.code) {
			t.Errorf("%s: got %v, want an error with %q", c.rec, err, c.code)
		}
	}
	if _, err := ExpandRecurrence(rec, start, start, "Mars Standard Time", start, start.AddDate(1, 0, 0)); err == nil {
		t.Error("an unknown zone expanded")
	}
}
