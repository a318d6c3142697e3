package rpc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/schema"
	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/rs/zerolog"
)

// Tests of the limits that keep small hostile inputs from costing large
// amounts of memory or holding up cheap methods (issue 8, findings 4, 5).

// session is Serve over pipes, driven one line at a time.
type session struct {
	t     *testing.T
	in    *io.PipeWriter
	lines chan string
}

func serve(t *testing.T, opts Options) *session {
	t.Helper()
	inR, inW := io.Pipe()
	outR, outW := io.Pipe()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	lines := make(chan string, 100)
	opts.Schema, opts.Logger = schema.OpenRPC, zerolog.Nop()
	go func() {
		defer close(done)
		_ = Serve(ctx, inR, outW, opts)
		outW.Close()
	}()
	t.Cleanup(func() {
		go func() {
			for range lines { // replies nobody waits for
			}
		}()
		stop()
		inW.Close()
		<-done
	})
	go func() {
		defer close(lines)
		r := bufio.NewReader(outR)
		for {
			l, err := r.ReadString('\n')
			if err != nil {
				return
			}
			lines <- l
		}
	}()
	return &session{t: t, in: inW, lines: lines}
}

func (s *session) send(lines ...string) {
	s.t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(s.in, l+"\n"); err != nil {
			s.t.Fatal(err)
		}
	}
}

// recv returns the next reply. The time limit only keeps a broken build
// from hanging the suite; no reply here should take more than
// milliseconds.
func (s *session) recv() string {
	s.t.Helper()
	select {
	case l := <-s.lines:
		return l
	case <-time.After(10 * time.Second):
		s.t.Fatal("no reply within 10s")
		return ""
	}
}

// blockMethod waits until its request is cancelled; started is told each
// time one begins.
func blockMethod(started chan<- struct{}) Method {
	return Method{Name: "block", Unlisted: true, Handler: func(ctx context.Context, _ json.RawMessage) (any, error) {
		started <- struct{}{}
		<-ctx.Done()
		return nil, ctx.Err()
	}}
}

// Finding 5: with every slot of the Graph-bound pool taken and more calls
// queued behind them, a quick method still answers at once, a queued call
// answers -32800 as soon as it is cancelled, and one call too many is
// refused as throttled instead of waiting without bound.
func TestQuickMethodsDoNotQueueBehindSlowOnes(t *testing.T) {
	started := make(chan struct{}, 10)
	s := serve(t, Options{MaxConcurrent: 2, MaxQueued: 1, Methods: append(testMethods(), blockMethod(started))})
	s.send(`{"jsonrpc":"2.0","id":"b1","method":"block"}`, `{"jsonrpc":"2.0","id":"b2","method":"block"}`)
	<-started
	<-started
	s.send(`{"jsonrpc":"2.0","id":"queued","method":"block"}`,
		`{"jsonrpc":"2.0","id":"quick","method":"settings.resolve","params":{"cascade":{}}}`)
	if l := s.recv(); !strings.Contains(l, `"id":"quick","result"`) {
		t.Fatalf("settings.resolve waited behind the slow methods; first reply: %s", l)
	}
	s.send(`{"jsonrpc":"2.0","id":"refused","method":"block"}`)
	if l := s.recv(); !strings.Contains(l, `"id":"refused","error":{"code":-32003`) || !strings.Contains(l, `"retryable":true`) {
		t.Fatalf("a call over the queue limit: %s", l)
	}
	s.send(`{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":"queued"}}`)
	if l := s.recv(); !strings.Contains(l, `"id":"queued","error":{"code":-32800`) {
		t.Fatalf("a cancelled queued call: %s", l)
	}
	select {
	case <-started:
		t.Fatal("a call cancelled while it was queued was run")
	default:
	}
}

// Finding 4: a request waits for its slot as data in a queue; no
// goroutine is spent on it before it runs.
func TestQueuedRequestsHaveNoGoroutine(t *testing.T) {
	started := make(chan struct{}, 10)
	s := serve(t, Options{MaxConcurrent: 1, MaxQueued: 1000, Methods: append(testMethods(), blockMethod(started))})
	before := runtime.NumGoroutine()
	var lines []string
	for i := range 1000 {
		lines = append(lines, fmt.Sprintf(`{"jsonrpc":"2.0","id":%d,"method":"block"}`, i))
	}
	// A quick request read after all of them: once it is answered, every
	// block call has been read and queued.
	s.send(append(lines, `{"jsonrpc":"2.0","id":"fence","method":"settings.resolve","params":{"cascade":{}}}`)...)
	if l := s.recv(); !strings.Contains(l, `"id":"fence","result"`) {
		t.Fatalf("got %s", l)
	}
	if n := runtime.NumGoroutine() - before; n > 20 {
		t.Fatalf("%d more goroutines with 1 call running and 999 queued", n)
	}
}

// Finding 4: a batch over the cap is refused as a whole, with one -32600
// that says the limit, and none of it runs.
func TestBatchCap(t *testing.T) {
	s := serve(t, Options{MaxBatch: 3, Methods: testMethods()})
	s.send(`[` + strings.Repeat(`{"jsonrpc":"2.0","id":1,"method":"echo"},`, 3) + `{"jsonrpc":"2.0","id":2,"method":"echo"}]`)
	l := s.recv()
	if !strings.HasPrefix(l, `{"jsonrpc":"2.0","id":null,"error":{"code":-32600`) || !strings.Contains(l, "at most 3 requests") {
		t.Fatalf("an over-cap batch got %s", l)
	}
	s.send(`[` + strings.Repeat(`{"jsonrpc":"2.0","id":1,"method":"echo"},`, 2) + `{"jsonrpc":"2.0","id":2,"method":"echo"}]`)
	if l := s.recv(); !strings.HasPrefix(l, "[") || strings.Count(l, `"result"`) != 3 {
		t.Fatalf("a batch at the cap got %s", l)
	}
}

