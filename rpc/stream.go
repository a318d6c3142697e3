package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/rs/zerolog"
	"github.com/sourcegraph/jsonrpc2"
)

// stream is the conformance ObjectStream between the wire and a
// jsonrpc2.Conn. The Conn only ever sees well-formed single requests with
// small internal ids (their sequence number, also sent as the extra member
// "seq" so notifications can be found too); the original ids and params
// stay here, and replies get their original ids back on the way out.
type stream struct {
	r   frameReader
	w   frameWriter
	log zerolog.Logger
	// maxBatch bounds the members of a batch.
	maxBatch int
	// maxPending bounds the replies waiting to be written: over it, no
	// more input is read until the host reads some output.
	maxPending int64
	// drain waits for every request in flight; a read error is returned to
	// the Conn (which then closes) only after it.
	drain func()
	// failed is told, once, that the output is gone.
	failed func(error)

	queue []queued // decoded, not yet handed to the Conn; read goroutine only
	next  uint64   // read goroutine only

	// mu guards the fields below. It is never held during I/O: the read
	// goroutine takes it too, and must keep reading while a reply waits
	// for the host to read its end of the pipe (a host that writes all its
	// requests before reading any reply would otherwise wait on the
	// sidecar forever, and the sidecar on it).
	mu      sync.Mutex
	routes  map[uint64]*route
	out     [][][]byte    // messages (each in parts) not yet written, in the order they were ready
	pending int64         // bytes of out and of unfinished batch replies
	wake    *sync.Cond    // on mu: out grew or shrank, or closing was set
	closing bool          // set by finish: the writer ends when out is empty
	closed  bool          // set by Close: no more replies are taken
	outErr  error         // the first write failure, wrapping ErrOutputClosed
	written chan struct{} // closed when the writer has ended
	scratch []byte        // read goroutine only
}

type queued struct {
	seq    uint64
	method string
	notif  bool
}

// route is what the stream keeps about a request until its reply is out.
type route struct {
	id     json.RawMessage // as sent; nil for a notification
	params json.RawMessage
	batch  *batch
}

// batch collects the replies of one batch; the array is written when the
// last one arrives.
type batch struct {
	want    int
	replies [][][]byte // each in parts
}

// newStream starts the stream's writer goroutine; finish ends it.
func newStream(r frameReader, w frameWriter, opts Options, drain func(), failed func(error)) *stream {
	s := &stream{r: r, w: w, log: opts.Logger, maxBatch: opts.MaxBatch, maxPending: opts.MaxPendingOutput,
		drain: drain, failed: failed, routes: map[uint64]*route{}, written: make(chan struct{})}
	s.wake = sync.NewCond(&s.mu)
	go s.writer()
	return s
}

// ReadObject hands the Conn the next request. Protocol errors are answered
// here and never reach the Conn.
func (s *stream) ReadObject(v any) error {
	for len(s.queue) == 0 {
		s.waitForOutput()
		frame, err := s.r.ReadFrame()
		var big *tooLarge
		var bad *badFrame
		switch {
		case errors.As(err, &big):
			s.log.Warn().Int64("limit", big.limit).Msg("message over the size limit skipped")
			s.replyError(nil, idFromPrefix(big.prefix), &protocolError{code: CodeInvalidRequest, msg: "Invalid Request: message over the size limit", limit: big.limit})
			continue
		case errors.As(err, &bad):
			s.log.Warn().Str("problem", bad.msg).Msg("input that is not a message skipped")
			s.replyError(nil, null, &protocolError{code: CodeParseError, msg: "Parse error: " + bad.msg})
			continue
		case err != nil:
			if !errors.Is(err, io.EOF) {
				s.log.Warn().Err(err).Msg("input ended in the middle of a message")
			}
			s.drain()
			return err
		}
		s.enqueue(frame)
	}
	q := s.queue[0]
	s.queue = s.queue[1:]
	b := append(s.scratch[:0], `{"jsonrpc":"2.0","method":`...)
	m, _ := json.Marshal(q.method)
	b = append(b, m...)
	b = append(b, `,"seq":`...)
	b = strconv.AppendUint(b, q.seq, 10)
	if !q.notif {
		b = append(b, `,"id":`...)
		b = strconv.AppendUint(b, q.seq, 10)
	}
	b = append(b, '}')
	s.scratch = b
	return json.Unmarshal(b, v)
}

