package simtest

import (
	"bufio"
	"encoding/json"
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
func BenchmarkFullSync10kProcess(b *testing.B) {
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
		seedOro(w, 5000)
		seedMicrosoft(b, w, 5000)
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
		cmd := exec.Command(bin, "--authority-url", w.cfg.Endpoints.Authority, "--graph-url", w.cfg.Endpoints.Graph, "--log-level", "error")
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
		if err := json.Unmarshal([]byte(reply), &r); err != nil || r.Result.Stats.Pushed != 5000 {
			b.Fatalf("pushed %d, %v", r.Result.Stats.Pushed, err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		rssMB = float64(cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss) / 1024 // KiB on Linux
		cpuPerEvent = float64((cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Microseconds()) / 10000
		reqMB, replyMB = float64(len(line))/(1<<20), float64(len(reply))/(1<<20)

		b.StartTimer()
	}
	b.ReportMetric(rssMB, "sidecar-peak-RSS-MB")
	b.ReportMetric(cpuPerEvent, "sidecar-cpu-µs/event")
	b.ReportMetric(reqMB, "request-MB")
	b.ReportMetric(replyMB, "reply-MB")
	b.ReportMetric(wall, "wall-s")
}
