package rpc

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/schema"
	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/rs/zerolog"
	"github.com/sourcegraph/jsonrpc2"
)

// Replies are encoded once, by the method's goroutine, into the bytes
// that are written (issue 14): these tests pin the bytes, and the memory a
// large reply costs on its way out.

// serveOnce runs Serve over in and returns what it wrote and logged.
func serveOnce(t *testing.T, framing, in string, methods ...Method) (out, log string) {
	t.Helper()
	var o strings.Builder
	var l lockedBuilder
	err := Serve(context.Background(), strings.NewReader(in), &o, Options{Framing: framing, Methods: methods,
		Schema: schema.OpenRPC, Logger: zerolog.New(&l).Level(zerolog.DebugLevel)})
	if err != nil {
		t.Fatal(err)
	}
	return o.String(), l.String()
}

// lockedBuilder is a strings.Builder that requests may log to at once.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestReplyBytes(t *testing.T) {
	// What encoding/json escapes stays escaped: HTML characters, and
	// U+2028, which a line-splitting reader (Node's readline) takes for a
	// line break.
	result := Method{Name: "result", Unlisted: true, Handler: func(_ context.Context, p json.RawMessage) (any, error) {
		return map[string]any{"s": "<a&b>\u2028", "raw": json.RawMessage(`[ 1, 2 ]`)}, nil
	}}
	failure := Method{Name: "failure", Unlisted: true, Handler: func(context.Context, json.RawMessage) (any, error) {
		return nil, calsync.Invalid("events[0].start", "bad")
	}}
	in := `{"jsonrpc":"2.0","id":"a","method":"result"}` + "\n" +
		`[{"jsonrpc":"2.0","id":-1.5,"method":"result"},{"jsonrpc":"2.0","method":"result"},{"jsonrpc":"2.0","id":null,"method":"failure"}]` + "\n"
	res := `{"raw":[1,2],"s":"\u003ca\u0026b\u003e\u2028"}`
	fail := `{"code":-32602,"message":"events[0].start: bad","data":{"kind":"invalid_input","retryable":false,"field":"events[0].start"}}`
	one := `{"jsonrpc":"2.0","id":"a","result":` + res + `}`
	// The batch replies come in completion order, and the two lines'
	// replies in the order they are done (requests run at once).
	batches := []string{
		`[{"jsonrpc":"2.0","id":-1.5,"result":` + res + `},{"jsonrpc":"2.0","id":null,"error":` + fail + `}]`,
		`[{"jsonrpc":"2.0","id":null,"error":` + fail + `},{"jsonrpc":"2.0","id":-1.5,"result":` + res + `}]`,
	}
	out, _ := serveOnce(t, FramingNDJSON, in, result, failure)
	if !slices.ContainsFunc(batches, func(batch string) bool {
		return out == one+"\n"+batch+"\n" || out == batch+"\n"+one+"\n"
	}) {
		t.Errorf("ndjson: got\n%s", out)
	}
	framed := func(m string) string { return fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(m), m) }
	out, _ = serveOnce(t, FramingContentLength, framed(`{"jsonrpc":"2.0","id":"a","method":"result"}`), result)
	if out != framed(one) {
		t.Errorf("content-length: got %q", out)
	}
}

