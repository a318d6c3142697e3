package rpc

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"

	"github.com/oro-msync/oro-msync/schema/jsonscan"
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
	out     [][]byte      // messages not yet written, in the order they were ready
	pending int64         // bytes of out and of unfinished batch replies
	wake    *sync.Cond    // on mu: out grew or shrank, or closing was set
	closing bool          // set by finish: the writer ends when out is empty
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
	replies [][]byte
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

// WriteObject receives the Conn's replies and sends them with their
// original ids, alone or as part of their batch.
func (s *stream) WriteObject(obj any) error {
	b, err := json.Marshal(obj)
	if err != nil {
		return err
	}
	var r struct{ id, method, result, error []byte } // sub-slices of b: a large result is not copied again
	jsonscan.Members(b, func(k, v []byte) bool {
		switch jsonscan.Key(k) {
		case "id":
			r.id = v
		case "method":
			r.method = v
		case "result":
			r.result = v
		case "error":
			r.error = v
		}
		return true
	})
	if r.method != nil { // a message the sidecar itself starts
		return s.deliver(nil, b)
	}
	seq, err := strconv.ParseUint(string(r.id), 10, 64)
	if err != nil {
		return err
	}
	s.mu.Lock()
	rt := s.routes[seq]
	delete(s.routes, seq)
	s.mu.Unlock()
	if rt == nil || rt.id == nil {
		return errors.New("rpc: reply to an unknown request or a notification")
	}
	if len(r.error) > 0 && string(r.error) != "null" {
		return s.deliver(rt.batch, response(rt.id, "error", r.error))
	}
	if len(r.result) == 0 {
		r.result = null
	}
	return s.deliver(rt.batch, response(rt.id, "result", r.result))
}

func response(id json.RawMessage, member string, value []byte) []byte {
	b := make([]byte, 0, len(id)+len(value)+32)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, id...)
	b = append(b, `,"`...)
	b = append(b, member...)
	b = append(b, `":`...)
	b = append(b, value...)
	return append(b, '}')
}

// replyError answers a protocol error without involving the Conn.
func (s *stream) replyError(bt *batch, id json.RawMessage, pe *protocolError) {
	obj, _ := json.Marshal(pe.object())
	_ = s.deliver(bt, response(id, "error", obj)) // a write failure is reported by the writer
}

// deliver queues msg for the writer, or, when msg is one reply of a
// batch, adds it to the batch and queues the whole array once the last
// reply is in. It never waits for the output.
func (s *stream) deliver(bt *batch, msg []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outErr != nil {
		return s.outErr
	}
	s.pending += int64(len(msg))
	if bt != nil {
		bt.replies = append(bt.replies, msg)
		if len(bt.replies) < bt.want {
			return nil
		}
		n := 1
		for _, r := range bt.replies {
			n += len(r) + 1
		}
		s.pending += int64(len(bt.replies) + 1) // the replies are counted already; the brackets and commas not
		all := make([]byte, 0, n)
		all = append(all, '[')
		for i, r := range bt.replies {
			if i > 0 {
				all = append(all, ',')
			}
			all = append(all, r...)
		}
		msg = append(all, ']')
	}
	s.out = append(s.out, msg)
	s.wake.Broadcast()
	return nil
}

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
			if err = s.w.WriteFrame(m); err != nil {
				s.failed(err)
				break
			}
			done += int64(len(m))
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

// Close is called by the Conn when it closes. The reader and writer belong
// to the caller of Serve, so there is nothing to close.
func (s *stream) Close() error { return nil }

var _ jsonrpc2.ObjectStream = (*stream)(nil)
