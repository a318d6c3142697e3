package simtest

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// graphRequests counts the simulator's Graph requests (batch items not
// counted separately) and the 429 answers, batch items included.
func graphRequests(w *world) (requests, throttled int) {
	for _, r := range w.sim.Requests() {
		if len(r.Path) > 5 && r.Path[:5] == "/v1.0" {
			requests++
		}
		if r.Status == 429 {
			throttled++
		}
		for _, it := range r.BatchItems {
			if it.Status == 429 {
				throttled++
			}
		}
	}
	return requests, throttled
}

// seedOro gives the host n new events; seedMicrosoft gives Outlook m.
func seedOro(w *world, n int) {
	for i := range n {
		w.host.create(fmt.Sprintf("oro %d", i), time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(i)*time.Hour))
	}
}

// seedMicrosoft gives w.user's Outlook m events, every apart from 1 March
// 2025 08:30 UTC.
func seedMicrosoft(b *testing.B, w *world, m int, every time.Duration) {
	for i := range m {
		if _, err := w.sim.UserCreateEvent(w.user, outlookEvent(fmt.Sprintf("ms %d", i), time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC).Add(time.Duration(i)*every))); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRequests reports Graph requests per run against the minimum:
// an idle incremental run (minimum 1), pushing N new Oro events (minimum
// one delta page plus ceil(N/20) batches) and the first pull of M Microsoft
// events (minimum ceil(M/200) delta pages at the page size we ask for).
func BenchmarkRequests(b *testing.B) {
	for _, c := range []struct {
		name    string
		oro, ms int
		idle    bool
		minimum int
	}{
		{"idle", 50, 50, true, 1},
		{"push/N=100", 100, 0, false, 1 + 5},
		{"push/N=1000", 1000, 0, false, 1 + 50},
		{"pull/M=100", 0, 100, false, 1},
		{"pull/M=1000", 0, 1000, false, 5},
	} {
		b.Run(c.name, func(b *testing.B) {
			var reqs, throttled int
			for b.Loop() {
				b.StopTimer()
				w := newWorld(b, graphsim.Options{})
				seedOro(w, c.oro)
				seedMicrosoft(b, w, c.ms, time.Hour)
				if c.idle {
					w.mustSync(calsync.Options{})
				}
				w.sim.ResetLog()
				b.StartTimer()
				w.mustSync(calsync.Options{})
				reqs, throttled = graphRequests(w)
			}
			b.ReportMetric(float64(reqs), "requests/run")
			b.ReportMetric(float64(c.minimum), "minimum/run")
			b.ReportMetric(float64(throttled), "429s/run")
		})
	}
}

// BenchmarkFullSync10k reports the peak heap of a first full sync of 10,000
// events (5,000 in Oro to push, 5,000 in Outlook to pull), simulator
// included, sampled every 5 ms.
func BenchmarkFullSync10k(b *testing.B) {
	var peak uint64
	for b.Loop() {
		b.StopTimer()
		w := newWorld(b, graphsim.Options{})
		seedOro(w, 5000)
		seedMicrosoft(b, w, 5000, time.Hour)
		runtime.GC()
		base := heap()
		var max atomic.Uint64
		stop := make(chan struct{})
		done := make(chan struct{})
		go func() {
			defer close(done)
			t := time.NewTicker(5 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-stop:
					return
				case <-t.C:
					if h := heap(); h > max.Load() {
						max.Store(h)
					}
				}
			}
		}()
		b.StartTimer()
		res := w.mustSync(calsync.Options{TimeBudgetSeconds: 600})
		b.StopTimer()
		close(stop)
		<-done
		if res.Status != calsync.StatusCompleted || res.Stats.Pushed != 5000 {
			b.Fatalf("status %s, pushed %d", res.Status, res.Stats.Pushed)
		}
		peak = max.Load() - min(base, max.Load())
		b.StartTimer()
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
}

func heap() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// BenchmarkPush5000Latency pushes 5,000 new events under the simulator's
// latency model (Latency per request, BatchItemLatency per batch item,
// BatchConcurrency 4) and reports the wall time against the lower bound the
// model allows: every item's latency spread over 4 slots, plus one request
// latency.
func BenchmarkPush5000Latency(b *testing.B) {
	const n = 5000
	opts := graphsim.Options{Latency: 5 * time.Millisecond, BatchItemLatency: 2 * time.Millisecond}
	var wall time.Duration
	var throttled int
	for b.Loop() {
		b.StopTimer()
		w := newWorld(b, opts)
		seedOro(w, n)
		w.sim.ResetLog()
		b.StartTimer()
		start := time.Now()
		res, err := w.sync(context.Background(), calsync.Options{TimeBudgetSeconds: 600})
		wall = time.Since(start)
		if err != nil || res.Stats.Pushed != n {
			b.Fatalf("pushed %d, %v", res.Stats.Pushed, err)
		}
		_, throttled = graphRequests(w)
	}
	bound := opts.Latency + time.Duration((n+3)/4)*opts.BatchItemLatency
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(float64(throttled), "429s")
}
