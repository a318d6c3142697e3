package calendar

import (
	"encoding/json"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

func TestToGraphFields(t *testing.T) {
	ev := calsync.RemoteEvent{
		Subject: "Standup", Body: "notes", Location: "Room 1", Reminder: calsync.ReminderUnset,
		Start: time.Date(2025, 3, 5, 9, 30, 0, 0, time.FixedZone("CET", 3600)),
		End:   time.Date(2025, 3, 5, 10, 0, 0, 0, time.FixedZone("CET", 3600)),
	}
	cases := []struct {
		name string
		w    calsync.Write
		want string
	}{
		{"create sends everything, UTC, tx and property",
			calsync.Write{Op: calsync.WriteCreate, OroID: "42", TransactionID: "tx-42", Event: ev},
			`{"subject":"Standup","body":{"contentType":"text","content":"notes"},"location":{"displayName":"Room 1"},"isAllDay":false,"start":{"dateTime":"2025-03-05T08:30:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2025-03-05T09:00:00.0000000","timeZone":"UTC"},"transactionId":"tx-42","singleValueExtendedProperties":[{"id":"` + OroIDPropertyID + `","value":"42"}]}`},
		{"update sends only the named fields; clearing sends empty values",
			calsync.Write{Op: calsync.WriteUpdate, ID: "A", TransactionID: "ignored", Fields: []string{"location"}, Event: calsync.RemoteEvent{}},
			`{"location":{"displayName":""}}`},
		{"start, end and allDay travel together",
			calsync.Write{Op: calsync.WriteUpdate, ID: "A", Fields: []string{"end"}, Event: calsync.RemoteEvent{AllDay: true,
				Start: time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 3, 7, 0, 0, 0, 0, time.UTC)}},
			`{"isAllDay":true,"start":{"dateTime":"2025-03-05T00:00:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2025-03-07T00:00:00.0000000","timeZone":"UTC"}}`},
		{"a reminder turned off is written off (Graph would turn one on)",
			calsync.Write{Op: calsync.WriteUpdate, ID: "A", Fields: []string{"reminder"}, Event: calsync.RemoteEvent{Reminder: calsync.ReminderOff}},
			`{"isReminderOn":false}`},
		{"a reminder is written with its minutes",
			calsync.Write{Op: calsync.WriteUpdate, ID: "A", Fields: []string{"reminder"}, Event: calsync.RemoteEvent{Reminder: 0}},
			`{"isReminderOn":true,"reminderMinutesBeforeStart":0}`},
		{"an unset reminder is not written",
			calsync.Write{Op: calsync.WriteUpdate, ID: "A", Fields: []string{"reminder", "subject"}, Event: calsync.RemoteEvent{Subject: "s", Reminder: calsync.ReminderUnset}},
			`{"subject":"s"}`}, {"attendees are written on create when the engine names them (writeAttendees)",
			calsync.Write{Op: calsync.WriteCreate, TransactionID: "tx", Event: calsync.RemoteEvent{Subject: "m", Reminder: calsync.ReminderUnset, Start: ev.Start, End: ev.End,
				Attendees: []calsync.Attendee{{Email: "a@x.example", DisplayName: "A", Type: "required", Status: "accepted"}, {Email: "room@x.example", Type: "resource"}}}},
			`{"subject":"m","body":{"contentType":"text","content":""},"location":{"displayName":""},"isAllDay":false,"start":{"dateTime":"2025-03-05T08:30:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2025-03-05T09:00:00.0000000","timeZone":"UTC"},"attendees":[{"type":"required","emailAddress":{"address":"a@x.example","name":"A"}},{"type":"resource","emailAddress":{"address":"room@x.example"}}],"transactionId":"tx"}`},
		{"attendees are not written on update unless named",
			calsync.Write{Op: calsync.WriteUpdate, ID: "A", Fields: []string{"subject"}, Event: calsync.RemoteEvent{Subject: "s", Reminder: calsync.ReminderUnset, Attendees: []calsync.Attendee{{Email: "a@x.example", Type: "required"}}}},
			`{"subject":"s"}`},
		{"named attendees replace the list; none left removes them all",
			calsync.Write{Op: calsync.WriteUpdate, ID: "A", Fields: []string{"attendees"}, Event: calsync.RemoteEvent{Reminder: calsync.ReminderUnset}},
			`{"attendees":[]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := toGraph(c.w)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Errorf("toGraph:\n got %s\nwant %s", got, c.want)
			}
		})
	}
}

func TestParseEvent(t *testing.T) {
	body := `{"@odata.etag":"W/\"ck1\"","id":"AAMk-1","changeKey":"ck1","iCalUId":"uid-1","transactionId":"tx",
	"type":"singleInstance","isOrganizer":true,"isCancelled":false,"isReminderOn":true,"reminderMinutesBeforeStart":1080,"lastModifiedDateTime":"2025-03-01T08:00:00.1234567Z",
	"subject":"S","body":{"contentType":"text","content":"B"},"location":{"displayName":"L"},"isAllDay":true,
	"start":{"dateTime":"2025-03-05T00:00:00.0000000","timeZone":"W. Europe Standard Time"},
	"end":{"dateTime":"2025-03-06T00:00:00","timeZone":"W. Europe Standard Time"},"originalStartTimeZone":"W. Europe Standard Time",
	"singleValueExtendedProperties":[{"id":"` + OroIDPropertyID + `","value":"42"}]}`
	got, err := parseEvent([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := calsync.RemoteEvent{ID: "AAMk-1", ChangeKey: "ck1", ETag: `W/"ck1"`, ICalUID: "uid-1", TransactionID: "tx",
		OroID: "42", Type: "singleInstance", IsOrganizer: true, LastModified: time.Date(2025, 3, 1, 8, 0, 0, 123456700, time.UTC),
		Subject: "S", Body: "B", Location: "L", AllDay: true,
		Start: time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC), End: time.Date(2025, 3, 6, 0, 0, 0, 0, time.UTC),
		TimeZone: "W. Europe Standard Time", Reminder: 1080}
	if !got.LastModified.Equal(want.LastModified) {
		t.Errorf("lastModified %v, want %v", got.LastModified, want.LastModified)
	}
	got.LastModified = want.LastModified
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("parseEvent:\n got %s\nwant %s", g, w)
	}

	removed, err := parseEvent([]byte(`{"@odata.type":"#microsoft.graph.event","id":"X","@removed":{"reason":"deleted"}}`))
	if err != nil || !removed.Removed || removed.ID != "X" {
		t.Errorf("removed item: %+v, %v", removed, err)
	}
}

func TestEventTimeZones(t *testing.T) {
	body := `{"id":"A","isAllDay":false,"start":{"dateTime":"2025-07-01T10:00:00","timeZone":"Europe/Berlin"},
	"end":{"dateTime":"2025-07-01T09:00:00.5","timeZone":"UTC"}}`
	got, err := parseEvent([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2025, 7, 1, 8, 0, 0, 0, time.UTC); !got.Start.Equal(want) || got.Start.Location() != time.UTC {
		t.Errorf("IANA-labelled start = %v, want %v in UTC", got.Start, want)
	}
	if want := time.Date(2025, 7, 1, 9, 0, 0, 5e8, time.UTC); !got.End.Equal(want) {
		t.Errorf("end = %v, want %v", got.End, want)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestParseEventAttendees: attendees and the organizer as Oro names them
// (calendar-semantics §3.2); a type or response Graph does not define
// reads as none given, an attendee without an address is left out but
// still counts as one.
func TestParseEventAttendees(t *testing.T) {
	body := `{"id":"A","type":"singleInstance","organizer":{"emailAddress":{"name":"Adele","address":"adele@contoso.example"}},"attendees":[
	{"type":"required","status":{"response":"accepted"},"emailAddress":{"name":"R","address":"r@x.example"}},
	{"type":"optional","status":{"response":"tentativelyAccepted"},"emailAddress":{"address":"o@x.example"}},
	{"type":"resource","status":{"response":"declined"},"emailAddress":{"name":"Room","address":"room@x.example"}},
	{"type":"somethingNew","status":{"response":"organizer"},"emailAddress":{"address":"n@x.example"}},
	{"status":{"response":"notResponded"},"emailAddress":{"address":"q@x.example"}},
	{"type":"required","status":{"response":"later"},"emailAddress":{"address":"u@x.example"}},
	{"type":"required","emailAddress":{"name":"no address"}},
	null]}`
	got, err := parseEvent([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []calsync.Attendee{
		{Email: "r@x.example", DisplayName: "R", Status: "accepted", Type: "required"},
		{Email: "o@x.example", Status: "tentative", Type: "optional"},
		{Email: "room@x.example", DisplayName: "Room", Status: "declined", Type: "optional"},
		{Email: "n@x.example", Status: "accepted", Type: "required"},
		{Email: "q@x.example", Status: "none", Type: "required"},
		{Email: "u@x.example", Status: "none", Type: "required"},
	}
	if g, w := mustJSON(t, got.Attendees), mustJSON(t, want); g != w {
		t.Errorf("attendees:\n got %s\nwant %s", g, w)
	}
	if len(got.Resources) != 1 || got.Resources[0] != "room@x.example" {
		t.Errorf("resources %q, want the room", got.Resources)
	}
	if !got.HasAttendees || got.OrganizerEmail != "adele@contoso.example" || got.OrganizerName != "Adele" || got.Type != "singleInstance" {
		t.Errorf("hasAttendees %v, organizer %q %q, type %q", got.HasAttendees, got.OrganizerEmail, got.OrganizerName, got.Type)
	}
	if ev, err := parseEvent([]byte(`{"id":"A","type":"later","attendees":[null]}`)); err != nil || ev.Type != "" || !ev.HasAttendees || ev.Attendees != nil {
		t.Errorf("unknown type, null attendee: %+v, %v", ev, err)
	}
}

// TestParseEventDecoding: what parseEvent accepts. A field of the wrong
// JSON type, an unreadable timestamp or a body that is not an object is an
// error (the answer is unusable); null is a field's absence; "@removed"
// marks a removed item whatever its value, unless null.
func TestParseEventDecoding(t *testing.T) {
	for _, body := range []string{
		`null`, `[]`, `"event"`, `{`,
		`{"id":5}`, `{"id":"A","subject":{}}`, `{"id":"A","isAllDay":"true"}`, `{"id":"A","attendees":{}}`,
		`{"id":"A","reminderMinutesBeforeStart":"15"}`, `{"id":"A","reminderMinutesBeforeStart":1.5}`,
		`{"id":"A","start":"2025-03-05T08:30:00"}`, `{"id":"A","body":"text"}`, `{"id":"A","@odata.etag":1}`,
		`{"id":"A","lastModifiedDateTime":"yesterday"}`, `{"id":"A","createdDateTime":""}`, `{"id":"A","createdDateTime":7}`,
		`{"id":"A","singleValueExtendedProperties":[{"id":"x","value":1}]}`,
	} {
		if ev, err := parseEvent([]byte(body)); err == nil {
			t.Errorf("parseEvent(%s) = %+v, want an error", body, ev)
		}
	}
	ev, err := parseEvent([]byte(`{"id":"A","subject":null,"body":null,"start":null,"isAllDay":null,"attendees":null,"organizer":null,
		"lastModifiedDateTime":null,"createdDateTime":"2025-03-01T08:00:00","singleValueExtendedProperties":[null,{"id":null}],"unknown":{"x":[1,2]}}`))
	if err != nil || ev.ID != "A" || ev.Subject != "" || !ev.Start.IsZero() || ev.HasAttendees || !ev.LastModified.IsZero() ||
		!ev.Created.Equal(time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)) || ev.Reminder != calsync.ReminderOff {
		t.Errorf("nulls: %+v, %v", ev, err)
	}
	// a timestamp with escapes reads as its decoded string does
	if ev, err := parseEvent([]byte(`{"id":"A","lastModifiedDateTime":"2025-03-01T08:00:00\u002e5Z"}`)); err != nil ||
		!ev.LastModified.Equal(time.Date(2025, 3, 1, 8, 0, 0, 5e8, time.UTC)) {
		t.Errorf("escaped timestamp: %+v, %v", ev, err)
	}
	if ev, err := parseEvent([]byte(`{"id":"X","subject":"S","@removed":null}`)); err != nil || ev.Removed || ev.Subject != "S" {
		t.Errorf("@removed null: %+v, %v", ev, err)
	}
	for _, removed := range []string{`{}`, `{"reason":"deleted"}`, `"changed"`} {
		ev, err := parseEvent([]byte(`{"id":"X","subject":"S","@removed":` + removed + `}`))
		if err != nil || !ev.Removed || ev.ID != "X" || ev.Subject != "" {
			t.Errorf("@removed %s: %+v, %v", removed, ev, err)
		}
	}
}
