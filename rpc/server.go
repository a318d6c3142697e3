package rpc

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oro-msync/oro-msync/schema"
	"github.com/oro-msync/oro-msync/schema/jsonscan"
	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/rs/zerolog"
	"github.com/sourcegraph/jsonrpc2"
)

// Handler runs one method. params is a JSON object that already passed the
// method's params schema (positional params are named, absent params are
// {}). Domain failures are returned as *calsync.Error (wrapped or not); any
// other error is reported as internal. A Handler must honour ctx: it is
// cancelled by $/cancelRequest and when the sidecar stops.
type Handler func(ctx context.Context, params json.RawMessage) (any, error)

// Method is one entry of the method table.
type Method struct {
	Name    string
	Handler Handler
	// Quick marks a method that waits on nothing outside the process (no
	// network, no lock held by another request) and answers at once. Quick
	// methods run in their own pool, so they never wait behind Graph-bound
	// methods, however many of those are running or queued.
	Quick bool
	// Unlisted marks a method that the OpenRPC document does not describe,
	// so its params are not validated. Only test hooks use it; a call of
	// any other method that the document lacks fails as an internal error
	// (a bug: rpc/api's tests check its table against the document).
	Unlisted bool
}

// Options configures Serve. The zero value of each field means its default.
type Options struct {
	// Framing is FramingNDJSON (default) or FramingContentLength.
	Framing string
	// MaxMessageBytes bounds one incoming message; a larger one is answered
	// with -32600 and skipped. Default DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// MaxConcurrent bounds the methods that are not Quick (those that
	// call Microsoft) running at once; more wait their turn in a queue
	// without a goroutine, and reading goes on. Default
	// DefaultMaxConcurrent.
	MaxConcurrent int
	// MaxQueued bounds the requests waiting for one of the MaxConcurrent
	// slots; one more is refused at once, retryable (kind throttled).
	// Default DefaultMaxQueued.
	MaxQueued int
	// MaxBatch bounds the members of a batch; a larger batch is refused as
	// a whole with -32600 before any of it runs. Default DefaultMaxBatch.
	MaxBatch int
	// MaxPendingOutput bounds the bytes of replies waiting for the host to
	// read them; past it, no more input is read until it does. Default
	// DefaultMaxPendingOutput.
	MaxPendingOutput int64
	// Logger receives every log line; per-request loggers derive from it.
	Logger zerolog.Logger
	// Methods is the method table.
	Methods []Method
	// Schema is the OpenRPC document params are validated against
	// (schema.OpenRPC in the sidecar), and the answer of rpc.discover. It
	// is read only when first needed: the params validator is built by
	// the first request that has params to check, the answer of
	// rpc.discover is encoded by the first rpc.discover. It must be valid
	// JSON: rpc.discover sends it without checking it again (schema's
	// tests check the sidecar's).
	Schema []byte
	// StopGrace is how long a stop (ctx cancelled) waits for cancelled
	// requests to answer before returning. Default DefaultStopGrace.
	StopGrace time.Duration
}

// Defaults of Options.
const (
	// DefaultMaxMessageBytes fits a sync.run request carrying 10,000 events
	// of several KiB each.
	DefaultMaxMessageBytes = 64 << 20
	DefaultMaxConcurrent   = 8
	DefaultMaxQueued       = 64
	DefaultMaxBatch        = 100
	// DefaultMaxPendingOutput holds a few hundred ordinary replies, or one
	// huge one, for a host that writes before it reads.
	DefaultMaxPendingOutput = 16 << 20
	DefaultStopGrace        = 5 * time.Second
)

// quickSlots is the size of the pool of Quick methods, which also checks
// the params of every request: they use the CPU only.
var quickSlots = max(2, runtime.GOMAXPROCS(0))

// ErrOutputClosed is returned by Serve when replies can no longer be
// written (the host closed its end of the pipe).
var ErrOutputClosed = errors.New("rpc: output closed")

// errStopping is the cancellation cause of requests cut short by a stop.
var errStopping = errors.New("the sidecar is stopping")

