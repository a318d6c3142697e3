package calsync

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

func ptr[T any](v T) *T { return &v }

// local is the instant of a wall-clock time in zone.
func local(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestRecurrenceValidate(t *testing.T) {
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	base := func(typ string) Recurrence {
		r := Recurrence{RecurrenceType: typ, Interval: 1, StartTime: start, TimeZone: "Europe/Berlin"}
		switch typ {
		case RecurrenceWeekly:
			r.DayOfWeek = []string{"monday"}
		case RecurrenceMonthly:
			r.DayOfMonth = 5
		case RecurrenceMonthNth:
			r.Instance, r.DayOfWeek = 1, []string{"monday"}
		case RecurrenceYearly:
			r.Interval, r.DayOfMonth, r.MonthOfYear = 12, 5, 1
		case RecurrenceYearNth:
			r.Interval, r.Instance, r.DayOfWeek, r.MonthOfYear = 12, 1, []string{"monday"}, 1
		}
		return r
	}
	for _, typ := range []string{RecurrenceDaily, RecurrenceWeekly, RecurrenceMonthly, RecurrenceMonthNth, RecurrenceYearly, RecurrenceYearNth} {
		r := base(typ)
		if err := r.Validate("events[0].recurrence"); err != nil {
			t.Errorf("%s: %v", typ, err)
		}
	}
	cases := []struct {
		name  string
		typ   string
		edit  func(*Recurrence)
		field string
	}{
		{"no type", RecurrenceDaily, func(r *Recurrence) { r.RecurrenceType = "" }, "recurrenceType"},
		{"unknown type", RecurrenceDaily, func(r *Recurrence) { r.RecurrenceType = "hourly" }, "recurrenceType"},
		{"interval 0", RecurrenceDaily, func(r *Recurrence) { r.Interval = 0 }, "interval"},
		{"daily interval 100", RecurrenceDaily, func(r *Recurrence) { r.Interval = 100 }, "interval"},
		{"weekly interval 1000", RecurrenceWeekly, func(r *Recurrence) { r.Interval = 1000 }, "interval"},
		{"yearly interval 18", RecurrenceYearly, func(r *Recurrence) { r.Interval = 18 }, "interval"},
		{"yearnth interval 1", RecurrenceYearNth, func(r *Recurrence) { r.Interval = 1 }, "interval"},
		{"yearly interval 1008", RecurrenceYearly, func(r *Recurrence) { r.Interval = 1008 }, "interval"},
		{"no start", RecurrenceDaily, func(r *Recurrence) { r.StartTime = time.Time{} }, "startTime"},
		{"no zone", RecurrenceDaily, func(r *Recurrence) { r.TimeZone = "" }, "timeZone"},
		{"bad zone", RecurrenceDaily, func(r *Recurrence) { r.TimeZone = "Mars/Olympus" }, "timeZone"},
		{"Local zone", RecurrenceDaily, func(r *Recurrence) { r.TimeZone = "Local" }, "timeZone"},
		{"path zone", RecurrenceDaily, func(r *Recurrence) { r.TimeZone = "../../etc/passwd" }, "timeZone"},
		{"instance 6", RecurrenceMonthNth, func(r *Recurrence) { r.Instance = 6 }, "instance"},
		{"dayOfMonth 32", RecurrenceMonthly, func(r *Recurrence) { r.DayOfMonth = 32 }, "dayOfMonth"},
		{"monthOfYear 13", RecurrenceYearly, func(r *Recurrence) { r.MonthOfYear = 13 }, "monthOfYear"},
		{"bad day", RecurrenceWeekly, func(r *Recurrence) { r.DayOfWeek = []string{"monday", "Funday"} }, "dayOfWeek[1]"},
		{"capitalised day", RecurrenceWeekly, func(r *Recurrence) { r.DayOfWeek = []string{"Monday"} }, "dayOfWeek[0]"},
		{"count 0", RecurrenceDaily, func(r *Recurrence) { r.Count = ptr(0) }, "occurrences"},
		{"end before start", RecurrenceDaily, func(r *Recurrence) { r.EndTime = ptr(start.Add(-time.Second)) }, "endTime"},
		{"weekly without days", RecurrenceWeekly, func(r *Recurrence) { r.DayOfWeek = nil }, "dayOfWeek"},
		{"monthly without day", RecurrenceMonthly, func(r *Recurrence) { r.DayOfMonth = 0 }, "dayOfMonth"},
		{"monthnth without instance", RecurrenceMonthNth, func(r *Recurrence) { r.Instance = 0 }, "instance"},
		{"monthnth without days", RecurrenceMonthNth, func(r *Recurrence) { r.DayOfWeek = []string{} }, "dayOfWeek"},
		{"yearly without month", RecurrenceYearly, func(r *Recurrence) { r.MonthOfYear = 0 }, "monthOfYear"},
		{"yearly without day", RecurrenceYearly, func(r *Recurrence) { r.DayOfMonth = 0 }, "dayOfMonth"},
		{"yearnth without month", RecurrenceYearNth, func(r *Recurrence) { r.MonthOfYear = 0 }, "monthOfYear"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := base(c.typ)
			c.edit(&r)
			err := r.Validate("events[3].recurrence")
			e := AsError(err)
			if err == nil || e.Kind != KindInvalidInput {
				t.Fatalf("got %v, want an invalid_input error", err)
			}
			if want := "events[3].recurrence." + c.field; e.Field != want {
				t.Errorf("field %q, want %q (%v)", e.Field, want, err)
			}
		})
	}
}

