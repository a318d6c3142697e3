package rpc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/oro-msync/oro-msync/schema"
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
	// Unlisted marks a method that the OpenRPC document does not describe,
	// so its params are not validated. Only test hooks use it; Serve refuses
	// any other method that the document lacks.
	Unlisted bool
}

// Options configures Serve. The zero value of each field means its default.
type Options struct {
	// Framing is FramingNDJSON (default) or FramingContentLength.
	Framing string
	// MaxMessageBytes bounds one incoming message; a larger one is answered
	// with -32600 and skipped. Default DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// MaxConcurrent bounds the requests running at once; more wait their
	// turn (reading goes on). Default DefaultMaxConcurrent.
	MaxConcurrent int
	// Logger receives every log line; per-request loggers derive from it.
	Logger zerolog.Logger
	// Methods is the method table.
	Methods []Method
	// Schema is the OpenRPC document params are validated against
	// (schema.OpenRPC in the sidecar).
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
	DefaultStopGrace       = 5 * time.Second
)

// ErrOutputClosed is returned by Serve when replies can no longer be
// written (the host closed its end of the pipe).
var ErrOutputClosed = errors.New("rpc: output closed")

// errStopping is the cancellation cause of requests cut short by a stop.
var errStopping = errors.New("the sidecar is stopping")

// errCancelRequest is the cancellation cause of $/cancelRequest.
var errCancelRequest = errors.New("cancelled by $/cancelRequest")

// Serve reads JSON-RPC 2.0 messages from in and writes the replies to out
// until in ends, the output fails, or ctx is cancelled.
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
	if opts.StopGrace <= 0 {
		opts.StopGrace = DefaultStopGrace
	}
	v, err := schema.NewValidator(opts.Schema)
	if err != nil {
		return err
	}
	methods := map[string]Method{}
	for _, m := range opts.Methods {
		if _, dup := methods[m.Name]; dup {
			return fmt.Errorf("rpc: method %s registered twice", m.Name)
		}
		if !m.Unlisted && !v.Has(m.Name) {
			return fmt.Errorf("rpc: method %s is not described in the OpenRPC document", m.Name)
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
		validator: v,
		sem:       make(chan struct{}, opts.MaxConcurrent),
		running:   map[string]map[uint64]context.CancelCauseFunc{},
		outFailed: make(chan error, 1),
	}
	s.stream = newStream(fr, fw, opts.Logger, s.inflight.Wait, func(err error) {
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
			s.log.Warn().Dur("grace", grace).Msg("replies still unwritten after the stop grace period")
		}
	case <-timeout:
		s.log.Warn().Dur("grace", grace).Msg("requests still running after the stop grace period")
	}
	return ctx.Err()
}

// server is the jsonrpc2.Handler: it starts each request on its own
// goroutine and answers it.
type server struct {
	base      context.Context // request contexts derive from it; never cancelled by Serve's ctx
	log       zerolog.Logger
	methods   map[string]Method
	validator *schema.Validator
	stream    *stream
	sem       chan struct{}
	inflight  sync.WaitGroup
	stopping  atomic.Bool
	outFailed chan error

	mu      sync.Mutex // guards running
	running map[string]map[uint64]context.CancelCauseFunc
}

