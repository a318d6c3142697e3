package graphclient

import (
	"errors"
	"io"
	"maps"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	khttp "github.com/microsoft/kiota-http-go"
	"github.com/rs/zerolog"
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
	ev = ev.Str("call", t.what).Str("method", req.Method).Str("path", req.URL.Path).
		Dur("duration", time.Since(start))
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
	if dl, ok := req.Context().Deadline(); ok && time.Now().Add(wait).After(dl) {
		return false
	}
	// The handler drops this response for the retried one without closing it.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return true
}

// retryAfter reads Retry-After as seconds (fractions kept) or an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 {
		return time.Duration(f * float64(time.Second)), true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
