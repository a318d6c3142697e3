package graphsim

import (
	"fmt"
	"time"
)

// ExpandRecurrence runs the simulator's own recurrence code on a
// patternedRecurrence, as decoded from JSON (numbers as float64, arrays as
// []any), for a timed series master that starts at start and ends at end,
// both written in startZone (a name Graph accepts). It applies the checks a
// create applies (parseRecurrence, then series.validate) and returns the
// starts (UTC) of the generated occurrences that start in [from, to).
//
// It is a test hook: it lets a client's tests compare their own expansion
// with the simulator's without a server, and changes nothing in how the
// simulator behaves.
func ExpandRecurrence(rec map[string]any, start, end time.Time, startZone string, from, to time.Time) ([]time.Time, error) {
	loc, ok := loadZone(startZone)
	if !ok {
		return nil, fmt.Errorf("time zone %q is not supported", startZone)
	}
	r, err := parseRecurrence(rec, civil(start.In(loc)), startZone)
	if err != nil {
		return nil, err
	}
	e := &event{start: start.UTC(), end: end.UTC(), startTZ: startZone, endTZ: startZone}
	sr := seriesFor(e, r, 0)
	if aerr := sr.validate(); aerr != nil {
		return nil, fmt.Errorf("%s: %s", aerr.code, aerr.msg)
	}
	var out []time.Time
	for _, st := range sr.generated(to) {
		if !st.Before(from) {
			out = append(out, st)
		}
	}
	return out, nil
}
