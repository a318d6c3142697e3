package main

// Black-box tests: build the binary once, start it as the host would, and
// drive it through pipes.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var binary string // the built sidecar

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "oro-msync-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "oro-msync")
	// Static, as it should be shipped: a dynamically linked build spends
	// about a millisecond in the dynamic loader at every start.
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the sidecar: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running sidecar.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	stdout io.ReadCloser
	stderr *syncBuffer
	lines  chan []byte // stdout lines (ndjson framing)
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the sidecar with the test hooks enabled. env entries are
// added to the environment.
func start(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append(os.Environ(), "OROMSYNC_TEST_HOOKS=1"), env...)
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &proc{t: t, cmd: cmd, in: in, stdout: out, out: bufio.NewReaderSize(out, 1<<20), stderr: &syncBuffer{}}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("stderr of the sidecar:\n%s", p.stderr.String())
		}
	})
	return p
}

// lineReader starts reading stdout lines in the background (ndjson).
func (p *proc) readLines() {
	p.lines = make(chan []byte, 1000)
	go func() {
		defer close(p.lines)
		for {
			line, err := p.out.ReadBytes('\n')
			if len(line) > 0 {
				p.lines <- line
			}
			if err != nil {
				return
			}
		}
	}()
}

func (p *proc) send(s string) {
	p.t.Helper()
	if _, err := io.WriteString(p.in, s+"\n"); err != nil {
		p.t.Fatalf("writing to the sidecar: %v", err)
	}
}

// recv returns the next stdout line, which must be one JSON value.
func (p *proc) recv() []byte {
	p.t.Helper()
	if p.lines == nil {
		p.readLines()
	}
	select {
	case line, ok := <-p.lines:
		if !ok {
			p.t.Fatal("stdout closed while waiting for a reply")
		}
		if !json.Valid(line) || line[len(line)-1] != '\n' {
			p.t.Fatalf("stdout line is not one JSON message: %q", line)
		}
		return bytes.TrimSpace(line)
	case <-time.After(10 * time.Second):
		p.t.Fatal("no reply within 10s")
	}
	return nil
}

// wait closes stdin and waits for the exit; it returns the exit code.
func (p *proc) wait() int {
	p.t.Helper()
	p.in.Close()
	done := make(chan error, 1)
	go func() {
		if p.lines != nil { // keep draining so the process can exit
			for range p.lines {
			}
		}
		done <- p.cmd.Wait()
	}()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		p.t.Fatal("the sidecar did not exit")
	}
	return p.cmd.ProcessState.ExitCode()
}

// reply is a decoded response; ID keeps the exact bytes.
type reply struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  json.RawMessage `json:"result"`
	Error   *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
		Data    struct {
			Kind         string `json:"kind"`
			Retryable    *bool  `json:"retryable"`
			RetryAfterMs int64  `json:"retryAfterMs"`
			Field        string `json:"field"`
			Op           string `json:"op"`
			UpstreamCode string `json:"upstreamCode"`
			Cause        string `json:"cause"`
			LimitBytes   int64  `json:"limitBytes"`
		} `json:"data"`
	} `json:"error"`
}

func decode(t *testing.T, b []byte) reply {
	t.Helper()
	var r reply
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("not a response object: %s: %v", b, err)
	}
	if r.JSONRPC != "2.0" || r.ID == nil || (r.Error == nil) == (r.Result == nil) {
		t.Fatalf("malformed response (needs jsonrpc 2.0, id, and exactly one of result/error): %s", b)
	}
	if r.Error != nil && (r.Error.Data.Kind == "" || r.Error.Data.Retryable == nil) {
		t.Fatalf("error without data.kind/data.retryable: %s", b)
	}
	return r
}

func decodeBatch(t *testing.T, b []byte) map[string]reply {
	t.Helper()
	var elems []json.RawMessage
	if err := json.Unmarshal(b, &elems); err != nil {
		t.Fatalf("not a batch reply: %s", b)
	}
	byID := map[string]reply{}
	for i, e := range elems {
		r := decode(t, e)
		key := string(r.ID)
		if key == "null" {
			key = fmt.Sprintf("null#%d", i)
		}
		byID[key] = r
	}
	return byID
}

