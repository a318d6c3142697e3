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
			`{"subject":"s"}`},
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
