package calendar

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// hostile sits between the client and the simulator: requests for which
// answer returns a response get it instead of the simulator's; every
// $batch body is kept.
type hostile struct {
	base   http.RoundTripper
	answer func(req *http.Request) *http.Response

	mu      sync.Mutex
	batches []string
}

func (h *hostile) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Path, "/$batch") && req.Body != nil {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(b))
		h.mu.Lock()
		h.batches = append(h.batches, string(b))
		h.mu.Unlock()
	}
	if resp := h.answer(req); resp != nil {
		resp.Request = req
		return resp, nil
	}
	return h.base.RoundTrip(req)
}

func answer(status int, contentType, body string) *http.Response {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}

// hostileFixture is a simulator whose answers to requests matching when are
// replaced by answer().
func hostileFixture(t *testing.T, when func(*http.Request) bool, resp func() *http.Response) (*fixture, *hostile) {
	t.Helper()
	f := newFixture(t, graphsim.Options{})
	h := &hostile{base: f.meter.base, answer: func(req *http.Request) *http.Response {
		if when(req) {
			return resp()
		}
		return nil
	}}
	f.meter.base = h
	return f, h
}

var emptyAnswers = map[string]func() *http.Response{
	"204":                      func() *http.Response { return answer(http.StatusNoContent, "", "") },
	"304":                      func() *http.Response { return answer(http.StatusNotModified, "", "") },
	"empty 200":                func() *http.Response { return answer(http.StatusOK, "application/json", "") },
	"200 without content type": func() *http.Response { return answer(http.StatusOK, "", `{"value":[]}`) },
}

// TestLookupEmptyAnswer: the lookup of a create whose answer was lost
// (GET /me/events?$filter=…) runs in a goroutine of Apply; an empty answer
// there crashed the process. It is Microsoft's fault: the create ends
// unavailable, retryable.
func TestLookupEmptyAnswer(t *testing.T) {
	for name, resp := range emptyAnswers {
		t.Run(name, func(t *testing.T) {
			f, _ := hostileFixture(t, func(req *http.Request) bool {
				return req.Method == http.MethodGet && req.URL.Path == "/v1.0/me/events"
			}, resp)
			f.sim.AddFault(graphsim.Fault{Method: "POST", Path: "/v1.0/me/events", Status: http.StatusServiceUnavailable})
			r := New(f.session, Options{MaxAttempts: 2, Backoff: time.Millisecond})
			res, err := r.Apply(context.Background(), creates(1))
			if err != nil {
				t.Fatal(err)
			}
			if len(res) != 1 || calsync.KindOf(res[0].Err) != calsync.KindUnavailable {
				t.Fatalf("results %+v, want the create unavailable", res)
			}
		})
	}
}

const validLink = "/v1.0/me/calendarView/delta?$deltatoken=abc"

// TestDeltaPoison: what Graph sends is checked where it comes in. An answer
// without a body, an item without a valid id, or a link outside the Graph
// endpoint is Microsoft's fault (unavailable, retryable), never an event
// with an empty id and never a link the host would store and then be blamed
// for.
func TestDeltaPoison(t *testing.T) {
	page := func(items, links string) func() *http.Response {
		return func() *http.Response {
			return answer(http.StatusOK, "application/json", `{"value":[`+items+`],`+links+`}`)
		}
	}
	cases := map[string]func(base string) func() *http.Response{
		"item without id": func(base string) func() *http.Response {
			return page(`{"subject":"no id","type":"singleInstance"}`, `"@odata.deltaLink":"`+base+validLink+`"`)
		},
		"removed item without id": func(base string) func() *http.Response {
			return page(`{"@removed":{"reason":"deleted"}}`, `"@odata.deltaLink":"`+base+validLink+`"`)
		},
		"null item": func(base string) func() *http.Response {
			return page(`null`, `"@odata.deltaLink":"`+base+validLink+`"`)
		},
		"item id ..": func(base string) func() *http.Response {
			return page(`{"id":"..","subject":"x"}`, `"@odata.deltaLink":"`+base+validLink+`"`)
		},
		"item id with a slash": func(base string) func() *http.Response {
			return page(`{"id":"AAkA/../../x","subject":"x"}`, `"@odata.deltaLink":"`+base+validLink+`"`)
		},
		"foreign deltaLink": func(string) func() *http.Response {
			return page(``, `"@odata.deltaLink":"https://evil.example/v1.0/me/calendarView/delta?$deltatoken=x"`)
		},
		"foreign nextLink": func(string) func() *http.Response {
			return page(``, `"@odata.nextLink":"https://evil.example/v1.0/me/calendarView/delta?$skiptoken=x"`)
		},
	}
	for name, resp := range emptyAnswers {
		cases[name] = func(string) func() *http.Response { return resp }
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			var base string
			f, _ := hostileFixture(t, func(req *http.Request) bool {
				return strings.Contains(req.URL.Path, "/calendarView/delta")
			}, func() *http.Response { return c(base)() })
			base = f.srv.URL
			r := New(f.session, Options{})
			p, err := r.Delta(context.Background(), window, "")
			ce := calsync.AsError(err)
			if ce == nil || ce.Kind != calsync.KindUnavailable || ce.Field != "" {
				t.Fatalf("got page %+v, error %v; want unavailable, no field", p, err)
			}
		})
	}
}

