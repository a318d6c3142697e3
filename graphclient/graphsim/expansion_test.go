package graphsim_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// pattern is a recurrence in test shorthand.
type pattern struct {
	typ      models.RecurrencePatternType
	interval int32
	days     []models.DayOfWeek
	first    *models.DayOfWeek
	index    *models.WeekIndex
	month    int32
	dom      int32
	count    int32  // numbered range when > 0
	endDate  string // endDate range otherwise
	tz       string // recurrenceTimeZone, "" to leave it to the start's zone
}

func (p pattern) model(startDate string) (models.PatternedRecurrenceable, error) {
	pat := models.NewRecurrencePattern()
	pat.SetTypeEscaped(&p.typ)
	pat.SetInterval(ptr(p.interval))
	if p.days != nil {
		pat.SetDaysOfWeek(p.days)
	}
	if p.first != nil {
		pat.SetFirstDayOfWeek(p.first)
	}
	if p.index != nil {
		pat.SetIndex(p.index)
	}
	if p.month != 0 {
		pat.SetMonth(ptr(p.month))
	}
	if p.dom != 0 {
		pat.SetDayOfMonth(ptr(p.dom))
	}
	rng := models.NewRecurrenceRange()
	sd, err := absser.ParseDateOnly(startDate)
	if err != nil {
		return nil, err
	}
	rng.SetStartDate(sd)
	if p.count > 0 {
		rt := models.NUMBERED_RECURRENCERANGETYPE
		rng.SetTypeEscaped(&rt)
		rng.SetNumberOfOccurrences(ptr(p.count))
	} else {
		rt := models.ENDDATE_RECURRENCERANGETYPE
		rng.SetTypeEscaped(&rt)
		ed, err := absser.ParseDateOnly(p.endDate)
		if err != nil {
			return nil, err
		}
		rng.SetEndDate(ed)
	}
	if p.tz != "" {
		rng.SetRecurrenceTimeZone(ptr(p.tz))
	}
	rec := models.NewPatternedRecurrence()
	rec.SetPattern(pat)
	rec.SetRangeEscaped(rng)
	return rec, nil
}

var (
	weekdaysMF = []models.DayOfWeek{models.MONDAY_DAYOFWEEK, models.TUESDAY_DAYOFWEEK, models.WEDNESDAY_DAYOFWEEK, models.THURSDAY_DAYOFWEEK, models.FRIDAY_DAYOFWEEK}
	weekendSS  = []models.DayOfWeek{models.SATURDAY_DAYOFWEEK, models.SUNDAY_DAYOFWEEK}
	allDays    = append(slices.Clone(weekdaysMF), weekendSS...)
)