// errCancelRequest is the cancellation cause of $/cancelRequest.
var errCancelRequest = errors.New("cancelled by $/cancelRequest")

// Serve reads JSON-RPC 2.0 messages from in and writes the replies to out
// until in ends, the output fails, or ctx is cancelled. It answers
// rpc.discover itself, with Options.Schema.
//
// At the end of in it finishes every request in flight, writes every reply
// and returns nil. When ctx is cancelled it cancels what is in flight (each
// answers -32800), waits up to Options.StopGrace for those answers and
// returns ctx's error. When a write fails it cancels everything and returns
// an error wrapping ErrOutputClosed.
func Serve(ctx context.Context, in io.Reader, out io.Writer, opts Options) error {
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.MaxQueued <= 0 {
		opts.MaxQueued = DefaultMaxQueued
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	if opts.MaxPendingOutput <= 0 {
		opts.MaxPendingOutput = DefaultMaxPendingOutput
	}
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	methods := map[string]Method{}
	for _, m := range opts.Methods {
		if _, dup := methods[m.Name]; dup {
			return fmt.Errorf("rpc: method %s registered twice", m.Name)
		}
		if m.Name == discoverMethod {
			return fmt.Errorf("rpc: Serve answers %s itself, from Options.Schema", discoverMethod)
		}
		methods[m.Name] = m
	}
	fr, fw, err := newFraming(opts.Framing, in, out, opts.MaxMessageBytes)
	if err != nil {
		return err
	}

	s := &server{
		base:      context.WithoutCancel(ctx),
		log:       opts.Logger,
		methods:   methods,
		schema:    opts.Schema,
		quick:     make(chan struct{}, quickSlots),
		slow:      pool{size: opts.MaxConcurrent, maxQueued: opts.MaxQueued},
		running:   map[string]map[uint64]context.CancelCauseFunc{},
		outFailed: make(chan error, 1),
	}
	s.slow.run = s.runSlow
	// rpc.discover is most often a host's first request: its answer is
	// made ready on another core while the first request is read
	go s.discoveryOnce.Do(s.compactSchema)
	s.stream = newStream(fr, fw, opts, s.inflight.Wait, func(err error) {
		select {
		case s.outFailed <- err:
		default:
		}
	})
	conn := jsonrpc2.NewConn(s.base, s.stream, s, jsonrpc2.SetLogger(libLogger{opts.Logger}))
	defer conn.Close()
	defer s.stream.finish()

	select {
	case <-conn.DisconnectNotify(): // end of input, after the drain
		s.stream.finish()
		select {
		case <-s.stream.written:
		case <-ctx.Done():
			return s.stopWithin(ctx, opts.StopGrace)
		}
		select {
		case err := <-s.outFailed:
			return fmt.Errorf("%w: %v", ErrOutputClosed, err)
		default:
			return nil
		}
	case err := <-s.outFailed:
		s.stop(errStopping)
		return fmt.Errorf("%w: %v", ErrOutputClosed, err)
	case <-ctx.Done():
		return s.stopWithin(ctx, opts.StopGrace)
	}
}

// stopWithin stops (see stop) and waits, at most grace in all, for the
// requests in flight to answer and for every reply to be written. It
// returns ctx's error.
func (s *server) stopWithin(ctx context.Context, grace time.Duration) error {
	s.stop(errStopping)
	timeout := time.After(grace)
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
		s.stream.finish()
		select {
		case <-s.stream.written:
		case <-timeout:
			s.log.Warn().Dur("grace_ms", grace).Msg("replies still unwritten after the stop grace period")
		}
	case <-timeout:
		s.log.Warn().Dur("grace_ms", grace).Msg("requests still running after the stop grace period")
	}
	return ctx.Err()
}

