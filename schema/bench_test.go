package schema

import (
	"fmt"
	"strings"
	"testing"
)

// syncRunEvents is the params of a valid sync.run pushing n Oro events the
// way a host sends them: every event with its times and texts, every other
// one already linked to its Microsoft 365 copy.
func syncRunEvents(n int) []byte {
	var s strings.Builder
	s.WriteString(`{"app":{"tenant":"common","clientId":"6731de76-14a6-49ae-97bc-6eba6914391e","clientSecret":"s","redirectUri":"https://oro.example.com/cb"},` +
		`"tokens":{"accessToken":"a","refreshToken":"r","expiresAt":"2026-03-01T10:00:00Z"},` +
		`"cascade":{"organization":{"enabled":true,"direction":"both"}},"mode":"full","timeZone":"Europe/Berlin","events":[`)
	for i := range n {
		if i > 0 {
			s.WriteByte(',')
		}
		fmt.Fprintf(&s, `{"id":"%d","uid":"oro-%d@oro.example.com","title":"Meeting %d","description":"Agenda: item %d","location":"Room %d",`+
			`"start":"2026-03-05T09:00:00+01:00","end":"2026-03-05T10:30:00+01:00","allDay":false,"updatedAt":"2026-02-27T16:12:00Z"`, i, i, i, i, i%40)
		if i%2 == 1 {
			fmt.Fprintf(&s, `,"link":{"v":1,"remoteId":"AAMkAGI2TG93AAA%06d=","changeKey":"DwAAABYAAAA%06d","hash":"h%d"}`, i, i, i)
		}
		s.WriteByte('}')
	}
	s.WriteString(`]}`)
	return []byte(s.String())
}

// BenchmarkCheckSyncRun validates the params of a sync.run pushing 5,000
// events, as the sidecar does before the engine runs.
//
//	go test -run '^$' -bench CheckSyncRun -benchmem ./schema/
func BenchmarkCheckSyncRun(b *testing.B) {
	v, err := NewValidator(OpenRPC)
	if err != nil {
		b.Fatal(err)
	}
	params := syncRunEvents(5000)
	if _, err := v.Check("sync.run", params); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(params)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Check("sync.run", params); err != nil {
			b.Fatal(err)
		}
	}
}
