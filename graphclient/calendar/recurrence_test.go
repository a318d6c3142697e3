package calendar

import (
	"encoding/json"
	"reflect"
	"slices"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

func intp(n int) *int { return &n }

func at(t *testing.T, zone, s string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04:05", s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC()
}

// TestRecurrenceToGraph maps one Oro recurrence of each type, and each
// range, and compares the wire JSON.
func TestRecurrenceToGraph(t *testing.T) {
	const berlin = "Europe/Berlin"
	cases := []struct {
		name      string
		r         calsync.Recurrence
		start     string // the master's start in the zone, also StartTime
		wantJSON  string
		wantZone  string
		wantFirst string
	}{
		{"daily numbered",
			calsync.Recurrence{RecurrenceType: "daily", Interval: 3, Count: intp(10), TimeZone: berlin}, "2026-03-27 10:00:00",
			`{"pattern":{"type":"daily","interval":3},"range":{"type":"numbered","startDate":"2026-03-27","numberOfOccurrences":10,"recurrenceTimeZone":"W. Europe Standard Time"}}`,
			"W. Europe Standard Time", "2026-03-27 10:00:00"},
		{"weekly from Sunday, first occurrence after the start",
			calsync.Recurrence{RecurrenceType: "weekly", Interval: 2, DayOfWeek: []string{"monday", "friday"}, TimeZone: "UTC"}, "2016-10-06 09:00:00",
			`{"pattern":{"type":"weekly","interval":2,"daysOfWeek":["monday","friday"],"firstDayOfWeek":"sunday"},"range":{"type":"noEnd","startDate":"2016-10-07","recurrenceTimeZone":"UTC"}}`,
			"UTC", "2016-10-07 09:00:00"},
		{"monthly day 31",
			calsync.Recurrence{RecurrenceType: "monthly", Interval: 1, DayOfMonth: 31, TimeZone: berlin}, "2026-02-10 12:00:00",
			`{"pattern":{"type":"absoluteMonthly","interval":1,"dayOfMonth":31},"range":{"type":"noEnd","startDate":"2026-02-28","recurrenceTimeZone":"W. Europe Standard Time"}}`,
			"W. Europe Standard Time", "2026-02-28 12:00:00"},
		{"monthnth last Friday, endTime to the date of the last occurrence before it",
			calsync.Recurrence{RecurrenceType: "monthnth", Interval: 1, Instance: 5, DayOfWeek: []string{"friday"}, TimeZone: "Australia/Sydney",
				EndTime: func() *time.Time { v := at(t, "Australia/Sydney", "2026-06-25 00:00:00"); return &v }()}, "2026-01-01 18:30:00",
			`{"pattern":{"type":"relativeMonthly","interval":1,"daysOfWeek":["friday"],"index":"last"},"range":{"type":"endDate","startDate":"2026-01-30","endDate":"2026-05-29","recurrenceTimeZone":"AUS Eastern Standard Time"}}`,
			"AUS Eastern Standard Time", "2026-01-30 18:30:00"},
		{"yearly every 2 years on February 29",
			calsync.Recurrence{RecurrenceType: "yearly", Interval: 24, MonthOfYear: 2, DayOfMonth: 29, TimeZone: berlin}, "2024-02-29 07:00:00",
			`{"pattern":{"type":"absoluteYearly","interval":2,"month":2,"dayOfMonth":29},"range":{"type":"noEnd","startDate":"2024-02-29","recurrenceTimeZone":"W. Europe Standard Time"}}`,
			"W. Europe Standard Time", "2024-02-29 07:00:00"},
		{"yearnth second weekday of March, every 3 years",
			calsync.Recurrence{RecurrenceType: "yearnth", Interval: 36, Instance: 2, MonthOfYear: 3, DayOfWeek: []string{"friday", "monday", "tuesday", "wednesday", "thursday"}, TimeZone: berlin}, "2026-03-20 09:00:00",
			`{"pattern":{"type":"relativeYearly","interval":3,"month":3,"daysOfWeek":["monday","tuesday","wednesday","thursday","friday"],"index":"second"},"range":{"type":"noEnd","startDate":"2029-03-02","recurrenceTimeZone":"W. Europe Standard Time"}}`,
			"W. Europe Standard Time", "2029-03-02 09:00:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.r
			start := at(t, r.TimeZone, c.start)
			r.StartTime = start
			g, zone, first, problem := recurrenceToGraph(r, start, start.Add(time.Hour))
			if problem != "" {
				t.Fatalf("problem %q", problem)
			}
			b, _ := json.Marshal(g)
			if string(b) != c.wantJSON {
				t.Errorf("got  %s\nwant %s", b, c.wantJSON)
			}
			if zone != c.wantZone {
				t.Errorf("zone %q, want %q", zone, c.wantZone)
			}
			if want := at(t, r.TimeZone, c.wantFirst); !first.Equal(want) {
				t.Errorf("first start %v, want %v", first, want)
			}
		})
	}
}

