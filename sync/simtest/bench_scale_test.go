package simtest

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// The sizes of BenchmarkScale.
var (
	scaleProcs  = flag.Int("scale-procs", 4, "BenchmarkScale: sidecar processes, each a message-queue consumer answering one sync.run at a time")
	scaleUsers  = flag.Int("scale-users", 200, "BenchmarkScale: users, each with a mailbox of their own")
	scaleEvents = flag.Int("scale-events", 300, "BenchmarkScale: events per user at the start, a third made in Oro, the rest in Outlook, "+
		"four of those weekly series")
	scaleRounds = flag.Int("scale-rounds", 3, "BenchmarkScale: incremental rounds after the first sync, each after edits on both sides")
)

// scaleLatency is the simulator's latency model of the scale runs
// (BenchmarkScale, BenchmarkScaleHost).
var scaleLatency = graphsim.Options{Latency: 5 * time.Millisecond, BatchItemLatency: 2 * time.Millisecond}

// Per user: the weekly series among the Outlook events, and the
// occurrences of each.
const (
	scaleSeries      = 4
	scaleOccurrences = 10
)

// BenchmarkScale is a scale run (issue 14): -scale-users users, each with
// a mailbox of their own in one Graph simulator under its latency model,
// synced by -scale-procs built sidecar processes. Each process is an Oro
// message-queue consumer with its long-lived sidecar (examples/oro-host):
// it takes the next user's job from a shared queue and answers it with one
// sync.run before taking another, so that calls within a process never
// overlap. Every user has a first full sync (pushing the Oro third of
// -scale-events, pulling the rest), then -scale-rounds incremental rounds,
// each after edits on both sides: in Oro two events edited, one created and
// one deleted; in Outlook the same.
//
// It fails on a call without a completed result, on any issue, on a
// result that did not push and pull exactly what changed, on any 429 (no
// mailbox is ever synced twice at once, so Microsoft's limits must never be
// reached), and when the two sides of any user differ at the end.
//
// It reports syncs and events (pushed plus pulled) per second of the
// rounds' wall time; the p50 and p99 call latency of the first syncs and
// of the incremental ones, as the host sees them; the sidecars' largest
// peak RSS (VmHWM, see peakRSS) and their CPU time (user + system, start to
// exit) per event; the Graph requests per incremental sync (HTTP requests,
// a batch as one) and the mailbox requests (a batch's items one by one, as
// Microsoft's limits count them), with what those come to per user and day
// at a 15-minute interval against Microsoft's 10,000 requests per 10
// minutes per mailbox (graph-facts §7). An idle sync costs one request, so
// that is an upper bound.
//
//	go test ./sync/simtest/ -run '^$' -bench 'Scale$' -benchtime 1x
func BenchmarkScale(b *testing.B) {
	procs, users, rounds := *scaleProcs, *scaleUsers, *scaleRounds
	oroN := *scaleEvents / 3
	msN := *scaleEvents - oroN - scaleSeries
	// Each round edits two events on each side and deletes one.
	if procs < 1 || users < 1 || rounds < 0 || min(oroN, msN) < 3*rounds {
		b.Fatalf("-scale-procs %d, -scale-users %d, -scale-rounds %d, -scale-events %d: too few", procs, users, rounds, *scaleEvents)
	}
	bin := sidecarBinary(b)
	opts := scaleLatency
	var (
		full, incr    []time.Duration
		wall          time.Duration
		events        int
		rssMB, cpu    float64
		reqs, throttl int
		mailboxReqs   int
	)
	for b.Loop() {
		b.StopTimer()
		base := newWorld(b, opts)
		us := []*world{base}
		for i := 1; i < users; i++ {
			us = append(us, base.another(fmt.Sprintf("user%d@contoso.example", i)))
		}
		for _, w := range us {
			seedOro(w, oroN)
			seedMicrosoft(b, w, msN, time.Hour)
			for k := range scaleSeries {
				start := time.Date(2025, 4, 7+k, 10, 0, 0, 0, time.UTC)
				if _, err := w.sim.UserCreateEvent(w.user, weeklySeries(fmt.Sprintf("series %d", k), start, scaleOccurrences)); err != nil {
					b.Fatal(err)
				}
			}
		}
		cs := make([]*consumer, procs)
		for i := range cs {
			cs[i] = startConsumer(b, bin, base.cfg.Endpoints)
		}
		full, incr, wall, events = nil, nil, 0, 0

		// The first sync: every event pushed or pulled, a series as one.
		outs, took := scaleRound(b, cs, us)
		wall += took
		for i, o := range outs {
			checkScale(b, us[i], o, "first sync", oroN, msN+scaleSeries)
			full = append(full, o.took)
			events += o.res.Stats.Pushed + o.res.Stats.Pulled
		}
		_, throttl = graphRequests(base)
		base.sim.ResetLog()

		msIDs := make([][]string, users)
		for i, w := range us {
			msIDs[i] = outlookSingles(w)
		}
		for r := range rounds {
			for i, w := range us {
				editScale(b, w, msIDs[i], oroN, r)
			}
			outs, took := scaleRound(b, cs, us)
			wall += took
			for i, o := range outs {
				checkScale(b, us[i], o, fmt.Sprintf("round %d", r+1), 4, 4)
				incr = append(incr, o.took)
				events += o.res.Stats.Pushed + o.res.Stats.Pulled
			}
		}
		var t int
		reqs, t = graphRequests(base)
		throttl += t
		mailboxReqs = mailboxRequests(base)
		if throttl > 0 {
			b.Fatalf("%d answers 429", throttl)
		}

		rssMB, cpu = 0, 0
		for _, c := range cs {
			rssMB = max(rssMB, c.stop(b))
			cpu += cpuPerEvent(c.cmd.ProcessState, events)
		}
		for _, w := range us {
			w.agree()
		}
		if b.Failed() {
			b.FailNow()
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(len(full)+len(incr))/wall.Seconds(), "syncs/s")
	b.ReportMetric(float64(events)/wall.Seconds(), "events/s")
	b.ReportMetric(percentile(full, 50), "first-p50-ms")
	b.ReportMetric(percentile(full, 99), "first-p99-ms")
	b.ReportMetric(percentile(incr, 50), "incr-p50-ms")
	b.ReportMetric(percentile(incr, 99), "incr-p99-ms")
	b.ReportMetric(rssMB, "sidecar-peak-RSS-MB")
	b.ReportMetric(cpu, "sidecar-cpu-µs/event")
	if len(incr) > 0 {
		perSync := float64(mailboxReqs) / float64(len(incr))
		perDay := perSync * 24 * 4
		b.ReportMetric(float64(reqs)/float64(len(incr)), "graph-req/incr-sync")
		b.ReportMetric(perSync, "mailbox-req/incr-sync")
		b.ReportMetric(perDay, "mailbox-req/user/day")
		b.ReportMetric(100*perDay/(10000*24*6), "mailbox-budget-%")
	}
}

// another returns a world for a second user of w's simulator and app,
// signed in, with an Oro host of its own.
func (w *world) another(user string) *world {
	w.t.Helper()
	u := &world{t: w.t, sim: w.sim, cfg: w.cfg, app: w.app, host: newHost(), user: user, dir: w.dir, strat: w.strat}
	u.signIn()
	return u
}

// A consumer is a sidecar process serving sync.run calls one at a time.
type consumer struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	s   *sidecar
}

