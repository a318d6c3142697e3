package graphsim

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// recurrence is a validated patternedRecurrence (facts §2, Recurrence).
type recurrence struct {
	Type           string
	Interval       int
	Month          int
	DayOfMonth     int
	DaysOfWeek     []time.Weekday
	FirstDayOfWeek time.Weekday
	Index          string
	RangeType      string
	StartDate      time.Time // civil date at UTC midnight
	EndDate        time.Time
	Occurrences    int
	TimeZone       string
}

var weekdays = map[string]time.Weekday{"sunday": 0, "monday": 1, "tuesday": 2, "wednesday": 3, "thursday": 4, "friday": 5, "saturday": 6}
var indexes = map[string]int{"first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1}

func parseDate(v any) (time.Time, error) {
	s, _ := v.(string)
	return time.Parse("2006-01-02", s)
}

func num(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != float64(int(f)) {
		return 0, false
	}
	return int(f), true
}

// parseRecurrence validates a patternedRecurrence. Unsupported values are
// errors, and fields the type ignores are still validated (facts §2).
// An absent recurrenceTimeZone is the start's zone, and is returned filled
// (semantics §1.3, the create-event example).
func parseRecurrence(v any, startDate time.Time, startZone string) (*recurrence, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("recurrence must be an object")
	}
	pat, _ := obj["pattern"].(map[string]any)
	rng, _ := obj["range"].(map[string]any)
	if pat == nil || rng == nil {
		return nil, fmt.Errorf("recurrence requires pattern and range")
	}
	r := &recurrence{}
	r.Type, _ = pat["type"].(string)
	switch r.Type {
	case "daily", "weekly", "absoluteMonthly", "relativeMonthly", "absoluteYearly", "relativeYearly":
	default:
		return nil, fmt.Errorf("recurrence pattern type %q is not supported", r.Type)
	}
	var okI bool
	if r.Interval, okI = num(pat["interval"]); !okI || r.Interval < 1 {
		return nil, fmt.Errorf("recurrence pattern interval must be a positive integer")
	}
	if m, present := pat["month"]; present && m != nil {
		if r.Month, okI = num(m); !okI || r.Month < 0 || r.Month > 12 {
			return nil, fmt.Errorf("recurrence pattern month must be 1-12")
		}
	}
	if d, present := pat["dayOfMonth"]; present && d != nil {
		if r.DayOfMonth, okI = num(d); !okI || r.DayOfMonth < 0 || r.DayOfMonth > 31 {
			return nil, fmt.Errorf("recurrence pattern dayOfMonth must be 1-31")
		}
	}
	if ds, present := pat["daysOfWeek"]; present && ds != nil {
		arr, ok := ds.([]any)
		if !ok {
			return nil, fmt.Errorf("recurrence pattern daysOfWeek must be an array")
		}
		for _, d := range arr {
			s, _ := d.(string)
			wd, ok := weekdays[strings.ToLower(s)]
			if !ok {
				return nil, fmt.Errorf("recurrence pattern daysOfWeek value %q is not valid", s)
			}
			r.DaysOfWeek = append(r.DaysOfWeek, wd)
		}
	}
	r.FirstDayOfWeek = time.Sunday
	if f, present := pat["firstDayOfWeek"]; present && f != nil {
		s, _ := f.(string)
		wd, ok := weekdays[strings.ToLower(s)]
		if !ok {
			return nil, fmt.Errorf("recurrence pattern firstDayOfWeek %q is not valid", s)
		}
		r.FirstDayOfWeek = wd
	}
	r.Index = "first"
	if ix, present := pat["index"]; present && ix != nil {
		s, _ := ix.(string)
		if _, ok := indexes[strings.ToLower(s)]; !ok {
			return nil, fmt.Errorf("recurrence pattern index %q is not valid", s)
		}
		r.Index = strings.ToLower(s)
	}
	switch r.Type {
	case "weekly", "relativeMonthly":
		if len(r.DaysOfWeek) == 0 {
			return nil, fmt.Errorf("%s recurrence requires daysOfWeek", r.Type)
		}
	case "absoluteMonthly":
		if r.DayOfMonth == 0 {
			return nil, fmt.Errorf("absoluteMonthly recurrence requires dayOfMonth")
		}
	case "absoluteYearly":
		if r.DayOfMonth == 0 || r.Month == 0 {
			return nil, fmt.Errorf("absoluteYearly recurrence requires dayOfMonth and month")
		}
	case "relativeYearly":
		if len(r.DaysOfWeek) == 0 || r.Month == 0 {
			return nil, fmt.Errorf("relativeYearly recurrence requires daysOfWeek and month")
		}
	}

	rt, _ := rng["type"].(string)
	r.RangeType = strings.ToLower(rt[:min(1, len(rt))]) + rt[min(1, len(rt)):] // the old spelling "EndDate" is accepted
	var err error
	if r.StartDate, err = parseDate(rng["startDate"]); err != nil {
		return nil, fmt.Errorf("recurrence range startDate is required")
	}
	if !r.StartDate.Equal(startDate) {
		return nil, fmt.Errorf("the recurrence range startDate %s must equal the date of the event start %s", r.StartDate.Format("2006-01-02"), startDate.Format("2006-01-02"))
	}
	switch r.RangeType {
	case "endDate":
		if r.EndDate, err = parseDate(rng["endDate"]); err != nil {
			return nil, fmt.Errorf("recurrence range of type endDate requires endDate")
		}
		if r.EndDate.Before(r.StartDate) {
			return nil, fmt.Errorf("recurrence range endDate is before startDate")
		}
	case "numbered":
		if r.Occurrences, okI = num(rng["numberOfOccurrences"]); !okI || r.Occurrences < 1 {
			return nil, fmt.Errorf("recurrence range of type numbered requires a positive numberOfOccurrences")
		}
	case "noEnd":
	default:
		return nil, fmt.Errorf("recurrence range type %q is not supported", rt)
	}
	r.TimeZone, _ = rng["recurrenceTimeZone"].(string)
	if r.TimeZone == "" {
		r.TimeZone = startZone
	}
	return r, nil
}

