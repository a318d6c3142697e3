package graphclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
	"github.com/rs/zerolog"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// preferHandler adds a Prefer header line to every request, links and
// batches included, which per-request headers do not reach.
type preferHandler struct{ value string }

func (m preferHandler) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	req.Header.Add("Prefer", m.value)
	return p.Next(req, i)
}

// reauthHandler answers a 401 from Graph by refreshing the access token once
// and resending. When the refresh itself fails, its error (with the AADSTS
// code that says why) replaces the 401.
type reauthHandler struct{ src *capturingSource }

func (m reauthHandler) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	resp, err := p.Next(req, i)
	refused, bearer := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !bearer {
		return resp, err
	}
	if req.Body != nil && req.GetBody == nil {
		if _, seekable := req.Body.(io.Seeker); !seekable {
			return resp, nil
		}
	}
	t, rerr := m.src.reauthenticate(refused)
	if errors.Is(rerr, errNoRefreshToken) {
		return resp, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if rerr != nil {
		return nil, rerr
	}
	if req.Body != nil {
		if s, ok := req.Body.(io.Seeker); ok {
			if _, err := s.Seek(0, io.SeekStart); err != nil {
				return nil, err
			}
		} else if req.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	req.Header.Set("Authorization", "Bearer "+t.AccessToken)
	return p.Next(req, i)
}

// loggingTransport logs one line per HTTP attempt with the service's request
// ids, status and duration, and counts Graph requests by kind. It never looks
// at headers that carry credentials, nor at bodies or query strings.
// As a khttp.Middleware it sits innermost in the Graph pipeline; as an
// http.RoundTripper it wraps next for the token endpoint.
type loggingTransport struct {
	cfg    Config
	counts *counter // nil for the token endpoint
	what   string   // "graph" or "oauth"
	next   http.RoundTripper
}

func (t *loggingTransport) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := p.Next(req, i)
	t.record(req, resp, err, start)
	return resp, err
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	t.record(req, resp, err, start)
	return resp, err
}

func (t *loggingTransport) record(req *http.Request, resp *http.Response, err error, start time.Time) {
	log := zerolog.Ctx(req.Context())
	if log.GetLevel() == zerolog.Disabled {
		log = &t.cfg.Logger
	}
	ev := log.Debug()
	if err != nil || resp.StatusCode >= 400 {
		ev = log.Warn()
	}
	// Log keys are snake_case, as zerolog's own (time, level, message) and
	// rpc's (rpc_method, elapsed_ms) are: http_method names the HTTP method
	// apart from the request's RPC method, and a duration says its unit.
	ev = ev.Str("call", t.what).Str("http_method", req.Method).Str("path", req.URL.Path).
		Float64("duration_ms", float64(time.Since(start).Microseconds())/1000)
	if a := req.Header.Get("Retry-Attempt"); a != "" {
		ev = ev.Str("attempt", a)
	}
	if id := req.Header.Get("client-request-id"); id != "" {
		ev = ev.Str("client_request_id", id)
	}
	if t.counts != nil {
		t.counts.add(req.Method, req.URL.Path)
	}
	if err != nil {
		ev.Err(err).Msg("request failed")
		return
	}
	ev = ev.Int("status", resp.StatusCode)
	// Graph answers with request-id; the identity platform with x-ms-request-id.
	for _, h := range []string{"request-id", "x-ms-request-id"} {
		if id := resp.Header.Get(h); id != "" {
			ev = ev.Str("request_id", id)
			break
		}
	}
	ev.Msg(t.what + " request")
}

// maxAnswerBytes bounds a Graph answer read into memory: a delta page of
// 1,000 events is a few megabytes.
const maxAnswerBytes = 64 << 20

// answerGuard sits between the retry and the redirect handlers, so it sees
// the final answer of every attempt, and makes sure that what reaches the
// SDK is either a Graph JSON object, an empty answer (which every caller
// checks for), or an error status whose body the SDK can map without losing
// the status. Gateways answer with HTML and cut answers short; the SDK turns
// those into untyped errors that would read as our bug. So:
//   - a 3xx is never handed on: the redirect handler follows only redirects
//     within the Graph endpoint (redirectAllowed), and a 304 or a redirect
//     it did not follow is Microsoft's fault (unavailable);
//   - an error status (4xx, 5xx) whose body is not a JSON object loses its
//     body, so the SDK reports it as an ApiError with status and headers
//     (Classify: 5xx unavailable, and so on);
//   - a 2xx with a body that is not a complete JSON object, or that is not
//     labelled JSON, or that cannot be read to its end is Microsoft's fault
//     (unavailable).
type answerGuard struct{}

