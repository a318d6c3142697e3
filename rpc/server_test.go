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
		{Name: "settings.resolve", Handler: func(_ context.Context, p json.RawMessage) (any, error) {
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
		Methods: testMethods(), Schema: schema.OpenRPC, Logger: zerolog.New(io.Discard), MaxConcurrent: 4,
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

func TestServeRefusesUndescribedMethods(t *testing.T) {
	err := Serve(context.Background(), strings.NewReader(""), io.Discard, Options{
		Methods: []Method{{Name: "not.in.schema", Handler: testMethods()[1].Handler}}, Schema: schema.OpenRPC,
	})
	if err == nil || !strings.Contains(err.Error(), "not.in.schema") {
		t.Fatalf("got %v", err)
	}
	err = Serve(context.Background(), strings.NewReader(""), io.Discard, Options{
		Methods: []Method{testMethods()[1], testMethods()[1]}, Schema: schema.OpenRPC,
	})
	if err == nil {
		t.Fatal("a method registered twice was accepted")
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