func (r *recurrence) render() map[string]any {
	days := make([]string, 0, len(r.DaysOfWeek))
	for _, d := range r.DaysOfWeek {
		days = append(days, strings.ToLower(d.String()))
	}
	end := "0001-01-01"
	if r.RangeType == "endDate" {
		end = r.EndDate.Format("2006-01-02")
	}
	return map[string]any{
		"pattern": map[string]any{
			"type": r.Type, "interval": r.Interval, "month": r.Month, "dayOfMonth": r.DayOfMonth,
			"daysOfWeek": days, "firstDayOfWeek": strings.ToLower(r.FirstDayOfWeek.String()), "index": r.Index,
		},
		"range": map[string]any{
			"type": r.RangeType, "startDate": r.StartDate.Format("2006-01-02"), "endDate": end,
			"recurrenceTimeZone": r.TimeZone, "numberOfOccurrences": r.Occurrences,
		},
	}
}

// series is one version of a series master: what expansion needs. Versions
// are immutable; delta compares the version a token saw with the current one.
type series struct {
	seq        int64
	start      time.Time // first occurrence's start (instant)
	dur        time.Duration
	days       int // an all-day series: how many days each occurrence runs
	loc        *time.Location
	rec        *recurrence
	cancelled  map[int64]bool // original start (Unix) of deleted occurrences
	exceptions map[int64]bool // original start of occurrences turned exceptions
}

// endOf is the end of the occurrence that starts at st: days midnights
// later in the series zone for an all-day series, whatever DST does to the
// length of those days; st plus the duration otherwise.
func (sr *series) endOf(st time.Time) time.Time {
	if sr.days == 0 {
		return st.Add(sr.dur)
	}
	d := st.In(sr.loc)
	return time.Date(d.Year(), d.Month(), d.Day()+sr.days, 0, 0, 0, 0, sr.loc).UTC()
}

