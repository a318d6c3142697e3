package graphsim

import (
	"fmt"
	"net/http"
	"runtime"
	"testing"
	"time"
)

// BenchmarkServeGetEvent measures requests per second served over loopback
// HTTP (GET /me/events/{id}, full event rendering), with throttling off.
func BenchmarkServeGetEvent(b *testing.B) {
	e := newEnv(b, Options{MailboxConcurrency: -1, MailboxRequestLimit: -1})
	id := e.create(simpleEvent("bench", "2025-01-07T10:00:00", "2025-01-07T11:00:00")).str("id")
	url := e.srv.URL + "/v1.0/me/events/" + id
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	client := &http.Client{Transport: tr}
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", url, nil)
			req.Header.Set("Authorization", "Bearer "+e.tok)
			r, err := client.Do(req)
			if err != nil || r.StatusCode != 200 {
				b.Fatalf("%v %v", err, r)
			}
			_, _ = r.Body.Read(make([]byte, 8192))
			r.Body.Close()
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}

// seed fills a mailbox with n single events, one every 30 minutes.
func seed(tb testing.TB, sim *Sim, n int) {
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		s := base.Add(time.Duration(i) * 30 * time.Minute)
		ev := map[string]any{"subject": fmt.Sprintf("event %d", i),
			"body":  map[string]any{"contentType": "text", "content": "Agenda for the meeting number " + fmt.Sprint(i)},
			"start": dt(s.Format("2006-01-02T15:04:05"), "UTC"), "end": dt(s.Add(25*time.Minute).Format("2006-01-02T15:04:05"), "UTC"),
			"location":                      map[string]any{"displayName": "Room 4"},
			"singleValueExtendedProperties": []any{map[string]any{"id": "String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Name SyncId", "value": fmt.Sprint("oro-", i)}},
		}
		if _, err := sim.UserCreateEvent(testUPN, ev); err != nil {
			tb.Fatal(err)
		}
	}
}

// BenchmarkMailbox100k reports the heap held by a 100,000-event mailbox and
// the time of one full initial delta round over it (1,000 items a page).
func BenchmarkMailbox100k(b *testing.B) {
	const n = 100_000
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		e := newEnv(b, Options{MailboxConcurrency: -1, MailboxRequestLimit: -1})
		seed(b, e.sim, n)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "heap-MB")
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/event")

		start := time.Now()
		items, _ := e.round("/v1.0/me/calendarView/delta?startDateTime=2025-01-01T00:00:00Z&endDateTime=2031-01-01T00:00:00Z",
			"Prefer", "odata.maxpagesize=1000")
		if len(items) != n {
			b.Fatalf("round returned %d items", len(items))
		}
		b.ReportMetric(time.Since(start).Seconds(), "delta-round-s")
		b.ReportMetric(float64(n)/time.Since(start).Seconds(), "delta-items/s")
	}
}
