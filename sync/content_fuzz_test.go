package calsync

import (
	"testing"
	"unicode/utf8"
)

// FuzzParseContent feeds the content parser arbitrary Oro events: it never
// panics, and what it accepts renders back (content.event) to an event
// that parses to the same content, with the same hash.
func FuzzParseContent(f *testing.F) {
	f.Add("t", "d", "l", false, "2026-03-05T09:00:00+01:00", "2026-03-05T10:00:00+01:00")
	f.Add("t", "", "", true, "2026-03-05", "2026-03-06")
	f.Add("t", "", "", true, "2026-03-05T00:00:00+01:00", "2026-03-06T00:00:00-05:00")
	f.Add("", "a\r\nb", "", false, "2026-03-05T09:00:00Z", "")
	f.Add("x", "", "", true, "2026-03-05T01:00:00Z", "2026-13-01")
	f.Fuzz(func(t *testing.T, title, desc, loc string, allDay bool, start, end string) {
		ev := Event{ID: "1", Title: title, Description: desc, Location: loc, AllDay: allDay, Start: start, End: end}
		c, err := parseContent(ev)
		if err != nil {
			if err.field != "start" && err.field != "end" {
				t.Fatalf("error names field %q", err.field)
			}
			return
		}
		back := c.event()
		c2, err := parseContent(back)
		if err != nil {
			t.Fatalf("rendered event %+v does not parse: %s %s", back, err.field, err.msg)
		}
		if c2 != c || c2.hash() != c.hash() {
			t.Fatalf("round trip changed the content: %+v → %+v", c, c2)
		}
		r := c.remote("")
		rc := remoteContent(&r)
		rc.Who = nil // attendees come from Microsoft 365 only (pull-only)
		if rc.hash() != c.hash() {
			t.Fatalf("the Microsoft rendering hashes differently: %+v → %+v", c, rc)
		}
	})
}

// FuzzTransactionID checks that every transactionId carries its Oro id
// back (OroIDFromTransactionID), whatever the id, uid and replaced copy.
func FuzzTransactionID(f *testing.F) {
	f.Add("42", "u", "")
	f.Add("9223372036854775807", "", "AAMk1")
	f.Add("0042", "u", "r")
	f.Add("é/ü", "", "")
	f.Fuzz(func(t *testing.T, oroID, uid, replaces string) {
		tx := TransactionID(oroID, uid, replaces)
		got, ok := OroIDFromTransactionID(tx)
		if !ok || got != oroID {
			if !ok && (oroID == "" || !utf8.ValidString(oroID)) {
				return // the fallback form carries only non-empty UTF-8 ids
			}
			t.Fatalf("TransactionID(%q) = %q carries %q, %v", oroID, tx, got, ok)
		}
	})
}