// startConsumer starts the sidecar bin against the simulator at ep.
func startConsumer(b *testing.B, bin string, ep graphclient.Endpoints) *consumer {
	cmd := exec.Command(bin, "--authority-url", ep.Authority, "--graph-url", ep.Graph, "--log-level", "error")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if cmd.ProcessState == nil { // a failed run left it running
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 16<<20)
	return &consumer{cmd: cmd, in: in, s: &sidecar{in: in, out: sc}}
}

// outcome is one sync.run as the host saw it.
type outcome struct {
	res  calsync.Result
	took time.Duration // from writing the request to decoding the reply
	err  error
}

// run syncs w once with the defaults the host sends (no options) and
// keeps rotated tokens; the host applies the result later (checkScale).
func (c *consumer) run(w *world) outcome {
	req := w.host.request(w.dir, w.strat, calsync.Options{})
	params := struct {
		App    graphclient.App    `json:"app"`
		Tokens graphclient.Tokens `json:"tokens"`
		calsync.Request
	}{w.app, w.tok, req}
	var reply struct {
		calsync.Result
		Tokens *graphclient.Tokens `json:"tokens"`
	}
	start := time.Now()
	e, err := c.s.exchange("sync.run", params, &reply)
	o := outcome{res: reply.Result, took: time.Since(start), err: err}
	if e != nil {
		o.err = fmt.Errorf("error reply %s", *e)
	}
	if reply.Tokens != nil {
		w.tok = *reply.Tokens
	}
	return o
}

