package calsync_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// BenchmarkRunFull measures a first full sync of n Oro and n Microsoft
// events (half matched by UID) against the in-memory fake, per event.
func BenchmarkRunFull(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				clock := scenario.NewClock(t0)
				remote := scenario.NewFake(clock)
				remote.PageSize = 100
				req := calsync.Request{Mode: calsync.ModeFull, Cascade: calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true)}}}
				for i := range n {
					s := t0.Add(time.Duration(i) * time.Hour)
					uid := fmt.Sprintf("u%d", i)
					if i%2 == 0 {
						remote.Seed("", calsync.RemoteEvent{Subject: "x", ICalUID: uid, IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
					} else {
						remote.Seed("", calsync.RemoteEvent{Subject: "ms", IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
					}
					req.Events = append(req.Events, calsync.Event{ID: fmt.Sprint(i), UID: uid, Title: "x", Start: s.Format(time.RFC3339), End: s.Add(time.Hour).Format(time.RFC3339), UpdatedAt: t0})
				}
				b.StartTimer()
				res, err := calsync.Run(context.Background(), req, remote, calsync.RunOptions{Now: clock.Now})
				if err != nil {
					b.Fatal(err)
				}
				if res.Status != calsync.StatusCompleted || res.Stats.Pushed != n/2 {
					b.Fatalf("status %s, pushed %d; want completed with %d pushed", res.Status, res.Stats.Pushed, n/2)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*n), "ns/event")
		})
	}
}
