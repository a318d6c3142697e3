package scenario

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// SeriesRemote is a Remote that models Microsoft 365 series: the series
// commands of a script (ms add … recurrence=, ms cancel, ms move, ms edit …
// recurrence=, show) need one. Fake is not one: scripts that use them are
// marked sim-only.
type SeriesRemote interface {
	Remote
	// SeedSeries creates a series as a Microsoft 365 user would: ev's
	// content, its first occurrence at ev.Start..ev.End, with pattern p.
	SeedSeries(ref string, ev calsync.RemoteEvent, p Pattern) string
	// SetPattern gives series master id the pattern p, as a Microsoft 365
	// user changing the series would.
	SetPattern(id string, p Pattern)
	// Instances lists the occurrences and exceptions of series master id
	// that overlap [from, to), each with its OriginalStart (cancelled ones
	// are not listed).
	Instances(id string, from, to time.Time) []calsync.RemoteEvent
	// EditOccurrence changes the occurrence of series id at original start
	// orig as a Microsoft 365 user would (it becomes an exception).
	EditOccurrence(id string, orig time.Time, fn func(*calsync.RemoteEvent))
	// CancelOccurrence deletes the occurrence of series id at original
	// start orig as a Microsoft 365 user would.
	CancelOccurrence(id string, orig time.Time)
	// Series is what the transcript shows of series master id: its
	// pattern as Microsoft 365 stores it, written as PatternText writes
	// it, and its exceptions and cancelled occurrences as a read of the
	// master gives them.
	Series(id string) (pattern string, info *calsync.SeriesInfo)
}

// Pattern is a series pattern in Graph's terms (patternedRecurrence), as a
// Microsoft 365 user sets it: "ms add|edit REF recurrence=TYPE;key=value;…".
type Pattern struct {
	// Type is daily, weekly, absoluteMonthly, relativeMonthly,
	// absoluteYearly or relativeYearly; Interval is in Graph's units
	// (years for the yearly types).
	Type           string
	Interval       int
	DaysOfWeek     []string
	DayOfMonth     int
	Month          int
	Index          string // first … fourth, last
	FirstDayOfWeek string
	// The range: numbered (Occurrences), endDate (EndDate, an inclusive
	// date) or noEnd; its startDate is the date of the series' start.
	Occurrences int
	EndDate     string
	// TimeZone is the Windows zone of the start and of the range.
	TimeZone string
}

// spec splits a recurrence= value, "TYPE;key=value;…", into its type and
// its settings, failing on a key not in known.
func spec(v string, known ...string) (string, map[string]string, error) {
	parts := strings.Split(v, ";")
	kv := map[string]string{}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(p, "=")
		if !ok || !slices.Contains(known, k) {
			return "", nil, fmt.Errorf("recurrence %q: unknown setting %q (known: %s)", v, p, strings.Join(known, ", "))
		}
		kv[k] = val
	}
	return parts[0], kv, nil
}

// atoi reads a whole number of a recurrence setting; absent is def.
func atoi(kv map[string]string, k string, def int) (int, error) {
	v, ok := kv[k]
	if !ok {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("recurrence setting %s=%q: %v", k, v, err)
	}
	return n, nil
}

// ParseRecurrence reads an Oro recurrence as "oro add|edit ID recurrence="
// writes it, in Oro's terms (calendar-semantics §2.2):
// TYPE;interval=N;instance=K;days=D,…;day=N;month=N;occurrences=N;until=INSTANT;tz=IANA
// with TYPE daily, weekly, monthly, monthnth, yearly or yearnth, the
// interval in Oro's units (months for the yearly types) and 1 when absent.
// Its startTime is the event's start.
func ParseRecurrence(v string, start time.Time) (*calsync.Recurrence, error) {
	typ, kv, err := spec(v, "interval", "instance", "days", "day", "month", "occurrences", "until", "tz")
	if err != nil {
		return nil, err
	}
	r := &calsync.Recurrence{RecurrenceType: typ, StartTime: start, TimeZone: kv["tz"]}
	if d := kv["days"]; d != "" {
		r.DayOfWeek = strings.Split(d, ",")
	}
	for k, dst := range map[string]*int{"interval": &r.Interval, "instance": &r.Instance, "day": &r.DayOfMonth, "month": &r.MonthOfYear} {
		def := 0
		if k == "interval" {
			def = 1
		}
		if *dst, err = atoi(kv, k, def); err != nil {
			return nil, err
		}
	}
	if _, ok := kv["occurrences"]; ok {
		n, err := atoi(kv, "occurrences", 0)
		if err != nil {
			return nil, err
		}
		r.Count = &n
	}
	if u := kv["until"]; u != "" {
		t, err := time.Parse(time.RFC3339, u)
		if err != nil {
			return nil, fmt.Errorf("recurrence until=%q: %v", u, err)
		}
		r.EndTime = &t
	}
	return r, nil
}

