package graphsim_test

// Table tests for the facts of calendar-semantics.md (cited as "semantics
// §n"), driven through msgraph-sdk-go's request builders.

import (
	"context"
	"errors"
	"strings"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// TestRoutesCatchAll: semantics Part 4 #4 and issue 9 item 7 — every route
// is in one table; anything else is a loud 400 recorded as unimplemented,
// and a $select name that is not an event property is a 400, never dropped.
func TestRoutesCatchAll(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	me := e.client.Me()
	created, err := me.Events().Post(ctx, newEvent("s", "2025-01-07T10:00:00", "2025-01-07T11:00:00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := *created.GetId()
	get := func(sel ...string) error {
		_, err := me.Events().ByEventId(id).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemEventsEventItemRequestBuilderGetQueryParameters{Select: sel}})
		return err
	}
	cases := []struct {
		name       string
		call       func() error
		status     int
		code       string
		unimplSeen string // "" when the request is modelled
	}{
		{"unknown segment (Part 4, catch-all)", func() error { _, err := me.MailFolders().Get(ctx, nil); return err }, 400, "BadRequest", "mailFolders"},
		{"unknown segment below events", func() error { _, err := me.Events().ByEventId(id).Attachments().Get(ctx, nil); return err }, 400, "BadRequest", "attachments"},
		{"unknown $select name (§1.2.3)", func() error { return get("subject", "noSuchProperty") }, 400, "BadRequest", ""},
		{"$select of an unmodelled property", func() error { return get("attachments") }, 400, "BadRequest", "attachments"},
		{"known $select names", func() error { return get("subject", "cancelledOccurrences", "occurrenceId") }, 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.sim.ResetLog()
			err := tc.call()
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if st, code := odataCode(t, err); st != tc.status || code != tc.code {
				t.Errorf("got %d %s, want %d %s", st, code, tc.status, tc.code)
			}
			u := e.sim.Unimplemented()
			switch {
			case tc.unimplSeen == "" && len(u) != 0:
				t.Errorf("recorded as unimplemented: %v", u)
			case tc.unimplSeen != "" && (len(u) != 1 || !strings.Contains(u[0], tc.unimplSeen)):
				t.Errorf("unimplemented = %v, want one naming %s", u, tc.unimplSeen)
			}
		})
	}
}

func zonedEvent(subject, start, end, tz string) models.Eventable {
	ev := newEvent(subject, start, end)
	ev.GetStart().SetTimeZone(ptr(tz))
	ev.GetEnd().SetTimeZone(ptr(tz))
	return ev
}