func wantError(t *testing.T, r reply, code int64) {
	t.Helper()
	if r.Error == nil || r.Error.Code != code {
		t.Fatalf("got %+v %s, want error %d", r.Error, r.Result, code)
	}
}

// alive checks that the process still answers.
func (p *proc) alive() {
	p.t.Helper()
	p.send(`{"jsonrpc":"2.0","id":"alive","method":"test.echo","params":{"ok":true}}`)
	r := decode(p.t, p.recv())
	if string(r.ID) != `"alive"` || string(r.Result) != `{"ok":true}` {
		p.t.Fatalf("liveness probe answered %s %s", r.ID, r.Result)
	}
}

func TestErrorCodes(t *testing.T) {
	p := start(t, nil)
	tests := []struct {
		name, in string
		id       string
		code     int64
		kind     string
		field    string
	}{
		{"parse error", `{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`, `null`, -32700, "invalid_input", ""},
		{"garbage", `garbage`, `null`, -32700, "invalid_input", ""},
		{"truncated", `{"jsonrpc":"2.0","id":1,"method":"rpc.discover"`, `null`, -32700, "invalid_input", ""},
		{"method not a string", `{"jsonrpc": "2.0", "method": 1, "params": "bar"}`, `null`, -32600, "invalid_input", ""},
		{"method not a string, id kept", `{"jsonrpc":"2.0","id":4,"method":1}`, `4`, -32600, "invalid_input", ""},
		{"jsonrpc missing", `{"id":2,"method":"rpc.discover"}`, `2`, -32600, "invalid_input", ""},
		{"jsonrpc 1.0", `{"jsonrpc":"1.0","id":3,"method":"rpc.discover"}`, `3`, -32600, "invalid_input", ""},
		{"params a string", `{"jsonrpc":"2.0","id":5,"method":"rpc.discover","params":"x"}`, `5`, -32600, "invalid_input", ""},
		{"id an object", `{"jsonrpc":"2.0","id":{"a":1},"method":"rpc.discover"}`, `null`, -32600, "invalid_input", ""},
		{"id a boolean", `{"jsonrpc":"2.0","id":true,"method":"rpc.discover"}`, `null`, -32600, "invalid_input", ""},
		{"not an object", `42`, `null`, -32600, "invalid_input", ""},
		{"unknown method", `{"jsonrpc":"2.0","id":6,"method":"foobar"}`, `6`, -32601, "invalid_input", ""},
		{"unknown method with params", `{"jsonrpc":"2.0","id":7,"method":"sync.nothing","params":{}}`, `7`, -32601, "invalid_input", ""},
		{"reserved rpc. name", `{"jsonrpc":"2.0","id":8,"method":"rpc.other"}`, `8`, -32601, "invalid_input", ""},
		{"invalid params: enum", `{"jsonrpc":"2.0","id":9,"method":"settings.resolve","params":{"cascade":{"user":{"direction":"sideways"}}}}`, `9`, -32602, "invalid_input", "cascade.user.direction"},
		{"invalid params: range", `{"jsonrpc":"2.0","id":10,"method":"settings.resolve","params":{"cascade":{"organization":{"syncIntervalMinutes":0}}}}`, `10`, -32602, "invalid_input", "cascade.organization.syncIntervalMinutes"},
		{"invalid params: missing", `{"jsonrpc":"2.0","id":11,"method":"settings.resolve","params":{}}`, `11`, -32602, "invalid_input", "cascade"},
		{"invalid params: unknown member", `{"jsonrpc":"2.0","id":12,"method":"settings.resolve","params":{"cascade":{"user":{"colour":"red"}}}}`, `12`, -32602, "invalid_input", "cascade.user.colour"},
		{"invalid params: positional for by-name", `{"jsonrpc":"2.0","id":13,"method":"settings.resolve","params":[{}]}`, `13`, -32602, "invalid_input", ""},
		{"internal error: panic", `{"jsonrpc":"2.0","id":14,"method":"test.panic"}`, `14`, -32603, "internal", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p.t = t
			p.send(tt.in)
			r := decode(t, p.recv())
			wantError(t, r, tt.code)
			if string(r.ID) != tt.id || r.Error.Data.Kind != tt.kind || r.Error.Data.Field != tt.field || *r.Error.Data.Retryable {
				t.Fatalf("got id %s data %+v, want id %s kind %s field %q, not retryable", r.ID, r.Error.Data, tt.id, tt.kind, tt.field)
			}
			if tt.field != "" && !strings.HasPrefix(r.Error.Message, tt.field+": ") {
				t.Fatalf("message %q does not name the field", r.Error.Message)
			}
			p.alive() // and it keeps serving
		})
	}
	p.t = t
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if strings.Contains(p.stderr.String(), "cascade") && strings.Contains(p.stderr.String(), "sideways") {
		t.Fatal("params leaked into the log")
	}
}

