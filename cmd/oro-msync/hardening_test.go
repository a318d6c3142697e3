package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Black-box tests of issue 8 (what an outside attack and a new user
// found): each fails on the sidecar before the fix.

// Finding 5: with --max-concurrent Graph-bound calls in flight and one
// more queued behind them, a cheap method answers first; nothing here
// finishes on its own, so the order is not a race.
func TestCheapMethodsNeverQueueBehindSyncs(t *testing.T) {
	p := start(t, nil, "--max-concurrent=2")
	for _, id := range []string{"s1", "s2", "s3"} {
		p.send(`{"jsonrpc":"2.0","id":"` + id + `","method":"test.sleep","params":{"ms":600000}}`)
	}
	for _, req := range []string{
		`{"jsonrpc":"2.0","id":"resolve","method":"settings.resolve","params":{"cascade":{}}}`,
		`{"jsonrpc":"2.0","id":"discover","method":"rpc.discover"}`,
		`{"jsonrpc":"2.0","id":"url","method":"connection.authorizationUrl","params":{"app":{"tenant":"common","clientId":"6731de76-14a6-49ae-97bc-6eba6914391e","redirectUri":"https://oro.example.com/cb"}}}`,
	} {
		p.send(req)
		r := decode(t, p.recv())
		if r.Error != nil || !strings.Contains(req, `"id":`+string(r.ID)) {
			t.Fatalf("sent %s with 2 sleeps running and 1 queued; first reply: id %s error %+v", req, r.ID, r.Error)
		}
	}
	for _, id := range []string{"s3", "s1", "s2"} { // the queued one first
		p.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"` + id + `"}}`)
		if r := decode(t, p.recv()); string(r.ID) != `"`+id+`"` {
			t.Fatalf("cancelled %s, got the reply to %s", id, r.ID)
		} else {
			wantError(t, r, -32800)
		}
	}
	p.wait()
}

// Finding 4: a batch over --max-batch is one -32600 that names the limit,
// and nothing in it runs.
func TestBatchOverTheCap(t *testing.T) {
	p := start(t, nil)
	reqs := make([]string, 101)
	for i := range reqs {
		reqs[i] = fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"rpc.discover"}`, i)
	}
	p.send("[" + strings.Join(reqs, ",") + "]")
	r := decode(t, p.recv())
	wantError(t, r, -32600)
	if string(r.ID) != "null" || !strings.Contains(r.Error.Message, "at most 100") {
		t.Fatalf("got id %s message %q", r.ID, r.Error.Message)
	}
	p.send("[" + strings.Join(reqs[:100], ",") + "]")
	if b := p.recv(); b[0] != '[' || len(decodeBatch(t, b)) != 100 {
		t.Fatalf("a batch of 100 was not answered in full: %.200s", b)
	}
	p.alive()
	p.wait()

	p = start(t, nil, "--max-batch=2")
	p.send("[" + strings.Join(reqs[:3], ",") + "]")
	if r := decode(t, p.recv()); r.Error == nil || !strings.Contains(r.Error.Message, "at most 2") {
		t.Fatalf("--max-batch=2 let a batch of 3 through: %+v", r)
	}
	p.wait()
}

