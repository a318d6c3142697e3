package calendar

import (
	"slices"
	"strings"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/tzmap"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// The mapping between Oro's recurrence (calsync.Recurrence) and Graph's
// patternedRecurrence, calendar-semantics Part 3.1. The wire structs are
// plain encoding/json structs, independent of msgraph-sdk-go's models, so
// that a JSON decoder and the SDK adapter can share them. Neither direction
// approximates silently: what the other side cannot hold is returned as a
// problem, one of the problem* reasons below.

// graphRecurrence is Graph's patternedRecurrence.
type graphRecurrence struct {
	Pattern recurrencePattern `json:"pattern"`
	Range   recurrenceRange   `json:"range"`
}

// recurrencePattern is Graph's recurrencePattern. Graph returns every field,
// zero ("month":0) where the type does not use it; requests leave them out.
type recurrencePattern struct {
	// Type is daily, weekly, absoluteMonthly, relativeMonthly,
	// absoluteYearly or relativeYearly.
	Type string `json:"type"`
	// Interval counts days, weeks, months or years, by Type.
	Interval   int      `json:"interval"`
	Month      int      `json:"month,omitempty"`
	DayOfMonth int      `json:"dayOfMonth,omitempty"`
	DaysOfWeek []string `json:"daysOfWeek,omitempty"`
	// FirstDayOfWeek groups weekly patterns into weeks; Graph's default is
	// sunday.
	FirstDayOfWeek string `json:"firstDayOfWeek,omitempty"`
	// Index is first, second, third, fourth or last, for the relative
	// types; Graph's default is first.
	Index string `json:"index,omitempty"`
}

// recurrenceRange is Graph's recurrenceRange. Dates are plain dates
// ("2026-03-05") in RecurrenceTimeZone, a Windows name when we write it.
type recurrenceRange struct {
	// Type is endDate, noEnd or numbered.
	Type                string `json:"type"`
	StartDate           string `json:"startDate"`
	EndDate             string `json:"endDate,omitempty"`
	NumberOfOccurrences int    `json:"numberOfOccurrences,omitempty"`
	RecurrenceTimeZone  string `json:"recurrenceTimeZone,omitempty"`
}

// Why a recurrence cannot be carried to the other side as it is. The values
// are short and stable, for issues and logs.
const (
	// Oro → Graph
	problemInvalid        = "invalid_recurrence"            // the Oro recurrence fails Validate
	problemEndAndCount    = "end_time_and_occurrences"      // both endTime and occurrences: Graph holds one
	problemNoOccurrence   = "no_occurrence"                 // the range holds no occurrence; Graph refuses such a series
	problemTimeSpanTooBig = "occurrence_longer_than_period" // an occurrence runs into the next (ErrorOccurrenceTimeSpanTooBig)
	problemStartInDSTGap  = "first_occurrence_in_dst_gap"   // the master's wall-clock time does not exist on the first occurrence's date
	// both ways
	problemZoneUnmapped = "time_zone_unmapped" // no Windows name for the IANA zone, or no IANA zone for the Graph name
	// Graph → Oro
	problemCustomZone   = "custom_time_zone"             // tzone://Microsoft/Custom
	problemZoneDiffers  = "recurrence_time_zone_differs" // recurrenceTimeZone is not the start's zone; Oro has one
	problemIntervalMax  = "interval_too_large"           // above Oro's 99 days, 999 weeks or 999 months
	problemWeekGrouping = "week_grouping_differs"        // weekly, interval > 1, weeks not from Sunday, other dates
	problemUnsupported  = "unsupported_recurrence"       // a type, day, index or date Oro cannot hold or Graph does not define
)

const customZone = "tzone://Microsoft/Custom"

const graphDate = "2006-01-02"

// indexNames are Graph's index values by Oro instance (1 to 5).
var indexNames = [...]string{1: "first", 2: "second", 3: "third", 4: "fourth", calsync.InstanceLast: "last"}

// recurrenceToGraph maps Oro's recurrence of a master that runs from
// eventStart to eventEnd to Graph (Part 3.1): the same types, yearly
// intervals in years instead of months, weeks from Sunday, the zone by its
// Windows name. Graph's range starts on the date of the series' first
// occurrence, so the master must be written to start at firstStart (its end
// moved by as much); an Oro endTime becomes the date, in the zone, of the
// last occurrence that starts at or before it.
//
// problem is "" when Graph holds the series exactly. Otherwise it names what
// Graph cannot hold and the other results are zero, except for
// problemEndAndCount: then g ends where the earlier of the two limits ends
// the series (the same occurrences), which the caller may write only while
// reporting that Oro's other limit is not kept.
func recurrenceToGraph(r calsync.Recurrence, eventStart, eventEnd time.Time) (g graphRecurrence, windowsZone string, firstStart time.Time, problem string) {
	if r.Validate("recurrence") != nil {
		return graphRecurrence{}, "", time.Time{}, problemInvalid
	}
	wz, ok := tzmap.Windows(r.TimeZone)
	if !ok {
		return graphRecurrence{}, "", time.Time{}, problemZoneUnmapped
	}
	loc, err := time.LoadLocation(r.TimeZone)
	if err != nil { // Validate loaded it
		return graphRecurrence{}, "", time.Time{}, problemInvalid
	}
	span := periodSpan(r)
	firsts := r.Occurrences(eventStart, r.StartTime.Add(-48*time.Hour), r.StartTime.Add(span+48*time.Hour))
	if len(firsts) == 0 {
		return graphRecurrence{}, "", time.Time{}, problemNoOccurrence
	}
	first := firsts[0]
	// Graph takes the series' wall-clock time from the master's start,
	// which we move to the first occurrence: if a DST change skips the
	// master's time on that date, Graph would take the shifted time for
	// every occurrence.
	if wallSeconds(first.In(loc)) != wallSeconds(eventStart.In(loc)) {
		return graphRecurrence{}, "", time.Time{}, problemStartInDSTGap
	}
	// Graph checks that no occurrence overlaps the next; five years, or two
	// periods of a longer pattern, show every spacing a pattern has.
	sample := r.Occurrences(eventStart, first, first.Add(max(5*366*24*time.Hour, 2*span+48*time.Hour)))
	dur := eventEnd.Sub(eventStart)
	for i := 1; i < len(sample); i++ {
		if sample[i-1].Add(dur).After(sample[i]) {
			return graphRecurrence{}, "", time.Time{}, problemTimeSpanTooBig
		}
	}

	g.Pattern = patternToGraph(r)
	g.Range = recurrenceRange{StartDate: first.In(loc).Format(graphDate), RecurrenceTimeZone: wz}
	endDate := func(endTime time.Time) string {
		// the last occurrence at or before endTime is within one period of it
		last := r.Occurrences(eventStart, maxTime(first, endTime.Add(-span-48*time.Hour)), endTime.Add(time.Nanosecond))
		if len(last) == 0 { // not reached: first is at or before endTime
			last = []time.Time{first}
		}
		return last[len(last)-1].In(loc).Format(graphDate)
	}
	switch {
	case r.EndTime != nil && r.Count != nil:
		problem = problemEndAndCount
		// which limit ends the series: the count, if its last occurrence
		// is still within endTime
		all := r.Occurrences(eventStart, first, r.EndTime.Add(time.Nanosecond))
		if len(all) == *r.Count {
			g.Range.Type, g.Range.NumberOfOccurrences = "numbered", *r.Count
		} else {
			g.Range.Type, g.Range.EndDate = "endDate", endDate(*r.EndTime)
		}
	case r.EndTime != nil:
		g.Range.Type, g.Range.EndDate = "endDate", endDate(*r.EndTime)
	case r.Count != nil:
		g.Range.Type, g.Range.NumberOfOccurrences = "numbered", *r.Count
	default:
		g.Range.Type = "noEnd"
	}
	return g, wz, first, problem
}

func patternToGraph(r calsync.Recurrence) recurrencePattern {
	p := recurrencePattern{Interval: r.Interval, DaysOfWeek: sortedDays(r.DayOfWeek)}
	switch r.RecurrenceType {
	case calsync.RecurrenceDaily:
		p.Type, p.DaysOfWeek = "daily", nil
	case calsync.RecurrenceWeekly:
		p.Type, p.FirstDayOfWeek = "weekly", "sunday" // Oro's weeks begin on Sunday
	case calsync.RecurrenceMonthly:
		p.Type, p.DayOfMonth, p.DaysOfWeek = "absoluteMonthly", r.DayOfMonth, nil
	case calsync.RecurrenceMonthNth:
		p.Type, p.Index = "relativeMonthly", indexNames[r.Instance]
	case calsync.RecurrenceYearly:
		p.Type, p.Interval, p.Month, p.DayOfMonth, p.DaysOfWeek = "absoluteYearly", r.Interval/12, r.MonthOfYear, r.DayOfMonth, nil
	case calsync.RecurrenceYearNth:
		p.Type, p.Interval, p.Month, p.Index = "relativeYearly", r.Interval/12, r.MonthOfYear, indexNames[r.Instance]
	}
	return p
}

// periodSpan bounds the time between two successive occurrences of r (and
// between its start and its first occurrence): a period of its interval plus
// a period's worth of slack for month ends, nth days and weeks.
func periodSpan(r calsync.Recurrence) time.Duration {
	const day = 24 * time.Hour
	switch r.RecurrenceType {
	case calsync.RecurrenceDaily:
		return time.Duration(r.Interval) * day
	case calsync.RecurrenceWeekly:
		return time.Duration(r.Interval+1) * 7 * day
	case calsync.RecurrenceMonthly, calsync.RecurrenceMonthNth:
		return time.Duration(r.Interval+1) * 31 * day
	default: // yearly, yearnth
		return time.Duration(r.Interval/12+1) * 366 * day
	}
}

// sortedDays is Oro's or Graph's day names in lower case, Sunday first,
// without repeats; nil if one is not a day name.
func sortedDays(names []string) []string {
	var wds []time.Weekday
	for _, n := range names {
		wd, ok := calsync.Weekday(strings.ToLower(n))
		if !ok {
			return nil
		}
		wds = append(wds, wd)
	}
	slices.Sort(wds)
	wds = slices.Compact(wds)
	out := make([]string, len(wds))
	for i, wd := range wds {
		out[i] = calsync.DayName(wd)
	}
	return out
}

func wallSeconds(t time.Time) int {
	h, m, s := t.Clock()
	return h*3600 + m*60 + s
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// recurrenceFromGraph maps Graph's recurrence of a master whose start is
// written in startZone (a Windows name, or an IANA name Graph accepts) to
// Oro (Part 3.1): yearly intervals in months, the zone by its IANA name
// (CLDR's zone for a Windows name), an endDate as the last second of that
// date in the zone.
//
// StartTime is the zone's midnight that begins range.startDate. Graph
// requires the master's start to fall on that date, and only the date of
// StartTime matters to Oro's expansion, so a caller that has the master's
// start may put it there instead.
//
// problem is "" when Oro holds the series exactly; otherwise it names what
// Oro cannot hold and the Recurrence is zero.
func recurrenceFromGraph(g graphRecurrence, startZone string) (calsync.Recurrence, string) {
	zone, problem := zoneFromGraph(startZone)
	if problem != "" {
		return calsync.Recurrence{}, problem
	}
	if rz := g.Range.RecurrenceTimeZone; rz != "" && rz != startZone {
		z, problem := zoneFromGraph(rz)
		if problem != "" {
			return calsync.Recurrence{}, problem
		}
		if z != zone {
			return calsync.Recurrence{}, problemZoneDiffers
		}
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		return calsync.Recurrence{}, problemZoneUnmapped
	}
	r, problem := patternFromGraph(g.Pattern)
	if problem != "" {
		return calsync.Recurrence{}, problem
	}
	r.TimeZone = zone
	start, err := time.Parse(graphDate, g.Range.StartDate)
	if err != nil {
		return calsync.Recurrence{}, problemUnsupported
	}
	r.StartTime = time.Date(start.Year(), start.Month(), start.Day(), 0, 0, 0, 0, loc).UTC()
	switch strings.ToLower(g.Range.Type) {
	case "enddate":
		end, err := time.Parse(graphDate, g.Range.EndDate)
		if err != nil {
			return calsync.Recurrence{}, problemUnsupported
		}
		et := time.Date(end.Year(), end.Month(), end.Day()+1, 0, 0, 0, 0, loc).Add(-time.Second).UTC()
		r.EndTime = &et
	case "numbered":
		n := g.Range.NumberOfOccurrences
		r.Count = &n
	case "noend":
	default:
		return calsync.Recurrence{}, problemUnsupported
	}
	if r.Validate("recurrence") != nil {
		return calsync.Recurrence{}, problemUnsupported
	}
	if r.RecurrenceType == calsync.RecurrenceWeekly && r.Interval > 1 {
		first, _ := calsync.Weekday(strings.ToLower(g.Pattern.FirstDayOfWeek))
		if first != time.Sunday && !sameWeeklyDates(start, r, first) {
			return calsync.Recurrence{}, problemWeekGrouping
		}
	}
	return r, ""
}

// zoneFromGraph is the IANA zone of a zone name as Graph reads it.
func zoneFromGraph(name string) (string, string) {
	if strings.EqualFold(name, customZone) {
		return "", problemCustomZone
	}
	z, ok := tzmap.GraphZone(name)
	if !ok {
		return "", problemZoneUnmapped
	}
	return z, ""
}

func patternFromGraph(p recurrencePattern) (calsync.Recurrence, string) {
	r := calsync.Recurrence{Interval: p.Interval}
	if p.Interval < 1 {
		return r, problemUnsupported
	}
	days := sortedDays(p.DaysOfWeek)
	if len(p.DaysOfWeek) > 0 && days == nil {
		return r, problemUnsupported
	}
	if f := p.FirstDayOfWeek; f != "" {
		if _, ok := calsync.Weekday(strings.ToLower(f)); !ok {
			return r, problemUnsupported
		}
	}
	instance := 1
	if p.Index != "" {
		instance = slices.Index(indexNames[:], strings.ToLower(p.Index))
		if instance < 1 {
			return r, problemUnsupported
		}
	}
	maxInterval := calsync.MaxInterval
	switch p.Type {
	case "daily":
		r.RecurrenceType = calsync.RecurrenceDaily
		maxInterval = calsync.MaxDailyInterval
	case "weekly":
		r.RecurrenceType, r.DayOfWeek = calsync.RecurrenceWeekly, days
	case "absoluteMonthly":
		r.RecurrenceType, r.DayOfMonth = calsync.RecurrenceMonthly, p.DayOfMonth
	case "relativeMonthly":
		r.RecurrenceType, r.Instance, r.DayOfWeek = calsync.RecurrenceMonthNth, instance, days
	case "absoluteYearly":
		r.RecurrenceType, r.MonthOfYear, r.DayOfMonth = calsync.RecurrenceYearly, p.Month, p.DayOfMonth
	case "relativeYearly":
		r.RecurrenceType, r.Instance, r.DayOfWeek, r.MonthOfYear = calsync.RecurrenceYearNth, instance, days, p.Month
	default:
		return r, problemUnsupported
	}
	if p.Type == "absoluteYearly" || p.Type == "relativeYearly" {
		if p.Interval > maxInterval/12 {
			return r, problemIntervalMax
		}
		r.Interval = p.Interval * 12
	} else if p.Interval > maxInterval {
		return r, problemIntervalMax
	}
	return r, ""
}

// sameWeeklyDates reports whether a weekly pattern whose weeks begin on
// first generates, from civil date start, the dates it would with weeks that
// begin on Sunday, as Oro's do. Both repeat every Interval weeks, so two
// repeats past the first week show any difference.
func sameWeeklyDates(start time.Time, r calsync.Recurrence, first time.Weekday) bool {
	var days []time.Weekday
	for _, d := range r.DayOfWeek {
		wd, _ := calsync.Weekday(d)
		days = append(days, wd)
	}
	n := 7 * (2*r.Interval + 2)
	return slices.Equal(weeklyDates(start, days, first, r.Interval, n), weeklyDates(start, days, time.Sunday, r.Interval, n))
}

// weeklyDates lists the days among the n from civil date start that a
// weekly pattern generates (MS-OXOCAL: every interval-th week counted from
// the week holding start, weeks beginning on first).
func weeklyDates(start time.Time, days []time.Weekday, first time.Weekday, interval, n int) []time.Time {
	weekOf := func(d time.Time) time.Time { return d.AddDate(0, 0, -((int(d.Weekday()) - int(first) + 7) % 7)) }
	w0 := weekOf(start)
	var out []time.Time
	for i := range n {
		d := start.AddDate(0, 0, i)
		weeks := int(weekOf(d).Sub(w0).Hours()/24) / 7
		if slices.Contains(days, d.Weekday()) && weeks%interval == 0 {
			out = append(out, d)
		}
	}
	return out
}
