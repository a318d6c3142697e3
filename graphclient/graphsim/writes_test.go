package graphsim_test

import (
	"context"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// TestSeriesWriteRules: semantics §1.3, "Validation errors seen on the real
// service" and "Changing a series".
func TestSeriesWriteRules(t *testing.T) {
	ctx := context.Background()
	friSat := []models.DayOfWeek{models.FRIDAY_DAYOFWEEK, models.SATURDAY_DAYOFWEEK}
	create := []struct {
		name       string
		start, end string
		startDate  string
		p          pattern
		code       string // "" accepted
	}{
		{"ErrorOccurrenceTimeSpanTooBig: 25 h on Fri+Sat", "2025-01-10T09:00:00", "2025-01-11T10:00:00", "2025-01-10",
			pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: friSat, count: 4}, "ErrorOccurrenceTimeSpanTooBig"},
		{"24 h daily fits", "2025-01-10T09:00:00", "2025-01-11T09:00:00", "2025-01-10",
			pattern{typ: models.DAILY_RECURRENCEPATTERNTYPE, interval: 1, count: 4}, ""},
		{"a range with no occurrence", "2025-01-08T09:00:00", "2025-01-08T10:00:00", "2025-01-08",
			pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{models.TUESDAY_DAYOFWEEK}, endDate: "2025-01-12"}, "ErrorRecurrenceHasNoOccurrence"},
		{"range.startDate must equal the start's date", "2025-01-08T09:00:00", "2025-01-08T10:00:00", "2025-01-07",
			pattern{typ: models.DAILY_RECURRENCEPATTERNTYPE, interval: 1, count: 2}, "ErrorPropertyValidationFailure"},
		{"the first occurrence may come after the start", "2025-01-08T09:00:00", "2025-01-08T10:00:00", "2025-01-08",
			pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{models.TUESDAY_DAYOFWEEK}, count: 2}, ""},
	}
	e := newSDKEnv(t, graphsim.Options{})
	me := e.client.Me()
	for _, tc := range create {
		t.Run(tc.name, func(t *testing.T) {
			ev := newEvent(tc.name, tc.start, tc.end)
			rec, err := tc.p.model(tc.startDate)
			if err != nil {
				t.Fatal(err)
			}
			ev.SetRecurrence(rec)
			_, err = me.Events().Post(ctx, ev, nil)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if st, code := odataCode(t, err); st != 400 || code != tc.code {
				t.Errorf("got %d %s, want 400 %s", st, code, tc.code)
			}
		})
	}

	// Moving an occurrence (series of Tuesdays from 2025-01-07).
	m := weeklySeries(t, e, 4)
	inst, err := me.Events().ByEventId(*m.GetId()).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-01-01T00:00:00Z"), EndDateTime: ptr("2025-02-01T00:00:00Z")}})
	if err != nil || len(inst.GetValue()) != 4 {
		t.Fatalf("instances: %v", err)
	}
	second := *inst.GetValue()[1].GetId() // 2025-01-14
	move := []struct {
		name, start, end, code string
	}{
		{"onto the previous occurrence's day", "2025-01-07T15:00:00", "2025-01-07T16:00:00", "ErrorOccurrenceCrossingBoundary"},
		{"onto the next occurrence's day", "2025-01-21T08:00:00", "2025-01-21T09:00:00", "ErrorOccurrenceCrossingBoundary"},
		{"ending on the next occurrence's day", "2025-01-20T23:00:00", "2025-01-21T01:00:00", "ErrorOccurrenceCrossingBoundary"},
		{"within its neighbours' days", "2025-01-15T10:00:00", "2025-01-15T11:00:00", ""},
		{"the exception, onto the previous day", "2025-01-07T18:00:00", "2025-01-07T19:00:00", "ErrorOccurrenceCrossingBoundary"},
		{"the exception, again within bounds", "2025-01-20T10:00:00", "2025-01-20T11:00:00", ""},
	}
	for _, tc := range move {
		t.Run("move "+tc.name, func(t *testing.T) {
			patch := newEvent("moved", tc.start, tc.end)
			ex, err := me.Events().ByEventId(second).Patch(ctx, patch, nil)
			if tc.code == "" {
				if err != nil || *ex.GetTypeEscaped() != models.EXCEPTION_EVENTTYPE {
					t.Fatalf("rejected: %v", err)
				}
				return
			}
			if st, code := odataCode(t, err); st != 400 || code != tc.code {
				t.Errorf("got %d %s, want 400 %s", st, code, tc.code)
			}
		})
	}

	t.Run("recurrence null makes a single event at the first occurrence", func(t *testing.T) {
		ev := newEvent("wed start", "2025-01-08T09:00:00", "2025-01-08T10:00:00")
		rec, _ := pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{models.FRIDAY_DAYOFWEEK}, count: 3}.model("2025-01-08")
		ev.SetRecurrence(rec)
		m, err := me.Events().Post(ctx, ev, nil)
		if err != nil {
			t.Fatal(err)
		}
		patch := models.NewEvent()
		patch.SetRecurrence(nil) // the backing store sends "recurrence": null
		got, err := me.Events().ByEventId(*m.GetId()).Patch(ctx, patch, nil)
		if err != nil {
			t.Fatalf("patch: %v", err)
		}
		if *got.GetTypeEscaped() != models.SINGLEINSTANCE_EVENTTYPE || got.GetRecurrence() != nil || *got.GetStart().GetDateTime() != "2025-01-10T09:00:00.0000000" {
			t.Errorf("got %v at %s", got.GetTypeEscaped(), *got.GetStart().GetDateTime())
		}
		// and back: a recurrence PATCHed onto a single event is refused,
		// never ignored (Graph's answer is unconfirmed)
		again := models.NewEvent()
		again.SetRecurrence(rec)
		_, err = me.Events().ByEventId(*m.GetId()).Patch(ctx, again, nil)
		if st, code := odataCode(t, err); st != 400 || code != "ErrorInvalidRequest" {
			t.Errorf("recurrence onto a single event: got %d %s, want 400 ErrorInvalidRequest", st, code)
		}
		if after, err := me.Events().ByEventId(*m.GetId()).Get(ctx, nil); err != nil || *after.GetTypeEscaped() != models.SINGLEINSTANCE_EVENTTYPE {
			t.Errorf("after the refused patch: %v", err)
		}
	})
}
