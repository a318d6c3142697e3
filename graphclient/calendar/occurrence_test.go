package calendar

import (
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// TestOccurrences lists a span of a weekly series across pages: every
// occurrence in it, with its originalStart, the cancelled one left out
// (as Graph's instances do), the exception listed; one request per page.
func TestOccurrences(t *testing.T) {
	f := newFixture(t, graphsim.Options{DefaultPageSize: 3})
	id, err := f.sim.UserCreateEvent(f.upn, map[string]any{"subject": "standup",
		"start": map[string]any{"dateTime": "2025-03-03T09:00:00", "timeZone": "W. Europe Standard Time"},
		"end":   map[string]any{"dateTime": "2025-03-03T09:15:00", "timeZone": "W. Europe Standard Time"},
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{"monday"}},
			"range":   map[string]any{"type": "numbered", "startDate": "2025-03-03", "numberOfOccurrences": 20},
		}})
	if err != nil {
		t.Fatal(err)
	}
	all := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	occs := f.sim.UserOccurrences(f.upn, id, all, all.AddDate(1, 0, 0))
	if err := f.sim.UserDeleteEvent(f.upn, occs[4]); err != nil {
		t.Fatal(err)
	}
	if err := f.sim.UserUpdateEvent(f.upn, occs[6], map[string]any{"subject": "standup (moved)"}); err != nil {
		t.Fatal(err)
	}
	r := New(f.session, Options{})
	from := time.Date(2025, 3, 17, 8, 0, 0, 0, time.UTC) // the third, 09:00 Berlin
	to := time.Date(2025, 5, 5, 7, 1, 0, 0, time.UTC)    // past the tenth, 09:00 Berlin (summer time)
	got, err := r.Occurrences(t.Context(), "AAkA"+strings.TrimPrefix(id, "AAMk"), from, to)
	if err != nil {
		t.Fatal(err)
	}
	// the third to the tenth: eight, less the cancelled fifth
	if len(got) != 7 {
		t.Fatalf("%d occurrences, want 7: %+v", len(got), got)
	}
	for _, o := range got {
		if o.OriginalStart.IsZero() || o.Type == "occurrence" && !o.Start.Equal(o.OriginalStart) || o.OriginalStart.In(berlin(t)).Hour() != 9 {
			t.Errorf("occurrence %s (%s) starts %s, originalStart %s; want its 09:00 Berlin", o.ID, o.Type, o.Start, o.OriginalStart)
		}
		if o.Type == "exception" && o.Subject != "standup (moved)" {
			t.Errorf("exception %+v; want the one renamed", o)
		}
	}
	if n := r.GraphRequests()[KindInstances]; n != 3 {
		t.Errorf("%d instances requests, want 3 pages of 3", n)
	}
}

func berlin(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