func TestBatches(t *testing.T) {
	p := start(t, nil)

	// [] is a single Invalid Request, not an array.
	p.send(`[]`)
	r := decode(t, p.recv())
	wantError(t, r, -32600)

	// [1] and [1,2,3]: an array of Invalid Request errors.
	p.send(`[1]`)
	if got := decodeBatch(t, p.recv()); len(got) != 1 {
		t.Fatalf("[1] answered %d replies", len(got))
	}
	p.send(`[1,2,3]`)
	got := decodeBatch(t, p.recv())
	if len(got) != 3 {
		t.Fatalf("[1,2,3] answered %d replies", len(got))
	}
	for _, r := range got {
		wantError(t, r, -32600)
	}

	// An invalid batch is one parse error.
	p.send(`[{"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},{"jsonrpc": "2.0", "method"]`)
	wantError(t, decode(t, p.recv()), -32700)

	// The specification's mixed batch.
	p.send(`[{"jsonrpc":"2.0","method":"test.echo","params":[1,2,4],"id":"1"},{"jsonrpc":"2.0","method":"notify_hello","params":[7]},{"jsonrpc":"2.0","method":"settings.resolve","params":{"cascade":{}},"id":"2"},{"foo":"boo"},{"jsonrpc":"2.0","method":"foo.get","params":{"name":"myself"},"id":"5"},{"jsonrpc":"2.0","method":"settings.resolve","params":{"cascade":{"user":{"direction":1}}},"id":"9"}]`)
	got = decodeBatch(t, p.recv())
	if len(got) != 5 {
		t.Fatalf("mixed batch answered %d replies, want 5: %v", len(got), got)
	}
	if string(got[`"1"`].Result) != `[1,2,4]` {
		t.Errorf("id 1: %s", got[`"1"`].Result)
	}
	if got[`"2"`].Result == nil {
		t.Errorf("id 2 has no result")
	}
	wantError(t, got[`"5"`], -32601)
	wantError(t, got[`"9"`], -32602)
	nullErrs := 0
	for k, r := range got {
		if strings.HasPrefix(k, "null#") {
			wantError(t, r, -32600)
			nullErrs++
		}
	}
	if nullErrs != 1 {
		t.Errorf("want one -32600 with id null, got %d", nullErrs)
	}

	// An all-notification batch gets no reply at all: the next line is the probe's.
	p.send(`[{"jsonrpc":"2.0","method":"test.echo","params":[1]},{"jsonrpc":"2.0","method":"nope"},{"jsonrpc":"2.0","method":"settings.resolve","params":{"bad":1}}]`)
	p.alive()
	// So does a single notification, even to an unknown method or with bad params.
	p.send(`{"jsonrpc":"2.0","method":"nope"}`)
	p.send(`{"jsonrpc":"2.0","method":"settings.resolve","params":{"cascade":{"user":{"direction":"x"}}}}`)
	p.alive()

	// A batch of one request is still an array.
	p.send(`[{"jsonrpc":"2.0","method":"test.echo","params":{"a":1},"id":-1}]`)
	got = decodeBatch(t, p.recv())
	if string(got["-1"].Result) != `{"a":1}` {
		t.Fatalf("batch of one: %v", got)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func TestIDsRoundTrip(t *testing.T) {
	ids := []string{
		`1`, `0`, `-5`, `-0`, `18446744073709551615`, `18446744073709551616`, `123456789012345678901234567890`,
		`9007199254740993`, `1.5`, `-2.25e-3`, `1E400`, `1.0`, `"abc"`, `""`, `"-5"`, `"\u00e9\n"`, `"é"`, `"with \"quotes\""`, `null`,
	}
	p := start(t, nil)
	for _, id := range ids {
		p.send(`{"jsonrpc":"2.0","id":` + id + `,"method":"test.echo","params":{}}`)
		r := decode(t, p.recv())
		if string(r.ID) != id {
			t.Errorf("sent id %s, got %s", id, r.ID)
		}
		// and on error replies, and in batches
		p.send(`[{"jsonrpc":"2.0","id":` + id + `,"method":"nope"}]`)
		b := p.recv()
		if !bytes.Contains(b, []byte(`"id":`+id+`,`)) {
			t.Errorf("batch error reply lost id %s: %s", id, b)
		}
	}
	p.wait()
}

func TestEOFDrainsSlowRequests(t *testing.T) {
	p := start(t, nil)
	var in strings.Builder
	for i := range 5 {
		fmt.Fprintf(&in, `{"jsonrpc":"2.0","id":%d,"method":"test.sleep","params":{"ms":%d}}`+"\n", i, 300+100*i)
	}
	in.WriteString(`{"jsonrpc":"2.0","id":"fast","method":"rpc.discover"}` + "\n")
	io.WriteString(p.in, in.String())
	p.in.Close() // EOF right away, with everything in flight
	seen := map[string]bool{}
	for range 6 {
		r := decode(t, p.recv())
		if r.Error != nil {
			t.Fatalf("id %s failed: %+v", r.ID, r.Error)
		}
		seen[string(r.ID)] = true
	}
	if len(seen) != 6 {
		t.Fatalf("replies for %v, want 6 distinct", seen)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d, want 0", code)
	}
}

func TestCancelRequest(t *testing.T) {
	p := start(t, nil)
	p.send(`{"jsonrpc":"2.0","id":"slow","method":"test.sleep","params":{"ms":20000}}`)
	p.send(`{"jsonrpc":"2.0","id":"other","method":"test.sleep","params":{"ms":300}}`)
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	p.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"slow"}}`)
	r := decode(t, p.recv())
	if string(r.ID) != `"slow"` {
		t.Fatalf("first reply is %s, want the cancelled one", r.ID)
	}
	wantError(t, r, -32800)
	if r.Error.Data.Kind != "cancelled" || time.Since(start) > 2*time.Second {
		t.Fatalf("kind %s after %v", r.Error.Data.Kind, time.Since(start))
	}
	r = decode(t, p.recv())
	if string(r.ID) != `"other"` || r.Error != nil {
		t.Fatalf("the other request was disturbed: %s %+v", r.ID, r.Error)
	}
	// Cancelling an unknown or finished id is harmless.
	p.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"gone"}}`)
	p.alive()
	p.wait()
}

