package calsync

import (
	"fmt"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/tzmap"
)

// Recurring series in Oro's model (calendar-semantics §2.2): the
// Recurrence a host sends with a series master, its validation and its
// expansion into occurrence starts. Everything here is pure: the mapping to
// Microsoft Graph's patternedRecurrence lives in graphclient/calendar, and
// the engine decides what to do with a series elsewhere.

// Oro's recurrence types (the recurrenceType field).
const (
	RecurrenceDaily    = "daily"
	RecurrenceWeekly   = "weekly"
	RecurrenceMonthly  = "monthly"
	RecurrenceMonthNth = "monthnth"
	RecurrenceYearly   = "yearly"
	RecurrenceYearNth  = "yearnth"
)

// InstanceLast is the instance value that means "the last matching day of
// the month"; 1 to 4 are the first to the fourth.
const InstanceLast = 5

// Oro's interval limits (RecurrenceValidator, AbstractStrategy and
// DailyStrategy MAX_INTERVAL, YearlyStrategy's multiple of 12).
const (
	MaxDailyInterval       = 99
	MaxInterval            = 999
	YearlyIntervalMultiple = 12
)

// Recurrence is Oro's recurrence of a series master, with the field names
// of Oro's calendar REST API. Interval counts days (daily), weeks (weekly)
// or months (the monthly and yearly types; a multiple of 12 for yearly and
// yearnth). StartTime and EndTime are instants; the series is expanded in
// TimeZone, an IANA name, keeping the master start's wall-clock time there.
type Recurrence struct {
	RecurrenceType string `json:"recurrenceType"`
	Interval       int    `json:"interval"`
	// Instance is 1 to 4 (first to fourth) or InstanceLast, for monthnth
	// and yearnth; 0 when absent.
	Instance int `json:"instance,omitempty"`
	// DayOfWeek holds lower-case English day names, "sunday" to "saturday".
	DayOfWeek   []string `json:"dayOfWeek,omitempty"`
	DayOfMonth  int      `json:"dayOfMonth,omitempty"`
	MonthOfYear int      `json:"monthOfYear,omitempty"`
	// StartTime is the start of the range (required). Only its date in
	// TimeZone matters for the expansion: no occurrence falls on an earlier
	// date.
	StartTime time.Time `json:"startTime"`
	// EndTime, when set, is the end of the range as an instant: an
	// occurrence that starts after it is not part of the series.
	EndTime *time.Time `json:"endTime,omitempty"`
	// Count, when set, is the number of occurrences (Oro's occurrences,
	// COUNT). The Go name differs from the JSON one only because the
	// method Occurrences expands the series.
	Count    *int   `json:"occurrences,omitempty"`
	TimeZone string `json:"timeZone"`
}

// dayNames are Oro's day names, in the order of time.Weekday.
var dayNames = [7]string{"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"}

// Weekday returns the time.Weekday of an Oro day name ("monday"); false for
// anything else. Names are matched in lower case only, as Oro stores them.
func Weekday(name string) (time.Weekday, bool) {
	for i, n := range dayNames {
		if n == name {
			return time.Weekday(i), true
		}
	}
	return 0, false
}

// DayName is the Oro name of d ("sunday" … "saturday").
func DayName(d time.Weekday) string { return dayNames[d%7] }

