package simtest

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// BenchmarkFullSync10kProcess runs the first full sync of 10,000 events
// (5,000 Oro events to push, 5,000 Outlook events to pull) through the
// built sidecar binary, as the host would: one sync.run over a pipe, the
// simulator in this process. It reports the sidecar process's peak RSS
// (getrusage ru_maxrss of the child), its CPU time (user + system, start
// to exit) per event synced, the request and reply sizes, and the wall
// time from writing the request to reading the reply.
func BenchmarkFullSync10kProcess(b *testing.B) { processSync(b, 5000, 5000, time.Hour, nil) }

// BenchmarkPull10kProcess is BenchmarkFullSync10kProcess for a first sync
// that only pulls: 10,000 Outlook events, none in Oro, half an hour apart
// so that all are in the sync window.
//
//	go test ./sync/simtest/ -run '^$' -bench 'Pull10kProcess' -benchtime 3x
func BenchmarkPull10kProcess(b *testing.B) { processSync(b, 0, 10000, 30*time.Minute, nil) }

// processSync runs the first sync of oro new Oro events and ms Outlook
// events (starting every apart) through the built sidecar and reports its
// figures. With a tap, the sidecar reaches Graph through it, and the tap
// reports its floor (see tap.floor).
func processSync(b *testing.B, oro, ms int, every time.Duration, t *tap) {
	bin := filepath.Join(b.TempDir(), "oro-msync")
	build := exec.Command("go", "build", "-o", bin, "../../cmd/oro-msync")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("%v\n%s", err, out)
	}
	var rssMB, cpuPerEvent, wall, reqMB, replyMB float64
	for b.Loop() {
		b.StopTimer()
		w := newWorld(b, graphsim.Options{})
		seedOro(w, oro)
		for i := range ms {
			start := time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC).Add(time.Duration(i) * every)
			if _, err := w.sim.UserCreateEvent(upn, outlookEvent(fmt.Sprintf("ms %d", i), start)); err != nil {
				b.Fatal(err)
			}
		}
		params := struct {
			App    any `json:"app"`
			Tokens any `json:"tokens"`
			calsync.Request
		}{w.app, w.tok, w.host.request(w.dir, w.strat, calsync.Options{TimeBudgetSeconds: 600})}
		p, err := json.Marshal(params)
		if err != nil {
			b.Fatal(err)
		}
		line := `{"jsonrpc":"2.0","id":1,"method":"sync.run","params":` + string(p) + "}\n"
		graph := w.cfg.Endpoints.Graph
		if t != nil {
			graph = t.serve(b, w.sim) + "/v1.0"
		}
		cmd := exec.Command(bin, "--authority-url", w.cfg.Endpoints.Authority, "--graph-url", graph, "--log-level", "error")
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		go func() { in.Write([]byte(line)); in.Close() }()
		reply, err := bufio.NewReaderSize(out, 1<<20).ReadString('\n')
		wall = time.Since(start).Seconds()
		b.StopTimer()
		if err != nil || !strings.Contains(reply, `"status":"completed"`) {
			b.Fatalf("%v: %.500s", err, reply)
		}
		var r struct {
			Result calsync.Result `json:"result"`
		}
		if err := json.Unmarshal([]byte(reply), &r); err != nil || r.Result.Stats.Pushed != oro || r.Result.Stats.Pulled != ms {
			b.Fatalf("pushed %d, pulled %d, %v", r.Result.Stats.Pushed, r.Result.Stats.Pulled, err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		rssMB = float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024 // KiB on Linux
		cpuPerEvent = float64((cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Microseconds()) / float64(oro+ms)
		reqMB, replyMB = float64(len(line))/(1<<20), float64(len(reply))/(1<<20)
		if t != nil {
			t.measure(b, line, len(reply), oro+ms)
		}

		b.StartTimer()
	}
	b.ReportMetric(rssMB, "sidecar-peak-RSS-MB")
	b.ReportMetric(cpuPerEvent, "sidecar-cpu-µs/event")
	b.ReportMetric(reqMB, "request-MB")
	b.ReportMetric(replyMB, "reply-MB")
	b.ReportMetric(wall, "wall-s")
	if t != nil {
		b.ReportMetric(t.floorPerEvent, "floor-cpu-µs/event")
		b.ReportMetric(cpuPerEvent/t.floorPerEvent, "x-floor")
	}
}