// TestTimeZoneNames: semantics §1.4.1 — every CLDR Windows name (exact
// case) and the documented IANA list are accepted; other IANA names get
// TimeZoneNotSupportedException unless AcceptAnyIANAZone; with
// RejectIANAOnWrite even documented IANA names fail as contrib#1609 saw.
func TestTimeZoneNames(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		opts graphsim.Options
		tz   string
		code string // "" accepted
	}{
		{"Windows name", graphsim.Options{}, "Morocco Standard Time", ""},
		{"Windows name UTC-08", graphsim.Options{}, "UTC-08", ""},
		{"Windows name Russia Time Zone 3", graphsim.Options{}, "Russia Time Zone 3", ""},
		{"Windows name in lower case", graphsim.Options{}, "w. europe standard time", "TimeZoneNotSupportedException"},
		{"documented IANA", graphsim.Options{}, "America/Santiago", ""},
		{"documented IANA second spelling", graphsim.Options{}, "Europe/Kiev", ""},
		{"undocumented IANA", graphsim.Options{}, "Europe/Amsterdam", "TimeZoneNotSupportedException"},
		{"undocumented Etc/UTC", graphsim.Options{}, "Etc/UTC", "TimeZoneNotSupportedException"},
		{"undocumented IANA, AcceptAnyIANAZone", graphsim.Options{AcceptAnyIANAZone: true}, "Europe/Amsterdam", ""},
		{"documented IANA, RejectIANAOnWrite", graphsim.Options{RejectIANAOnWrite: true}, "Africa/Casablanca", "ErrorPropertyValidationFailure"},
		{"nonsense", graphsim.Options{}, "GMT+6:30", "TimeZoneNotSupportedException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSDKEnv(t, tc.opts)
			_, err := e.client.Me().Events().Post(ctx, zonedEvent("z", "2025-01-07T10:00:00", "2025-01-07T11:00:00", tc.tz), nil)
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
}

// TestPreferTimeZone: semantics §1.4.2 — Prefer: outlook.timezone applies
// to GET; POST and PATCH answer in UTC (PostAnswersInRequestZone: a POST
// answers in its start's zone); originalStartTimeZone is the written zone.
func TestPreferTimeZone(t *testing.T) {
	ctx := context.Background()
	pacific := abs.NewRequestHeaders()
	pacific.Add("Prefer", `outlook.timezone="Pacific Standard Time"`)
	for _, tc := range []struct {
		name         string
		opts         graphsim.Options
		postZone     string
		postDateTime string
	}{
		{"default", graphsim.Options{}, "UTC", "2025-01-07T09:00:00.0000000"},
		{"PostAnswersInRequestZone", graphsim.Options{PostAnswersInRequestZone: true}, "W. Europe Standard Time", "2025-01-07T10:00:00.0000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSDKEnv(t, tc.opts)
			me := e.client.Me()
			ev, err := me.Events().Post(ctx, zonedEvent("z", "2025-01-07T10:00:00", "2025-01-07T11:00:00", "W. Europe Standard Time"),
				&users.ItemEventsRequestBuilderPostRequestConfiguration{Headers: pacific})
			if err != nil {
				t.Fatal(err)
			}
			if got := *ev.GetStart().GetTimeZone(); got != tc.postZone || *ev.GetStart().GetDateTime() != tc.postDateTime {
				t.Errorf("POST answered %s %s, want %s %s", *ev.GetStart().GetDateTime(), got, tc.postDateTime, tc.postZone)
			}
			if *ev.GetOriginalStartTimeZone() != "W. Europe Standard Time" {
				t.Errorf("originalStartTimeZone %q", *ev.GetOriginalStartTimeZone())
			}
			patch := models.NewEvent()
			patch.SetSubject(ptr("z2"))
			ev, err = me.Events().ByEventId(*ev.GetId()).Patch(ctx, patch, &users.ItemEventsEventItemRequestBuilderPatchRequestConfiguration{Headers: pacific})
			if err != nil || *ev.GetStart().GetTimeZone() != "UTC" {
				t.Errorf("PATCH answered in %s (%v), want UTC", *ev.GetStart().GetTimeZone(), err)
			}
			ev, err = me.Events().ByEventId(*ev.GetId()).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{Headers: pacific})
			if err != nil || *ev.GetStart().GetTimeZone() != "Pacific Standard Time" || *ev.GetStart().GetDateTime() != "2025-01-07T01:00:00.0000000" {
				t.Errorf("GET answered %s %s (%v), want Pacific", *ev.GetStart().GetDateTime(), *ev.GetStart().GetTimeZone(), err)
			}
		})
	}
}