// Validate checks r as Oro's RecurrenceValidator does, plus the ranges Oro
// enforces elsewhere (instance, dayOfMonth, monthOfYear, a loadable zone).
// field is the path of r in the request, e.g. "events[3].recurrence"; the
// error, a KindInvalidInput *Error, names the bad field under it.
func (r *Recurrence) Validate(field string) error {
	f := func(name string) string { return field + "." + name }
	maxInterval := MaxInterval
	switch r.RecurrenceType {
	case RecurrenceDaily:
		maxInterval = MaxDailyInterval
	case RecurrenceWeekly, RecurrenceMonthly, RecurrenceMonthNth, RecurrenceYearly, RecurrenceYearNth:
	case "":
		return Invalid(f("recurrenceType"), "is required")
	default:
		return Invalid(f("recurrenceType"), "must be one of daily, weekly, monthly, monthnth, yearly, yearnth, got %q", r.RecurrenceType)
	}
	if r.Interval < 1 || r.Interval > maxInterval {
		return Invalid(f("interval"), "must be between 1 and %d, got %d", maxInterval, r.Interval)
	}
	if r.yearly() && r.Interval%YearlyIntervalMultiple != 0 {
		return Invalid(f("interval"), "must be a multiple of %d months for %s, got %d", YearlyIntervalMultiple, r.RecurrenceType, r.Interval)
	}
	if r.StartTime.IsZero() {
		return Invalid(f("startTime"), "is required")
	}
	if r.TimeZone == "" {
		return Invalid(f("timeZone"), "is required")
	}
	if _, err := loadIANA(r.TimeZone); err != nil {
		return Invalid(f("timeZone"), "must be an IANA time zone name such as \"Europe/Berlin\", got %q", r.TimeZone)
	}
	if r.Instance != 0 && (r.Instance < 1 || r.Instance > InstanceLast) {
		return Invalid(f("instance"), "must be between 1 and %d (%d: the last), got %d", InstanceLast, InstanceLast, r.Instance)
	}
	if r.DayOfMonth != 0 && (r.DayOfMonth < 1 || r.DayOfMonth > 31) {
		return Invalid(f("dayOfMonth"), "must be between 1 and 31, got %d", r.DayOfMonth)
	}
	if r.MonthOfYear != 0 && (r.MonthOfYear < 1 || r.MonthOfYear > 12) {
		return Invalid(f("monthOfYear"), "must be between 1 and 12, got %d", r.MonthOfYear)
	}
	for i, d := range r.DayOfWeek {
		if _, ok := Weekday(d); !ok {
			return Invalid(fmt.Sprintf("%s[%d]", f("dayOfWeek"), i), "must be one of %s, got %q", strings.Join(dayNames[:], ", "), d)
		}
	}
	if r.Count != nil && *r.Count < 1 {
		return Invalid(f("occurrences"), "must be at least 1 when present, got %d", *r.Count)
	}
	if r.EndTime != nil && r.EndTime.Before(r.StartTime) {
		return Invalid(f("endTime"), "must not be before startTime")
	}
	// the properties each type requires (Oro's getRequiredProperties)
	needDays := r.RecurrenceType == RecurrenceWeekly || r.relative()
	needDay := r.RecurrenceType == RecurrenceMonthly || r.RecurrenceType == RecurrenceYearly
	switch {
	case needDays && len(r.DayOfWeek) == 0:
		return Invalid(f("dayOfWeek"), "is required for %s", r.RecurrenceType)
	case r.relative() && r.Instance == 0:
		return Invalid(f("instance"), "is required for %s", r.RecurrenceType)
	case needDay && r.DayOfMonth == 0:
		return Invalid(f("dayOfMonth"), "is required for %s", r.RecurrenceType)
	case r.yearly() && r.MonthOfYear == 0:
		return Invalid(f("monthOfYear"), "is required for %s", r.RecurrenceType)
	}
	return nil
}

// loadIANA loads an IANA zone, refusing what time.LoadLocation would read
// from elsewhere than the zone database ("Local", paths). Zones loaded are
// kept: time.LoadLocation reads and parses the file on every call, and a
// run expands many series in a handful of zones (the database bounds how
// many are kept).
func loadIANA(name string) (*time.Location, error) {
	if name == "" || name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return nil, fmt.Errorf("not an IANA zone name: %q", name)
	}
	if l, ok := loadedZones.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	loadedZones.Store(name, l)
	return l, nil
}

var loadedZones gosync.Map // zone name → *time.Location

func (r *Recurrence) yearly() bool {
	return r.RecurrenceType == RecurrenceYearly || r.RecurrenceType == RecurrenceYearNth
}

func (r *Recurrence) relative() bool {
	return r.RecurrenceType == RecurrenceMonthNth || r.RecurrenceType == RecurrenceYearNth
}

// Occurrences returns the starts (UTC) of the occurrences of the series that
// start in [from, to), by Oro's rules (calendar-semantics §2.2, the
// *Strategy classes):
//
//   - dates are taken in TimeZone; each occurrence starts at eventStart's
//     wall-clock time in that zone on its date;
//   - no occurrence falls on a date before StartTime's;
//   - daily: every Interval days from StartTime's date;
//   - weekly: weeks begin on Sunday, the first one being the week of
//     StartTime; every Interval-th week, on each day of DayOfWeek;
//   - monthly and yearly: DayOfMonth (MonthOfYear) every Interval months,
//     from StartTime's month (year); a day past the month's end is its last
//     day; when that day in the first month is before StartTime's, the next
//     period is the first;
//   - monthnth and yearnth: the Instance-th day of the month whose weekday is
//     in DayOfWeek (InstanceLast: the last such day), likewise;
//   - Count counts every generated occurrence from the first; EndTime
//     drops the occurrences that start after it, an instant comparison.
//
// r must be valid (Validate); an invalid r has no occurrences. The walk
// stops at to, at EndTime or at the count, so an open-ended series costs
// what the window holds.
func (r *Recurrence) Occurrences(eventStart, from, to time.Time) []time.Time {
	x, ok := r.expander(eventStart)
	if !ok || !from.Before(to) {
		return nil
	}
	var out []time.Time
	x.walk(from, func(st time.Time) bool {
		if !st.Before(to) {
			return false
		}
		if !st.Before(from) {
			out = append(out, st)
		}
		return true
	})
	return out
}