// TestExpansion: semantics §1.3 (MS-OXOCAL 2.2.1.44.1) against dates
// worked out by hand from a calendar. Each series starts at 09:00 on its
// start date in its zone; want lists the UTC starts /instances returns.
func TestExpansion(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	me := e.client.Me()
	monday, sunday := models.MONDAY_DAYOFWEEK, models.SUNDAY_DAYOFWEEK
	second, last, first := models.SECOND_WEEKINDEX, models.LAST_WEEKINDEX, models.FIRST_WEEKINDEX
	cases := []struct {
		name  string
		start string // date the event starts on (09:00 in zone)
		zone  string
		p     pattern
		want  []string // UTC starts, "2006-01-02T15:04"
	}{
		{"absoluteMonthly day 31 falls on month ends", "2025-01-31", "UTC",
			pattern{typ: models.ABSOLUTEMONTHLY_RECURRENCEPATTERNTYPE, interval: 1, dom: 31, count: 5},
			[]string{"2025-01-31T09:00", "2025-02-28T09:00", "2025-03-31T09:00", "2025-04-30T09:00", "2025-05-31T09:00"}},
		{"absoluteMonthly day 30 in a leap year", "2024-01-30", "UTC",
			pattern{typ: models.ABSOLUTEMONTHLY_RECURRENCEPATTERNTYPE, interval: 1, dom: 30, count: 3},
			[]string{"2024-01-30T09:00", "2024-02-29T09:00", "2024-03-30T09:00"}},
		{"absoluteMonthly interval 2 from a 31st", "2025-01-31", "UTC",
			pattern{typ: models.ABSOLUTEMONTHLY_RECURRENCEPATTERNTYPE, interval: 2, dom: 31, count: 3},
			[]string{"2025-01-31T09:00", "2025-03-31T09:00", "2025-05-31T09:00"}},
		{"absoluteYearly February 29 in common years", "2024-02-29", "UTC",
			pattern{typ: models.ABSOLUTEYEARLY_RECURRENCEPATTERNTYPE, interval: 1, month: 2, dom: 29, count: 3},
			[]string{"2024-02-29T09:00", "2025-02-28T09:00", "2026-02-28T09:00"}},
		{"absoluteYearly April 31 is April 30", "2025-04-01", "UTC",
			pattern{typ: models.ABSOLUTEYEARLY_RECURRENCEPATTERNTYPE, interval: 1, month: 4, dom: 31, count: 2},
			[]string{"2025-04-30T09:00", "2026-04-30T09:00"}},
		{"relativeMonthly last Friday", "2025-01-01", "UTC",
			pattern{typ: models.RELATIVEMONTHLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{models.FRIDAY_DAYOFWEEK}, index: &last, count: 4},
			[]string{"2025-01-31T09:00", "2025-02-28T09:00", "2025-03-28T09:00", "2025-04-25T09:00"}},
		{"relativeMonthly second weekday (Part 4 #3b)", "2026-08-04", "UTC",
			pattern{typ: models.RELATIVEMONTHLY_RECURRENCEPATTERNTYPE, interval: 1, days: weekdaysMF, index: &second, count: 3},
			[]string{"2026-08-04T09:00", "2026-09-02T09:00", "2026-10-02T09:00"}},
		{"relativeMonthly second weekend day", "2026-08-01", "UTC",
			pattern{typ: models.RELATIVEMONTHLY_RECURRENCEPATTERNTYPE, interval: 1, days: weekendSS, index: &second, count: 3},
			[]string{"2026-08-02T09:00", "2026-09-06T09:00", "2026-10-04T09:00"}},
		{"relativeMonthly last weekday", "2026-08-01", "UTC",
			pattern{typ: models.RELATIVEMONTHLY_RECURRENCEPATTERNTYPE, interval: 1, days: weekdaysMF, index: &last, count: 3},
			[]string{"2026-08-31T09:00", "2026-09-30T09:00", "2026-10-30T09:00"}},
		{"relativeMonthly first day", "2025-01-01", "UTC",
			pattern{typ: models.RELATIVEMONTHLY_RECURRENCEPATTERNTYPE, interval: 1, days: allDays, index: &first, count: 3},
			[]string{"2025-01-01T09:00", "2025-02-01T09:00", "2025-03-01T09:00"}},
		{"relativeYearly last Sunday of March", "2024-03-01", "UTC",
			pattern{typ: models.RELATIVEYEARLY_RECURRENCEPATTERNTYPE, interval: 1, month: 3, days: []models.DayOfWeek{sunday}, index: &last, count: 3},
			[]string{"2024-03-31T09:00", "2025-03-30T09:00", "2026-03-29T09:00"}},
		{"weekly interval 2, weeks from Sunday", "2025-01-05", "UTC",
			pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 2, days: []models.DayOfWeek{sunday, monday}, count: 4},
			[]string{"2025-01-05T09:00", "2025-01-06T09:00", "2025-01-19T09:00", "2025-01-20T09:00"}},
		{"weekly interval 2, weeks from Monday", "2025-01-05", "UTC",
			pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 2, days: []models.DayOfWeek{sunday, monday}, first: &monday, count: 4},
			[]string{"2025-01-05T09:00", "2025-01-13T09:00", "2025-01-19T09:00", "2025-01-27T09:00"}},
		{"daily interval 3 over a leap day", "2024-02-26", "UTC",
			pattern{typ: models.DAILY_RECURRENCEPATTERNTYPE, interval: 3, count: 3},
			[]string{"2024-02-26T09:00", "2024-02-29T09:00", "2024-03-03T09:00"}},
		{"endDate is inclusive", "2025-01-01", "UTC",
			pattern{typ: models.DAILY_RECURRENCEPATTERNTYPE, interval: 1, endDate: "2025-01-03"},
			[]string{"2025-01-01T09:00", "2025-01-02T09:00", "2025-01-03T09:00"}},
		{"DST north: 09:00 Berlin before and after 2025-03-30", "2025-03-24", "W. Europe Standard Time",
			pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{monday}, count: 2},
			[]string{"2025-03-24T08:00", "2025-03-31T07:00"}},
		{"DST south: 09:00 Sydney before and after 2025-04-06", "2025-03-30", "AUS Eastern Standard Time",
			pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{sunday}, count: 2},
			[]string{"2025-03-29T22:00", "2025-04-05T23:00"}},
		{"DST south, spring: 09:00 Sydney across 2025-10-05", "2025-09-28", "AUS Eastern Standard Time",
			pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{sunday}, count: 2},
			[]string{"2025-09-27T23:00", "2025-10-04T22:00"}},
		{"recurrenceTimeZone differs from the start's", "2025-03-24", "UTC",
			pattern{typ: models.DAILY_RECURRENCEPATTERNTYPE, interval: 7, count: 2, tz: "W. Europe Standard Time"},
			[]string{"2025-03-24T09:00", "2025-03-31T08:00"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := zonedEvent(tc.name, tc.start+"T09:00:00", tc.start+"T10:00:00", tc.zone)
			rec, err := tc.p.model(tc.start)
			if err != nil {
				t.Fatal(err)
			}
			ev.SetRecurrence(rec)
			m, err := me.Events().Post(ctx, ev, nil)
			if err != nil {
				t.Fatalf("post: %v", err)
			}
			want := tc.p.tz
			if want == "" {
				want = tc.zone
			}
			if got := m.GetRecurrence().GetRangeEscaped().GetRecurrenceTimeZone(); got == nil || *got != want {
				t.Errorf("recurrenceTimeZone %v, want %s filled", got, want)
			}
			inst, err := me.Events().ByEventId(*m.GetId()).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{
					StartDateTime: ptr("2024-01-01T00:00:00Z"), EndDateTime: ptr("2028-01-01T00:00:00Z"), Top: ptr(int32(100))}})
			if err != nil {
				t.Fatalf("instances: %v", err)
			}
			var got []string
			for _, o := range inst.GetValue() {
				got = append(got, strings.TrimSuffix(*o.GetStart().GetDateTime(), ":00.0000000"))
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}