// TestRecurrenceToGraphCannot covers what Graph cannot hold.
func TestRecurrenceToGraphCannot(t *testing.T) {
	const berlin = "Europe/Berlin"
	start := at(t, berlin, "2026-03-06 10:00:00")
	end := func(s string) *time.Time { v := at(t, berlin, s); return &v }
	daily := calsync.Recurrence{RecurrenceType: "daily", Interval: 1, StartTime: start, TimeZone: berlin}
	cases := []struct {
		name    string
		edit    func(*calsync.Recurrence)
		dur     time.Duration
		start   time.Time
		problem string
	}{
		{"invalid", func(r *calsync.Recurrence) { r.Interval = 100 }, time.Hour, start, problemInvalid},
		{"zone without a Windows name", func(r *calsync.Recurrence) { r.TimeZone = "Antarctica/Troll" }, time.Hour, start, problemZoneUnmapped},
		{"both endTime and occurrences", func(r *calsync.Recurrence) { r.Count, r.EndTime = intp(3), end("2026-04-01 00:00:00") }, time.Hour, start, problemEndAndCount},
		{"endTime before the first occurrence's time", func(r *calsync.Recurrence) {
			r.EndTime = end("2026-03-06 09:59:59")
			r.StartTime = start.Add(-time.Hour)
		}, time.Hour, start, problemNoOccurrence},
		{"a 25-hour daily occurrence", func(r *calsync.Recurrence) {}, 25 * time.Hour, start, problemTimeSpanTooBig},
		{"a 24-hour daily occurrence across the spring DST night", func(r *calsync.Recurrence) {}, 24 * time.Hour, start, problemTimeSpanTooBig},
		{"weekly Fri+Sat lasting 25 hours", func(r *calsync.Recurrence) {
			r.RecurrenceType, r.DayOfWeek = "weekly", []string{"friday", "saturday"}
		}, 25 * time.Hour, start, problemTimeSpanTooBig},
		{"the master's time skipped on the first date", func(r *calsync.Recurrence) {
			r.StartTime = at(t, berlin, "2026-03-29 00:00:00")
		}, time.Hour, at(t, berlin, "2026-03-28 02:30:00"), problemStartInDSTGap},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := daily
			r.StartTime = c.start
			c.edit(&r)
			g, _, _, problem := recurrenceToGraph(r, c.start, c.start.Add(c.dur))
			if problem != c.problem {
				t.Fatalf("problem %q, want %q", problem, c.problem)
			}
			if problem != problemEndAndCount && !reflect.DeepEqual(g, graphRecurrence{}) {
				t.Errorf("a recurrence came with the problem: %+v", g)
			}
		})
	}
	// both limits: the one that ends the series first is the one written
	r := daily
	r.Count, r.EndTime = intp(3), end("2026-04-01 00:00:00")
	if g, _, _, _ := recurrenceToGraph(r, start, start.Add(time.Hour)); g.Range.Type != "numbered" || g.Range.NumberOfOccurrences != 3 {
		t.Errorf("count first: range %+v", g.Range)
	}
	r.Count, r.EndTime = intp(30), end("2026-03-08 10:00:00")
	if g, _, _, _ := recurrenceToGraph(r, start, start.Add(time.Hour)); g.Range.Type != "endDate" || g.Range.EndDate != "2026-03-08" {
		t.Errorf("endTime first: range %+v", g.Range)
	}
}

