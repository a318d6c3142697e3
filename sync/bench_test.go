package calsync

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// BenchmarkDecide measures the pure planner per event (both sides edited,
// merge: the most expensive case).
func BenchmarkDecide(b *testing.B) {
	p := pairFor("edit", "edit", t0, t0, true)
	cfg := planConfig{dir: DirectionBoth, strategy: ConflictMerge}
	b.ReportAllocs()
	for b.Loop() {
		decide(p, cfg)
	}
}

// BenchmarkRunFull measures a first full sync of n Oro and n Microsoft
// events (half matched by UID) against the in-memory fake, per event.
func BenchmarkRunFull(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				clock := &fakeClock{t: t0}
				remote := newFakeRemote(clock)
				remote.pageSize = 100
				req := Request{Mode: ModeFull, Cascade: Cascade{System: &ScopeSettings{Enabled: ptr(true)}}}
				for i := range n {
					s := t0.Add(time.Duration(i) * time.Hour)
					uid := fmt.Sprintf("u%d", i)
					if i%2 == 0 {
						remote.Seed(RemoteEvent{Subject: "x", ICalUID: uid, IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
					} else {
						remote.Seed(RemoteEvent{Subject: "ms", IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
					}
					req.Events = append(req.Events, Event{ID: fmt.Sprint(i), UID: uid, Title: "x", Start: s.Format(time.RFC3339), End: s.Add(time.Hour).Format(time.RFC3339)})
				}
				b.StartTimer()
				if _, err := Run(context.Background(), req, remote, RunOptions{Now: clock.Now}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*n), "ns/event")
		})
	}
}