// server is the jsonrpc2.Handler: it checks each request and runs it in
// the pool of its kind.
type server struct {
	base      context.Context // request contexts derive from it; never cancelled by Serve's ctx
	log       zerolog.Logger
	methods   map[string]Method
	schema    []byte
	stream    *stream
	quick     chan struct{} // the slots of Quick methods and of params checks
	slow      pool          // the other methods
	inflight  sync.WaitGroup
	stopping  atomic.Bool
	outFailed chan error

	mu      sync.Mutex // guards running
	running map[string]map[uint64]context.CancelCauseFunc

	validatorOnce sync.Once
	validator     *schema.Validator
	validatorErr  error

	discoveryOnce sync.Once
	discovery     encoded
}

// discoverMethod is OpenRPC's service discovery method.
const discoverMethod = "rpc.discover"

// params returns the params validator, built by the first call that needs
// it: a process that only answers rpc.discover never reads the methods of
// the document.
func (s *server) params() (*schema.Validator, error) {
	s.validatorOnce.Do(func() {
		start := time.Now()
		s.validator, s.validatorErr = schema.NewValidator(s.schema)
		s.log.Debug().Err(s.validatorErr).Dur("elapsed_ms", time.Since(start)).Msg("params validator built")
	})
	return s.validator, s.validatorErr
}

// discover answers rpc.discover: the OpenRPC document, compacted once (as
// every message is; Serve starts it at once) and then copied as is.
func (s *server) discover(context.Context, json.RawMessage) (any, error) {
	s.discoveryOnce.Do(s.compactSchema)
	return s.discovery, nil
}

// compactSchema makes the rpc.discover answer: the schema compacted once,
// as the reply carries it.
func (s *server) compactSchema() {
	s.discovery = jsonscan.Compact(make([]byte, 0, len(s.schema)), s.schema)
}

// call is one request on its way from Handle to its reply.
type call struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	req    *jsonrpc2.Request
	log    zerolog.Logger
	id     json.RawMessage // as sent; nil for a notification
	key    string          // the id as a key of running; "" for a notification
	seq    uint64
	method Method          // set once the params are checked
	params json.RawMessage // checked, once method is set
	start  time.Time
}

// Handle runs on the Conn's read goroutine, so it is called in message
// order. It counts the request in (so that the EOF drain waits for it) and
// waits for a quick slot before it starts a goroutine: no more requests
// are read, and nothing more is spent, while every quick slot is busy.
// Quick slots are only ever held for CPU work, so the wait is short.
func (s *server) Handle(_ context.Context, _ *jsonrpc2.Conn, req *jsonrpc2.Request) {
	seq, ok := seqOf(req)
	rt := s.stream.route(seq)
	if !ok || rt == nil {
		s.log.Error().Str("rpc_method", req.Method).Msg("request without a route: bug in the conformance stream")
		return
	}
	if req.Notif {
		defer s.stream.forget(seq)
	}
	if req.Method == "$/cancelRequest" {
		s.cancelRequest(rt.params)
		if !req.Notif {
			msg, _ := message(rt.id, "result", nil)
			_ = s.stream.send(seq, msg) // a write failure is reported by the writer
		}
		return
	}
	c := &call{req: req, id: rt.id, seq: seq, params: rt.params, start: time.Now(),
		log: s.log.With().RawJSON("id", orNull(rt.id)).Str("rpc_method", req.Method).Logger()}
	rt.params = nil // the route lives until the reply; the params need not
	if s.stopping.Load() {
		if !req.Notif {
			s.reply(c, nil, cancelled(errStopping))
		}
		return
	}
	c.ctx, c.cancel = context.WithCancelCause(s.base)
	c.ctx = c.log.WithContext(c.ctx)
	if !req.Notif {
		c.key = idKey(rt.id)
		s.mu.Lock()
		if s.running[c.key] == nil {
			s.running[c.key] = map[uint64]context.CancelCauseFunc{}
		}
		s.running[c.key][seq] = c.cancel
		s.mu.Unlock()
	}
	s.inflight.Add(1)
	s.quick <- struct{}{}
	go s.prepare(c)
}

