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
)

// BenchmarkHostileInput reports the peak resident memory (maxrss-MiB) of
// one sidecar process fed a small hostile input that used to cost
// gigabytes:
//
//	go test -run XXX -bench HostileInput -benchtime 1x ./cmd/oro-msync/
//
// Each case writes its input to a file and runs the binary with stdin fed
// from it; once the case's replies are read, and before stdin is closed,
// the peak is read from the kernel (VmHWM; see vmHWM). These are
// measurements, not assertions.
func BenchmarkHostileInput(b *testing.B) {
	for _, c := range hostileInputs {
		b.Run(c.name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), c.name+".ndjson")
			f, err := os.Create(path)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriterSize(f, 1<<20)
			c.write(w)
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
			f.Close()
			var peak float64
			for b.Loop() {
				peak = max(peak, hostilePeak(b, path, c.replies))
			}
			b.ReportMetric(peak, "maxrss-MiB")
		})
	}
}

// hostilePeak runs the sidecar on the file, reads its replies (lines)
// and returns its peak RSS in MiB, read while it still runs.
func hostilePeak(b *testing.B, input string, replies int) float64 {
	f, err := os.Open(input)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(binary)
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	go io.Copy(in, f) // the sidecar may answer before it has read it all
	r := bufio.NewReaderSize(out, 1<<20)
	for i := range replies {
		if _, err := lineLength(r); err != nil {
			b.Fatalf("reply %d of %d: %v", i+1, replies, err)
		}
	}
	peak := vmHWM(b, cmd.Process.Pid)
	in.Close()
	io.Copy(io.Discard, r)
	if err := cmd.Wait(); err != nil {
		b.Fatalf("sidecar: %v", err)
	}
	return peak
}

// The four inputs of issue 8, finding 4, and a deep-value one (its follow-up).
var hostileInputs = []struct {
	name    string
	replies int // lines the sidecar answers it with
	write   func(w io.Writer)
}{
	{"discover-batch-12000", 1, func(w io.Writer) { // about 610 KB
		batch(w, 12000, func(i int) string {
			return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"rpc.discover"}`, i)
		})
	}},
	{"tiny-batch-60MB", 1, func(w io.Writer) {
		batch(w, 60<<20/len(`{"jsonrpc":"2.0","id":1000000,"method":"settings.resolve","params":{"cascade":{}}},`), func(i int) string {
			return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"settings.resolve","params":{"cascade":{}}}`, i)
		})
	}},
	{"empty-events-60MB", 1, func(w io.Writer) {
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"method":"sync.run","params":{`+
			`"app":{"tenant":"common","clientId":"6731de76-14a6-49ae-97bc-6eba6914391e","clientSecret":"s","redirectUri":"https://oro.example.com/cb"},`+
			`"tokens":{"accessToken":"a","refreshToken":"r","expiresAt":"2026-03-01T10:00:00Z"},"cascade":{},"mode":"full","events":[{}`)
		io.WriteString(w, strings.Repeat(`,{}`, 60<<20/3))
		io.WriteString(w, "]}}\n")
	}},
	{"nested-empty-arrays-60MB", 1, func(w io.Writer) { // one event whose title is 20 million []
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"method":"sync.run","params":{`+
			`"app":{"tenant":"common","clientId":"6731de76-14a6-49ae-97bc-6eba6914391e","clientSecret":"s","redirectUri":"https://oro.example.com/cb"},`+
			`"tokens":{"accessToken":"a","refreshToken":"r","expiresAt":"2026-03-01T10:00:00Z"},"cascade":{},"mode":"full","events":[{"id":"e1","title":[[]`)
		io.WriteString(w, strings.Repeat(`,[]`, 60<<20/3))
		io.WriteString(w, "]}]}}\n")
	}},
	{"long-line-100MB", 2, func(w io.Writer) { // over the 64 MiB default limit
		io.WriteString(w, `{"jsonrpc":"2.0","id":1,"method":"rpc.discover","params":{"pad":"`)
		io.WriteString(w, strings.Repeat("a", 100<<20))
		io.WriteString(w, "\"}}\n"+`{"jsonrpc":"2.0","id":2,"method":"settings.resolve","params":{"cascade":{}}}`+"\n")
	}},
}

// batch writes one line holding a batch of n requests.
func batch(w io.Writer, n int, req func(int) string) {
	io.WriteString(w, "[")
	for i := range n {
		if i > 0 {
			io.WriteString(w, ",")
		}
		io.WriteString(w, req(i))
	}
	io.WriteString(w, "]\n")
}