func (sr *series) clone(seq int64) *series {
	c := *sr
	c.seq = seq
	c.cancelled = make(map[int64]bool, len(sr.cancelled))
	for k := range sr.cancelled {
		c.cancelled[k] = true
	}
	c.exceptions = make(map[int64]bool, len(sr.exceptions))
	for k := range sr.exceptions {
		c.exceptions[k] = true
	}
	return &c
}

// keepCancelled cancels the occurrences of sr that fall on a date (in each
// version's recurrence zone) whose occurrence old had cancelled, as EWS kept
// deleted occurrences deleted across a series change (semantics §1.3,
// ews-managed-api #235); a date the new pattern no longer generates is
// forgotten.
func (sr *series) keepCancelled(old *series) {
	if len(old.cancelled) == 0 {
		return
	}
	days := map[string]bool{}
	var last time.Time
	for u := range old.cancelled {
		t := time.Unix(u, 0)
		days[t.In(old.loc).Format("2006-01-02")] = true
		if t.After(last) {
			last = t
		}
	}
	// Two days past the last one cover every zone's version of that date.
	for _, st := range sr.generated(last.Add(48 * time.Hour)) {
		if days[st.In(sr.loc).Format("2006-01-02")] {
			sr.cancelled[st.Unix()] = true
		}
	}
}

// matches reports whether civil date d is in the pattern (MS-OXOCAL
// 2.2.1.44.1; semantics §1.3): a day of month past the month's end falls on
// its last day; a relative pattern takes the Nth day of the month that is in
// daysOfWeek (so "second weekday" or "last weekend day"); weekly periods are
// weeks that begin on firstDayOfWeek.
func (r *recurrence) matches(d time.Time) bool {
	switch r.Type {
	case "daily":
		return int(d.Sub(r.StartDate).Hours()/24)%r.Interval == 0
	case "weekly":
		if !slices.Contains(r.DaysOfWeek, d.Weekday()) {
			return false
		}
		ws := weekStart(r.StartDate, r.FirstDayOfWeek)
		weeks := int(weekStart(d, r.FirstDayOfWeek).Sub(ws).Hours() / (24 * 7))
		return weeks%r.Interval == 0
	case "absoluteMonthly":
		return monthsBetween(r.StartDate, d)%r.Interval == 0 && d.Day() == clampDay(d, r.DayOfMonth)
	case "relativeMonthly":
		return monthsBetween(r.StartDate, d)%r.Interval == 0 && relativeDay(d, r.DaysOfWeek, r.Index) == d.Day()
	case "absoluteYearly":
		return int(d.Month()) == r.Month && (d.Year()-r.StartDate.Year())%r.Interval == 0 && d.Day() == clampDay(d, r.DayOfMonth)
	case "relativeYearly":
		return int(d.Month()) == r.Month && (d.Year()-r.StartDate.Year())%r.Interval == 0 && relativeDay(d, r.DaysOfWeek, r.Index) == d.Day()
	}
	return false
}

// clampDay is day in d's month, or the month's last day when day is past it.
func clampDay(d time.Time, day int) int {
	last := time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return min(day, last)
}

func weekStart(d time.Time, first time.Weekday) time.Time {
	off := (int(d.Weekday()) - int(first) + 7) % 7
	return d.AddDate(0, 0, -off)
}

func monthsBetween(a, b time.Time) int {
	return (b.Year()-a.Year())*12 + int(b.Month()) - int(a.Month())
}

// relativeDay is the day of d's month that index selects among the days
// whose weekday is in days: the Nth of them, or the last (MS-OXOCAL
// 2.2.1.44.1.6, "the Nth occurrence of the days specified").
func relativeDay(d time.Time, days []time.Weekday, index string) int {
	first := time.Date(d.Year(), d.Month(), 1, 0, 0, 0, 0, time.UTC)
	var fits []int
	for x := first; x.Month() == d.Month(); x = x.AddDate(0, 0, 1) {
		if slices.Contains(days, x.Weekday()) {
			fits = append(fits, x.Day())
		}
	}
	i := indexes[index]
	if i < 0 {
		return fits[len(fits)-1]
	}
	if i >= len(fits) {
		return -1
	}
	return fits[i]
}

