package scenario

import (
	"testing"
	"time"
)

// TestRecurrenceSyntax: what the transcript writes of an Oro recurrence
// reads back as the same recurrence, and a misspelt setting fails the
// script instead of being dropped.
func TestRecurrenceSyntax(t *testing.T) {
	start := time.Date(2026, 1, 30, 15, 0, 0, 0, time.UTC)
	for _, v := range []string{
		"weekly;interval=2;days=monday,thursday;occurrences=10;tz=Europe/Berlin",
		"monthnth;interval=1;instance=5;days=friday;tz=Europe/Berlin",
		"yearly;interval=24;day=29;month=2;until=2031-01-01T00:00:00Z;tz=Etc/UTC",
	} {
		r, err := ParseRecurrence(v, start)
		if err != nil {
			t.Fatal(err)
		}
		if got := recurrenceText(r); got != v {
			t.Errorf("ParseRecurrence(%q) writes back as %q", v, got)
		}
	}
	p, err := ParsePattern("relativeMonthly;index=last;days=friday;occurrences=12;tz=Eastern Standard Time")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := PatternText(p, "2026-01-30"), "relativeMonthly;interval=1;index=last;days=friday;occurrences=12;tz=Eastern Standard Time;startDate=2026-01-30"; got != want {
		t.Errorf("pattern %q, want %q", got, want)
	}
	if _, err := ParseRecurrence("weekly;dayz=monday;tz=Europe/Berlin", start); err == nil {
		t.Error("a misspelt setting was accepted")
	}
	if _, err := ParsePattern("weekly;interval=two"); err == nil {
		t.Error("interval=two was accepted")
	}
}