func TestRecurrenceJSON(t *testing.T) {
	r := Recurrence{RecurrenceType: RecurrenceWeekly, Interval: 2, DayOfWeek: []string{"monday"},
		StartTime: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), TimeZone: "Europe/Berlin"}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"recurrenceType":"weekly","interval":2,"dayOfWeek":["monday"],"startTime":"2026-01-05T09:00:00Z","timeZone":"Europe/Berlin"}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	in := `{"recurrenceType":"monthnth","interval":1,"instance":5,"dayOfWeek":["friday"],"startTime":"2026-01-01T09:00:00+01:00",` +
		`"endTime":"2026-12-31T23:59:59+01:00","occurrences":null,"timeZone":"Europe/Berlin"}`
	var back Recurrence
	if err := json.Unmarshal([]byte(in), &back); err != nil {
		t.Fatal(err)
	}
	if back.Instance != InstanceLast || back.Count != nil || back.EndTime == nil || back.EndTime.Month() != 12 {
		t.Errorf("decoded %+v", back)
	}
	// Oro's normalizer writes the zone as "timezone"; encoding/json matches
	// field names without regard to case, so it decodes as well
	var lower Recurrence
	if err := json.Unmarshal([]byte(`{"recurrenceType":"daily","interval":1,"timezone":"Europe/Berlin"}`), &lower); err != nil || lower.TimeZone != "Europe/Berlin" {
		t.Errorf("timezone: %q, %v", lower.TimeZone, err)
	}
}

