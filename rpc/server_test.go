package rpc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/schema"
	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/rs/zerolog"
)

// In-process tests of Serve, run under -race by .ci/test. The black-box
// suite in cmd/oro-msync covers the same ground through a real process.

func testMethods() []Method {
	return []Method{
		{Name: "settings.resolve", Quick: true, Handler: func(_ context.Context, p json.RawMessage) (any, error) {
			var v struct{ Cascade calsync.Cascade }
			if err := json.Unmarshal(p, &v); err != nil {
				return nil, err
			}
			return calsync.Resolve(v.Cascade), nil
		}},
		{Name: "echo", Unlisted: true, Handler: func(_ context.Context, p json.RawMessage) (any, error) { return p, nil }},
		{Name: "sleep", Unlisted: true, Handler: func(ctx context.Context, _ json.RawMessage) (any, error) {
			if zerolog.Ctx(ctx).GetLevel() == zerolog.Disabled {
				return nil, errors.New("no logger in ctx")
			}
			select {
			case <-time.After(50 * time.Millisecond):
				return "slept", nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}},
		{Name: "throttle", Unlisted: true, Handler: func(context.Context, json.RawMessage) (any, error) {
			return nil, fmt.Errorf("wrapped: %w", &calsync.Error{Kind: calsync.KindThrottled, RetryAfter: time.Second})
		}},
		{Name: "panic", Unlisted: true, Handler: func(context.Context, json.RawMessage) (any, error) { panic("boom") }},
	}
}

// A burst of every kind of message through one Serve: each request gets
// exactly one reply, notifications none, and nothing races.
func TestServeBurst(t *testing.T) {
	lines := []string{
		`{"jsonrpc":"2.0","id":%d,"method":"echo","params":[%d]}`,
		`{"jsonrpc":"2.0","id":%d,"method":"sleep","x":%d}`,
		`{"jsonrpc":"2.0","id":%d,"method":"panic","x":%d}`,
		`{"jsonrpc":"2.0","id":%d,"method":"throttle","x":%d}`,
		`{"jsonrpc":"2.0","id":%d,"method":"settings.resolve","params":{"cascade":{"user":{"syncIntervalMinutes":%d}}}}`,
		`[{"jsonrpc":"2.0","id":%d,"method":"echo"},{"jsonrpc":"2.0","method":"echo","params":[%d]}]`,
		`{"jsonrpc":"2.0","method":"echo","params":[%d, %d]}`,
		`garbage %d %d`,
	}
	var in strings.Builder
	want := 0
	for i := range 400 {
		l := lines[i%len(lines)]
		fmt.Fprintf(&in, l+"\n", i, i*5)
		if !strings.HasPrefix(l, `{"jsonrpc":"2.0","method"`) {
			want++
		}
	}
	var out strings.Builder
	err := Serve(context.Background(), strings.NewReader(in.String()), &out, Options{
		Methods: testMethods(), Schema: schema.OpenRPC, Logger: zerolog.New(io.Discard), MaxConcurrent: 4, MaxQueued: 400,
	})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(got) != want {
		t.Fatalf("%d replies, want %d", len(got), want)
	}
	codes := map[string]int{}
	for _, l := range got {
		var r struct {
			Result json.RawMessage
			Error  *struct {
				Code int64
				Data ErrorData
			}
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil && l[0] != '[' {
			t.Fatalf("bad reply %s", l)
		}
		if r.Error != nil {
			codes[fmt.Sprint(r.Error.Code)]++
			if r.Error.Code == -32003 && (r.Error.Data.RetryAfterMs != 1000 || !r.Error.Data.Retryable) {
				t.Errorf("throttled reply lacks retry data: %s", l)
			}
		}
	}
	for c, n := range map[string]int{"-32603": 50, "-32003": 50, "-32700": 50, "-32602": 14} {
		if codes[c] != n {
			t.Errorf("want %d %s replies in the burst: %v", n, c, codes)
		}
	}
}

// The method table is checked at start only for what costs nothing: a
// method registered twice, or rpc.discover, which Serve answers itself. A
// listed method the document lacks is found by its first call, which
// fails as internal (rpc/api's tests keep the sidecar's table complete).
func TestServeMethodTable(t *testing.T) {
	echo := testMethods()[1].Handler
	for _, methods := range [][]Method{
		{testMethods()[1], testMethods()[1]},
		{{Name: "rpc.discover", Quick: true, Handler: echo}},
	} {
		err := Serve(context.Background(), strings.NewReader(""), io.Discard, Options{Methods: methods, Schema: schema.OpenRPC})
		if err == nil || !strings.Contains(err.Error(), methods[0].Name) {
			t.Errorf("methods %s: got %v", methods[0].Name, err)
		}
	}
	var out strings.Builder
	err := Serve(context.Background(), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"not.in.schema","params":{}}`+"\n"), &out, Options{
		Methods: []Method{{Name: "not.in.schema", Handler: echo}}, Schema: schema.OpenRPC, Logger: zerolog.Nop(),
	})
	if err != nil || !strings.HasPrefix(out.String(), `{"jsonrpc":"2.0","id":1,"error":{"code":-32603,`) {
		t.Fatalf("Serve returned %v and wrote %s", err, out.String())
	}
}

// Stopping (ctx cancelled) answers what is in flight with -32800 and
// returns without waiting for more input.
func TestServeStop(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	methods := append(testMethods(), Method{Name: "block", Unlisted: true, Handler: func(ctx context.Context, _ json.RawMessage) (any, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	}})
	go func() {
		done <- Serve(ctx, inR, outW, Options{Methods: methods, Schema: schema.OpenRPC, Logger: zerolog.Nop()})
	}()
	replies := bufio.NewReader(outR)
	io.WriteString(inW, `{"jsonrpc":"2.0","id":1,"method":"block"}`+"\n"+`{"jsonrpc":"2.0","id":2,"method":"echo"}`+"\n")
	if l, _ := replies.ReadString('\n'); !strings.Contains(l, `"id":2`) {
		t.Fatalf("got %s", l)
	}
	cancel()
	l, _ := replies.ReadString('\n')
	if !strings.Contains(l, `"id":1,"error":{"code":-32800`) {
		t.Fatalf("got %s", l)
	}
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the stop")
	}
}

// A failing output ends Serve with ErrOutputClosed.
func TestServeOutputClosed(t *testing.T) {
	inR, inW := io.Pipe()
	defer inW.Close()
	done := make(chan error, 1)
	go func() {
		done <- Serve(context.Background(), inR, failingWriter{}, Options{Methods: testMethods(), Schema: schema.OpenRPC, Logger: zerolog.Nop()})
	}()
	io.WriteString(inW, `{"jsonrpc":"2.0","id":1,"method":"echo"}`+"\n")
	select {
	case err := <-done:
		if !errors.Is(err, ErrOutputClosed) {
			t.Fatalf("got %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not notice the closed output")
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

// BenchmarkServeRequests measures small requests through Serve in process
// (no pipes, no process start): the protocol layer's own cost.
func BenchmarkServeRequests(b *testing.B) {
	line := `{"jsonrpc":"2.0","id":1,"method":"settings.resolve","params":{"cascade":{"system":{"enabled":true},"user":{"direction":"both"}}}}` + "\n"
	const n = 1000
	in := strings.Repeat(line, n)
	for b.Loop() {
		if err := Serve(context.Background(), strings.NewReader(in), io.Discard, Options{Methods: testMethods(), Schema: schema.OpenRPC, Logger: zerolog.Nop()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "req/s")
}

// TestServeReadsWhileOutputBlocked: the host writes everything before it
// reads anything (PHP's blocking fwrite). io.Pipe has no buffer at all, so
// every reply waits for the host; the sidecar must still read every request,
// whether its answer comes from a method, from the read goroutine itself (a
// parse error, $/cancelRequest) or completes a batch, and at the end of
// input write every reply.
func TestServeReadsWhileOutputBlocked(t *testing.T) {
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Serve(context.Background(), inR, outW, Options{Methods: testMethods(), Schema: schema.OpenRPC, Logger: zerolog.Nop()})
		outW.Close()
		done <- err
	}()
	msgs := []string{
		`{"jsonrpc":"2.0","id":1,"method":"echo","params":["` + strings.Repeat("x", 100<<10) + `"]}`,
		`garbage`,
		`{"jsonrpc":"2.0","id":2,"method":"$/cancelRequest","params":{"id":1}}`,
		`[{"jsonrpc":"2.0","id":3,"method":"echo"},{"jsonrpc":"2.0","id":4,"method":"echo","params":[4]}]`,
		`{"jsonrpc":"2.0","id":5,"method":"echo","params":["` + strings.Repeat("y", 100<<10) + `"]}`,
	}
	written := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if _, err := io.WriteString(inW, m+"\n"); err != nil {
				written <- err
				return
			}
		}
		written <- inW.Close()
	}()
	select {
	case err := <-written:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve stopped reading while a reply waited for the host")
	}
	out, err := io.ReadAll(outR)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(out), "\n"); got != 5 {
		t.Fatalf("%d replies, want 5 (one a batch):\n%.300s", got, out)
	}
	// The cancel of 1 may land before or after its echo ran: either answer
	// is right, but there must be one.
	if !strings.Contains(string(out), `"id":1,"result"`) && !strings.Contains(string(out), `"id":1,"error":{"code":-32800`) {
		t.Errorf("no answer to 1 in the replies")
	}
	for _, want := range []string{`"id":null,"error":{"code":-32700`, `"id":2,"result":null`, `"id":3,"result"`, `"id":4,"result":[4]`, `"id":5,"result"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("no %s in the replies", want)
		}
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve returned %v", err)
	}
}

// tokensErr is a failure after the tokens were rotated (api.TokensError in
// the sidecar).
type tokensErr struct{ err error }

func (e tokensErr) Error() string      { return e.err.Error() }
func (e tokensErr) Unwrap() error      { return e.err }
func (e tokensErr) RotatedTokens() any { return map[string]string{"refreshToken": "rotated"} }

// TestCancelledKeepsRotatedTokens: a method cancelled after it rotated the
// tokens answers -32800 with them in data.tokens, whether $/cancelRequest
// or a stop cancelled it; the refresh token the host holds may be spent.
func TestCancelledKeepsRotatedTokens(t *testing.T) {
	for _, how := range []string{"$/cancelRequest", "stop"} {
		t.Run(how, func(t *testing.T) {
			inR, inW := io.Pipe()
			defer inW.Close()
			outR, outW := io.Pipe()
			ctx, stop := context.WithCancel(context.Background())
			defer stop()
			started := make(chan struct{})
			methods := []Method{{Name: "refreshThenWait", Unlisted: true, Handler: func(ctx context.Context, _ json.RawMessage) (any, error) {
				close(started)
				<-ctx.Done()
				return nil, tokensErr{ctx.Err()}
			}}}
			go func() {
				_ = Serve(ctx, inR, outW, Options{Methods: methods, Schema: schema.OpenRPC, Logger: zerolog.Nop()})
				outW.Close()
			}()
			io.WriteString(inW, `{"jsonrpc":"2.0","id":"r","method":"refreshThenWait"}`+"\n")
			<-started
			if how == "stop" {
				stop()
			} else {
				io.WriteString(inW, `{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"r"}}`+"\n")
			}
			var r struct {
				ID    string
				Error struct {
					Code int64
					Data ErrorData
				}
			}
			l, _ := bufio.NewReader(outR).ReadBytes('\n')
			if err := json.Unmarshal(l, &r); err != nil || r.ID != "r" || r.Error.Code != CodeRequestCancelled || r.Error.Data.Kind != calsync.KindCancelled {
				t.Fatalf("got %s", l)
			}
			if tok, _ := r.Error.Data.Tokens.(map[string]any); tok["refreshToken"] != "rotated" {
				t.Fatalf("the rotated tokens were dropped: %s", l)
			}
		})
	}
}

// TestHandlerDeadline: a request's context has no deadline of its own, so a
// method may set one (sync.run's options.timeBudgetSeconds), and a method
// that fails because that deadline passed is answered as a retryable
// timeout, not as an internal error nor as a cancel.
func TestHandlerDeadline(t *testing.T) {
	methods := []Method{{Name: "budget", Unlisted: true, Handler: func(ctx context.Context, _ json.RawMessage) (any, error) {
		if dl, ok := ctx.Deadline(); ok {
			return nil, fmt.Errorf("the request context already has a deadline (%v)", dl)
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		<-ctx.Done()
		return nil, fmt.Errorf("reading the calendar: %w", ctx.Err())
	}}}
	var out strings.Builder
	err := Serve(context.Background(), strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"budget"}`+"\n"), &out,
		Options{Methods: methods, Schema: schema.OpenRPC, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Error struct {
			Code int64
			Data ErrorData
		}
	}
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil || r.Error.Code != -32004 ||
		r.Error.Data.Kind != calsync.KindUnavailable || !r.Error.Data.Retryable {
		t.Fatalf("got %s", out.String())
	}
}
