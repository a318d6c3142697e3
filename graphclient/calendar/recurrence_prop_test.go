package calendar

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	"github.com/oro-msync/oro-msync/graphclient/tzmap"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// propertyCases is how many random Oro recurrences the property test tries.
const propertyCases = 3000

// propertyZones: DST in both hemispheres, none, a half-hour offset and UTC.
var propertyZones = []string{"Europe/Berlin", "Australia/Sydney", "America/New_York", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Auckland", "UTC"}

// TestRecurrenceProperty draws Oro recurrences from a fixed seed and checks,
// for each one Graph can hold (recurrenceToGraph reports no problem):
//
//  1. the occurrence starts by Oro's rules (calsync.Recurrence.Occurrences)
//     over two years from the first occurrence are the ones the Graph
//     simulator's Exchange expansion (graphsim.ExpandRecurrence, which also
//     applies a create's checks) gives the JSON we would write, with the
//     master moved to the first occurrence in its Windows zone;
//  2. Graph → Oro (recurrenceFromGraph, on that JSON decoded again) gives
//     back the recurrence as calsync.Recurrence.Normalized gives it (the form
//     the engine compares in), with no problem;
//  3. the recurrence that comes back has the same occurrences.
//
// For those Graph cannot hold it checks that the reason is real: both
// limits set, no occurrence, or an occurrence the simulator refuses as
// overlapping the next.
func TestRecurrenceProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 11))
	counts := map[string]int{}
	for i := range propertyCases {
		r, eventStart, dur := randomOroRecurrence(rng)
		desc := fmt.Sprintf("case %d: %s, master %v for %v", i, js(r), eventStart, dur)
		g, wz, first, problem := recurrenceToGraph(r, eventStart, eventStart.Add(dur))
		counts[cmpOr(problem, "expressible")]++
		switch problem {
		case "":
		case problemEndAndCount:
			if r.EndTime == nil || r.Count == nil {
				t.Fatalf("%s: %s without both limits", desc, problem)
			}
			// the limit kept gives the same occurrences
			compareWithSim(t, desc, r, eventStart, g, wz, first, dur)
			continue
		case problemNoOccurrence:
			if got := r.Occurrences(eventStart, r.StartTime.AddDate(-1, 0, 0), r.StartTime.AddDate(100, 0, 0)); len(got) != 0 {
				t.Fatalf("%s: %s but Oro has %v", desc, problem, got[0])
			}
			continue
		case problemTimeSpanTooBig:
			short, wz, first, p := recurrenceToGraph(r, eventStart, eventStart.Add(time.Minute))
			if p != "" && p != problemEndAndCount {
				t.Fatalf("%s: a one-minute master has problem %q", desc, p)
			}
			_, err := graphsim.ExpandRecurrence(wire(t, short), first, first.Add(dur), wz, first, first.AddDate(2, 0, 0))
			if err == nil || !strings.Contains(err.Error(), "ErrorOccurrenceTimeSpanTooBig") {
				t.Fatalf("%s: %s, but the simulator answers %v", desc, problem, err)
			}
			continue
		case problemStartInDSTGap:
			continue
		default:
			t.Fatalf("%s: unexpected problem %q", desc, problem)
		}

		compareWithSim(t, desc, r, eventStart, g, wz, first, dur)

		var back graphRecurrence
		if err := json.Unmarshal([]byte(mustJSON(t, g)), &back); err != nil {
			t.Fatal(err)
		}
		got, p := recurrenceFromGraph(back, wz)
		if p != "" {
			t.Fatalf("%s: back from %s: problem %q", desc, js(g), p)
		}
		want, wantFirst, ok := r.Normalized(eventStart)
		if !ok || !wantFirst.Equal(first) {
			t.Fatalf("%s: Normalized gives first %v ok %v; recurrenceToGraph's first is %v", desc, wantFirst, ok, first)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: round trip through %s\ngot  %s\nwant %s", desc, js(g), js(got), js(want))
		}
		span := first.AddDate(2, 0, 0)
		if a, b := r.Occurrences(eventStart, first, span), got.Occurrences(first, first, span); !slices.EqualFunc(a, b, time.Time.Equal) {
			t.Fatalf("%s: occurrences changed in the round trip\nbefore %v\nafter  %v", desc, a, b)
		}
	}
	t.Logf("%d cases: %v", propertyCases, counts)
	if counts["expressible"] < propertyCases/2 {
		t.Errorf("only %d of %d cases were expressible: the generator is off", counts["expressible"], propertyCases)
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// compareWithSim compares Oro's occurrences over two years from the first
// with the simulator's expansion of g for a master moved to first.
func compareWithSim(t *testing.T, desc string, r calsync.Recurrence, eventStart time.Time, g graphRecurrence, wz string, first time.Time, dur time.Duration) {
	t.Helper()
	to := first.AddDate(2, 0, 0)
	sim, err := graphsim.ExpandRecurrence(wire(t, g), first, first.Add(dur), wz, first, to)
	if err != nil {
		t.Fatalf("%s: the simulator refuses %s: %v", desc, js(g), err)
	}
	oro := r.Occurrences(eventStart, first, to)
	if !slices.EqualFunc(oro, sim, time.Time.Equal) {
		t.Fatalf("%s: through %s\noro %v\nsim %v", desc, js(g), oro, sim)
	}
}

// randomOroRecurrence draws a valid Oro recurrence, its master's start and
// its duration, leaning towards the hard parts: month ends and day 31,
// February 29, last and nth days over day sets, yearly every 2 years, DST
// nights in both hemispheres, start times in or near a DST gap, both
// limits, occurrences as long as the period.
func randomOroRecurrence(rng *rand.Rand) (calsync.Recurrence, time.Time, time.Duration) {
	zone := propertyZones[rng.IntN(len(propertyZones))]
	loc, _ := time.LoadLocation(zone)
	pick := func(xs ...int) int { return xs[rng.IntN(len(xs))] }
	days := func() []string {
		switch rng.IntN(5) {
		case 0:
			return []string{"monday", "tuesday", "wednesday", "thursday", "friday"}
		case 1:
			return []string{"sunday", "saturday"}
		case 2:
			var out []string
			for d := time.Sunday; d <= time.Saturday; d++ {
				if rng.IntN(3) == 0 {
					out = append(out, calsync.DayName(d))
				}
			}
			if len(out) > 0 {
				rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
				return out
			}
		}
		return []string{calsync.DayName(time.Weekday(rng.IntN(7)))}
	}
	r := calsync.Recurrence{TimeZone: zone}
	switch rng.IntN(6) {
	case 0:
		r.RecurrenceType, r.Interval = calsync.RecurrenceDaily, pick(1, 1, 2, 3, 7, 10, 99)
	case 1:
		r.RecurrenceType, r.Interval, r.DayOfWeek = calsync.RecurrenceWeekly, pick(1, 1, 2, 3, 5), days()
	case 2:
		r.RecurrenceType, r.Interval, r.DayOfMonth = calsync.RecurrenceMonthly, pick(1, 1, 2, 3, 12, 13), pick(1, 15, 28, 29, 30, 31, 31, 1+rng.IntN(31))
	case 3:
		r.RecurrenceType, r.Interval, r.Instance, r.DayOfWeek = calsync.RecurrenceMonthNth, pick(1, 1, 2, 6), 1+rng.IntN(5), days()
		if rng.IntN(4) == 0 { // last Friday
			r.Instance, r.DayOfWeek = calsync.InstanceLast, []string{"friday"}
		}
	case 4:
		r.RecurrenceType, r.Interval, r.MonthOfYear, r.DayOfMonth = calsync.RecurrenceYearly, pick(12, 12, 24, 36), 1+rng.IntN(12), pick(1, 28, 29, 30, 31, 1+rng.IntN(31))
		if rng.IntN(3) == 0 { // February 29
			r.MonthOfYear, r.DayOfMonth = 2, 29
		}
	case 5:
		r.RecurrenceType, r.Interval, r.Instance, r.DayOfWeek, r.MonthOfYear = calsync.RecurrenceYearNth, pick(12, 24, 36), 1+rng.IntN(5), days(), 1+rng.IntN(12)
	}

	// the master's start: any date 2023-2030, on the quarter hour, often in
	// the small hours where DST changes
	date := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(8*365))
	if rng.IntN(4) == 0 { // a DST month: March, April, October, November
		date = time.Date(2023+rng.IntN(8), time.Month(pick(3, 4, 10, 11)), 1+rng.IntN(30), 0, 0, 0, 0, time.UTC)
	}
	if rng.IntN(8) == 0 { // a leap day
		date = time.Date(pick(2024, 2028), 2, 29, 0, 0, 0, 0, time.UTC)
	}
	hour := rng.IntN(24)
	if rng.IntN(3) == 0 {
		hour = pick(0, 1, 2, 3, 23)
	}
	eventStart := time.Date(date.Year(), date.Month(), date.Day(), hour, 15*rng.IntN(4), 0, 0, loc).UTC()
	r.StartTime = eventStart
	if rng.IntN(5) == 0 { // a range that begins on a later date, at midnight
		s := eventStart.In(loc).AddDate(0, 0, 1+rng.IntN(40))
		r.StartTime = time.Date(s.Year(), s.Month(), s.Day(), 0, 0, 0, 0, loc).UTC()
	}

	switch rng.IntN(7) {
	case 0, 1:
	case 2, 3:
		r.Count = ptrInt(1 + rng.IntN(40))
	case 4, 5:
		e := r.StartTime.Add(time.Duration(rng.Int64N(3*365*24*3600)) * time.Second)
		r.EndTime = &e
	case 6:
		e := r.StartTime.Add(time.Duration(rng.Int64N(2*365*24*3600)) * time.Second)
		r.EndTime, r.Count = &e, ptrInt(1+rng.IntN(40))
	}

	dur := time.Duration(15*(1+rng.IntN(16))) * time.Minute
	if rng.IntN(10) == 0 {
		dur = time.Duration(pick(23, 24, 25, 48, 24*7, 24*8)) * time.Hour
	}
	return r, eventStart, dur
}