// ParsePattern reads a Microsoft 365 pattern as "ms add|edit REF
// recurrence=" writes it, in Graph's terms:
// TYPE;interval=N;index=NAME;days=D,…;day=N;month=N;first=DAY;occurrences=N;until=DATE;tz=WINDOWS
// (interval 1 and time zone UTC when absent; neither occurrences nor
// until: noEnd).
func ParsePattern(v string) (Pattern, error) {
	typ, kv, err := spec(v, "interval", "index", "days", "day", "month", "first", "occurrences", "until", "tz")
	if err != nil {
		return Pattern{}, err
	}
	p := Pattern{Type: typ, Index: kv["index"], FirstDayOfWeek: kv["first"], EndDate: kv["until"], TimeZone: kv["tz"]}
	if p.TimeZone == "" {
		p.TimeZone = "UTC"
	}
	if d := kv["days"]; d != "" {
		p.DaysOfWeek = strings.Split(d, ",")
	}
	for k, dst := range map[string]*int{"interval": &p.Interval, "day": &p.DayOfMonth, "month": &p.Month, "occurrences": &p.Occurrences} {
		def := 0
		if k == "interval" {
			def = 1
		}
		if *dst, err = atoi(kv, k, def); err != nil {
			return Pattern{}, err
		}
	}
	return p, nil
}

// recurrenceText writes an Oro recurrence as ParseRecurrence reads it
// (its startTime is the event's start).
func recurrenceText(r *calsync.Recurrence) string {
	parts := []string{r.RecurrenceType, "interval=" + strconv.Itoa(r.Interval)}
	add := func(k string, n int) {
		if n != 0 {
			parts = append(parts, k+"="+strconv.Itoa(n))
		}
	}
	add("instance", r.Instance)
	if len(r.DayOfWeek) > 0 {
		parts = append(parts, "days="+strings.Join(r.DayOfWeek, ","))
	}
	add("day", r.DayOfMonth)
	add("month", r.MonthOfYear)
	if r.Count != nil {
		parts = append(parts, "occurrences="+strconv.Itoa(*r.Count))
	}
	if r.EndTime != nil {
		parts = append(parts, "until="+r.EndTime.UTC().Format(time.RFC3339))
	}
	return strings.Join(append(parts, "tz="+r.TimeZone), ";")
}

// showRecurrence shows an Oro recurrence with its startTime.
func showRecurrence(r *calsync.Recurrence) string {
	return recurrenceText(r) + ";startTime=" + r.StartTime.UTC().Format(time.RFC3339)
}

// seriesCommand runs a series command of the script on the Microsoft side
// on series id: ms edit REF recurrence=, ms cancel, ms move (ms add REF …
// recurrence= is SeedSeries).
func seriesCommand(remote Remote, action, id string, args map[string]string) error {
	sr, ok := remote.(SeriesRemote)
	if !ok {
		return fmt.Errorf("this remote does not model series: mark the script sim-only")
	}
	switch action {
	case "edit":
		p, err := ParsePattern(args["recurrence"])
		if err != nil {
			return err
		}
		sr.SetPattern(id, p)
	case "cancel", "move":
		orig, err := time.Parse(time.RFC3339, args["orig"])
		if err != nil {
			return fmt.Errorf("orig=: %v", err)
		}
		if action == "cancel" {
			sr.CancelOccurrence(id, orig)
			break
		}
		sr.EditOccurrence(id, orig, func(ev *calsync.RemoteEvent) { setRemote(ev, args) })
	}
	return nil
}

// showSeries writes the occurrences in [from, to) of Oro series master id
// as the host expands it (Oro's rules, its exceptions applied) and of its
// linked Microsoft 365 series, each start in the series' zone (the dates of
// an all-day series).
func showSeries(out *strings.Builder, h *Host, remote Remote, id string, from, to time.Time) error {
	m := h.Events[id]
	if m == nil || m.Recurrence == nil {
		return fmt.Errorf("%s is not an Oro series", id)
	}
	loc, err := time.LoadLocation(m.Recurrence.TimeZone)
	if err != nil {
		return err
	}
	start, err := startIn(m.Start, loc)
	if err != nil {
		return err
	}
	show := func(t time.Time) string { return t.In(loc).Format(time.RFC3339) }
	if m.AllDay { // dates: Oro's midnight in the zone, Microsoft's midnight UTC
		show = func(t time.Time) string { return t.In(loc).Format(dateLayout) }
	}
	var oro []string
	moved := map[time.Time]*HostEvent{}
	for _, x := range h.exceptions(id) {
		moved[x.orig()] = x
	}
	for _, st := range m.Recurrence.Occurrences(start, from, to) {
		x := moved[st.UTC()]
		switch {
		case x == nil:
			oro = append(oro, show(st))
		case !x.IsCancelled:
			s, err := startIn(x.Start, loc)
			if err != nil {
				return err
			}
			oro = append(oro, show(s)+"*")
		}
	}
	fmt.Fprintf(out, "  oro:       %s\n", strings.Join(oro, " "))
	if m.Link == nil {
		out.WriteString("  microsoft: (not linked)\n")
		return nil
	}
	sr, ok := remote.(SeriesRemote)
	if !ok {
		return fmt.Errorf("this remote does not model series: mark the script sim-only")
	}
	var ms []string
	for _, o := range sr.Instances(m.Link.RemoteID, from, to) {
		s := show(o.Start)
		if o.AllDay {
			s = o.Start.UTC().Format(dateLayout)
		}
		if o.Type == "exception" {
			s += "*"
		}
		ms = append(ms, s)
	}
	fmt.Fprintf(out, "  microsoft: %s\n", strings.Join(ms, " "))
	return nil
}