func TestPanicKeepsServing(t *testing.T) {
	p := start(t, nil)
	for i := range 3 {
		p.send(fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"test.panic"}`, i))
		r := decode(t, p.recv())
		wantError(t, r, -32603)
		if strings.Contains(r.Error.Message, "boom") {
			t.Fatalf("panic text leaked into the reply: %q", r.Error.Message)
		}
		p.alive()
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	if !strings.Contains(p.stderr.String(), "boom") {
		t.Fatal("the panic is not logged on stderr")
	}
}

func TestStdoutOnlyCarriesProtocol(t *testing.T) {
	p := start(t, nil)
	p.send(`{"jsonrpc":"2.0","id":1,"method":"test.print"}`)
	r := decode(t, p.recv())
	if string(r.Result) != `"printed"` {
		t.Fatalf("got %s", r.Result)
	}
	p.alive()
	p.in.Close()
	var rest []byte
	for line := range p.lines { // until stdout closes
		rest = append(rest, line...)
	}
	if len(rest) > 0 {
		t.Fatalf("extra bytes on stdout: %q", rest)
	}
	p.cmd.Wait()
	for _, s := range []string{"stray line from fmt.Println", "forged", "stray bytes written to fd 1"} {
		if !strings.Contains(p.stderr.String(), s) {
			t.Errorf("%q did not end up on stderr", s)
		}
	}
}

func TestOversizedMessage(t *testing.T) {
	big := strings.Repeat("x", 5000)
	t.Run("ndjson", func(t *testing.T) {
		p := start(t, nil, "--max-message-bytes=1024")
		p.send(`{"jsonrpc":"2.0","id":7,"method":"test.echo","params":{"pad":"` + big + `"}}`)
		r := decode(t, p.recv())
		wantError(t, r, -32600)
		if string(r.ID) != "7" || r.Error.Data.LimitBytes != 1024 {
			t.Fatalf("got id %s data %+v", r.ID, r.Error.Data)
		}
		// the id is found only if it comes first; otherwise null
		p.send(`{"jsonrpc":"2.0","params":{"pad":"` + big + `"},"id":8,"method":"test.echo"}`)
		r = decode(t, p.recv())
		wantError(t, r, -32600)
		if string(r.ID) != "null" {
			t.Fatalf("got id %s", r.ID)
		}
		// just under the limit passes
		small := `{"jsonrpc":"2.0","id":9,"method":"test.echo","params":{"pad":"`
		small += strings.Repeat("y", 1024-len(small)-3) + `"}}`
		p.send(small)
		if r := decode(t, p.recv()); r.Error != nil {
			t.Fatalf("a %d-byte message was refused: %+v", len(small), r.Error)
		}
		p.alive()
		p.wait()
	})
	t.Run("content-length", func(t *testing.T) {
		p := start(t, nil, "--max-message-bytes=1024", "--framing=content-length")
		body := `{"jsonrpc":"2.0","id":7,"method":"test.echo","params":{"pad":"` + big + `"}}`
		fmt.Fprintf(p.in, "Content-Length: %d\r\n\r\n%s", len(body), body)
		body = `{"jsonrpc":"2.0","id":8,"method":"test.echo","params":{}}`
		fmt.Fprintf(p.in, "Content-Length: %d\r\n\r\n%s", len(body), body)
		r1, r2 := decode(t, readFramed(t, p.out)), decode(t, readFramed(t, p.out))
		wantError(t, r1, -32600)
		if string(r1.ID) != "7" || r2.Error != nil || string(r2.ID) != "8" {
			t.Fatalf("got %s %+v then %s %+v", r1.ID, r1.Error, r2.ID, r2.Error)
		}
		p.wait()
	})
}

// readFramed reads one Content-Length framed message.
func readFramed(t *testing.T, r *bufio.Reader) []byte {
	t.Helper()
	n := -1
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading headers: %v", err)
		}
		if !strings.HasSuffix(line, "\r\n") {
			t.Fatalf("header line without CRLF: %q", line)
		}
		if line == "\r\n" {
			break
		}
		if _, err := fmt.Sscanf(line, "Content-Length: %d\r\n", &n); err != nil {
			t.Fatalf("unexpected header %q", line)
		}
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	return body
}