func ptrInt(n int) *int { return &n }

// wire is g as the simulator reads a request body.
func wire(t *testing.T, g graphRecurrence) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, g)), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func js(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestRecurrenceFromGraphProperty draws Graph recurrences from a fixed seed,
// as Outlook could write them (any start date, weeks from any day, any
// index over any day set, intervals past Oro's maxima), and checks that
// each one recurrenceFromGraph accepts expands, by Oro's rules, to the
// simulator's occurrences over two years, and that each one it refuses is
// refused for a real reason.
func TestRecurrenceFromGraphProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(2026, 12))
	windows := []string{"W. Europe Standard Time", "AUS Eastern Standard Time", "Eastern Standard Time", "New Zealand Standard Time", "India Standard Time", "UTC"}
	counts := map[string]int{}
	for i := range propertyCases {
		g := randomGraphRecurrence(rng)
		wz := windows[rng.IntN(len(windows))]
		iana, _ := tzmap.IANA(wz)
		loc, _ := time.LoadLocation(iana)
		sd, _ := time.Parse(graphDate, g.Range.StartDate)
		start := time.Date(sd.Year(), sd.Month(), sd.Day(), rng.IntN(24), 15*rng.IntN(4), 0, 0, loc).UTC()
		if start.In(loc).Day() != sd.Day() { // a DST gap at midnight moved it to another date
			continue
		}
		desc := fmt.Sprintf("case %d: %s, master at %v in %s", i, js(g), start, wz)
		to := start.AddDate(2, 0, 0)
		sim, simErr := graphsim.ExpandRecurrence(wire(t, g), start, start.Add(30*time.Minute), wz, start, to)
		r, problem := recurrenceFromGraph(g, wz)
		counts[cmpOr(problem, "expressible")]++
		switch problem {
		case "":
			if simErr != nil {
				if strings.Contains(simErr.Error(), "NoOccurrence") {
					continue // Graph refuses it anyway
				}
				t.Fatalf("%s: the simulator refuses it: %v", desc, simErr)
			}
			if oro := r.Occurrences(start, start, to); !slices.EqualFunc(oro, sim, time.Time.Equal) {
				t.Fatalf("%s: as %s\noro %v\nsim %v", desc, js(r), oro, sim)
			}
		case problemIntervalMax:
			limit := calsync.MaxInterval
			switch g.Pattern.Type {
			case "daily":
				limit = calsync.MaxDailyInterval
			case "absoluteYearly", "relativeYearly":
				limit = calsync.MaxInterval / 12
			}
			if g.Pattern.Interval <= limit {
				t.Fatalf("%s: %s", desc, problem)
			}
		case problemWeekGrouping:
			if g.Pattern.Interval < 2 || g.Pattern.FirstDayOfWeek == "sunday" {
				t.Fatalf("%s: %s", desc, problem)
			}
			// an open series with weeks from Sunday has other dates in the
			// simulator too
			sunday := g
			sunday.Pattern.FirstDayOfWeek = "sunday"
			other, err := graphsim.ExpandRecurrence(wire(t, sunday), start, start.Add(30*time.Minute), wz, start, to)
			if g.Range.Type == "noEnd" && err == nil && simErr == nil && slices.EqualFunc(other, sim, time.Time.Equal) {
				t.Fatalf("%s: %s, but weeks from Sunday give the same dates", desc, problem)
			}
		default:
			t.Fatalf("%s: unexpected problem %q", desc, problem)
		}
	}
	t.Logf("%d cases: %v", propertyCases, counts)
	if counts["expressible"] < propertyCases/2 {
		t.Errorf("only %d of %d cases were expressible: the generator is off", counts["expressible"], propertyCases)
	}
}