// Handle runs on the Conn's read goroutine, so it is called in message
// order and must not block: it counts the request in (so that the EOF
// drain waits for it) and starts it.
func (s *server) Handle(_ context.Context, conn *jsonrpc2.Conn, req *jsonrpc2.Request) {
	seq, ok := seqOf(req)
	rt := s.stream.route(seq)
	if !ok || rt == nil {
		s.log.Error().Str("method", req.Method).Msg("request without a route: bug in the conformance stream")
		return
	}
	if req.Notif {
		defer s.stream.forget(seq)
	}
	if req.Method == "$/cancelRequest" {
		s.cancelRequest(rt.params)
		if !req.Notif {
			_ = conn.Reply(s.base, req.ID, nil)
		}
		return
	}
	log := s.log.With().RawJSON("id", orNull(rt.id)).Str("method", req.Method).Logger()
	if s.stopping.Load() {
		if !req.Notif {
			s.reply(conn, req, &log, nil, cancelled(errStopping))
		}
		return
	}
	ctx, cancel := context.WithCancelCause(s.base)
	key := ""
	if !req.Notif {
		key = idKey(rt.id)
		s.mu.Lock()
		if s.running[key] == nil {
			s.running[key] = map[uint64]context.CancelCauseFunc{}
		}
		s.running[key][seq] = cancel
		s.mu.Unlock()
	}
	params := rt.params
	rt.params = nil // the route lives until the reply; the params need not
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		defer cancel(nil)
		if !req.Notif {
			defer func() {
				s.mu.Lock()
				delete(s.running[key], seq)
				if len(s.running[key]) == 0 {
					delete(s.running, key)
				}
				s.mu.Unlock()
			}()
		}
		start := time.Now()
		ctx := log.WithContext(ctx)
		res, err := s.run(ctx, req.Method, params, &log)
		if err != nil && ctx.Err() != nil {
			err = cancelledAfter(context.Cause(ctx), err)
		}
		ev := log.Debug()
		switch {
		case err == nil:
		case errorObject(err).Code == CodeInternalError:
			ev = log.Error().Err(err) // the cause is logged, never sent
		default:
			ev = log.Info().Err(err)
		}
		ev.Dur("elapsed", time.Since(start)).Bool("notification", req.Notif).Msg("done")
		if !req.Notif {
			s.reply(conn, req, &log, res, err)
		}
	}()
}

// run waits for a slot and calls the method under recover.
func (s *server) run(ctx context.Context, method string, params json.RawMessage, log *zerolog.Logger) (res any, err error) {
	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() {
		if p := recover(); p != nil {
			log.Error().Str("panic", fmt.Sprint(p)).Str("stack", string(debug.Stack())).Msg("method panicked")
			res, err = nil, &calsync.Error{Kind: calsync.KindInternal, Op: method, Message: "internal error", Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	m, ok := s.methods[method]
	if !ok {
		return nil, &protocolError{code: CodeMethodNotFound, msg: "Method not found: " + method}
	}
	if !m.Unlisted {
		params, err = s.validator.Check(method, params)
		var pe *schema.ParamError
		if errors.As(err, &pe) {
			return nil, &calsync.Error{Kind: calsync.KindInvalidInput, Field: pe.Field, Message: pe.Message}
		}
		if err != nil {
			return nil, err
		}
	} else if params == nil {
		params = json.RawMessage("{}")
	}
	return m.Handler(ctx, params)
}

func (s *server) reply(conn *jsonrpc2.Conn, req *jsonrpc2.Request, log *zerolog.Logger, res any, err error) {
	if err == nil {
		err = conn.Reply(s.base, req.ID, res)
		if err == nil || errors.Is(err, jsonrpc2.ErrClosed) || errors.Is(err, ErrOutputClosed) {
			return
		}
		log.Error().Err(err).Msg("result could not be sent")
		err = &calsync.Error{Kind: calsync.KindInternal, Message: "result could not be encoded", Err: err}
	}
	if err := conn.ReplyWithError(s.base, req.ID, errorObject(err)); err != nil && !errors.Is(err, jsonrpc2.ErrClosed) {
		log.Debug().Err(err).Msg("error reply not sent")
	}
}

// cancelRequest handles $/cancelRequest {"id": …}: every running request
// with that id is cancelled and answers -32800. Unknown ids are ignored,
// as the request may just have finished.
func (s *server) cancelRequest(params json.RawMessage) {
	var p struct {
		ID json.RawMessage `json:"id"`
	}
	if err := json.Unmarshal(params, &p); err != nil || !validID(bytes.TrimSpace(p.ID)) {
		s.log.Info().Msg("$/cancelRequest without a usable id ignored")
		return
	}
	key := idKey(bytes.TrimSpace(p.ID))
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, cancel := range s.running[key] {
		cancel(errCancelRequest)
	}
}

// stop refuses new requests and cancels every running one.
func (s *server) stop(cause error) {
	s.stopping.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, byseq := range s.running {
		for _, cancel := range byseq {
			cancel(cause)
		}
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
