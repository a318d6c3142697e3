package graphsim_test

import (
	"context"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// allDayEvent is an all-day event from startZone midnight to endZone
// midnight.
func allDayEvent(subject, start, startZone, end, endZone string) models.Eventable {
	ev := newEvent(subject, start, end)
	ev.GetStart().SetTimeZone(ptr(startZone))
	ev.GetEnd().SetTimeZone(ptr(endZone))
	ev.SetIsAllDay(ptr(true))
	return ev
}

// calendarViewCount is how many items GET /me/calendarView answers for
// [start, end).
func calendarViewCount(t *testing.T, e *sdkEnv, start, end string) int {
	t.Helper()
	page, err := e.client.Me().CalendarView().Get(context.Background(), &users.ItemCalendarViewRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemCalendarViewRequestBuilderGetQueryParameters{StartDateTime: &start, EndDateTime: &end}})
	if err != nil {
		t.Fatalf("calendarView: %v", err)
	}
	return len(page.GetValue())
}

// TestAllDayZone: semantics §1.4.3 and Part 4 #11 — an all-day event keeps
// the zone it was written in: it reads back midnight to midnight (labelled
// UTC, or with the Prefer zone), originalStartTimeZone names its zone, and
// calendarView windows see it at that zone's midnights. An all-day series
// runs midnight to midnight in its zone across DST.
func TestAllDayZone(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	me := e.client.Me()
	const pst = "Pacific Standard Time"
	// 2025-03-09 is 23 hours long in Pacific time (DST starts).
	ev, err := me.Events().Post(ctx, allDayEvent("dst day", "2025-03-09T00:00:00", pst, "2025-03-10T00:00:00", pst), nil)
	if err != nil {
		t.Fatal(err)
	}
	tokyo := abs.NewRequestHeaders()
	tokyo.Add("Prefer", `outlook.timezone="Tokyo Standard Time"`)
	for _, tc := range []struct {
		name    string
		headers *abs.RequestHeaders
		label   string
	}{
		{"no Prefer", nil, "UTC"},
		{"Prefer Tokyo", tokyo, "Tokyo Standard Time"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := me.Events().ByEventId(*ev.GetId()).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{Headers: tc.headers})
			if err != nil {
				t.Fatal(err)
			}
			st, en := got.GetStart(), got.GetEnd()
			if *st.GetDateTime() != "2025-03-09T00:00:00.0000000" || *en.GetDateTime() != "2025-03-10T00:00:00.0000000" ||
				*st.GetTimeZone() != tc.label || *en.GetTimeZone() != tc.label {
				t.Errorf("read %s %s – %s %s, want 2025-03-09 – 2025-03-10 midnight labelled %s",
					*st.GetDateTime(), *st.GetTimeZone(), *en.GetDateTime(), *en.GetTimeZone(), tc.label)
			}
			if *got.GetOriginalStartTimeZone() != pst || *got.GetOriginalEndTimeZone() != pst {
				t.Errorf("original zones %q %q", *got.GetOriginalStartTimeZone(), *got.GetOriginalEndTimeZone())
			}
		})
	}
	// Anchored in Pacific time: 2025-03-09T08:00Z to 2025-03-10T07:00Z.
	for _, w := range []struct {
		start, end string
		want       int
	}{
		{"2025-03-09T00:00:00Z", "2025-03-09T08:00:00Z", 0},
		{"2025-03-09T08:00:00Z", "2025-03-09T09:00:00Z", 1},
		{"2025-03-10T06:00:00Z", "2025-03-10T07:00:00Z", 1},
		{"2025-03-10T07:00:00Z", "2025-03-11T00:00:00Z", 0},
	} {
		if got := calendarViewCount(t, e, w.start, w.end); got != w.want {
			t.Errorf("calendarView [%s, %s): %d items, want %d", w.start, w.end, got, w.want)
		}
	}

	series := allDayEvent("sundays", "2025-03-02T00:00:00", pst, "2025-03-03T00:00:00", pst)
	rec, err := pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{models.SUNDAY_DAYOFWEEK}, count: 3}.model("2025-03-02")
	if err != nil {
		t.Fatal(err)
	}
	series.SetRecurrence(rec)
	m, err := me.Events().Post(ctx, series, nil)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := me.Events().ByEventId(*m.GetId()).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-03-01T00:00:00Z"), EndDateTime: ptr("2025-04-01T00:00:00Z")}})
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"2025-03-02", "2025-03-03"}, {"2025-03-09", "2025-03-10"}, {"2025-03-16", "2025-03-17"}}
	if len(inst.GetValue()) != len(want) {
		t.Fatalf("%d instances, want %d", len(inst.GetValue()), len(want))
	}
	for i, o := range inst.GetValue() {
		if *o.GetStart().GetDateTime() != want[i][0]+"T00:00:00.0000000" || *o.GetEnd().GetDateTime() != want[i][1]+"T00:00:00.0000000" || !*o.GetIsAllDay() {
			t.Errorf("instance %d: %s – %s, want %s – %s midnight", i, *o.GetStart().GetDateTime(), *o.GetEnd().GetDateTime(), want[i][0], want[i][1])
		}
	}
}

