package calendar

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// graphEventJSON is one event as Graph answers a read of it: an HTML-free
// body, three attendees, an organizer, our extended property, the
// timestamps with seven fractional digits.
const graphEventJSON = `{"@odata.etag":"W/\"DwAAABYAAAB7tGz0Zf5nQ6ZC3Ay1ZDS+AAAKQbh8\"",
"id":"AAMkAGI2TGuLAAA=","createdDateTime":"2025-02-20T09:12:44.1234567Z","lastModifiedDateTime":"2025-02-21T10:00:01.7654321Z",
"changeKey":"DwAAABYAAAB7tGz0Zf5nQ6ZC3Ay1ZDS+AAAKQbh8","categories":[],"transactionId":"6f72b7d4-2f1c-8a3e-8000-00000000002a",
"originalStartTimeZone":"W. Europe Standard Time","originalEndTimeZone":"W. Europe Standard Time",
"iCalUId":"040000008200E00074C5B7101A82E00800000000D0A1B2C3","uid":"040000008200E00074C5B7101A82E00800000000D0A1B2C3",
"reminderMinutesBeforeStart":15,"isReminderOn":true,"hasAttachments":false,"subject":"Quarterly planning",
"bodyPreview":"Agenda: numbers, hiring, roadmap.","importance":"normal","sensitivity":"normal","isAllDay":false,
"isCancelled":false,"isOrganizer":true,"responseRequested":true,"seriesMasterId":null,"showAs":"busy","type":"singleInstance",
"webLink":"https://outlook.office365.com/owa/?itemid=AAMkAGI2TGuLAAA%3D&exvsurl=1&path=/calendar/item",
"onlineMeetingUrl":null,"isOnlineMeeting":false,"onlineMeetingProvider":"unknown","allowNewTimeProposals":true,
"isDraft":false,"hideAttendees":false,"responseStatus":{"response":"organizer","time":"0001-01-01T00:00:00Z"},
"body":{"contentType":"text","content":"Agenda: numbers, hiring, roadmap.\r\nBring the Q1 figures.\r\n"},
"start":{"dateTime":"2025-03-05T08:30:00.0000000","timeZone":"UTC"},"end":{"dateTime":"2025-03-05T10:00:00.0000000","timeZone":"UTC"},
"location":{"displayName":"Room 4.01","locationType":"default","uniqueId":"Room 4.01","uniqueIdType":"private"},
"locations":[{"displayName":"Room 4.01","locationType":"default","uniqueId":"Room 4.01","uniqueIdType":"private"}],
"recurrence":null,
"attendees":[{"type":"required","status":{"response":"accepted","time":"2025-02-20T10:00:00Z"},"emailAddress":{"name":"Alex Wilber","address":"alexw@contoso.example"}},
{"type":"optional","status":{"response":"tentativelyAccepted","time":"2025-02-20T11:00:00Z"},"emailAddress":{"name":"Megan Bowen","address":"meganb@contoso.example"}},
{"type":"resource","status":{"response":"none","time":"0001-01-01T00:00:00Z"},"emailAddress":{"name":"Room 4.01","address":"room401@contoso.example"}}],
"organizer":{"emailAddress":{"name":"Adele Vance","address":"adele@contoso.example"}},
"onlineMeeting":null,
"singleValueExtendedProperties":[{"id":"String {6e1f9c52-3a7d-4b08-9e25-c41d7a80b3f6} Name OroEventId","value":"42"}]}`

// BenchmarkParseEvent maps one event body as a $batch item answer is
// mapped (parseEvent): the cost per event of reading Graph's answers.
func BenchmarkParseEvent(b *testing.B) {
	body := []byte(graphEventJSON)
	if ev, err := parseEvent(body); err != nil || ev.OroID != "42" || len(ev.Attendees) != 3 {
		b.Fatalf("%+v, %v", ev, err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseEvent(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDelta10k pulls 10,000 events, a first delta round at the
// default page size, from the simulator over loopback: the client's whole
// path (SDK adapter and middleware, decoding, mapping). It reports, per
// event, the wall time, the process's CPU time (user + system, simulator
// included: it runs in this process) and the allocations (simulator
// included).
//
//	go test ./graphclient/calendar/ -run '^$' -bench 'Delta10k' -benchtime 5x
func BenchmarkDelta10k(b *testing.B) {
	const n = 10_000
	f := newFixture(b, graphsim.Options{Logf: func(string, ...any) {}})
	for i := range n {
		start := time.Date(2025, 1, 2, 8, 30, 0, 0, time.UTC).Add(time.Duration(i) * 50 * time.Minute) // all in window
		ev := map[string]any{"subject": fmt.Sprintf("ms %d", i),
			"body":     map[string]any{"contentType": "text", "content": fmt.Sprintf("Agenda %d\r\nBring the figures.\r\n", i)},
			"location": map[string]any{"displayName": "Room 4.01"},
			"start":    map[string]any{"dateTime": start.Format("2006-01-02T15:04:05"), "timeZone": "UTC"},
			"end":      map[string]any{"dateTime": start.Add(time.Hour).Format("2006-01-02T15:04:05"), "timeZone": "UTC"}}
		if _, err := f.sim.UserCreateEvent(f.upn, ev); err != nil {
			b.Fatal(err)
		}
	}
	r := New(f.session, Options{})
	ctx := context.Background()
	var cpu time.Duration
	var mallocs uint64
	var ms runtime.MemStats
	b.ResetTimer()
	for b.Loop() {
		runtime.ReadMemStats(&ms)
		m0, c0 := ms.Mallocs, cpuTime()
		got, link := 0, ""
		for {
			p, err := r.Delta(ctx, window, link)
			if err != nil {
				b.Fatal(err)
			}
			got += len(p.Events)
			if p.DeltaLink != "" {
				break
			}
			link = p.NextLink
		}
		cpu += cpuTime() - c0
		runtime.ReadMemStats(&ms)
		mallocs += ms.Mallocs - m0
		if got != n {
			b.Fatalf("pulled %d events, want %d", got, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "wall-µs/event")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N*n), "cpu-µs/event")
	b.ReportMetric(float64(mallocs)/float64(b.N*n), "allocs/event")
}

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
