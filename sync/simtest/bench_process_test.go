package simtest

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// sidecarBin, when set, is the sidecar binary the process benchmarks run
// instead of building cmd/oro-msync: two builds measured alternately in
// one window, on a shared machine.
var sidecarBin = flag.String("sidecar", "", "sidecar binary for the process benchmarks (default: build cmd/oro-msync)")

// BenchmarkFullSync10kProcess runs the first full sync of 10,000 events
// (5,000 Oro events to push, 5,000 Outlook events to pull) through the
// built sidecar binary, as the host would: one sync.run over a pipe, the
// simulator in this process. It reports the sidecar process's peak RSS
// (see peakRSS), its CPU time (user + system, start
// to exit) per event synced, the request and reply sizes, and the wall
// time from writing the request to reading the reply.
func BenchmarkFullSync10kProcess(b *testing.B) { processSync(b, 5000, 5000, time.Hour, nil) }

// BenchmarkPull10kProcess is BenchmarkFullSync10kProcess for a first sync
// that only pulls: 10,000 Outlook events, none in Oro, half an hour apart
// so that all are in the sync window.
//
//	go test ./sync/simtest/ -run '^$' -bench 'Pull10kProcess' -benchtime 3x
func BenchmarkPull10kProcess(b *testing.B) { processSync(b, 0, 10000, 30*time.Minute, nil) }

// BenchmarkPull10kFloor is BenchmarkPull10kProcess's floor: the same
// 10,000 Outlook events pulled by testdata/floor, a program that only reads
// the delta pages with net/http, decodes them with encoding/json into a
// small struct and writes a reply of about the same size. It reports the
// same figures, so that the sidecar's are read as ratios to these.
//
//	go test ./sync/simtest/ -run '^$' -bench 'Pull10k(Process|Floor)' -benchtime 3x
func BenchmarkPull10kFloor(b *testing.B) { floorSync(b, "pull", 0, 10000, 30*time.Minute) }

// floorSync runs testdata/floor in mode (pull or push) on the first sync
// of oro new Oro events and ms Outlook events (starting every apart), as
// processSync runs the sidecar, and reports the same figures.
func floorSync(b *testing.B, mode string, oro, ms int, every time.Duration) {
	bin := buildProgram(b, "./testdata/floor")
	var rssMB, cpu, wall, replyMB float64
	for b.Loop() {
		b.StopTimer()
		w := newWorld(b, graphsim.Options{})
		seedOro(w, oro)
		seedMicrosoft(b, w, ms, every)
		line := syncLine(b, w)
		cmd := exec.Command(bin, mode, w.cfg.Endpoints.Graph, window.Start.Format(time.RFC3339), window.End.Format(time.RFC3339))
		cmd.Env = append(os.Environ(), "FLOOR_TOKEN="+w.tok.AccessToken)
		cmd.Stderr = os.Stderr
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		b.StartTimer()
		start := time.Now()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		go func() { in.Write([]byte(line)) }()
		reply, rerr := bufio.NewReaderSize(out, 1<<20).ReadString('\n')
		wall = time.Since(start).Seconds()
		b.StopTimer()
		hwm := peakRSS(cmd.Process.Pid) // the floor waits for the end of its input
		in.Close()
		if err := cmd.Wait(); err != nil || rerr != nil || strings.Count(reply, `"op":`) != oro+ms {
			b.Fatalf("%v, %v: %.500s", err, rerr, reply)
		}
		rssMB, cpu = hwm, cpuPerEvent(cmd.ProcessState, oro+ms)
		replyMB = float64(len(reply)) / (1 << 20)
		b.StartTimer()
	}
	b.ReportMetric(rssMB, "peak-RSS-MB")
	b.ReportMetric(cpu, "cpu-µs/event")
	b.ReportMetric(replyMB, "reply-MB")
	b.ReportMetric(wall, "wall-s")
}

// buildProgram builds the program in dir (relative to this package),
// static as it is shipped, into tb's temporary directory.
func buildProgram(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), filepath.Base(dir))
	build := exec.Command("go", "build", "-o", bin, dir)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("go build %s: %v\n%s", dir, err, out)
	}
	return bin
}

// sidecarBinary returns the -sidecar binary, or else cmd/oro-msync built
// for the benchmark.
func sidecarBinary(b *testing.B) string {
	if *sidecarBin != "" {
		return *sidecarBin
	}
	return buildProgram(b, "../../cmd/oro-msync")
}

// cpuPerEvent returns a finished process's CPU time (user + system) per
// event in µs.
func cpuPerEvent(ps *os.ProcessState, events int) float64 {
	return float64((ps.UserTime() + ps.SystemTime()).Microseconds()) / float64(events)
}

// peakRSS returns the peak RSS in MiB of the running process pid since it
// started its program (VmHWM): read before it exits, once it has done its
// work. getrusage's ru_maxrss of a child is no measure of it: Go starts
// children with vfork, and Linux keeps in it the high-water mark of the
// memory the child shared before exec, this test process's.
func peakRSS(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return float64(kb) / 1024
		}
	}
	return 0
}

// syncLine is the sync.run request line of w's host for its next sync.
func syncLine(b *testing.B, w *world) string {
	params := struct {
		App    any `json:"app"`
		Tokens any `json:"tokens"`
		calsync.Request
	}{w.app, w.tok, w.host.request(w.dir, w.strat, calsync.Options{TimeBudgetSeconds: 600})}
	p, err := json.Marshal(params)
	if err != nil {
		b.Fatal(err)
	}
	return `{"jsonrpc":"2.0","id":1,"method":"sync.run","params":` + string(p) + "}\n"
}

// processSync runs the first sync of oro new Oro events and ms Outlook
// events (starting every apart) through the built sidecar and reports its
// figures. With a tap, the sidecar reaches Graph through it, and the tap
// reports its floor (see tap.floor).
func processSync(b *testing.B, oro, ms int, every time.Duration, t *tap) {
	bin := sidecarBinary(b)
	var rssMB, cpu, wall, reqMB, replyMB float64
	for b.Loop() {
		b.StopTimer()
		w := newWorld(b, graphsim.Options{})
		seedOro(w, oro)
		seedMicrosoft(b, w, ms, every)
		line := syncLine(b, w)
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
		go func() { in.Write([]byte(line)) }()
		reply, err := bufio.NewReaderSize(out, 1<<20).ReadString('\n')
		hwm := peakRSS(cmd.Process.Pid) // the sidecar waits for more input
		in.Close()
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
		rssMB, cpu = hwm, cpuPerEvent(cmd.ProcessState, oro+ms)
		reqMB, replyMB = float64(len(line))/(1<<20), float64(len(reply))/(1<<20)
		if t != nil {
			t.measure(b, line, len(reply), oro+ms)
		}

		b.StartTimer()
	}
	b.ReportMetric(rssMB, "sidecar-peak-RSS-MB")
	b.ReportMetric(cpu, "sidecar-cpu-µs/event")
	b.ReportMetric(reqMB, "request-MB")
	b.ReportMetric(replyMB, "reply-MB")
	b.ReportMetric(wall, "wall-s")
	if t != nil {
		b.ReportMetric(t.floorPerEvent, "codec-floor-cpu-µs/event")
		b.ReportMetric(cpu/t.floorPerEvent, "x-codec-floor")
	}
}
