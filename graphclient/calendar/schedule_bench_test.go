package calendar

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// latencyModel is the simulator's latency model for the push benchmarks,
// the one sync/simtest's BenchmarkPush5000Latency uses: 5 ms per request
// (a $batch's own, before its items run, holding no mailbox slot) and 2 ms
// per batch item, holding the item's mailbox slot.
var latencyModel = graphsim.Options{Latency: 5 * time.Millisecond, BatchItemLatency: 2 * time.Millisecond}

// pushBound is model's lower bound for n writes: every item's service
// time spread over the mailbox's 4 slots, plus one request's latency. It
// takes a $batch's own latency to overlap the items of the batches before
// it, which a client that never runs more than 4 requests at once does not
// do: it holds a slot from sending a batch to its answer.
func pushBound(model graphsim.Options, n int) time.Duration {
	return model.Latency + time.Duration((n+3)/4)*model.BatchItemLatency
}

// slotBound is model's lower bound for n writes in batches of 20 when
// each batch holds a slot for its whole round trip (what Apply does): the
// 4 slots carry every batch's own latency and every item's service time.
func slotBound(model graphsim.Options, n int) time.Duration {
	return (time.Duration((n+19)/20)*model.Latency + time.Duration(n)*model.BatchItemLatency) / 4
}

// BenchmarkApplyPush5000 pushes 5,000 new events through Remote.Apply
// against the simulator's latency model, in Apply calls of chunk writes
// (5000: one call; 100: the engine's ApplyChunk today; 400 and 80: chunks
// that are whole rounds of 4 chains of 20), and reports the wall time
// against the model's lower bound (and the bound when every batch holds a
// slot for its round trip, slot-bound-s), the share of the mailbox's 4
// slots that requests held (mailbox-use) and the 429s (batch items
// included).
func BenchmarkApplyPush5000(b *testing.B) {
	for _, chunk := range []int{5000, 400, 100, 80} {
		b.Run(fmt.Sprintf("chunk=%d", chunk), func(b *testing.B) { benchApplyPush(b, latencyModel, 5000, chunk) })
	}
}

// BenchmarkApplyPushSlow is BenchmarkApplyPush5000 with the model's
// latencies ten times longer (50 ms a request, 20 ms a batch item) and
// 1,000 events: the same number of rounds per chain as 5,000 events give
// in 20-item batches is not the point; the point is that CPU time (the
// client's and the simulator's, on a shared machine) becomes small against
// the latencies, so the figure shows the scheduling alone.
func BenchmarkApplyPushSlow(b *testing.B) {
	slow := graphsim.Options{Latency: 50 * time.Millisecond, BatchItemLatency: 20 * time.Millisecond}
	for _, chunk := range []int{1000, 100} {
		b.Run(fmt.Sprintf("chunk=%d", chunk), func(b *testing.B) { benchApplyPush(b, slow, 1000, chunk) })
	}
}

func benchApplyPush(b *testing.B, model graphsim.Options, n, chunk int) {
	var wall, held time.Duration
	var throttled, batches int
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b, model)
		r := New(f.session, Options{})
		ws := creates(n)
		held0 := f.meter.slotTime()
		b.StartTimer()
		start := time.Now()
		for i := 0; i < n; i += chunk {
			res, err := r.Apply(context.Background(), ws[i:min(i+chunk, n)])
			if err != nil {
				b.Fatal(err)
			}
			for _, x := range res {
				if x.Err != nil {
					b.Fatalf("%s: %v", x.Key, x.Err)
				}
			}
		}
		wall = time.Since(start)
		b.StopTimer()
		held = f.meter.slotTime() - held0
		throttled, batches = f.throttled(), r.GraphRequests()[KindBatch]
		b.StartTimer()
	}
	bound := pushBound(model, n)
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(bound.Seconds(), "bound-s")
	b.ReportMetric(wall.Seconds()/bound.Seconds(), "x-bound")
	b.ReportMetric(slotBound(model, n).Seconds(), "slot-bound-s")
	b.ReportMetric(mailboxUse(held, wall), "mailbox-use")
	b.ReportMetric(float64(batches), "batches")
	b.ReportMetric(float64(throttled), "429s")
}

// mailboxUse is the share of the mailbox's 4 slots that requests held
// (slot-time held) over wall.
func mailboxUse(held, wall time.Duration) float64 {
	return held.Seconds() / (4 * wall.Seconds())
}

// oroEvents returns n new Oro events inside the test window, 30 minutes
// apart.
func oroEvents(n int) []calsync.Event {
	evs := make([]calsync.Event, n)
	base := time.Date(2025, 2, 1, 8, 0, 0, 0, time.UTC)
	for i := range evs {
		start := base.Add(time.Duration(i) * 30 * time.Minute)
		evs[i] = calsync.Event{ID: fmt.Sprintf("oro-%d", i), UID: fmt.Sprintf("uid-%d", i), Title: fmt.Sprintf("Event %d", i),
			Start: start.Format(time.RFC3339), End: start.Add(30 * time.Minute).Format(time.RFC3339), UpdatedAt: base}
	}
	return evs
}