// rpc.discover is answered by Serve from the document: encoded once, the
// same bytes every time, and without building the params validator, which
// a process that only answers rpc.discover never needs.
func TestDiscoverIsLazy(t *testing.T) {
	doc, err := json.Marshal(json.RawMessage(schema.OpenRPC)) // compact, escaped as every reply
	if err != nil {
		t.Fatal(err)
	}
	want := func(id string) string { return `{"jsonrpc":"2.0","id":` + id + `,"result":` + string(doc) + "}\n" }
	out, log := serveOnce(t, "", `{"jsonrpc":"2.0","id":1,"method":"rpc.discover"}`+"\n"+`{"jsonrpc":"2.0","id":2,"method":"rpc.discover","params":[]}`+"\n")
	if out != want("1")+want("2") && out != want("2")+want("1") {
		t.Errorf("rpc.discover answered\n%.300s", out)
	}
	if strings.Contains(log, "params validator built") {
		t.Errorf("a discover-only session built the params validator:\n%s", log)
	}

	in := `{"jsonrpc":"2.0","id":1,"method":"settings.resolve","params":{"cascade":{}}}` + "\n" +
		`{"jsonrpc":"2.0","id":2,"method":"settings.resolve","params":{"cascade":{}}}` + "\n" +
		`{"jsonrpc":"2.0","id":3,"method":"rpc.discover","params":{"x":1}}` + "\n"
	out, log = serveOnce(t, "", in, testMethods()[0])
	if n := strings.Count(log, "params validator built"); n != 1 {
		t.Errorf("the params validator was built %d times, want once:\n%s", n, log)
	}
	if strings.Count(out, `"result":{"effective"`) != 2 || !strings.Contains(out, `{"jsonrpc":"2.0","id":3,"error":{"code":-32602,"message":"x: unknown member (rpc.discover takes no params)"`) {
		t.Errorf("got\n%s", out)
	}
}