// prepare runs in a quick slot: it checks the params and runs a Quick
// method there, or hands the call to the pool of the others.
func (s *server) prepare(c *call) {
	m, params, err := s.check(c)
	if err != nil || m.Quick {
		var res any
		if err == nil {
			res, err = s.execute(c, m, params)
		}
		<-s.quick
		s.finish(c, res, err)
		return
	}
	<-s.quick
	c.method, c.params = m, params
	if !s.slow.submit(c) {
		s.finish(c, nil, &calsync.Error{Kind: calsync.KindThrottled, Op: c.req.Method, RetryAfter: time.Second,
			Message: fmt.Sprintf("the sidecar is busy: %d requests are running and %d waiting; try again shortly", s.slow.size, s.slow.maxQueued)})
	}
}

// runSlow runs a call in a slot of the slow pool.
func (s *server) runSlow(c *call) {
	res, err := s.execute(c, c.method, c.params)
	s.finish(c, res, err)
}

// check finds the method and validates the params, under recover.
func (s *server) check(c *call) (m Method, params json.RawMessage, err error) {
	defer s.recoverInto(c, &err)
	if err := c.ctx.Err(); err != nil {
		return m, nil, err
	}
	if c.req.Method == discoverMethod { // it takes no params: no validator needed
		params, err = schema.CheckNoParams(discoverMethod, c.params)
		return Method{Name: discoverMethod, Quick: true, Handler: s.discover}, params, paramError(err)
	}
	m, ok := s.methods[c.req.Method]
	if !ok {
		return m, nil, &protocolError{code: CodeMethodNotFound, msg: "Method not found: " + c.req.Method}
	}
	if m.Unlisted {
		if c.params == nil {
			return m, json.RawMessage("{}"), nil
		}
		return m, c.params, nil
	}
	v, err := s.params()
	if err != nil {
		return m, nil, err
	}
	params, err = v.Check(c.req.Method, c.params)
	return m, params, paramError(err)
}

// paramError turns a params validation failure into invalid input naming
// the field; other errors are left as they are.
func paramError(err error) error {
	var pe *schema.ParamError
	if errors.As(err, &pe) {
		return &calsync.Error{Kind: calsync.KindInvalidInput, Field: pe.Field, Message: pe.Message}
	}
	return err
}

// execute calls the method under recover.
func (s *server) execute(c *call, m Method, params json.RawMessage) (res any, err error) {
	defer s.recoverInto(c, &err)
	if err := c.ctx.Err(); err != nil { // cancelled while it waited
		return nil, err
	}
	return m.Handler(c.ctx, params)
}

// recoverInto turns a panic into an internal error; it must be deferred.
func (s *server) recoverInto(c *call, err *error) {
	if p := recover(); p != nil {
		c.log.Error().Str("panic", fmt.Sprint(p)).Str("stack", string(debug.Stack())).Msg("method panicked")
		*err = &calsync.Error{Kind: calsync.KindInternal, Op: c.req.Method, Message: "internal error", Err: fmt.Errorf("panic: %v", p)}
	}
}

// finish logs the outcome, answers and counts the call out.
func (s *server) finish(c *call, res any, err error) {
	defer s.inflight.Done()
	defer c.cancel(nil)
	if c.key != "" {
		s.mu.Lock()
		delete(s.running[c.key], c.seq)
		if len(s.running[c.key]) == 0 {
			delete(s.running, c.key)
		}
		s.mu.Unlock()
	}
	if err != nil && c.ctx.Err() != nil {
		err = cancelledAfter(context.Cause(c.ctx), err)
	}
	ev := c.log.Debug()
	switch {
	case err == nil:
	case errorObject(err).Code == CodeInternalError:
		ev = c.log.Error().Err(err) // the cause is logged, never sent
	default:
		ev = c.log.Info().Err(err)
	}
	ev.Dur("elapsed_ms", time.Since(c.start)).Bool("notification", c.req.Notif).Msg("done")
	if !c.req.Notif {
		s.reply(c, res, err)
	}
}