// runEngine is one sync.run of the engine over events, through a new
// Remote (one per call, as rpc makes it).
func runEngine(tb testing.TB, f *fixture, state *calsync.State, events []calsync.Event, chunk int) calsync.Result {
	tb.Helper()
	mode := calsync.ModeFull
	if state != nil {
		mode = calsync.ModeIncremental
	}
	return engineCall(tb, f, mode, state, events, 600, Options{}, chunk)
}

// engineCall is one sync.run as rpc makes it: a new Remote with opts, on
// the simulator's clock as the engine is, its budget starting from what
// state carries (State.Sent).
func engineCall(tb testing.TB, f *fixture, mode calsync.Mode, state *calsync.State, events []calsync.Event, budgetSeconds int, opts Options, chunk int) calsync.Result {
	tb.Helper()
	w := window
	enabled, dir := true, calsync.DirectionBoth
	req := calsync.Request{Cascade: calsync.Cascade{Organization: &calsync.ScopeSettings{Enabled: &enabled, Direction: &dir}},
		Mode: mode, State: state, Window: &w, Events: events, Options: calsync.Options{TimeBudgetSeconds: budgetSeconds}}
	opts.Now = f.sim.Now
	if state != nil {
		opts.Sent = state.Sent
	}
	res, err := calsync.Run(context.Background(), req, New(f.session, opts), calsync.RunOptions{Now: f.sim.Now, ApplyChunk: chunk, CheckLink: f.session.CheckLink})
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// BenchmarkEnginePush5000 is BenchmarkApplyPush5000 through the engine
// (calsync.Run, a full first run: a delta round, the writes, the settle
// round reading their echoes), with the engine's ApplyChunk (the most
// writes it hands over at once) at its default (400) and at 100.
func BenchmarkEnginePush5000(b *testing.B) {
	const n = 5000
	for _, chunk := range []int{100, 400} {
		b.Run(fmt.Sprintf("applyChunk=%d", chunk), func(b *testing.B) {
			var wall, held time.Duration
			var throttled int
			for b.Loop() {
				b.StopTimer()
				f := newFixture(b, latencyModel)
				evs := oroEvents(n)
				held0 := f.meter.slotTime()
				b.StartTimer()
				start := time.Now()
				res := runEngine(b, f, nil, evs, chunk)
				wall = time.Since(start)
				if res.Status != calsync.StatusCompleted || res.Stats.Pushed != n {
					b.Fatalf("%s (%s), pushed %d", res.Status, res.Reason, res.Stats.Pushed)
				}
				b.StopTimer()
				held = f.meter.slotTime() - held0
				throttled = f.throttled()
				b.StartTimer()
			}
			bound := pushBound(latencyModel, n)
			b.ReportMetric(wall.Seconds(), "wall-s")
			b.ReportMetric(bound.Seconds(), "bound-s")
			b.ReportMetric(wall.Seconds()/bound.Seconds(), "x-bound")
			b.ReportMetric(slotBound(latencyModel, n).Seconds(), "slot-bound-s")
			b.ReportMetric(mailboxUse(held, wall), "mailbox-use")
			b.ReportMetric(float64(throttled), "429s")
		})
	}
}

// BenchmarkEnginePush10000Budget pushes 10,000 new events through the
// engine against the simulator's per-mailbox limits (4 at once, 10,000
// requests per 10 minutes): the first call ends partial before the budget
// is spent, with a nextSyncAt (reported as next-call-s) after which the
// second call, on the simulator's clock moved there, pushes the rest. It
// reports the writes of each call and the 429s of both.
func BenchmarkEnginePush10000Budget(b *testing.B) {
	const n = 10000
	var first, second calsync.Result
	var throttled int
	var wait time.Duration
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b, graphsim.Options{})
		evs := oroEvents(n)
		b.StartTimer()
		first = runEngine(b, f, nil, evs, 0)
		b.StopTimer()
		wait = first.NextSyncAt.Sub(f.sim.Now())
		if first.Status != calsync.StatusPartial || first.State == nil {
			b.Fatalf("first call %s (%s), pushed %d; want partial", first.Status, first.Reason, first.Stats.Pushed)
		}
		f.sim.Advance(wait)
		b.StartTimer()
		second = runEngine(b, f, first.State, pendingOf(first, evs), 0)
		b.StopTimer()
		throttled = f.throttled()
		b.StartTimer()
	}
	b.Logf("first call: %s (%s), pushed %d; second call: %s (%s), pushed %d", first.Status, first.Reason, first.Stats.Pushed, second.Status, second.Reason, second.Stats.Pushed)
	b.ReportMetric(float64(first.Stats.Pushed), "first-pushed")
	b.ReportMetric(wait.Seconds(), "next-call-s")
	b.ReportMetric(float64(second.Stats.Pushed), "second-pushed")
	b.ReportMetric(float64(throttled), "429s")
}

// pendingOf returns the events the host sends again after res: those with
// an issue (not written), with the links res's operations gave the others
// left out (they are in sync).
func pendingOf(res calsync.Result, evs []calsync.Event) []calsync.Event {
	pending := map[string]bool{}
	for _, is := range res.Issues {
		pending[is.OroID] = true
	}
	var out []calsync.Event
	for _, ev := range evs {
		if pending[ev.ID] {
			out = append(out, ev)
		}
	}
	return out
}
