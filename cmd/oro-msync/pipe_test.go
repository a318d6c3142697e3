package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestPipelinedBigMessages is PHP's pattern with blocking fwrite: the host
// writes several ~1 MiB requests before it reads any reply, and the replies
// are as big, far over a pipe's 64 KiB. The sidecar must keep reading while
// its first reply waits for the host to read, or both processes wait on each
// other forever.
func TestPipelinedBigMessages(t *testing.T) {
	p := start(t, nil)
	const n = 5
	pad := strings.Repeat("A", 1<<20)
	written := make(chan error, 1)
	go func() {
		for i := range n {
			if _, err := fmt.Fprintf(p.in, `{"jsonrpc":"2.0","id":%d,"method":"test.echo","params":{"pad":%q}}`+"\n", i, pad); err != nil {
				written <- err
				return
			}
			if i == 0 {
				// Let the first reply fill stdout before more arrives.
				time.Sleep(300 * time.Millisecond)
			}
		}
		written <- p.in.Close()
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Fatalf("writing the requests: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("deadlock: the sidecar stopped reading stdin while its reply waited for stdout")
	}
	seen := map[string]bool{}
	for range n {
		var r struct {
			ID     json.RawMessage
			Result struct{ Pad string }
		}
		if err := json.Unmarshal(p.recv(), &r); err != nil || len(r.Result.Pad) != len(pad) {
			t.Fatalf("reply %s: %v (pad of %d bytes)", r.ID, err, len(r.Result.Pad))
		}
		seen[string(r.ID)] = true
	}
	if len(seen) != n {
		t.Fatalf("replies to %v, want %d distinct ids", seen, n)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}