func randomGraphRecurrence(rng *rand.Rand) graphRecurrence {
	pick := func(xs ...int) int { return xs[rng.IntN(len(xs))] }
	names := []string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}
	days := func() []string {
		var out []string
		for _, d := range names {
			if rng.IntN(3) == 0 {
				out = append(out, d)
			}
		}
		if len(out) == 0 {
			out = []string{names[rng.IntN(7)]}
		}
		return out
	}
	var p recurrencePattern
	switch rng.IntN(6) {
	case 0:
		p = recurrencePattern{Type: "daily", Interval: pick(1, 2, 5, 99, 100)}
	case 1:
		p = recurrencePattern{Type: "weekly", Interval: pick(1, 1, 2, 3), DaysOfWeek: days(), FirstDayOfWeek: names[pick(0, 0, 1, 1, 6, rng.IntN(7))]}
	case 2:
		p = recurrencePattern{Type: "absoluteMonthly", Interval: pick(1, 2, 6, 1000), DayOfMonth: pick(1, 29, 30, 31, 1+rng.IntN(31))}
	case 3:
		p = recurrencePattern{Type: "relativeMonthly", Interval: pick(1, 1, 3), DaysOfWeek: days(), Index: []string{"first", "second", "third", "fourth", "last", ""}[rng.IntN(6)]}
	case 4:
		p = recurrencePattern{Type: "absoluteYearly", Interval: pick(1, 2, 4, 84), Month: 1 + rng.IntN(12), DayOfMonth: pick(29, 31, 1+rng.IntN(31))}
	case 5:
		p = recurrencePattern{Type: "relativeYearly", Interval: pick(1, 2), Month: 1 + rng.IntN(12), DaysOfWeek: days(), Index: []string{"first", "second", "third", "fourth", "last"}[rng.IntN(5)]}
	}
	sd := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(8*365))
	rg := recurrenceRange{Type: "noEnd", StartDate: sd.Format(graphDate)}
	switch rng.IntN(3) {
	case 1:
		rg.Type, rg.NumberOfOccurrences = "numbered", 1+rng.IntN(30)
	case 2:
		rg.Type, rg.EndDate = "endDate", sd.AddDate(0, 0, rng.IntN(3*365)).Format(graphDate)
	}
	return graphRecurrence{Pattern: p, Range: rg}
}