// TestAllDayValidation: semantics §1.4.3 (learn event resource: start and
// end "must be set to midnight and be in the same time zone", single- and
// multi-day alike) and graph-facts §5 (at least a day) — what an all-day
// write may be. Whole days are counted in the zone, so a 23- or 49-hour
// span across DST is whole days.
func TestAllDayValidation(t *testing.T) {
	ctx := context.Background()
	const pst = "Pacific Standard Time"
	cases := []struct {
		name string
		ev   models.Eventable
		ok   bool
	}{
		{"one day", allDayEvent("x", "2025-01-07T00:00:00", pst, "2025-01-08T00:00:00", pst), true},
		{"23-hour day (DST starts)", allDayEvent("x", "2025-03-09T00:00:00", pst, "2025-03-10T00:00:00", pst), true},
		{"two days, 49 hours (DST ends)", allDayEvent("x", "2025-11-01T00:00:00", pst, "2025-11-03T00:00:00", pst), true},
		{"start not midnight", allDayEvent("x", "2025-01-07T10:00:00", pst, "2025-01-08T00:00:00", pst), false},
		{"end not midnight", allDayEvent("x", "2025-01-07T00:00:00", pst, "2025-01-08T00:30:00", pst), false},
		{"zones differ", allDayEvent("x", "2025-01-07T00:00:00", pst, "2025-01-08T00:00:00", "UTC"), false},
		{"same zone by another name", allDayEvent("x", "2025-01-07T00:00:00", pst, "2025-01-08T00:00:00", "America/Los_Angeles"), false},
		{"no length", allDayEvent("x", "2025-01-07T00:00:00", pst, "2025-01-07T00:00:00", pst), false},
		{"end before start", allDayEvent("x", "2025-01-08T00:00:00", pst, "2025-01-07T00:00:00", pst), false},
	}
	e := newSDKEnv(t, graphsim.Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.client.Me().Events().Post(ctx, tc.ev, nil)
			if tc.ok {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if st, code := odataCode(t, err); st != 400 || code != "ErrorPropertyValidationFailure" {
				t.Errorf("got %d %s, want 400 ErrorPropertyValidationFailure", st, code)
			}
		})
	}
	t.Run("PATCH isAllDay on a timed event", func(t *testing.T) {
		ev, err := e.client.Me().Events().Post(ctx, zonedEvent("timed", "2025-01-07T10:00:00", "2025-01-07T11:00:00", pst), nil)
		if err != nil {
			t.Fatal(err)
		}
		patch := models.NewEvent()
		patch.SetIsAllDay(ptr(true))
		_, err = e.client.Me().Events().ByEventId(*ev.GetId()).Patch(ctx, patch, nil)
		if st, code := odataCode(t, err); st != 400 || code != "ErrorPropertyValidationFailure" {
			t.Errorf("got %d %s, want 400 ErrorPropertyValidationFailure", st, code)
		}
	})
}