// expander is a valid Recurrence ready to walk.
type expander struct {
	r     *Recurrence
	loc   *time.Location
	start time.Time      // StartTime's date in loc, as a civil date at UTC midnight
	clock [4]int         // eventStart's wall clock in loc: hour, minute, second, nanosecond
	days  []time.Weekday // DayOfWeek, sorted Sunday first, without repeats
}

func (r *Recurrence) expander(eventStart time.Time) (*expander, bool) {
	if r.Validate("recurrence") != nil {
		return nil, false
	}
	loc, err := loadIANA(r.TimeZone)
	if err != nil {
		return nil, false
	}
	x := &expander{r: r, loc: loc, start: civilDate(r.StartTime.In(loc))}
	// the wall clock, not the time since midnight, which a DST change that
	// morning would shift
	h, m, sec := eventStart.In(loc).Clock()
	x.clock = [4]int{h, m, sec, eventStart.Nanosecond()}
	for _, d := range r.DayOfWeek {
		wd, _ := Weekday(d)
		x.days = append(x.days, wd)
	}
	slices.Sort(x.days)
	x.days = slices.Compact(x.days)
	return x, true
}

func civilDate(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// at is the instant of the occurrence on civil date d.
func (x *expander) at(d time.Time) time.Time {
	c := x.clock
	return time.Date(d.Year(), d.Month(), d.Day(), c[0], c[1], c[2], c[3], x.loc).UTC()
}

// walk calls yield with each occurrence start in order, from the first one
// that may start at or after from, until yield returns false or the range
// ends.
func (x *expander) walk(from time.Time, yield func(time.Time) bool) {
	r := x.r
	count := 0
	k := 0
	if r.Count == nil {
		k = x.periodBefore(civilDate(from.In(x.loc)).AddDate(0, 0, -1))
	}
	for ; ; k++ {
		for _, d := range x.period(k) {
			if d.Before(x.start) {
				continue
			}
			if d.Year() > 9999 {
				return
			}
			st := x.at(d)
			if r.EndTime != nil && st.After(*r.EndTime) {
				return
			}
			if r.Count != nil && count >= *r.Count {
				return
			}
			count++
			if !yield(st) {
				return
			}
		}
	}
}

// period lists the candidate dates of the k-th period (day, week, month or
// year group) of the series, in order; the caller drops those before the
// start.
func (x *expander) period(k int) []time.Time {
	r := x.r
	s := x.start
	switch r.RecurrenceType {
	case RecurrenceDaily:
		return []time.Time{s.AddDate(0, 0, k*r.Interval)}
	case RecurrenceWeekly:
		week := s.AddDate(0, 0, -int(s.Weekday())+7*k*r.Interval)
		out := make([]time.Time, len(x.days))
		for i, d := range x.days {
			out[i] = week.AddDate(0, 0, int(d))
		}
		return out
	case RecurrenceMonthly:
		first := time.Date(s.Year(), s.Month()+time.Month(k*r.Interval), 1, 0, 0, 0, 0, time.UTC)
		return []time.Time{clampedDay(first, r.DayOfMonth)}
	case RecurrenceYearly:
		first := time.Date(s.Year()+k*r.Interval/12, time.Month(r.MonthOfYear), 1, 0, 0, 0, 0, time.UTC)
		return []time.Time{clampedDay(first, r.DayOfMonth)}
	case RecurrenceMonthNth:
		first := time.Date(s.Year(), s.Month()+time.Month(k*r.Interval), 1, 0, 0, 0, 0, time.UTC)
		return []time.Time{nthDay(first, x.days, r.Instance)}
	case RecurrenceYearNth:
		first := time.Date(s.Year()+k*r.Interval/12, time.Month(r.MonthOfYear), 1, 0, 0, 0, 0, time.UTC)
		return []time.Time{nthDay(first, x.days, r.Instance)}
	}
	return nil
}

// periodBefore is the index of a period that ends no later than civil date
// d, or 0: where a walk for occurrences from d may begin when nothing
// before d needs counting.
func (x *expander) periodBefore(d time.Time) int {
	if !d.After(x.start) {
		return 0
	}
	r := x.r
	days := int(d.Sub(x.start).Hours() / 24)
	months := (d.Year()-x.start.Year())*12 + int(d.Month()) - int(x.start.Month())
	var k int
	switch r.RecurrenceType {
	case RecurrenceDaily:
		k = days / r.Interval
	case RecurrenceWeekly:
		k = days / 7 / r.Interval
	case RecurrenceMonthly, RecurrenceMonthNth, RecurrenceYearly, RecurrenceYearNth:
		k = months / r.Interval
	}
	return max(0, k-1)
}

// clampedDay is day in the month that begins on first, or the month's last
// day when the month is shorter.
func clampedDay(first time.Time, day int) time.Time {
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(day, last)-1)
}

