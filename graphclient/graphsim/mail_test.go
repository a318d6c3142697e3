package graphsim_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

func attendees(addrs ...string) []models.Attendeeable {
	var out []models.Attendeeable
	for _, a := range addrs {
		at := models.NewAttendee()
		ea := models.NewEmailAddress()
		ea.SetAddress(ptr(a))
		at.SetEmailAddress(ea)
		out = append(out, at)
	}
	return out
}

// mailSince lists kind:to of the mail logged after the first n.
func mailSince(e *sdkEnv, n int) []string {
	var out []string
	for _, m := range e.sim.OutboundMail()[n:] {
		out = append(out, m.Kind+":"+strings.Join(m.To, ","))
	}
	return out
}

// TestMeetingMail: semantics §1.5 "Mail" — one message per attendee for a
// create, a details PATCH (plus one per updated instance of a series), an
// organizer DELETE and cancel; a response only with sendResponse true.
func TestMeetingMail(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	me := e.client.Me()
	ev := newEvent("meet", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	ev.SetAttendees(attendees("a@x.com", "b@x.com"))
	rec, _ := pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{models.TUESDAY_DAYOFWEEK}, count: 3}.model("2025-01-07")
	ev.SetRecurrence(rec)
	m, err := me.Events().Post(ctx, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	master := *m.GetId()
	inst, err := me.Events().ByEventId(master).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-01-01T00:00:00Z"), EndDateTime: ptr("2025-02-01T00:00:00Z")}})
	if err != nil || len(inst.GetValue()) != 3 {
		t.Fatalf("instances: %v", err)
	}
	n := 0
	step := func(name string, do func() error, want ...string) {
		t.Helper()
		if err := do(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := mailSince(e, n); !slices.Equal(got, want) {
			t.Errorf("%s: mail %v, want %v", name, got, want)
		}
		n = len(e.sim.OutboundMail())
	}
	subject := func(s string) models.Eventable { p := models.NewEvent(); p.SetSubject(ptr(s)); return p }
	step("create with attendees", func() error { return nil }, "invitation:a@x.com", "invitation:b@x.com")
	step("PATCH one occurrence", func() error {
		_, err := me.Events().ByEventId(*inst.GetValue()[1].GetId()).Patch(ctx, subject("special"), nil)
		return err
	}, "update:a@x.com", "update:b@x.com")
	step("PATCH the master: one per attendee for the series and for the updated instance", func() error {
		_, err := me.Events().ByEventId(master).Patch(ctx, subject("renamed"), nil)
		return err
	}, "update:a@x.com", "update:b@x.com", "update:a@x.com", "update:b@x.com")
	step("cancel an occurrence", func() error {
		return me.Events().ByEventId(*inst.GetValue()[2].GetId()).Cancel().Post(ctx, users.NewItemEventsItemCancelPostRequestBody(), nil)
	}, "cancellation:a@x.com", "cancellation:b@x.com")
	step("DELETE the series", func() error { return me.Events().ByEventId(master).Delete(ctx, nil) }, "cancellation:a@x.com", "cancellation:b@x.com")

	invite, err := e.sim.UserCreateEvent(upn, map[string]any{"subject": "their meeting",
		"start": map[string]any{"dateTime": "2025-01-08T10:00:00", "timeZone": "UTC"}, "end": map[string]any{"dateTime": "2025-01-08T11:00:00", "timeZone": "UTC"},
		"organizer": map[string]any{"emailAddress": map[string]any{"address": "boss@x.com"}}})
	if err != nil {
		t.Fatal(err)
	}
	n = len(e.sim.OutboundMail())
	step("accept with sendResponse false", func() error {
		b := users.NewItemEventsItemAcceptPostRequestBody()
		b.SetSendResponse(ptr(false))
		return me.Events().ByEventId(invite).Accept().Post(ctx, b, nil)
	})
	step("decline with sendResponse false", func() error {
		b := users.NewItemEventsItemDeclinePostRequestBody()
		b.SetSendResponse(ptr(false))
		return me.Events().ByEventId(invite).Decline().Post(ctx, b, nil)
	})
	step("decline", func() error {
		return me.Events().ByEventId(invite).Decline().Post(ctx, users.NewItemEventsItemDeclinePostRequestBody(), nil)
	}, "decline:boss@x.com")
	err = me.Events().ByEventId(invite).Cancel().Post(ctx, users.NewItemEventsItemCancelPostRequestBody(), nil)
	if st, code := odataCode(t, err); st != 400 || code != "ErrorInvalidRequest" {
		t.Errorf("attendee cancel: %d %s", st, code)
	}
}

// TestMeetingChangeMail: semantics §1.5 and facts §10 — a PATCH of a
// single meeting mails the attendees it adds an invitation and the ones it
// removes a cancellation; a details change (time, place, subject) mails the
// attendees who stay an update, and an attendees-only PATCH mails nobody
// else. A PATCH that changes neither mails nobody.
func TestMeetingChangeMail(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	me := e.client.Me()
	ev := newEvent("meet", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	ev.SetAttendees(attendees("a@x.com", "b@x.com"))
	m, err := me.Events().Post(ctx, ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	id := *m.GetId()
	n := len(e.sim.OutboundMail())
	step := func(name string, patch models.Eventable, want ...string) {
		t.Helper()
		if _, err := me.Events().ByEventId(id).Patch(ctx, patch, nil); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := mailSince(e, n)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: mail %v, want %v", name, got, want)
		}
		n = len(e.sim.OutboundMail())
	}
	p := models.NewEvent()
	loc := models.NewLocation()
	loc.SetDisplayName(ptr("room 2"))
	p.SetLocation(loc)
	p.SetAttendees(attendees("a@x.com", "C@x.com"))
	step("new place, c added, b removed", p, "update:a@x.com", "invitation:c@x.com", "cancellation:b@x.com")
	p = models.NewEvent()
	p.SetAttendees(attendees("a@x.com"))
	step("c removed", p, "cancellation:c@x.com")
	p = models.NewEvent()
	p.SetAttendees(attendees("A@x.com"))
	step("the same attendee again", p)
	p = models.NewEvent()
	p.SetIsReminderOn(ptr(false))
	step("reminder off", p)
	p = models.NewEvent()
	p.SetStart(newEvent("", "2025-01-07T12:00:00", "2025-01-07T13:00:00").GetStart())
	p.SetEnd(newEvent("", "2025-01-07T12:00:00", "2025-01-07T13:00:00").GetEnd())
	step("new time", p, "update:a@x.com")
}

// TestReminderDefaults: semantics §1.5 "Properties" — an event created
// without reminder fields has isReminderOn true and 15 minutes.
func TestReminderDefaults(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	plain := newEvent("r", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	off := newEvent("r", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	off.SetIsReminderOn(ptr(false))
	for _, tc := range []struct {
		name string
		ev   models.Eventable
		on   bool
	}{{"no reminder fields", plain, true}, {"isReminderOn false", off, false}} {
		got, err := e.client.Me().Events().Post(ctx, tc.ev, nil)
		if err != nil {
			t.Fatal(err)
		}
		if *got.GetIsReminderOn() != tc.on || *got.GetReminderMinutesBeforeStart() != 15 {
			t.Errorf("%s: isReminderOn %v, %d minutes", tc.name, *got.GetIsReminderOn(), *got.GetReminderMinutesBeforeStart())
		}
	}
}
