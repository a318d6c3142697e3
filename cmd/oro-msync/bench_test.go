package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Benchmarks through real processes and pipes:
//
//	go test -run XXX -bench 'Start|Requests' -benchtime 300x ./cmd/oro-msync/
//	go test -run XXX -bench LargeReply -benchtime 10x -count 6 ./cmd/oro-msync/
//
// BenchmarkStart runs, in turn, the sidecar answering rpc.discover, a Go
// program that reads one line and echoes it (the target is within 2x of
// it), and that program linked with the sidecar's dependencies (their
// package initialisation, before main): for each, process start to the
// reply (reply-ms) and to its exit once stdin is closed (exit-ms), and the
// sidecar's reply time over the echo's (x-echo) and the linked one's
// (x-linked). ns/op is the three together.

// roundTrip starts bin, writes line, and reads one line back: how long
// the reply took from the start, and the whole run until the process
// exited once its stdin was closed.
func roundTrip(b *testing.B, bin string, line string) (reply, whole time.Duration) {
	cmd := exec.Command(bin)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	io.WriteString(in, line)
	r, err := bufio.NewReaderSize(out, 64<<10).ReadString('\n')
	reply = time.Since(start)
	if err != nil || len(r) < 10 {
		b.Fatalf("reply %q: %v", r, err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	return reply, time.Since(start)
}

func BenchmarkStart(b *testing.B) {
	dir := b.TempDir()
	baseline := func(name string) string {
		bin := filepath.Join(dir, name)
		build := exec.Command("go", "build", "-o", bin, "./testdata/"+name)
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			b.Fatalf("%v\n%s", err, out)
		}
		return bin
	}
	progs := []struct{ name, bin string }{
		{"sidecar", binary},
		{"echo", baseline("echo")},
		{"linked", baseline("linked")},
	}
	discover := `{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}` + "\n"
	reply := make([]time.Duration, len(progs))
	whole := make([]time.Duration, len(progs))
	for b.Loop() {
		// in turn, so that the machine's drift touches all three alike
		for i, p := range progs {
			r, w := roundTrip(b, p.bin, discover)
			reply[i] += r
			whole[i] += w
		}
	}
	ms := func(d time.Duration) float64 { return d.Seconds() * 1000 / float64(b.N) }
	for i, p := range progs {
		b.ReportMetric(ms(reply[i]), p.name+"-reply-ms")
		b.ReportMetric(ms(whole[i]), p.name+"-exit-ms")
	}
	b.ReportMetric(float64(reply[0])/float64(reply[1]), "x-echo")
	b.ReportMetric(float64(reply[0])/float64(reply[2]), "x-linked")
}

// BenchmarkLargeReply is one process answering the sync.run result of a
// large pull (test.syncResult: 10,000 created events, about 9.5 MB) to
// a host that reads it: the CPU the process used (cpu-ms), its peak
// resident memory (maxrss-MiB) and the reply's size. Building the result
// is part of it; the rest is the reply's way out.
func BenchmarkLargeReply(b *testing.B) {
	req := `{"jsonrpc":"2.0","id":1,"method":"test.syncResult","params":{"operations":10000}}` + "\n"
	var cpu time.Duration
	var size int64
	var peak float64
	for b.Loop() {
		cmd := exec.Command(binary)
		cmd.Env = append(os.Environ(), "OROMSYNC_TEST_HOOKS=1")
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		io.WriteString(in, req)
		n, err := lineLength(bufio.NewReaderSize(out, 64<<10))
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, vmHWM(b, cmd.Process.Pid))
		in.Close()
		if err := cmd.Wait(); err != nil || n < 9<<20 {
			b.Fatalf("%d bytes: %v", n, err)
		}
		size = n
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
	b.ReportMetric(peak, "maxrss-MiB")
	b.ReportMetric(float64(size), "reply-bytes")
}

const smallRequest = `{"jsonrpc":"2.0","id":%d,"method":"settings.resolve","params":{"cascade":{"system":{"enabled":true},"organization":{"direction":"both"},"user":{"syncIntervalMinutes":30}}}}` + "\n"

// BenchmarkRequests measures small requests through one process: one at a
// time (latency) and pipelined (throughput); both report req/s.
func BenchmarkRequests(b *testing.B) {
	b.Run("sequential", func(b *testing.B) {
		cmd := exec.Command(binary)
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		r := bufio.NewReader(out)
		i := 0
		for b.Loop() {
			fmt.Fprintf(in, smallRequest, i)
			if l, err := r.ReadString('\n'); err != nil || !strings.Contains(l, `"result"`) {
				b.Fatalf("%q %v", l, err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		in.Close()
		cmd.Wait()
	})
	b.Run("pipelined", func(b *testing.B) {
		cmd := exec.Command(binary)
		in, _ := cmd.StdinPipe()
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		r := bufio.NewReader(out)
		const batch = 1000
		for b.Loop() {
			go func() {
				w := bufio.NewWriter(in)
				for i := range batch {
					fmt.Fprintf(w, smallRequest, i)
				}
				w.Flush()
			}()
			for range batch {
				if l, err := r.ReadString('\n'); err != nil || !strings.Contains(l, `"result"`) {
					b.Fatalf("%q %v", l, err)
				}
			}
		}
		b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "req/s")
		in.Close()
		cmd.Wait()
	})
}

// vmHWM returns the peak RSS in MiB of the running process pid (VmHWM in
// /proc: the high-water mark since it started its program). It is read
// before the process exits: getrusage's maxrss of a child started by Go
// (with vfork) keeps this test process's mark, not the sidecar's.
func vmHWM(b *testing.B, pid int) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(status), "\nVmHWM:")
	var kb float64
	if _, err := fmt.Sscan(rest, &kb); !ok || err != nil {
		b.Fatalf("no VmHWM in /proc/%d/status", pid)
	}
	return kb / 1024
}

// lineLength reads one line of any length from r and returns its length.
func lineLength(r *bufio.Reader) (int64, error) {
	var n int64
	for {
		chunk, err := r.ReadSlice('\n')
		n += int64(len(chunk))
		if err != bufio.ErrBufferFull {
			return n, err
		}
	}
}