// TestRecurrenceFromGraph maps each Graph type, and each range, to Oro.
func TestRecurrenceFromGraph(t *testing.T) {
	const w = "W. Europe Standard Time"
	cases := []struct {
		name string
		g    string
		zone string
		want calsync.Recurrence
	}{
		{"daily, as Graph returns it", `{"pattern":{"type":"daily","interval":2,"month":0,"dayOfMonth":0,"daysOfWeek":[],"firstDayOfWeek":"sunday","index":"first"},
			"range":{"type":"noEnd","startDate":"2026-03-27","endDate":"0001-01-01","recurrenceTimeZone":"W. Europe Standard Time","numberOfOccurrences":0}}`, w,
			calsync.Recurrence{RecurrenceType: "daily", Interval: 2, StartTime: at(t, "Europe/Berlin", "2026-03-27 00:00:00"), TimeZone: "Europe/Berlin"}},
		{"weekly with capitalised days and the Monday grouping of one block", `{"pattern":{"type":"weekly","interval":2,"daysOfWeek":["Friday","Monday"],"firstDayOfWeek":"monday"},
			"range":{"type":"numbered","startDate":"2026-03-02","numberOfOccurrences":6}}`, w,
			calsync.Recurrence{RecurrenceType: "weekly", Interval: 2, DayOfWeek: []string{"monday", "friday"}, StartTime: at(t, "Europe/Berlin", "2026-03-02 00:00:00"), Count: intp(6), TimeZone: "Europe/Berlin"}},
		{"absoluteMonthly with an endDate", `{"pattern":{"type":"absoluteMonthly","interval":1,"dayOfMonth":31},
			"range":{"type":"endDate","startDate":"2026-01-31","endDate":"2026-06-30","recurrenceTimeZone":"AUS Eastern Standard Time"}}`, "AUS Eastern Standard Time",
			calsync.Recurrence{RecurrenceType: "monthly", Interval: 1, DayOfMonth: 31, StartTime: at(t, "Australia/Sydney", "2026-01-31 00:00:00"),
				EndTime: func() *time.Time { v := at(t, "Australia/Sydney", "2026-06-30 23:59:59"); return &v }(), TimeZone: "Australia/Sydney"}},
		{"relativeMonthly last weekend day", `{"pattern":{"type":"relativeMonthly","interval":3,"daysOfWeek":["saturday","sunday"],"index":"last"},
			"range":{"type":"noEnd","startDate":"2026-01-31"}}`, w,
			calsync.Recurrence{RecurrenceType: "monthnth", Interval: 3, Instance: 5, DayOfWeek: []string{"sunday", "saturday"}, StartTime: at(t, "Europe/Berlin", "2026-01-31 00:00:00"), TimeZone: "Europe/Berlin"}},
		{"relativeMonthly without an index is the first", `{"pattern":{"type":"relativeMonthly","interval":1,"daysOfWeek":["tuesday"]},
			"range":{"type":"noEnd","startDate":"2026-01-06"}}`, w,
			calsync.Recurrence{RecurrenceType: "monthnth", Interval: 1, Instance: 1, DayOfWeek: []string{"tuesday"}, StartTime: at(t, "Europe/Berlin", "2026-01-06 00:00:00"), TimeZone: "Europe/Berlin"}},
		{"absoluteYearly every 2 years", `{"pattern":{"type":"absoluteYearly","interval":2,"month":2,"dayOfMonth":29},
			"range":{"type":"noEnd","startDate":"2024-02-29"}}`, w,
			calsync.Recurrence{RecurrenceType: "yearly", Interval: 24, MonthOfYear: 2, DayOfMonth: 29, StartTime: at(t, "Europe/Berlin", "2024-02-29 00:00:00"), TimeZone: "Europe/Berlin"}},
		{"relativeYearly with an IANA start zone Graph accepts", `{"pattern":{"type":"relativeYearly","interval":1,"month":11,"daysOfWeek":["thursday"],"index":"fourth"},
			"range":{"type":"numbered","startDate":"2026-11-26","numberOfOccurrences":5,"recurrenceTimeZone":"Eastern Standard Time"}}`, "America/New_York",
			calsync.Recurrence{RecurrenceType: "yearnth", Interval: 12, Instance: 4, MonthOfYear: 11, DayOfWeek: []string{"thursday"}, StartTime: at(t, "America/New_York", "2026-11-26 00:00:00"), Count: intp(5), TimeZone: "America/New_York"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var g graphRecurrence
			if err := json.Unmarshal([]byte(c.g), &g); err != nil {
				t.Fatal(err)
			}
			got, problem := recurrenceFromGraph(g, c.zone)
			if problem != "" {
				t.Fatalf("problem %q", problem)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got  %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// TestRecurrenceFromGraphCannot covers what Oro cannot hold.
func TestRecurrenceFromGraphCannot(t *testing.T) {
	const w = "W. Europe Standard Time"
	rng := `"range":{"type":"noEnd","startDate":"2026-03-02"}`
	cases := []struct {
		name, g, zone, problem string
	}{
		{"daily every 100 days", `{"pattern":{"type":"daily","interval":100},` + rng + `}`, w, problemIntervalMax},
		{"weekly every 1000 weeks", `{"pattern":{"type":"weekly","interval":1000,"daysOfWeek":["monday"]},` + rng + `}`, w, problemIntervalMax},
		{"monthly every 1000 months", `{"pattern":{"type":"absoluteMonthly","interval":1000,"dayOfMonth":2},` + rng + `}`, w, problemIntervalMax},
		{"yearly every 84 years", `{"pattern":{"type":"absoluteYearly","interval":84,"month":3,"dayOfMonth":2},` + rng + `}`, w, problemIntervalMax},
		{"yearly every 83 years is 996 months", `{"pattern":{"type":"absoluteYearly","interval":83,"month":3,"dayOfMonth":2},` + rng + `}`, w, ""},
		{"weekly from Monday, every 2 weeks, Sunday and Monday", `{"pattern":{"type":"weekly","interval":2,"daysOfWeek":["sunday","monday"],"firstDayOfWeek":"monday"},` + rng + `}`, w, problemWeekGrouping},
		{"weekly from Monday, every 2 weeks, starting on a Sunday", `{"pattern":{"type":"weekly","interval":2,"daysOfWeek":["wednesday"],"firstDayOfWeek":"monday"},"range":{"type":"noEnd","startDate":"2026-03-01"}}`, w, problemWeekGrouping},
		{"weekly from Monday, every week, any days", `{"pattern":{"type":"weekly","interval":1,"daysOfWeek":["sunday","monday"],"firstDayOfWeek":"monday"},` + rng + `}`, w, ""},
		{"recurrence zone not the start's", `{"pattern":{"type":"daily","interval":1},"range":{"type":"noEnd","startDate":"2026-03-02","recurrenceTimeZone":"Romance Standard Time"}}`, w, problemZoneDiffers},
		{"recurrence zone the start's by another name", `{"pattern":{"type":"daily","interval":1},"range":{"type":"noEnd","startDate":"2026-03-02","recurrenceTimeZone":"Europe/Berlin"}}`, w, ""},
		{"custom start zone", `{"pattern":{"type":"daily","interval":1},` + rng + `}`, "tzone://Microsoft/Custom", problemCustomZone},
		{"custom recurrence zone", `{"pattern":{"type":"daily","interval":1},"range":{"type":"noEnd","startDate":"2026-03-02","recurrenceTimeZone":"tzone://Microsoft/Custom"}}`, w, problemCustomZone},
		{"unmapped zone", `{"pattern":{"type":"daily","interval":1},` + rng + `}`, "Mars Standard Time", problemZoneUnmapped},
		{"unknown pattern type", `{"pattern":{"type":"hourly","interval":1},` + rng + `}`, w, problemUnsupported},
		{"unknown range type", `{"pattern":{"type":"daily","interval":1},"range":{"type":"forever","startDate":"2026-03-02"}}`, w, problemUnsupported},
		{"unknown day", `{"pattern":{"type":"weekly","interval":1,"daysOfWeek":["funday"]},` + rng + `}`, w, problemUnsupported},
		{"unknown index", `{"pattern":{"type":"relativeMonthly","interval":1,"daysOfWeek":["monday"],"index":"fifth"},` + rng + `}`, w, problemUnsupported},
		{"weekly without days", `{"pattern":{"type":"weekly","interval":1},` + rng + `}`, w, problemUnsupported},
		{"month 13", `{"pattern":{"type":"absoluteYearly","interval":1,"month":13,"dayOfMonth":1},` + rng + `}`, w, problemUnsupported},
		{"interval 0", `{"pattern":{"type":"daily","interval":0},` + rng + `}`, w, problemUnsupported},
		{"no startDate", `{"pattern":{"type":"daily","interval":1},"range":{"type":"noEnd"}}`, w, problemUnsupported},
		{"numbered without a number", `{"pattern":{"type":"daily","interval":1},"range":{"type":"numbered","startDate":"2026-03-02"}}`, w, problemUnsupported},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var g graphRecurrence
			if err := json.Unmarshal([]byte(c.g), &g); err != nil {
				t.Fatal(err)
			}
			r, problem := recurrenceFromGraph(g, c.zone)
			if problem != c.problem {
				t.Fatalf("problem %q, want %q (%+v)", problem, c.problem, r)
			}
			if problem != "" && !reflect.DeepEqual(r, calsync.Recurrence{}) {
				t.Errorf("a recurrence came with the problem: %+v", r)
			}
		})
	}
}

// TestWeeklyDates checks the Graph-side weekly grouping used to detect
// firstDayOfWeek differences against hand-worked dates.
func TestWeeklyDates(t *testing.T) {
	start := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC) // a Sunday
	got := weeklyDates(start, []time.Weekday{time.Sunday, time.Wednesday}, time.Monday, 2, 21)
	var s []string
	for _, d := range got {
		s = append(s, d.Format("01-02"))
	}
	// Monday-weeks: Feb 23–Mar 1 (holds the start), Mar 9–15 — skipped is Mar 2–8
	if want := []string{"03-01", "03-11", "03-15"}; !slices.Equal(s, want) {
		t.Errorf("got %v, want %v", s, want)
	}
}