// A reply is encoded once and written from where it was encoded: an
// 8 MiB reply allocates 24 MiB on its way out (encoding/json's scratch and
// buffer for the string, then the message), 32 MiB under -race, where it
// took 82 MiB (106 MiB) through the Conn, which marshalled, compacted
// twice, scanned for the id, copied with the original id and appended the
// newline.
func TestLargeReplyIsNotCopiedAgain(t *testing.T) {
	const size = 8 << 20
	big := strings.Repeat("x", size)
	method := Method{Name: "big", Unlisted: true, Handler: func(context.Context, json.RawMessage) (any, error) {
		return []string{big}, nil
	}}
	in := `{"jsonrpc":"2.0","id":1,"method":"big"}` + "\n"
	var written int64
	out := writerFunc(func(p []byte) (int, error) { written += int64(len(p)); return len(p), nil })
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := Serve(context.Background(), strings.NewReader(in), out, Options{Methods: []Method{method}, Schema: schema.OpenRPC, Logger: zerolog.Nop()}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if written < size {
		t.Fatalf("%d bytes written", written)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 5*size {
		t.Errorf("a reply of %d MiB allocated %.1f MiB on its way out", size>>20, float64(alloc)/(1<<20))
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// A reply that comes after the Conn closed (a request still running past
// the stop's grace period) is refused, not written after Serve returned.
func TestNoReplyAfterClose(t *testing.T) {
	f := &blockingFrames{reads: make(chan struct{}, 1), release: make(chan struct{})}
	close(f.release)
	st := newStream(f, f, Options{Logger: zerolog.Nop(), MaxBatch: 1, MaxPendingOutput: 1 << 20}, func() {}, func(error) {})
	defer st.finish()
	_ = st.Close()
	if err := st.deliver(nil, []byte(`{}`)); err != jsonrpc2.ErrClosed {
		t.Fatalf("got %v", err)
	}
}

// BenchmarkReply is the cost of encoding and writing the reply of a large
// sync.run (10,000 operations, each with its event and link, about 9 MB)
// through Serve, the method itself costing nothing; B/op is what the reply
// allocates on its way out.
//
//	go test -run '^$' -bench Reply -benchmem -count 6 ./rpc/
func BenchmarkReply(b *testing.B) {
	res := largeSyncResult(10_000)
	method := Method{Name: "sync", Unlisted: true, Handler: func(context.Context, json.RawMessage) (any, error) { return res, nil }}
	in := `{"jsonrpc":"2.0","id":1,"method":"sync"}` + "\n"
	var n int64
	out := writerFunc(func(p []byte) (int, error) { n += int64(len(p)); return len(p), nil })
	for b.Loop() {
		if err := Serve(context.Background(), strings.NewReader(in), out, Options{Methods: []Method{method}, Schema: schema.OpenRPC, Logger: zerolog.Nop()}); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(n / int64(b.N))
}

// largeSyncResult is a sync.run result that creates n Oro events.
func largeSyncResult(n int) calsync.Result {
	at := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	r := calsync.Result{Status: calsync.StatusCompleted, NextSyncAt: at, Issues: []calsync.Issue{}}
	for i := range n {
		id := fmt.Sprintf("AAMkAGI2TG93AAA-%08d=", i)
		r.Operations = append(r.Operations, calsync.Operation{
			Key: fmt.Sprintf("create:%s", id), Op: calsync.OpCreate, RemoteID: id, Reason: calsync.ReasonMicrosoftCreated,
			Event: &calsync.Event{UID: "040000008200E00074C5B7101A82E008" + id, Title: fmt.Sprintf("Weekly review %d", i),
				Description: strings.Repeat("Agenda: figures, risks, next steps. ", 8), Location: "Room 4.12",
				Start: "2026-03-05T09:00:00+01:00", End: "2026-03-05T10:00:00+01:00", UpdatedAt: at},
			Link: &calsync.Link{V: 1, RemoteID: id, ChangeKey: "DwAAABYAAAA" + id, ETag: `W/"DwAAABYAAAA` + id + `"`, ICalUID: "040000008200E00074C5B7101A82E008" + id},
		})
	}
	return r
}

// A result that encoding/json refuses is answered as internal: the
// request still gets exactly one well-formed reply.
func TestUnencodableResult(t *testing.T) {
	method := Method{Name: "result", Unlisted: true, Handler: func(context.Context, json.RawMessage) (any, error) { return func() {}, nil }}
	out, log := serveOnce(t, "", `{"jsonrpc":"2.0","id":1,"method":"result"}`+"\n", method)
	want := `{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"internal error","data":{"kind":"internal","retryable":false}}}` + "\n"
	if out != want || !strings.Contains(log, "result could not be encoded") {
		t.Errorf("got %s", out)
	}
}

// pieces is a JSONWriter that writes a JSON array of n strings of size
// bytes each, one write per string and per comma.
type pieces struct{ n, size int }

func (p pieces) WriteJSON(w io.Writer) error {
	io.WriteString(w, "[")
	for i := range p.n {
		if i > 0 {
			io.WriteString(w, ",")
		}
		io.WriteString(w, `"`+strings.Repeat(string(rune('a'+i%26)), p.size)+`"`)
	}
	_, err := io.WriteString(w, "]")
	return err
}

// TestJSONWriterReply checks that a result written in pieces (a
// JSONWriter) goes out as the same bytes as the same result encoded at
// once, alone and in a batch, in both framings, whatever the sizes of its
// writes against the chunks it is kept in.
func TestJSONWriterReply(t *testing.T) {
	for _, p := range []pieces{{0, 0}, {3, 10}, {1, chunkSize}, {5, chunkSize - 3}, {2000, 100}} {
		var strs []string
		for i := range p.n {
			strs = append(strs, strings.Repeat(string(rune('a'+i%26)), p.size))
		}
		want, _ := json.Marshal(strs)
		if p.n == 0 {
			want = []byte("[]")
		}
		m := Method{Name: "pieces", Unlisted: true, Handler: func(context.Context, json.RawMessage) (any, error) { return p, nil }}
		one := `{"jsonrpc":"2.0","id":7,"result":` + string(want) + `}`
		out, _ := serveOnce(t, FramingNDJSON, `{"jsonrpc":"2.0","id":7,"method":"pieces"}`+"\n"+
			`[{"jsonrpc":"2.0","id":7,"method":"pieces"}]`+"\n", m)
		// the two requests run at once: their replies come in either order
		if out != one+"\n["+one+"]\n" && out != "["+one+"]\n"+one+"\n" {
			t.Errorf("%+v ndjson: got %d bytes, want %d: %.200q", p, len(out), 2*len(one)+5, out)
		}
		req := `{"jsonrpc":"2.0","id":7,"method":"pieces"}`
		out, _ = serveOnce(t, FramingContentLength, fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(req), req), m)
		if framed := fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(one), one); out != framed {
			t.Errorf("%+v content-length: got %.200q", p, out)
		}
	}
}
