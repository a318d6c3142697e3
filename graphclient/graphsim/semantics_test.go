package graphsim_test

// Table tests for the facts of calendar-semantics.md (cited as "semantics
// §n"), driven through msgraph-sdk-go's request builders.

import (
	"context"
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
