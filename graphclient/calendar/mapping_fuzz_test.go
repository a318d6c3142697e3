package calendar

import (
	"testing"
	"time"
	"unicode/utf8"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// FuzzMapping feeds Graph event JSON to the mapping (parseEvent, fromGraph)
// and sends what it maps back through toGraph and parseEvent again, as a
// create carries it. Invariants: no panic on any input; an event that maps
// maps back equal in what the engine writes (subject, body, location,
// all-day, start, end, Oro id, transactionId) wherever the mapping is
// lossless: strings of valid UTF-8 (json.Marshal replaces the rest), and
// times Graph's seven fractional digits can write, in years 1 to 9999.
// Lossy input is still mapped back, without panicking.
func FuzzMapping(f *testing.F) {
	for _, seed := range []string{
		`{"@odata.etag":"W/\"ck1\"","id":"AAMk-1","changeKey":"ck1","iCalUId":"uid-1","transactionId":"tx","type":"singleInstance","isOrganizer":true,` +
			`"subject":"S","body":{"contentType":"text","content":"B\r\nline\r\n"},"location":{"displayName":"L"},"isAllDay":true,` +
			`"start":{"dateTime":"2025-03-05T00:00:00.0000000","timeZone":"W. Europe Standard Time"},"end":{"dateTime":"2025-03-06T00:00:00","timeZone":"UTC"},` +
			`"singleValueExtendedProperties":[{"id":"` + OroIDPropertyID + `","value":"42"}]}`,
		`{"id":"A","isAllDay":false,"start":{"dateTime":"2025-07-01T10:00:00","timeZone":"Europe/Berlin"},"end":{"dateTime":"2025-07-01T09:00:00.123456789","timeZone":"UTC"}}`,
		`{"id":"X","@removed":{"reason":"deleted"}}`,
		`{"id":"T","transactionId":"6f72b7d4-2f1c-8a3e-8000-00000000002a","subject":"\u00e9v\u00e9nement","start":{"dateTime":"0001-01-01T00:00:00"}}`,
		`{"subject":null,"body":{"content":null},"start":{"dateTime":"not a time"},"singleValueExtendedProperties":[null,{"id":null}]}`,
		`[]`, `{`, `null`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ev, err := parseEvent(data)
		if err != nil || ev.Removed {
			return
		}
		w := calsync.Write{Key: "k", Op: calsync.WriteCreate, OroID: ev.OroID, TransactionID: ev.TransactionID, Event: ev}
		body, err := toGraph(w)
		if err != nil {
			t.Fatalf("toGraph of a mapped event: %v", err)
		}
		back, err := parseEvent(body)
		if err != nil {
			t.Fatalf("parseEvent of toGraph's body %s: %v", body, err)
		}
		if !lossless(ev) {
			return
		}
		want := ev
		if want.AllDay { // written as the plain dates they are
			want.Start, want.End = day(want.Start), day(want.End)
		}
		for _, c := range []struct {
			field     string
			got, want any
		}{
			{"subject", back.Subject, want.Subject},
			{"body", back.Body, want.Body},
			{"location", back.Location, want.Location},
			{"allDay", back.AllDay, want.AllDay},
			{"start", back.Start, want.Start},
			{"end", back.End, want.End},
			{"oroId", back.OroID, want.OroID},
			{"transactionId", back.TransactionID, want.TransactionID},
		} {
			if c.got != c.want {
				t.Errorf("%s maps back as %#v, want %#v (body %s)", c.field, c.got, c.want, body)
			}
		}
	})
}

// lossless reports an event toGraph writes without loss.
func lossless(ev calsync.RemoteEvent) bool {
	for _, s := range []string{ev.Subject, ev.Body, ev.Location, ev.OroID, ev.TransactionID} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	for _, t := range []time.Time{ev.Start, ev.End} {
		if t.Year() < 1 || t.Year() > 9999 || t.Nanosecond()%100 != 0 {
			return false
		}
	}
	return true
}

func day(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}