func (s *stream) enqueue(frame []byte) {
	items, isBatch := decodeMessage(frame, s.maxBatch)
	var bt *batch
	if isBatch {
		want := 0
		for _, it := range items {
			if it.err != nil || (!it.ignore && it.id != nil) {
				want++
			}
		}
		if want > 0 {
			bt = &batch{want: want}
		}
	}
	for _, it := range items {
		switch {
		case it.ignore:
			s.log.Debug().Msg("ignoring a response object: the sidecar sends no requests")
		case it.err != nil:
			s.replyError(bt, it.id, it.err)
		default:
			seq := s.next
			s.next++
			rt := &route{id: it.id, params: it.params}
			if it.id != nil {
				rt.batch = bt
			}
			s.mu.Lock()
			s.routes[seq] = rt
			s.mu.Unlock()
			s.queue = append(s.queue, queued{seq: seq, method: it.method, notif: it.id == nil})
		}
	}
}

// waitForOutput holds reading back while more than maxPending bytes of
// replies wait for the host to read them, so that a host that keeps
// writing and never reads cannot make replies pile up without bound.
func (s *stream) waitForOutput() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.pending > s.maxPending && s.outErr == nil && !s.closing {
		s.wake.Wait()
	}
}

// route returns what the stream keeps for a request (nil if unknown).
func (s *stream) route(seq uint64) *route {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.routes[seq]
}

// forget drops a notification's route; requests are dropped when answered.
func (s *stream) forget(seq uint64) {
	s.mu.Lock()
	delete(s.routes, seq)
	s.mu.Unlock()
}

// WriteObject is never used: the Conn only reads requests here, and the
// server sends every reply itself (send), encoded once, so that nothing
// decodes a reply again on its way out.
func (s *stream) WriteObject(any) error {
	return errors.New("rpc: replies are sent by the server, not through the Conn")
}

// send queues the reply to request seq (in parts, written one after the
// other), alone or as part of its batch.
func (s *stream) send(seq uint64, msg ...[]byte) error {
	s.mu.Lock()
	rt := s.routes[seq]
	delete(s.routes, seq)
	s.mu.Unlock()
	if rt == nil || rt.id == nil {
		return errors.New("rpc: reply to an unknown request or a notification")
	}
	return s.deliver(rt.batch, msg...)
}

// encoded is a result that is compact JSON already (as encoding/json
// writes it: HTML characters, U+2028 and U+2029 escaped); message copies
// it as is.
type encoded []byte

// message encodes a reply, {"jsonrpc":"2.0","id":…,"result":…} or with
// "error". value is encoded once, straight into the bytes the writer
// writes; nothing decodes or copies the reply again on its way out.
func message(id json.RawMessage, member string, value any) ([]byte, error) {
	b := appender(make([]byte, 0, len(id)+len(member)+32))
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"`...)
	b = append(b, member...)
	b = append(b, `":`...)
	if e, ok := value.(encoded); ok {
		b = append(b, e...)
	} else {
		// Encode writes its whole output at once, so b grows once, to the
		// size of the reply; its newline's byte is taken by the '}'.
		if err := json.NewEncoder(&b).Encode(value); err != nil {
			return nil, err
		}
		b = b[:len(b)-1]
	}
	return append(b, '}'), nil
}

// JSONWriter is a result that writes its own JSON, as encoding/json would
// encode it, in as many writes as it likes; the reply then goes out in
// the pieces it was written into, never in one buffer (see chunks). A
// result of thousands of items is written so.
type JSONWriter interface {
	WriteJSON(w io.Writer) error
}

// written encodes a reply whose result is a JSONWriter, in parts.
func written(id json.RawMessage, value JSONWriter) ([][]byte, error) {
	head, _ := message(id, "result", encoded(nil))
	head = head[: len(head)-1 : len(head)-1] // without its '}', and never appended to
	c := chunks{parts: [][]byte{head}}
	if err := value.WriteJSON(&c); err != nil {
		return nil, err
	}
	return append(c.parts, replyEnd), nil
}