// nthDay is the instance-th day of the month beginning on first whose
// weekday is in days (InstanceLast: the last such day). days is not empty,
// so each month has at least four such days.
func nthDay(first time.Time, days []time.Weekday, instance int) time.Time {
	var fits []time.Time
	for d := first; d.Month() == first.Month(); d = d.AddDate(0, 0, 1) {
		if slices.Contains(days, d.Weekday()) {
			fits = append(fits, d)
		}
	}
	if instance == InstanceLast {
		return fits[len(fits)-1]
	}
	return fits[instance-1]
}

// Normalized is r as Microsoft 365 gives it back once written (the form a
// Remote reports a series in, see SeriesInfo), so that an Oro recurrence and a
// Microsoft one compare equal when they expand alike: timeZone is CLDR's
// zone for its Windows name; startTime is midnight, in that zone, of the
// first occurrence's date; endTime is the last second of the date of the
// last occurrence at or before it; day sets are in order, Sunday first,
// without repeats; fields the type does not use are dropped. Also the
// first occurrence's start, where Graph puts the master's. false when r
// has no occurrence or no Windows zone (it cannot be written as it is).
func (r Recurrence) Normalized(eventStart time.Time) (Recurrence, time.Time, bool) {
	w, ok := tzmap.Windows(r.TimeZone)
	if !ok {
		return r, time.Time{}, false
	}
	zone, _ := tzmap.IANA(w)
	loc, err := loadIANA(zone)
	if err != nil {
		return r, time.Time{}, false
	}
	firsts := r.Occurrences(eventStart, r.StartTime.Add(-48*time.Hour), r.StartTime.Add(4*366*24*time.Hour))
	if len(firsts) == 0 {
		return r, time.Time{}, false
	}
	n := Recurrence{RecurrenceType: r.RecurrenceType, Interval: r.Interval, TimeZone: zone, Count: r.Count}
	d := firsts[0].In(loc)
	n.StartTime = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc).UTC()
	if r.EndTime != nil {
		all := r.Occurrences(eventStart, firsts[0], r.EndTime.Add(time.Nanosecond))
		if len(all) == 0 {
			return r, time.Time{}, false
		}
		l := all[len(all)-1].In(loc)
		e := time.Date(l.Year(), l.Month(), l.Day(), 23, 59, 59, 0, loc).UTC()
		n.EndTime = &e
	}
	days := func() []string {
		out := slices.Clone(r.DayOfWeek)
		slices.SortFunc(out, func(a, b string) int {
			x, _ := Weekday(a)
			y, _ := Weekday(b)
			return int(x) - int(y)
		})
		return slices.Compact(out)
	}
	switch r.RecurrenceType {
	case RecurrenceWeekly:
		n.DayOfWeek = days()
	case RecurrenceMonthly:
		n.DayOfMonth = r.DayOfMonth
	case RecurrenceMonthNth:
		n.Instance, n.DayOfWeek = r.Instance, days()
	case RecurrenceYearly:
		n.DayOfMonth, n.MonthOfYear = r.DayOfMonth, r.MonthOfYear
	case RecurrenceYearNth:
		n.Instance, n.DayOfWeek, n.MonthOfYear = r.Instance, days(), r.MonthOfYear
	}
	return n, firsts[0], true
}
