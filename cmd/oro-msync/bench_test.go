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
//	go test -run XXX -bench 'Start|Requests' -benchtime 200x ./cmd/oro-msync/
//	go test -run XXX -bench LargeReply -benchtime 10x -count 6 ./cmd/oro-msync/
//
// BenchmarkStart/sidecar-discover is process start to the rpc.discover
// reply; BenchmarkStart/echo-baseline is the same for a Go program that
// reads one line and echoes it (the target is within 2x of it), and
// BenchmarkStart/linked-baseline for that program linked with the
// sidecar's dependencies (their package initialisation, before main).

func roundTrip(b *testing.B, bin string, line string) {
	cmd := exec.Command(bin)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	io.WriteString(in, line)
	r, err := bufio.NewReaderSize(out, 64<<10).ReadString('\n')
	if err != nil || len(r) < 10 {
		b.Fatalf("reply %q: %v", r, err)
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
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
	echo, linked := baseline("echo"), baseline("linked")
	discover := `{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}` + "\n"
	for _, c := range []struct{ name, bin string }{
		{"sidecar-discover", binary},
		{"echo-baseline", echo},
		{"linked-baseline", linked},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				roundTrip(b, c.bin, discover)
			}
		})
	}
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