var replyEnd = []byte("}")

// chunkSize is the size of the pieces chunks keeps: the largest of the
// allocator's small size classes.
const chunkSize = 32 << 10

// chunks is an io.Writer that keeps what it is given in pieces of
// chunkSize bytes (a larger write in one piece of its own).
type chunks struct{ parts [][]byte }

func (c *chunks) Write(p []byte) (int, error) {
	last := len(c.parts) - 1
	switch {
	case last >= 0 && len(p) <= cap(c.parts[last])-len(c.parts[last]):
		c.parts[last] = append(c.parts[last], p...)
	case len(p) >= chunkSize:
		c.parts = append(c.parts, append([]byte(nil), p...))
	default:
		c.parts = append(c.parts, append(make([]byte, 0, chunkSize), p...))
	}
	return len(p), nil
}

// appender is an io.Writer that appends to itself.
type appender []byte

func (a *appender) Write(p []byte) (int, error) {
	*a = append(*a, p...)
	return len(p), nil
}

// replyError answers a protocol error without involving the Conn.
func (s *stream) replyError(bt *batch, id json.RawMessage, pe *protocolError) {
	msg, _ := message(id, "error", pe.object()) // an error object always encodes
	_ = s.deliver(bt, msg)                      // a write failure is reported by the writer
}

// deliver queues msg (its parts) for the writer, or, when msg is one reply of a
// batch, adds it to the batch and queues the whole array once the last
// reply is in. It never waits for the output.
func (s *stream) deliver(bt *batch, msg ...[]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.outErr != nil:
		return s.outErr
	case s.closed:
		return jsonrpc2.ErrClosed
	}
	for _, p := range msg {
		s.pending += int64(len(p))
	}
	parts := msg
	if bt != nil {
		bt.replies = append(bt.replies, msg)
		if len(bt.replies) < bt.want {
			return nil
		}
		s.pending += int64(len(bt.replies) + 1) // the replies are counted already; the brackets and commas not
		parts = make([][]byte, 0, 2*len(bt.replies)+1)
		for i, r := range bt.replies {
			parts = append(parts, batchSeparators[min(i, 1)])
			parts = append(parts, r...)
		}
		parts = append(parts, batchEnd)
	}
	s.out = append(s.out, parts)
	s.wake.Broadcast()
	return nil
}

// What goes around and between the replies of a batch.
var (
	batchSeparators = [2][]byte{[]byte("["), []byte(",")}
	batchEnd        = []byte("]")
)

// writer writes the queued messages in order until finish, then what is
// left. After a write fails it discards everything.
func (s *stream) writer() {
	defer close(s.written)
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for len(s.out) == 0 && !s.closing {
			s.wake.Wait()
		}
		if len(s.out) == 0 {
			return
		}
		msgs := s.out
		s.out = nil
		if s.outErr != nil {
			continue // the output is gone
		}
		s.mu.Unlock()
		var err error
		var done int64
		for _, m := range msgs {
			if err = s.w.WriteFrame(m...); err != nil {
				break
			}
			for _, p := range m {
				done += int64(len(p))
			}
		}
		if err == nil {
			err = s.w.Flush() // nothing waits in the buffer while the queue is empty
		}
		if err != nil {
			s.failed(err)
		}
		s.mu.Lock()
		s.pending -= done
		if err != nil {
			s.outErr = fmt.Errorf("%w: %v", ErrOutputClosed, err)
		}
		s.wake.Broadcast()
	}
}

// finish tells the writer that nothing more will be queued; it ends once
// everything queued is written (or the output failed), and then closes
// s.written.
func (s *stream) finish() {
	s.mu.Lock()
	s.closing = true
	s.wake.Broadcast()
	s.mu.Unlock()
}

// Close is called by the Conn when it closes: at the end of input, once
// every request in flight has answered, or when Serve returns. A reply
// that comes later (a request still running after a stop's grace period)
// is refused, not written. The reader and writer belong to the caller of
// Serve, so there is nothing to close.
func (s *stream) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

var _ jsonrpc2.ObjectStream = (*stream)(nil)