func (answerGuard) Intercept(p khttp.Pipeline, i int, req *http.Request) (*http.Response, error) {
	// inside the retry handler: once per attempt
	a, handOver := req.Context().Value(answerKey{}).(*Answer)
	if handOver {
		a.Attempts++
	}
	resp, err := p.Next(req, i)
	if err != nil {
		return resp, err
	}
	status := resp.StatusCode
	if status >= 300 && status < 400 {
		drain(resp)
		e := badAnswer("Microsoft Graph answered with a redirect that is not followed (status "+strconv.Itoa(status)+")", nil)
		e.Cause = CauseRedirect
		return nil, e
	}
	body, rerr := readAnswer(io.LimitReader(resp.Body, maxAnswerBytes+1))
	resp.Body.Close()
	if len(body) > maxAnswerBytes {
		return nil, badAnswer("the answer of Microsoft Graph is too large", nil)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = nil
	}
	// an answer handed over is checked by its reader, which decodes it
	// with encoding/json, refusing anything but one complete value of
	// the type it wants: here only that it looks like an object
	handOver = handOver && status < 300 && body != nil
	object := jsonObject
	if handOver {
		object = looksLikeObject
	}
	switch {
	case status < 300 && rerr != nil:
		return nil, badAnswer("the answer of Microsoft Graph broke off", rerr)
	case status < 300 && body != nil && (!jsonContent(resp.Header) || !object(body)):
		return nil, badAnswer("Microsoft Graph answered with something other than a JSON object", nil)
	case status >= 400 && (rerr != nil || !graphErrorBody(body)):
		body = nil
	}
	if handOver {
		// as it is: the SDK reads an empty body, and never copies the
		// answer again
		a.Body = body
		body = []byte{}
	}
	if body == nil {
		resp.Header.Del("Content-Type")
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// Answer receives the body of a request's successful answer (see
// WithAnswer).
type Answer struct {
	// Body is the answer's body once the request succeeded with one: a
	// complete JSON object (see answerGuard); nil otherwise.
	Body []byte
	// Attempts is how often the request was sent: more than once when the
	// retry handler sent it again after a 429, 503 or 504 (shouldRetry).
	Attempts int
}

type answerKey struct{}

// WithAnswer returns a context whose request, sent through the session's
// adapter, hands the body of its successful answer (a 2xx with a body) to
// the returned Answer instead of to the SDK, which then reads an empty
// body: a caller that decodes the answer itself (SendPrimitive with
// "[]byte") gets the bytes the guard read, not a second copy. The guard
// then checks only that the body looks like a JSON object: the caller
// must decode it with encoding/json, which refuses anything but one
// complete JSON value, so that it is not scanned twice.
func WithAnswer(ctx context.Context) (context.Context, *Answer) {
	a := &Answer{}
	return context.WithValue(ctx, answerKey{}, a), a
}

// readPiece is the size of the pieces readAnswer reads into: the largest
// of the allocator's small size classes.
const readPiece = 32 << 10

// readAnswer reads r to its end into pieces (kept for the next answer),
// then into one slice of the exact size: an answer of a few hundred
// kilobytes is copied once more instead of being grown by doubling
// (io.ReadAll), which leaves garbage of about its own size at each step.
func readAnswer(r io.Reader) ([]byte, error) {
	var pieces [][]byte
	total := 0
	var err error
	for err == nil {
		p := *(piecePool.Get().(*[]byte))
		n := 0
		for n < len(p) && err == nil {
			var k int
			k, err = r.Read(p[n:])
			n += k
		}
		pieces = append(pieces, p[:n])
		total += n
	}
	if err == io.EOF {
		err = nil
	}
	out := make([]byte, 0, total)
	for _, p := range pieces {
		out = append(out, p...)
		p = p[:readPiece]
		piecePool.Put(&p)
	}
	return out, err
}

// piecePool holds readAnswer's pieces between answers.
var piecePool = sync.Pool{New: func() any { p := make([]byte, readPiece); return &p }}

func jsonContent(h http.Header) bool {
	ct, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	return ct == "application/json" || strings.HasPrefix(ct, "application/") && strings.HasSuffix(ct, "+json")
}

// jsonObject reports whether b is one complete JSON object.
func jsonObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// looksLikeObject reports whether b, trimmed, starts and ends as a JSON
// object does.
func looksLikeObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 1 && b[0] == '{' && b[len(b)-1] == '}'
}

// graphErrorBody reports whether b is a Graph error: an object whose error
// member is an object with string code and message.
func graphErrorBody(b []byte) bool {
	var v struct {
		Error *struct {
			Code    *string `json:"code"`
			Message *string `json:"message"`
		} `json:"error"`
	}
	return jsonObject(b) && json.Unmarshal(b, &v) == nil && v.Error != nil && v.Error.Code != nil && v.Error.Message != nil
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
}

// badAnswer is the error for an answer from Graph that cannot be used:
// Microsoft's fault, so retryable.
func badAnswer(msg string, cause error) *calsync.Error {
	return &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.answer", Message: msg + "; try again later", Err: cause}
}

// EmptyAnswer is the error for a Graph call that succeeded without a body
// (a 204, or a 200 without content): the SDK returns nil then, and the
// caller must not use it. Microsoft's fault, so retryable.
func EmptyAnswer(op string) *calsync.Error {
	return &calsync.Error{Kind: calsync.KindUnavailable, Op: op, Message: "Microsoft Graph sent an empty answer; try again later"}
}

// counter counts requests by kind.
type counter struct {
	base string // path prefix of the Graph endpoint, e.g. /v1.0
	mu   sync.Mutex
	m    map[string]int
}

func newCounter(base string) *counter {
	return &counter{base: strings.TrimRight(base, "/"), m: map[string]int{}}
}

// wordRE matches the path segments that name things in Graph (me, events,
// calendarView, delta(), $batch); anything else is an id.
var wordRE = regexp.MustCompile(`^(\$?[a-z][A-Za-z]*(\(\))?)$`)

func (c *counter) add(method, path string) {
	p := strings.TrimPrefix(path, c.base)
	segs := strings.Split(strings.Trim(p, "/"), "/")
	for i, s := range segs {
		if !wordRE.MatchString(s) {
			segs[i] = "{id}"
		}
	}
	k := method + " /" + strings.Join(segs, "/")
	c.mu.Lock()
	c.m[k]++
	c.mu.Unlock()
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.m)
}