// TestSecondDelete: semantics §1.7 (Odoo's delete: "Microsoft can also
// return a 403 response when the event is already cancelled") and Part 4
// #14 — by default, a DELETE of a deleted event, series, or an occurrence
// of a deleted series answers 410; of a cancelled occurrence 403; an id
// never seen 404; GET answers 404 for all. DeleteGoneAnswers404 answers 404
// throughout.
func TestSecondDelete(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name                            string
		opts                            graphsim.Options
		single, series, occ, cancelledO int
	}{
		{"default", graphsim.Options{}, 410, 410, 410, 403},
		{"DeleteGoneAnswers404", graphsim.Options{DeleteGoneAnswers404: true}, 404, 404, 404, 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSDKEnv(t, tc.opts)
			me := e.client.Me()
			single, err := me.Events().Post(ctx, newEvent("s", "2025-01-07T10:00:00", "2025-01-07T11:00:00"), nil)
			if err != nil {
				t.Fatal(err)
			}
			gone := weeklySeries(t, e, 3)
			kept := weeklySeries(t, e, 3)
			win := &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-01-01T00:00:00Z"), EndDateTime: ptr("2025-02-01T00:00:00Z")}
			goneOcc, err1 := me.Events().ByEventId(*gone.GetId()).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{QueryParameters: win})
			keptOcc, err2 := me.Events().ByEventId(*kept.GetId()).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{QueryParameters: win})
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			cancelled := *keptOcc.GetValue()[1].GetId()
			for _, id := range []string{*single.GetId(), *gone.GetId(), cancelled} {
				if err := me.Events().ByEventId(id).Delete(ctx, nil); err != nil {
					t.Fatalf("first delete: %v", err)
				}
			}
			for _, c := range []struct {
				what string
				id   string
				want int
			}{
				{"deleted single", *single.GetId(), tc.single},
				{"deleted series", *gone.GetId(), tc.series},
				{"occurrence of a deleted series", *goneOcc.GetValue()[0].GetId(), tc.occ},
				{"cancelled occurrence", cancelled, tc.cancelledO},
			} {
				err := me.Events().ByEventId(c.id).Delete(ctx, nil)
				if st, _ := odataCode(t, err); st != c.want {
					t.Errorf("second DELETE of a %s: %d, want %d", c.what, st, c.want)
				}
				_, err = me.Events().ByEventId(c.id).Get(ctx, nil)
				if st, _ := odataCode(t, err); st != 404 {
					t.Errorf("GET of a %s: %d, want 404", c.what, st)
				}
			}
			err = me.Events().ByEventId("AAMkRTAxMjM0NTY3ODlhYmNkZWY=").Delete(ctx, nil)
			if st, _ := odataCode(t, err); st != 404 {
				t.Errorf("DELETE of an unknown id: %d, want 404", st)
			}
		})
	}
}

// TestAllDayReminderDefault: semantics §1.5 (Reminders) and Part 4 #14 —
// beside TestReminderDefaults' 15 minutes for timed events, all-day events
// created without reminder fields get 1080 (18 h, as an Outlook-made one
// showed); AllDayReminder15 gives Graph-made all-day events 15; a reminder
// the request sets is kept.
func TestAllDayReminderDefault(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		opts   graphsim.Options
		ev     models.Eventable
		source string // "graph" or "outlook"
		want   int32
	}{
		{"timed", graphsim.Options{}, newEvent("t", "2025-01-07T10:00:00", "2025-01-07T11:00:00"), "graph", 15},
		{"all-day", graphsim.Options{}, allDayEvent("a", "2025-01-07T00:00:00", "UTC", "2025-01-08T00:00:00", "UTC"), "graph", 1080},
		{"all-day, AllDayReminder15", graphsim.Options{AllDayReminder15: true}, allDayEvent("a", "2025-01-07T00:00:00", "UTC", "2025-01-08T00:00:00", "UTC"), "graph", 15},
		{"all-day from Outlook, AllDayReminder15", graphsim.Options{AllDayReminder15: true}, nil, "outlook", 1080},
		{"set by the request", graphsim.Options{}, func() models.Eventable {
			ev := allDayEvent("a", "2025-01-07T00:00:00", "UTC", "2025-01-08T00:00:00", "UTC")
			ev.SetReminderMinutesBeforeStart(ptr(int32(60)))
			return ev
		}(), "graph", 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSDKEnv(t, tc.opts)
			var id string
			if tc.source == "outlook" {
				var err error
				id, err = e.sim.UserCreateEvent(upn, map[string]any{"subject": "o", "isAllDay": true,
					"start": map[string]any{"dateTime": "2025-01-07T00:00:00", "timeZone": "UTC"},
					"end":   map[string]any{"dateTime": "2025-01-08T00:00:00", "timeZone": "UTC"}})
				if err != nil {
					t.Fatal(err)
				}
			} else {
				ev, err := e.client.Me().Events().Post(ctx, tc.ev, nil)
				if err != nil {
					t.Fatal(err)
				}
				id = *ev.GetId()
			}
			got, err := e.client.Me().Events().ByEventId(id).Get(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if *got.GetReminderMinutesBeforeStart() != tc.want || !*got.GetIsReminderOn() {
				t.Errorf("reminder %d on=%v, want %d on", *got.GetReminderMinutesBeforeStart(), *got.GetIsReminderOn(), tc.want)
			}
		})
	}
}