// reply answers c with its result, or with err when that is not nil. The
// reply is encoded here, once, into the bytes the writer writes (in parts,
// for a JSONWriter).
func (s *server) reply(c *call, res any, err error) {
	var msg [][]byte
	if err == nil {
		if jw, ok := res.(JSONWriter); ok {
			msg, err = written(c.id, jw)
		} else {
			var m []byte
			m, err = message(c.id, "result", res)
			msg = [][]byte{m}
		}
		if err != nil {
			c.log.Error().Err(err).Msg("result could not be encoded")
			err = &calsync.Error{Kind: calsync.KindInternal, Message: "result could not be encoded", Err: err}
		}
	}
	if err != nil {
		m, _ := message(c.id, "error", errorObject(err)) // its data is encoded already (SetError)
		msg = [][]byte{m}
	}
	if err := s.stream.send(c.seq, msg...); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) && !errors.Is(err, ErrOutputClosed) {
		c.log.Error().Err(err).Msg("reply not sent")
	}
}

// cancelRequest handles $/cancelRequest {"id": …}: every running or
// queued request with that id is cancelled and answers -32800. Unknown ids
// are ignored, as the request may just have finished.
func (s *server) cancelRequest(params json.RawMessage) {
	var p struct {
		ID json.RawMessage `json:"id"`
	}
	if err := DecodeParams(params, &p); err != nil || !validID(p.ID) {
		s.log.Info().Msg("$/cancelRequest without a usable id ignored")
		return
	}
	key := idKey(p.ID)
	s.mu.Lock()
	for _, cancel := range s.running[key] {
		cancel(errCancelRequest)
	}
	s.mu.Unlock()
	s.dropCancelled()
}

// stop refuses new requests and cancels every running and queued one.
func (s *server) stop(cause error) {
	s.stopping.Store(true)
	s.mu.Lock()
	for _, byseq := range s.running {
		for _, cancel := range byseq {
			cancel(cause)
		}
	}
	s.mu.Unlock()
	s.dropCancelled()
}

// dropCancelled answers the queued calls that were cancelled now, rather
// than when a slot frees up.
func (s *server) dropCancelled() {
	for _, c := range s.slow.drop(func(c *call) bool { return c.ctx.Err() != nil }) {
		s.finish(c, nil, c.ctx.Err())
	}
}

func cancelled(cause error) error {
	msg := "request cancelled"
	if cause != nil && !errors.Is(cause, context.Canceled) {
		msg += ": " + cause.Error()
	}
	return &calsync.Error{Kind: calsync.KindCancelled, Message: msg}
}

// cancelledAfter is cancelled(cause) for a method that failed with err
// once it was cancelled. Tokens err carries (it rotated them before the
// cancel) stay in the reply: the host's refresh token may be spent.
func cancelledAfter(cause, err error) error {
	c := cancelled(cause)
	var tc TokenCarrier
	if errors.As(err, &tc) {
		return withTokens{error: c, tokens: tc.RotatedTokens()}
	}
	return c
}

// withTokens is an error that carries rotated tokens.
type withTokens struct {
	error
	tokens any
}

func (e withTokens) Unwrap() error      { return e.error }
func (e withTokens) RotatedTokens() any { return e.tokens }

// idKey makes equal ids equal map keys: strings by value (escapes
// resolved), numbers and null by their text.
func idKey(id json.RawMessage) string {
	if len(id) > 0 && id[0] == '"' {
		var s string
		if json.Unmarshal(id, &s) == nil {
			return "s" + s
		}
	}
	return "n" + string(id)
}

func seqOf(req *jsonrpc2.Request) (uint64, bool) {
	for _, f := range req.ExtraFields {
		if f.Name == "seq" {
			if n, ok := f.Value.(json.Number); ok {
				v, err := n.Int64()
				return uint64(v), err == nil
			}
		}
	}
	return 0, false
}

func orNull(id json.RawMessage) json.RawMessage {
	if id == nil {
		return null
	}
	return id
}

// libLogger sends sourcegraph/jsonrpc2's own log lines to zerolog.
type libLogger struct{ log zerolog.Logger }

func (l libLogger) Printf(format string, args ...any) {
	l.log.Warn().Msg(strings.TrimSpace(fmt.Sprintf(format, args...)))
}