// startIn reads an Oro event's start: an instant, or the date of an
// all-day event, which starts at midnight in loc.
func startIn(s string, loc *time.Location) (time.Time, error) {
	if d, err := time.Parse(dateLayout, s); err == nil {
		return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc), nil
	}
	return time.Parse(time.RFC3339, s)
}

// orig is an exception's original start.
func (e *HostEvent) orig() time.Time {
	t, _ := time.Parse(time.RFC3339, e.OriginalStart)
	return t.UTC()
}

// writeOroSeries writes what the final state shows of an Oro series
// master: its recurrence, then its exceptions in order of original start.
func writeOroSeries(out *strings.Builder, h *Host, m *HostEvent) {
	if m.Recurrence != nil {
		fmt.Fprintf(out, "    recurrence %s\n", showRecurrence(m.Recurrence))
	}
	for _, x := range h.exceptions(m.ID) {
		if x.IsCancelled {
			fmt.Fprintf(out, "    %s cancelled orig=%s dirty=%v\n", x.ID, x.OriginalStart, x.Dirty)
			continue
		}
		fmt.Fprintf(out, "    %s exception orig=%s %q %s..%s loc=%q dirty=%v\n", x.ID, x.OriginalStart, x.Title, x.Start, x.End, x.Location, x.Dirty)
	}
}

// writeOpSeries writes the recurrence and the exceptions an operation
// gives a series master.
func writeOpSeries(out *strings.Builder, e *calsync.Event) {
	fmt.Fprintf(out, "  recurrence %s\n", showRecurrence(e.Recurrence))
	for _, x := range e.Exceptions {
		if x.IsCancelled {
			fmt.Fprintf(out, "  cancelled orig=%s\n", x.OriginalStart)
			continue
		}
		fmt.Fprintf(out, "  exception orig=%s %q %s..%s loc=%q\n", x.OriginalStart, x.Title, x.Start, x.End, x.Location)
	}
}

// writeMicrosoftSeries writes what the final state shows of a Microsoft
// 365 series master: its pattern, exceptions and cancelled occurrences.
func writeMicrosoftSeries(out *strings.Builder, remote Remote, id string) {
	sr, ok := remote.(SeriesRemote)
	if !ok {
		return
	}
	pattern, info := sr.Series(id)
	fmt.Fprintf(out, "    pattern %s\n", pattern)
	if info == nil {
		return
	}
	if info.Problem != "" {
		fmt.Fprintf(out, "    problem %s\n", info.Problem)
	}
	for _, x := range info.Exceptions {
		fmt.Fprintf(out, "    exception orig=%s %q %s..%s loc=%q\n", x.OriginalStart.UTC().Format(time.RFC3339), x.Subject,
			x.Start.UTC().Format(time.RFC3339), x.End.UTC().Format(time.RFC3339), x.Location)
	}
	for _, c := range info.Cancelled {
		fmt.Fprintf(out, "    cancelled orig=%s\n", c.UTC().Format(time.RFC3339))
	}
}

// PatternText shows a pattern as ParsePattern reads it, its range's start
// date added.
func PatternText(p Pattern, startDate string) string {
	parts := []string{p.Type, "interval=" + strconv.Itoa(p.Interval)}
	if p.Index != "" {
		parts = append(parts, "index="+p.Index)
	}
	if len(p.DaysOfWeek) > 0 {
		parts = append(parts, "days="+strings.Join(p.DaysOfWeek, ","))
	}
	if p.DayOfMonth != 0 {
		parts = append(parts, "day="+strconv.Itoa(p.DayOfMonth))
	}
	if p.Month != 0 {
		parts = append(parts, "month="+strconv.Itoa(p.Month))
	}
	if p.FirstDayOfWeek != "" {
		parts = append(parts, "first="+p.FirstDayOfWeek)
	}
	if p.Occurrences != 0 {
		parts = append(parts, "occurrences="+strconv.Itoa(p.Occurrences))
	}
	if p.EndDate != "" {
		parts = append(parts, "until="+p.EndDate)
	}
	return strings.Join(append(parts, "tz="+p.TimeZone, "startDate="+startDate), ";")
}