// TestInvalidPreferZone: semantics §1.4.2 and Part 4 #14 — a Prefer:
// outlook.timezone that Graph does not accept is a 400
// TimeZoneNotSupportedException (jasonjoh in docs#6870), on reads, delta
// and writes alike; a single-quoted value gets a 500 with an HTML page
// (contrib#2549: its reporter found double quotes fixed it).
func TestInvalidPreferZone(t *testing.T) {
	ctx := context.Background()
	prefer := func(v string) *abs.RequestHeaders {
		h := abs.NewRequestHeaders()
		h.Add("Prefer", "outlook.timezone="+v)
		return h
	}
	for _, tc := range []struct {
		name   string
		opts   graphsim.Options
		value  string
		status int
	}{
		{"Windows name", graphsim.Options{}, `"Pacific Standard Time"`, 0},
		{"documented IANA", graphsim.Options{}, `"America/Santiago"`, 0},
		{"not a zone", graphsim.Options{}, `"Australia Eastern Standard Time"`, 400},
		{"undocumented IANA", graphsim.Options{}, `"Europe/Amsterdam"`, 400},
		{"undocumented IANA, AcceptAnyIANAZone", graphsim.Options{AcceptAnyIANAZone: true}, `"Europe/Amsterdam"`, 0},
		{"single quotes", graphsim.Options{}, `'Pacific Standard Time'`, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newSDKEnv(t, tc.opts)
			me := e.client.Me()
			ev, err := me.Events().Post(ctx, newEvent("p", "2025-01-07T10:00:00", "2025-01-07T11:00:00"), nil)
			if err != nil {
				t.Fatal(err)
			}
			h := prefer(tc.value)
			calls := map[string]func() error{
				"GET": func() error {
					_, err := me.Events().ByEventId(*ev.GetId()).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{Headers: h})
					return err
				},
				"delta": func() error {
					_, err := me.CalendarView().Delta().GetAsDeltaGetResponse(ctx, &users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{Headers: h,
						QueryParameters: &users.ItemCalendarViewDeltaRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-01-01T00:00:00Z"), EndDateTime: ptr("2025-02-01T00:00:00Z")}})
					return err
				},
				"POST": func() error {
					_, err := me.Events().Post(ctx, newEvent("q", "2025-01-08T10:00:00", "2025-01-08T11:00:00"), &users.ItemEventsRequestBuilderPostRequestConfiguration{Headers: h})
					return err
				},
			}
			for name, call := range calls {
				err := call()
				var st interface{ GetStatusCode() int }
				switch {
				case tc.status == 0 && err != nil:
					t.Errorf("%s: %v", name, err)
				case tc.status == 500:
					// The SDK has no parser for the HTML page it gets.
					if err == nil || !strings.Contains(err.Error(), "text/html") {
						t.Errorf("%s: %v, want the HTML 500", name, err)
					}
				case tc.status != 0 && (!errors.As(err, &st) || st.GetStatusCode() != tc.status):
					t.Errorf("%s: %v, want status %d", name, err, tc.status)
				case tc.status == 400:
					if _, code := odataCode(t, err); code != "TimeZoneNotSupportedException" {
						t.Errorf("%s: code %s", name, code)
					}
				}
			}
		})
	}
}