// syncRunWith is a sync.run request with extra or replaced params.
func syncRunWith(id int, members string) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"sync.run","params":{`+
		`"app":{"tenant":"common","clientId":"6731de76-14a6-49ae-97bc-6eba6914391e","clientSecret":"s","redirectUri":"https://oro.example.com/cb"},`+
		`"tokens":{"accessToken":"a","refreshToken":"r","expiresAt":"2026-03-01T10:00:00Z"},"cascade":{},%s}}`, id, members)
}

// Findings 7 and 8: what the host sends is refused, naming the field,
// when a key is in another letter case (the mass-delete guard bypass), a
// budget overflows, a remote id could steer a Graph URL, or there are
// more events than a call may carry.
func TestHostInputIsExact(t *testing.T) {
	p := start(t, nil, "--graph-url=http://127.0.0.1:9/v1.0", "--authority-url=http://127.0.0.1:9")
	tests := []struct{ in, field string }{
		{syncRunWith(1, `"events":[],"state":{"v":1,"nextLink":"https://graph.microsoft.com/v1.0/me/calendarView/delta?$skiptoken=x","ROUNDORODELETES":-1000}`), "state.ROUNDORODELETES"},
		{syncRunWith(2, `"events":[],"OPTIONS":{"allowMassDelete":true}`), "OPTIONS"},
		{syncRunWith(3, `"events":[],"options":{"timeBudgetSeconds":9223372037}`), "options.timeBudgetSeconds"},
		{syncRunWith(4, `"events":[{"id":"1","updatedAt":"2026-02-27T16:12:00Z","link":{"v":1,"remoteId":".."}}]`), "events[0].link.remoteId"},
		{syncRunWith(5, `"events":[{"id":"1","updatedAt":"2026-02-27T16:12:00Z","link":{"v":1,"remoteId":"AAMk/../../users/x"}}]`), "events[0].link.remoteId"},
		{syncRunWith(6, `"events":[{}`+strings.Repeat(`,{}`, 50000)+`]`), "events"},
		{`{"jsonrpc":"2.0","id":7,"method":"test.sleep","params":{"MS":1}}`, "MS"}, // methods outside the schema decode exactly too
	}
	for _, tt := range tests {
		p.send(tt.in)
		r := decode(t, p.recv())
		wantError(t, r, -32602)
		if r.Error.Data.Field != tt.field || !strings.HasPrefix(r.Error.Message, tt.field+": ") {
			t.Errorf("%.120s…: field %q message %q, want %s", tt.in, r.Error.Data.Field, r.Error.Message, tt.field)
		}
	}
	// $/cancelRequest with "ID" cancels nothing.
	p.send(`{"jsonrpc":"2.0","id":"slow","method":"test.sleep","params":{"ms":600000}}`)
	p.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"ID":"slow"}}`)
	p.alive()
	p.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"slow"}}`)
	wantError(t, decode(t, p.recv()), -32800)
	p.wait()
}

// Finding 9: an unknown --log-level says which values are valid and
// exits 2, without a line about a default it does not use.
func TestBadLogLevel(t *testing.T) {
	cmd := exec.Command(binary, "--log-level=verbose")
	cmd.Stdin = strings.NewReader("")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if cmd.ProcessState.ExitCode() != 2 {
		t.Fatalf("exit %v, want 2", err)
	}
	msg := stderr.String()
	if !strings.Contains(msg, `"verbose"`) || !strings.Contains(msg, "debug, info, warn or error") || strings.Contains(strings.ToLower(msg), "default") {
		t.Fatalf("stderr: %q", msg)
	}
}

// Finding 9: messages one per line under --framing=content-length are not
// silently dropped: each gets a -32700 saying to use --framing=ndjson, and
// stderr says so too.
func TestLinesUnderContentLengthFraming(t *testing.T) {
	p := start(t, nil, "--framing=content-length")
	// A sidecar that never answers must fail the test, not hang it.
	defer time.AfterFunc(10*time.Second, func() { _ = p.cmd.Process.Kill() }).Stop()
	p.send(`{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}`)
	r := decode(t, readFramed(t, p.out))
	wantError(t, r, -32700)
	if !strings.Contains(r.Error.Message, "--framing=ndjson") {
		t.Fatalf("message %q", r.Error.Message)
	}
	m := `{"jsonrpc":"2.0","id":2,"method":"test.echo","params":[2]}`
	fmt.Fprintf(p.in, "Content-Length: %d\r\n\r\n%s", len(m), m) // and framed messages still work
	if r := decode(t, readFramed(t, p.out)); string(r.Result) != "[2]" {
		t.Fatalf("got %+v", r)
	}
	p.wait()
	if !strings.Contains(p.stderr.String(), "--framing=ndjson") {
		t.Fatalf("nothing on stderr:\n%s", p.stderr.String())
	}
}

// Finding 9: no log line repeats a key (jq keeps only one), and the
// request's lines name the RPC method apart from anything else.
func TestLogKeysAreUnique(t *testing.T) {
	p := start(t, nil, "--log-level=debug")
	p.send(`{"jsonrpc":"2.0","id":1,"method":"settings.resolve","params":{"cascade":{}}}`)
	p.recv()
	p.wait()
	done := false
	for _, line := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %s", line)
		}
		if m["message"] == "done" {
			done = true
			if m["rpc_method"] != "settings.resolve" || m["elapsed_ms"] == nil {
				t.Errorf("the request's line lacks rpc_method or elapsed_ms: %s", line)
			}
		}
		for k := range m {
			if k == "method" || k == "elapsed" || k == "duration" {
				t.Errorf("key %q is ambiguous (which method? which unit?): %s", k, line)
			}
			if strings.ToLower(k) != k {
				t.Errorf("key %q is not snake_case like zerolog's own: %s", k, line)
			}
		}
	}
	if !done {
		t.Fatalf("no done line:\n%s", p.stderr.String())
	}
}