func TestRecurrenceOccurrences(t *testing.T) {
	const berlin, sydney = "Europe/Berlin", "Australia/Sydney"
	cases := []struct {
		name  string
		r     Recurrence
		zone  string
		start string // the master's start, also StartTime unless startTime is set
		// startTime, when set, is a StartTime on another day or time
		startTime string
		want      []string // wall-clock starts in zone
	}{
		{name: "daily every 2 days across Berlin's spring DST",
			r: Recurrence{RecurrenceType: RecurrenceDaily, Interval: 2, Count: ptr(4)}, zone: berlin, start: "2026-03-27 10:00",
			want: []string{"2026-03-27 10:00", "2026-03-29 10:00", "2026-03-31 10:00", "2026-04-02 10:00"}},
		{name: "daily across Sydney's autumn DST",
			r: Recurrence{RecurrenceType: RecurrenceDaily, Interval: 1, Count: ptr(3)}, zone: sydney, start: "2026-04-04 09:00",
			want: []string{"2026-04-04 09:00", "2026-04-05 09:00", "2026-04-06 09:00"}},
		{name: "weekly Oro's own example: every 2 weeks Mon+Fri from Thu 2016-10-06",
			r: Recurrence{RecurrenceType: RecurrenceWeekly, Interval: 2, DayOfWeek: []string{"friday", "monday"}, Count: ptr(4)}, zone: "UTC", start: "2016-10-06 09:00",
			want: []string{"2016-10-07 09:00", "2016-10-17 09:00", "2016-10-21 09:00", "2016-10-31 09:00"}},
		{name: "weekly: the week begins on Sunday",
			r: Recurrence{RecurrenceType: RecurrenceWeekly, Interval: 2, DayOfWeek: []string{"sunday", "saturday"}, Count: ptr(4)}, zone: berlin, start: "2026-01-04 08:00",
			want: []string{"2026-01-04 08:00", "2026-01-10 08:00", "2026-01-18 08:00", "2026-01-24 08:00"}},
		{name: "monthly day 31 falls on each month's last day",
			r: Recurrence{RecurrenceType: RecurrenceMonthly, Interval: 1, DayOfMonth: 31, Count: ptr(4)}, zone: berlin, start: "2026-01-31 12:00",
			want: []string{"2026-01-31 12:00", "2026-02-28 12:00", "2026-03-31 12:00", "2026-04-30 12:00"}},
		{name: "monthly: a first day before the start moves a whole interval",
			r: Recurrence{RecurrenceType: RecurrenceMonthly, Interval: 2, DayOfMonth: 5, Count: ptr(2)}, zone: berlin, start: "2026-01-10 12:00",
			want: []string{"2026-03-05 12:00", "2026-05-05 12:00"}},
		{name: "monthnth last Friday",
			r: Recurrence{RecurrenceType: RecurrenceMonthNth, Interval: 1, Instance: InstanceLast, DayOfWeek: []string{"friday"}, Count: ptr(4)}, zone: sydney, start: "2026-01-01 18:30",
			want: []string{"2026-01-30 18:30", "2026-02-27 18:30", "2026-03-27 18:30", "2026-04-24 18:30"}},
		{name: "monthnth second weekday is the second matching day",
			r: Recurrence{RecurrenceType: RecurrenceMonthNth, Interval: 1, Instance: 2, DayOfWeek: []string{"monday", "tuesday", "wednesday", "thursday", "friday"}, Count: ptr(3)}, zone: berlin, start: "2026-08-04 09:00",
			want: []string{"2026-08-04 09:00", "2026-09-02 09:00", "2026-10-02 09:00"}},
		{name: "monthnth second weekend day",
			r: Recurrence{RecurrenceType: RecurrenceMonthNth, Interval: 1, Instance: 2, DayOfWeek: []string{"saturday", "sunday"}, Count: ptr(1)}, zone: berlin, start: "2026-08-01 09:00",
			want: []string{"2026-08-02 09:00"}},
		{name: "yearly every 2 years on February 29",
			r: Recurrence{RecurrenceType: RecurrenceYearly, Interval: 24, MonthOfYear: 2, DayOfMonth: 29, Count: ptr(3)}, zone: berlin, start: "2024-02-29 07:00",
			want: []string{"2024-02-29 07:00", "2026-02-28 07:00", "2028-02-29 07:00"}},
		{name: "yearly: this year's day already passed",
			r: Recurrence{RecurrenceType: RecurrenceYearly, Interval: 12, MonthOfYear: 3, DayOfMonth: 1, Count: ptr(2)}, zone: berlin, start: "2026-06-01 07:00",
			want: []string{"2027-03-01 07:00", "2028-03-01 07:00"}},
		{name: "yearnth first Monday of September",
			r: Recurrence{RecurrenceType: RecurrenceYearNth, Interval: 12, Instance: 1, MonthOfYear: 9, DayOfWeek: []string{"monday"}, Count: ptr(2)}, zone: berlin, start: "2026-01-01 09:00",
			want: []string{"2026-09-07 09:00", "2027-09-06 09:00"}},
		{name: "the master's wall clock, StartTime's date",
			r: Recurrence{RecurrenceType: RecurrenceDaily, Interval: 1, Count: ptr(2)}, zone: berlin, start: "2026-03-01 10:00", startTime: "2026-03-03 00:00",
			want: []string{"2026-03-03 10:00", "2026-03-04 10:00"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.r
			r.TimeZone = c.zone
			start := local(t, c.zone, c.start)
			r.StartTime = start
			if c.startTime != "" {
				r.StartTime = local(t, c.zone, c.startTime)
			}
			got := r.Occurrences(start, start.AddDate(-1, 0, 0), start.AddDate(10, 0, 0))
			var want []time.Time
			for _, w := range c.want {
				want = append(want, local(t, c.zone, w).UTC())
			}
			if !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

func TestRecurrenceEndTimeIsAnInstant(t *testing.T) {
	start := local(t, "Europe/Berlin", "2026-05-01 10:00")
	r := Recurrence{RecurrenceType: RecurrenceDaily, Interval: 1, StartTime: start, TimeZone: "Europe/Berlin",
		EndTime: ptr(local(t, "Europe/Berlin", "2026-05-03 09:59"))}
	got := r.Occurrences(start, start, start.AddDate(1, 0, 0))
	if len(got) != 2 {
		t.Errorf("an endTime before the third occurrence's time kept %d occurrences, want 2: %v", len(got), got)
	}
	r.EndTime = ptr(local(t, "Europe/Berlin", "2026-05-03 10:00"))
	if got := r.Occurrences(start, start, start.AddDate(1, 0, 0)); len(got) != 3 {
		t.Errorf("an endTime at the third occurrence kept %d occurrences, want 3: %v", len(got), got)
	}
	// both limits: whichever ends first
	r.Count = ptr(2)
	if got := r.Occurrences(start, start, start.AddDate(1, 0, 0)); len(got) != 2 {
		t.Errorf("count 2 and a later endTime kept %d occurrences, want 2", len(got))
	}
}

func TestRecurrenceOccurrencesInvalid(t *testing.T) {
	r := Recurrence{RecurrenceType: "hourly", Interval: 1, StartTime: time.Now(), TimeZone: "UTC"}
	if got := r.Occurrences(r.StartTime, r.StartTime, r.StartTime.Add(time.Hour*1000)); got != nil {
		t.Errorf("an invalid recurrence has occurrences: %v", got)
	}
}

// TestRecurrenceWindow checks that a window far from the start (where the
// walk skips ahead) returns what a walk from the start finds in it.
func TestRecurrenceWindow(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	zones := []string{"Europe/Berlin", "Australia/Sydney", "America/New_York", "UTC"}
	for i := range 500 {
		r := randomRecurrence(rng)
		r.TimeZone = zones[rng.IntN(len(zones))]
		start := time.Date(2020+rng.IntN(8), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 15*rng.IntN(4), 0, 0, time.UTC)
		r.StartTime = start
		all := r.Occurrences(start, start, start.AddDate(12, 0, 0))
		from := start.Add(time.Duration(rng.Int64N(int64(8 * 365 * 24 * time.Hour))))
		to := from.Add(time.Duration(rng.Int64N(int64(3 * 365 * 24 * time.Hour))))
		var want []time.Time
		for _, st := range all {
			if !st.Before(from) && st.Before(to) {
				want = append(want, st)
			}
		}
		if got := r.Occurrences(start, from, to); !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Fatalf("case %d %+v in [%v, %v):\ngot  %v\nwant %v", i, r, from, to, got, want)
		}
	}
}

func randomRecurrence(rng *rand.Rand) Recurrence {
	types := []string{RecurrenceDaily, RecurrenceWeekly, RecurrenceMonthly, RecurrenceMonthNth, RecurrenceYearly, RecurrenceYearNth}
	r := Recurrence{RecurrenceType: types[rng.IntN(len(types))], Interval: 1 + rng.IntN(4)}
	days := func() []string {
		var out []string
		for _, d := range dayNames {
			if rng.IntN(3) == 0 {
				out = append(out, d)
			}
		}
		if len(out) == 0 {
			out = []string{dayNames[rng.IntN(7)]}
		}
		return out
	}
	switch r.RecurrenceType {
	case RecurrenceWeekly:
		r.DayOfWeek = days()
	case RecurrenceMonthly:
		r.DayOfMonth = 1 + rng.IntN(31)
	case RecurrenceMonthNth:
		r.Instance, r.DayOfWeek = 1+rng.IntN(5), days()
	case RecurrenceYearly:
		r.Interval *= 12
		r.DayOfMonth, r.MonthOfYear = 1+rng.IntN(31), 1+rng.IntN(12)
	case RecurrenceYearNth:
		r.Interval *= 12
		r.Instance, r.DayOfWeek, r.MonthOfYear = 1+rng.IntN(5), days(), 1+rng.IntN(12)
	}
	return r
}

func TestWeekdayNames(t *testing.T) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if got, ok := Weekday(DayName(d)); !ok || got != d || DayName(d) != strings.ToLower(d.String()) {
			t.Errorf("%v: %q → %v %v", d, DayName(d), got, ok)
		}
	}
}
