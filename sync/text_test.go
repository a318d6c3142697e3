package calsync_test

import (
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// Exchange keeps bodies as HTML; read back with Prefer:
// outlook.body-content-type="text", a body ends its lines with CRLF and gains
// a trailing CRLF (facts §2; docs user-list-messages.md, example
// get_messages_in_text: "Welcome to the Support group!\r\n").
func TestNormalizeText(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"Agenda", "Agenda"},
		{"Agenda\r\n", "Agenda"},
		{"a\r\nb\r\n", "a\nb"},
		{"a\rb", "a\nb"},
		{"a\n\nb\n\n", "a\n\nb"},
		{"a \t\r\n \u00a0", "a"},
		{"  lead\n  indent", "  lead\n  indent"},
	}
	for _, tc := range cases {
		if got := calsync.NormalizeText(tc.in); got != tc.want {
			t.Errorf("NormalizeText(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// A description and the body Exchange gives back for it have the same content
// hash, so a round trip through Microsoft is not seen as a change.
func TestDescriptionHashIgnoresBodyConversion(t *testing.T) {
	ev := calsync.Event{Title: "t", Description: "a\nb\n", Start: "2025-01-07T09:00:00Z", End: "2025-01-07T10:00:00Z"}
	oro := calsync.ContentHash(ev)
	ev.Description = "a\r\nb"
	if h := calsync.ContentHash(ev); h != oro {
		t.Errorf("Oro CRLF description: hash %s, want %s", h, oro)
	}
	r := calsync.RemoteEvent{Subject: "t", Body: "a\r\nb\r\n", Reminder: calsync.ReminderUnset,
		Start: time.Date(2025, 1, 7, 9, 0, 0, 0, time.UTC), End: time.Date(2025, 1, 7, 10, 0, 0, 0, time.UTC)}
	if !calsync.SameContent(ev, r) {
		t.Errorf("Microsoft body %q: not the same content as %q", r.Body, ev.Description)
	}
}