// blockingFrames counts reads and blocks writes until released.
type blockingFrames struct {
	reads   chan struct{}
	release chan struct{}
}

func (b *blockingFrames) ReadFrame() ([]byte, error) {
	b.reads <- struct{}{}
	return []byte(`{"jsonrpc":"2.0","method":"n"}`), nil
}

func (b *blockingFrames) WriteFrame(...[]byte) error {
	<-b.release
	return nil
}

func (b *blockingFrames) Flush() error { return nil }

// Finding 4: replies that the host does not read do not pile up: past
// MaxPendingOutput, no more input is read until the host reads.
func TestUnreadRepliesStopReading(t *testing.T) {
	f := &blockingFrames{reads: make(chan struct{}, 10), release: make(chan struct{})}
	st := newStream(f, f, Options{Logger: zerolog.Nop(), MaxBatch: 1, MaxPendingOutput: 1 << 20}, func() {}, func(error) {})
	defer st.finish()
	if err := st.deliver(nil, make([]byte, 2<<20)); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		var v json.RawMessage
		_ = st.ReadObject(&v)
		close(read)
	}()
	select {
	case <-f.reads:
		t.Fatal("input was read while 2 MiB of replies waited for the host")
	case <-time.After(100 * time.Millisecond): // it must not happen at all; this only bounds the wait
	}
	close(f.release)
	<-f.reads
	<-read
}

// DecodeParams gives a slice the room its elements need before decoding,
// through embedded structs too, instead of encoding/json's doubling; a
// slice under a pointer or in a map is left to encoding/json.
func TestDecodeParamsSizesSlices(t *testing.T) {
	type item struct {
		N int `json:"n"`
	}
	type embedded struct {
		Events []item `json:"events"`
	}
	var p struct {
		embedded
		Tags  []string          `json:"tags"`
		ByKey map[string][]item `json:"byKey"`
	}
	in := `{"events":[{"n":1},{"n":2},{"n":3},{"n":4},{"n":5}],"tags":["a","b","c"],"byKey":{"k":[{},{},{}]}}`
	if err := DecodeParams(json.RawMessage(in), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Events) != 5 || cap(p.Events) != 5 || p.Events[4].N != 5 || len(p.Tags) != 3 || cap(p.Tags) != 3 || len(p.ByKey["k"]) != 3 {
		t.Errorf("events %v (cap %d), tags %v (cap %d), byKey %v", p.Events, cap(p.Events), p.Tags, cap(p.Tags), p.ByKey)
	}
}

// Finding 7: params decode with exact member names at every depth.
func TestDecodeParamsIsCaseExact(t *testing.T) {
	type inner struct {
		Count int `json:"roundOroDeletes"`
	}
	type embedded struct {
		Mode string `json:"mode"`
	}
	type params struct {
		embedded
		State  *inner           `json:"state"`
		Events []inner          `json:"events"`
		ByName map[string]inner `json:"byName"`
		When   time.Time        `json:"when"`
	}
	tests := map[string]string{ // params → the field refused ("" = accepted)
		`{"mode":"full","state":{"roundOroDeletes":1},"events":[{"roundOroDeletes":2}],"byName":{"X":{}},"when":"2026-01-01T00:00:00Z"}`: "",
		`{"state":{"ROUNDORODELETES":-1000}}`:            "state.ROUNDORODELETES",
		`{"Mode":"full"}`:                                "Mode",
		`{"events":[{},{"roundOroDeletes":1,"x":1}]}`:    "events[1].x",
		`{"byName":{"a":{"RoundOroDeletes":1}}}`:         "byName.a.RoundOroDeletes",
		`{"state":{"roundOroDeletes":"many"}}`:           "state.roundOroDeletes",
		`{"state":{"\u0072oundOroDeletes":1}}`:           "",
		`{"state":{"roundOroDeletes":1,"unknown":null}}`: "state.unknown",
	}
	for in, field := range tests {
		var p params
		err := DecodeParams(json.RawMessage(in), &p)
		if field == "" {
			if err != nil {
				t.Errorf("%s: %v", in, err)
			}
			continue
		}
		if err == nil {
			t.Errorf("%s: accepted, want invalid input at %s", in, field)
			continue
		}
		e := calsync.AsError(err)
		if e.Kind != calsync.KindInvalidInput || e.Field != field {
			t.Errorf("%s: got %v (field %q), want invalid input at %s", in, err, e.Field, field)
		}
	}
}

// A value of the wrong type names its field as the other errors do, with
// the index of the element in brackets.
func TestDecodeParamsNamesTypeErrors(t *testing.T) {
	var p struct {
		Events []struct {
			AllDay bool `json:"allDay"`
		} `json:"events"`
	}
	err := DecodeParams(json.RawMessage(`{"events":[{"allDay":true},{"allDay":"yes"}]}`), &p)
	var e *calsync.Error
	if !errors.As(err, &e) || e.Field != "events[1].allDay" {
		t.Fatalf("got %#v, want an invalid-input error naming events[1].allDay", err)
	}
}