// maxExpansionDays bounds a noEnd series walk.
const maxExpansionDays = 20 * 366

// occurrences returns the original starts of the series' instances that
// overlap [ws, we), leaving out cancelled ones and, unless withExceptions,
// the ones turned into exceptions. Numbered ranges count every generated
// instance, cancelled ones included.
func (sr *series) occurrences(ws, we time.Time, withExceptions bool) []time.Time {
	var out []time.Time
	for _, st := range sr.generated(we) {
		if !overlaps(st, sr.endOf(st), ws, we) {
			continue
		}
		u := st.Unix()
		if sr.cancelled[u] || (!withExceptions && sr.exceptions[u]) {
			continue
		}
		out = append(out, st)
	}
	return out
}

// generated lists every start the pattern and range generate before until,
// cancelled ones included: a numbered range counts them all.
func (sr *series) generated(until time.Time) []time.Time {
	r := sr.rec
	h, mi, se := sr.start.In(sr.loc).Clock()
	var out []time.Time
	for i := 0; i < maxExpansionDays; i++ {
		d := r.StartDate.AddDate(0, 0, i)
		if r.RangeType == "endDate" && d.After(r.EndDate) || r.RangeType == "numbered" && len(out) >= r.Occurrences {
			break
		}
		if !r.matches(d) {
			continue
		}
		st := time.Date(d.Year(), d.Month(), d.Day(), h, mi, se, 0, sr.loc).UTC()
		if !st.Before(until) {
			break
		}
		out = append(out, st)
	}
	return out
}

// hasOccurrence reports whether orig is a generated, uncancelled start.
func (sr *series) hasOccurrence(orig time.Time) bool {
	for _, st := range sr.occurrences(orig, orig.Add(time.Second), true) {
		if st.Equal(orig) {
			return true
		}
	}
	return false
}

// validationSpan is how far validate looks for occurrences: a little over
// the longest period (4 years, for February 29).
const validationSpan = 5 * 366 * 24 * time.Hour

// validate applies the write rules on a series (semantics §1.3): it must
// have an occurrence (EWS ErrorRecurrenceHasNoOccurrence; Graph's code is
// UNCONFIRMED), and no occurrence may overlap the next
// (ErrorOccurrenceTimeSpanTooBig).
func (sr *series) validate() *apiErr {
	starts := sr.generated(sr.rec.StartDate.Add(validationSpan))
	if len(starts) == 0 {
		return badRequest("ErrorRecurrenceHasNoOccurrence", "The recurrence pattern and range have no occurrence.")
	}
	for i := 1; i < len(starts); i++ {
		if sr.endOf(starts[i-1]).After(starts[i]) {
			return badRequest("ErrorOccurrenceTimeSpanTooBig", "One occurrence of the recurring calendar item overlaps with another occurrence of the same calendar item.")
		}
	}
	return nil
}

// first is the start of the series' first occurrence that is not cancelled.
func (sr *series) first() (time.Time, bool) {
	for _, st := range sr.generated(sr.rec.StartDate.AddDate(0, 0, maxExpansionDays)) {
		if !sr.cancelled[st.Unix()] {
			return st, true
		}
	}
	return time.Time{}, false
}

// neighbours are the generated starts just before and after orig.
func (sr *series) neighbours(orig time.Time) (prev, next time.Time, hasPrev, hasNext bool) {
	for _, st := range sr.generated(orig.Add(validationSpan)) {
		switch {
		case st.Before(orig):
			prev, hasPrev = st, true
		case st.After(orig) && !hasNext:
			next, hasNext = st, true
		}
	}
	return
}

func overlaps(s, e, ws, we time.Time) bool {
	if s.Equal(e) {
		return !s.Before(ws) && s.Before(we)
	}
	return s.Before(we) && e.After(ws)
}