// shouldRetry is consulted by the SDK's retry handler for 429, 503 and 504.
// POST is retried only on 429, which Graph never executed, so a create cannot
// be duplicated. A retry whose wait would end after the request's deadline is
// not started: the caller gets the 429/503 with its Retry-After instead of a
// bare "deadline exceeded".
func shouldRetry(_ time.Duration, executionCount int, req *http.Request, resp *http.Response) bool {
	if req.Method == http.MethodPost && resp.StatusCode != http.StatusTooManyRequests {
		return false
	}
	wait, ok := retryAfter(resp.Header, time.Now())
	if !ok {
		// The handler's backoff: delaySeconds·2^(n-1) plus up to 1 s jitter.
		wait = time.Duration(delaySeconds<<executionCount)*time.Second + time.Second
	}
	if dl, ok := req.Context().Deadline(); ok && time.Now().Add(wait).After(dl) || wait > clientTimeout {
		// also a Retry-After too large to wait through (or garbage that the
		// handler, which parses it itself, could overflow)
		return false
	}
	// The handler drops this response for the retried one without closing it.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return true
}

// maxRetryAfter caps a Retry-After, so that a garbage value (1e300, Inf, a
// date in a far year) never overflows a Duration.
const maxRetryAfter = 24 * time.Hour

// retryAfter reads Retry-After as seconds (fractions kept) or an HTTP date,
// capped at maxRetryAfter.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
		return time.Duration(min(f, maxRetryAfter.Seconds()) * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}