// stop ends c's process after reading its peak RSS in MiB, which it
// returns.
func (c *consumer) stop(b *testing.B) float64 {
	hwm := peakRSS(c.cmd.Process.Pid) // the sidecar waits for more input
	c.in.Close()
	if err := c.cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	return hwm
}

// scaleRound queues one sync of every user in us for the consumers cs,
// each taking the next job when done with its last, and returns the
// outcomes (by user) and the wall time, the only time the benchmark's
// timer runs.
func scaleRound(b *testing.B, cs []*consumer, us []*world) ([]outcome, time.Duration) {
	outs := make([]outcome, len(us))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Go(func() {
			for i := range jobs {
				outs[i] = c.run(us[i])
			}
		})
	}
	b.StartTimer()
	start := time.Now()
	for i := range us {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	took := time.Since(start)
	b.StopTimer()
	return outs, took
}

// checkScale fails unless o is a completed result without issues that pushed
// and pulled as many as said, and applies it to w's host.
func checkScale(b *testing.B, w *world, o outcome, name string, pushed, pulled int) {
	b.Helper()
	switch s := o.res.Stats; {
	case o.err != nil:
		b.Fatalf("%s, %s: %v", w.user, name, o.err)
	case o.res.Status != calsync.StatusCompleted:
		b.Fatalf("%s, %s: status %s", w.user, name, o.res.Status)
	case len(o.res.Issues) > 0:
		b.Fatalf("%s, %s: issues %+v", w.user, name, o.res.Issues)
	case s.Pushed != pushed || s.Pulled != pulled:
		b.Fatalf("%s, %s: pushed %d, pulled %d, want %d and %d", w.user, name, s.Pushed, s.Pulled, pushed, pulled)
	}
	w.host.apply(o.res)
}

// outlookSingles returns the Microsoft ids of the single events w pulled
// from Outlook (seedMicrosoft's), in Oro id order.
func outlookSingles(w *world) []string {
	var ids []string
	for _, ev := range w.host.live() {
		if strings.HasPrefix(ev.Title, "ms ") && ev.Recurrence == nil {
			ids = append(ids, ev.Link.RemoteID)
		}
	}
	return ids
}

// editScale makes round r's edits for w (see BenchmarkScale), none touching
// an event an earlier round deleted: of the oroN Oro events and the
// Outlook singles msIDs, the first ones are edited, the last ones deleted.
func editScale(b *testing.B, w *world, msIDs []string, oroN, r int) {
	at := time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC).Add(time.Duration(r) * 24 * time.Hour)
	for _, n := range []int{2*r + 1, 2*r + 2} {
		w.host.edit(fmt.Sprintf("oro-%d", n), fmt.Sprintf("oro %d, round %d", n, r))
	}
	w.host.remove(fmt.Sprintf("oro-%d", oroN-r))
	w.host.create(fmt.Sprintf("oro new %d", r), at)
	for _, j := range []int{2 * r, 2*r + 1} {
		if err := w.sim.UserUpdateEvent(w.user, msIDs[j], map[string]any{"subject": fmt.Sprintf("ms %d, round %d", j, r)}); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.sim.UserDeleteEvent(w.user, msIDs[len(msIDs)-1-r]); err != nil {
		b.Fatal(err)
	}
	if _, err := w.sim.UserCreateEvent(w.user, outlookEvent(fmt.Sprintf("ms new %d", r), at.Add(time.Hour))); err != nil {
		b.Fatal(err)
	}
}

// mailboxRequests counts the Graph requests in the simulator's log as
// Microsoft's per-mailbox limits do: a batch's items one by one
// (graph-facts §6), not the batch itself.
func mailboxRequests(w *world) int {
	n := 0
	for _, r := range w.sim.Requests() {
		switch {
		case len(r.BatchItems) > 0:
			n += len(r.BatchItems)
		case strings.HasPrefix(r.Path, "/v1.0"):
			n++
		}
	}
	return n
}

// percentile returns the p-th percentile of ds in ms (nearest rank).
func percentile(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return float64(s[max(i, 0)].Microseconds()) / 1000
}