func TestContentLengthFraming(t *testing.T) {
	p := start(t, []string{"OROMSYNC_FRAMING=content-length"}) // via the environment
	msgs := []string{
		`{"jsonrpc":"2.0","id":1,"method":"settings.resolve","params":{"cascade":{"system":{"enabled":true}}}}`,
		`[{"jsonrpc":"2.0","id":2,"method":"test.echo","params":[2]},{"jsonrpc":"2.0","method":"test.echo"}]`,
		`{not json`,
	}
	for _, m := range msgs {
		fmt.Fprintf(p.in, "Content-Length: %d\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n%s", len(m), m)
	}
	io.WriteString(p.in, "X-Nonsense: 1\r\n\r\n") // no length: a parse error, and the stream goes on
	m := `{"jsonrpc":"2.0","id":3,"method":"test.echo","params":{"é":"\u2028"}}`
	fmt.Fprintf(p.in, "Content-Length: %d\n\n%s", len(m), m) // bare LF headers are tolerated
	got := map[string]reply{}
	for range 5 {
		b := readFramed(t, p.out)
		if b[0] == '[' {
			for k, r := range decodeBatch(t, b) {
				got["batch"+k] = r
			}
			continue
		}
		r := decode(t, b)
		key := string(r.ID)
		if key == "null" {
			key = fmt.Sprintf("null%d", len(got))
		}
		got[key] = r
	}
	if got["1"].Result == nil || string(got["batch2"].Result) != "[2]" || string(got["3"].Result) != `{"é":"\u2028"}` {
		t.Fatalf("replies: %+v", got)
	}
	parseErrors := 0
	for k, r := range got {
		if strings.HasPrefix(k, "null") {
			wantError(t, r, -32700)
			parseErrors++
		}
	}
	if parseErrors != 2 {
		t.Fatalf("want 2 parse errors, got %d", parseErrors)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func TestSlowRequestDoesNotBlockFast(t *testing.T) {
	p := start(t, nil, "--max-concurrent=2")
	start := time.Now()
	p.send(`{"jsonrpc":"2.0","id":"slow","method":"test.sleep","params":{"ms":3000}}`)
	p.send(`{"jsonrpc":"2.0","id":"fast","method":"settings.resolve","params":{"cascade":{}}}`)
	r := decode(t, p.recv())
	if string(r.ID) != `"fast"` || time.Since(start) > 2*time.Second {
		t.Fatalf("first reply %s after %v; the fast request waited for the slow one", r.ID, time.Since(start))
	}
	p.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"slow"}}`)
	wantError(t, decode(t, p.recv()), -32800)
	p.wait()
}

func TestSignalCancelsInFlight(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscallSIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			p := start(t, nil)
			p.send(`{"jsonrpc":"2.0","id":1,"method":"test.sleep","params":{"ms":20000}}`)
			p.send(`{"jsonrpc":"2.0","id":2,"method":"test.sleep","params":{"ms":20000}}`)
			p.alive() // both are running by now
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				r := decode(t, p.recv())
				wantError(t, r, -32800)
			}
			if code := p.wait(); code != 0 {
				t.Fatalf("exit code %d", code)
			}
		})
	}
}

func TestClosedStdoutEndsQuietly(t *testing.T) {
	p := start(t, nil)
	p.stdout.Close() // the host went away
	p.send(`{"jsonrpc":"2.0","id":1,"method":"settings.resolve","params":{"cascade":{}}}`)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the sidecar did not exit after its stdout closed")
	}
	code := p.cmd.ProcessState.ExitCode()
	if code <= 0 {
		t.Fatalf("exit code %d, want a non-zero status", code)
	}
	if s := p.stderr.String(); strings.Contains(s, "goroutine ") || strings.Contains(s, "panic") {
		t.Fatalf("not quiet:\n%s", s)
	}
}

func TestVersionAndFlags(t *testing.T) {
	out, err := exec.Command(binary, "--version").Output()
	if err != nil || !strings.HasPrefix(string(out), "oro-msync ") || !strings.Contains(string(out), "API 0.") {
		t.Fatalf("--version: %q %v", out, err)
	}
	cmd := exec.Command(binary, "--framing=xml")
	cmd.Stdin = strings.NewReader("")
	if err := cmd.Run(); err == nil {
		t.Fatal("an unknown framing was accepted")
	}
	cmd = exec.Command(binary)
	cmd.Env = append(os.Environ(), "OROMSYNC_LOG_FORMAT=yaml")
	cmd.Stdin = strings.NewReader("")
	if err := cmd.Run(); err == nil {
		t.Fatal("OROMSYNC_LOG_FORMAT=yaml was accepted")
	}
}

// The README's command: pipe an example file, get one well-formed reply per
// request, exit 0. Examples may show domain failures, but none may be
// refused by the protocol layer or fail internally. The Microsoft
// endpoints point at a closed local port so no test reaches the Internet.
func TestExampleFilesRun(t *testing.T) {
	files, _ := filepath.Glob("../../examples/*.ndjson")
	if len(files) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(binary)
			cmd.Env = append(os.Environ(), "OROMSYNC_AUTHORITY_URL=http://127.0.0.1:9", "OROMSYNC_GRAPH_URL=http://127.0.0.1:9/v1.0")
			cmd.Stdin = bytes.NewReader(in)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v", err)
			}
			sent := bytes.Count(bytes.TrimSpace(in), []byte("\n")) + 1
			lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
			if len(lines) != sent {
				t.Fatalf("%d requests, %d replies", sent, len(lines))
			}
			for _, l := range lines {
				if r := decode(t, l); r.Error != nil && (r.Error.Code <= -32600 && r.Error.Code >= -32700 && r.Error.Code != -32602) {
					t.Errorf("%s: %+v", r.ID, r.Error)
				}
			}
		})
	}
}