// TestFindForeignNextLink: a nextLink of the lookup by Oro id that leaves
// the Graph endpoint is Microsoft's fault, not invalid input.
func TestFindForeignNextLink(t *testing.T) {
	f, _ := hostileFixture(t, func(req *http.Request) bool {
		return req.URL.Path == "/v1.0/me/events"
	}, func() *http.Response {
		return answer(http.StatusOK, "application/json", `{"value":[],"@odata.nextLink":"https://evil.example/v1.0/me/events?$skip=10"}`)
	})
	_, err := New(f.session, Options{}).FindByOroID(context.Background(), "oro-1")
	if ce := calsync.AsError(err); ce == nil || ce.Kind != calsync.KindUnavailable {
		t.Fatalf("got %v, want unavailable", err)
	}
}

// TestBadRemoteIDNeverSent: an event id that is not a Graph id (the host
// sent it as a link's remoteId) never reaches a request path or a $batch
// item URL: it is refused as Graph would refuse it, per write.
func TestBadRemoteIDNeverSent(t *testing.T) {
	f, h := hostileFixture(t, func(*http.Request) bool { return false }, nil)
	r := New(f.session, Options{})
	bad := []string{"..", ".", "a/b", "../../me", "x?y=1", "x#y", "%2e%2e", "a b", strings.Repeat("A", 5000)}
	var ws []calsync.Write
	for i, id := range bad {
		ws = append(ws,
			calsync.Write{Key: "u" + string(rune('a'+i)), Op: calsync.WriteUpdate, OroID: "o", ID: id, Event: timed(1), Fields: []string{"subject"}},
			calsync.Write{Key: "d" + string(rune('a'+i)), Op: calsync.WriteDelete, OroID: "o", ID: id})
	}
	res, err := r.Apply(context.Background(), ws)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != len(ws) {
		t.Fatalf("%d results for %d writes", len(res), len(ws))
	}
	for _, x := range res {
		if calsync.KindOf(x.Err) != calsync.KindRejected {
			t.Errorf("write %s: %v, want rejected", x.Key, x.Err)
		}
	}
	for _, id := range bad {
		if _, err := r.Get(context.Background(), id); calsync.KindOf(err) != calsync.KindRejected {
			t.Errorf("Get(%q): %v, want rejected", id, err)
		}
	}
	if len(h.batches) > 0 || len(f.sim.Requests()) > 0 {
		t.Fatalf("requests sent: %d batches %v, %d requests", len(h.batches), h.batches, len(f.sim.Requests()))
	}
}

// TestWrongTypesUnavailable: an answer that is JSON but not Graph's shape
// (a field of the wrong type) is decoded no further: Microsoft's fault,
// unavailable, for every read of events.
func TestWrongTypesUnavailable(t *testing.T) {
	json200 := func(body string) func() *http.Response {
		return func() *http.Response { return answer(http.StatusOK, "application/json", body) }
	}
	cases := []struct {
		name string
		body string
		call func(r *Remote) error
	}{
		{"delta value not an array", `{"value":{},"@odata.deltaLink":"%s` + validLink + `"}`, deltaCall},
		{"delta subject a number", `{"value":[{"id":"AAMk1","subject":5}],"@odata.deltaLink":"%s` + validLink + `"}`, deltaCall},
		{"delta link a number", `{"value":[],"@odata.deltaLink":5}`, deltaCall},
		{"get isAllDay a string", `{"id":"AAMk1","isAllDay":"yes"}`, func(r *Remote) error {
			_, err := r.Get(context.Background(), "AAMk1")
			return err
		}},
		{"get lastModified unreadable", `{"id":"AAMk1","lastModifiedDateTime":"yesterday"}`, func(r *Remote) error {
			_, err := r.Get(context.Background(), "AAMk1")
			return err
		}},
		{"find id a number", `{"value":[{"id":5}]}`, func(r *Remote) error {
			_, err := r.FindByOroID(context.Background(), "oro-1")
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var base string
			f, _ := hostileFixture(t, func(req *http.Request) bool {
				return req.Method == http.MethodGet && strings.HasPrefix(req.URL.Path, "/v1.0/me/")
			}, func() *http.Response { return json200(strings.ReplaceAll(c.body, "%s", base))() })
			base = f.srv.URL
			err := c.call(New(f.session, Options{}))
			if ce := calsync.AsError(err); ce == nil || ce.Kind != calsync.KindUnavailable || ce.Field != "" {
				t.Fatalf("got %v, want unavailable", err)
			}
		})
	}
}

func deltaCall(r *Remote) error {
	_, err := r.Delta(context.Background(), window, "")
	return err
}
