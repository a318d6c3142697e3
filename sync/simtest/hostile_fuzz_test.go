package simtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/graphclient/calendar"
	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// hostileGraph is a network in front of the simulator that, driven by the
// fuzz input, rewrites Graph's answers: statuses, bodies (cut short, empty,
// not JSON, HTML, null items, items without or with bad ids, links
// elsewhere, batch items), headers (content type, Retry-After garbage,
// redirects). The token endpoint is left alone.
type hostileGraph struct {
	base  http.RoundTripper
	graph string // the Graph endpoint, e.g. http://127.0.0.1:1234/v1.0
	evil  string // a server that must never be reached

	mu   sync.Mutex
	data []byte
}

// next consumes one byte of the fuzz input; 0 once it is used up (answers
// then pass unchanged).
func (h *hostileGraph) next() byte {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.data) == 0 {
		return 0
	}
	b := h.data[0]
	h.data = h.data[1:]
	return b
}

var (
	statuses     = []int{200, 204, 304, 400, 401, 403, 404, 409, 410, 412, 429, 500, 502, 503, 504}
	retryAfters  = []string{"1e300", "+Inf", "NaN", "-1", "abc", "0.01", "Mon, 01 Jan 3000 00:00:00 GMT", "99999999999999999999"}
	badIDs       = []any{nil, "", "..", ".", "a/b", "x?y", "x#y", "%2e%2e", 42, map[string]any{}}
	contentTypes = []string{"", "text/plain", "text/html", "application/xml", "application/json; charset=utf-8"}
)

func (h *hostileGraph) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasPrefix(req.URL.Path, "/v1.0/") {
		return h.base.RoundTrip(req)
	}
	op := h.next()
	if op == 0 || op >= 12 {
		return h.base.RoundTrip(req) // most answers pass
	}
	if op == 11 { // a redirect, without asking the simulator
		target := h.evil + req.URL.Path
		if h.next()%2 == 0 {
			target = h.graph + "/me" // within Graph
		}
		return respond(req, []int{301, 302, 303, 307, 308}[int(h.next())%5], http.Header{"Location": {target}}, ""), nil
	}
	resp, err := h.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	hdr := resp.Header.Clone()
	status := resp.StatusCode
	switch op {
	case 1:
		status = statuses[int(h.next())%len(statuses)]
	case 2:
		body = body[:int(h.next())*len(body)/256]
	case 3:
		body = nil
	case 4:
		hdr.Set("Content-Type", "text/html")
		body = []byte("<html><body><h1>502 Bad Gateway</h1></body></html>")
		status = []int{200, 500, 502, 503, 504}[int(h.next())%5]
	case 5:
		hdr.Set("Content-Type", contentTypes[int(h.next())%len(contentTypes)])
	case 6, 7, 8:
		body = h.mutateJSON(body)
	case 9:
		hdr.Set("Retry-After", retryAfters[int(h.next())%len(retryAfters)])
		status = []int{429, 503, 504}[int(h.next())%3]
	case 10:
		body = []byte([]string{"null", "[]", `{"value":null}`, `{"value":[null]}`, `{"responses":null}`, `"x"`, "{}"}[int(h.next())%7])
	}
	hdr.Del("Content-Length")
	return respond(req, status, hdr, string(body)), nil
}

func respond(req *http.Request, status int, hdr http.Header, body string) *http.Response {
	return &http.Response{StatusCode: status, Status: strconv.Itoa(status) + " " + http.StatusText(status), Header: hdr,
		Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body)), Request: req,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
}

// mutateJSON changes one thing in a Graph JSON answer: an item of a
// collection (null, its id removed or bad, its seriesMasterId bad), a link
// (elsewhere, outside the base path, both, none), or a batch item (status,
// id, body).
func (h *hostileGraph) mutateJSON(body []byte) []byte {
	var v map[string]any
	if json.Unmarshal(body, &v) != nil {
		return body
	}
	pick := func(n int) int { return int(h.next()) % max(n, 1) }
	evilLink := []string{h.evil + "/v1.0/me/calendarView/delta?$deltatoken=x", h.graph + "/../beta/me/events?x=1",
		"/v1.0/me/calendarView/delta?$skiptoken=rel", "javascript:alert(1)", h.graph + "/me/calendarView/delta?$skiptoken=loop"}
	switch pick(6) {
	case 0, 1:
		items, _ := v["value"].([]any)
		if len(items) == 0 {
			v["value"] = []any{map[string]any{"subject": "no id"}}
			break
		}
		i := pick(len(items))
		it, _ := items[i].(map[string]any)
		switch {
		case it == nil || pick(4) == 0:
			items[i] = nil
		case pick(3) == 0:
			delete(it, "id")
		case pick(2) == 0:
			it["seriesMasterId"] = badIDs[pick(len(badIDs))]
		default:
			it["id"] = badIDs[pick(len(badIDs))]
		}
	case 2:
		k := []string{"@odata.nextLink", "@odata.deltaLink"}[pick(2)]
		v[k] = evilLink[pick(len(evilLink))]
	case 3:
		delete(v, "@odata.nextLink")
		delete(v, "@odata.deltaLink")
	case 4:
		v["@odata.nextLink"] = h.graph + "/me/calendarView/delta?$skiptoken=both"
		v["@odata.deltaLink"] = h.graph + "/me/calendarView/delta?$deltatoken=both"
	case 5:
		items, _ := v["responses"].([]any)
		if len(items) == 0 {
			break
		}
		it, _ := items[pick(len(items))].(map[string]any)
		if it == nil {
			break
		}
		switch pick(4) {
		case 0:
			it["status"] = statuses[pick(len(statuses))]
		case 1:
			it["id"] = badIDs[pick(len(badIDs))]
		case 2:
			it["body"] = map[string]any{"id": badIDs[pick(len(badIDs))]}
		case 3:
			it["body"] = map[string]any{"error": map[string]any{"code": strings.Repeat("X\x1b", 5000), "message": "m"}}
		}
	}
	out, _ := json.Marshal(v)
	return out
}

// validGraphID is what an event id from Graph may be (URL-safe base64).
func validGraphID(id string) bool {
	if id == "" || len(id) > 1024 {
		return false
	}
	return strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=") == ""
}

// FuzzHostileGraph drives whole syncs (a full one, then an incremental one
// from its state) through graphclient/calendar against the simulator behind
// hostileGraph. Whatever Graph answers: nothing panics (a panic in any
// goroutine ends the fuzz process), no operation or issue names an invalid
// or empty remote id, the state never holds a link outside the Graph
// endpoint, and a failure is never internal or blamed on the host's input
// (the host's input is valid; what went wrong is Microsoft's).
func FuzzHostileGraph(f *testing.F) {
	for _, seed := range [][]byte{
		{}, {0, 0, 1, 1}, {0, 3}, {10, 3}, {6, 0, 0, 0}, {6, 2, 0}, {0, 7, 2, 0}, {9, 0, 0}, {4, 1},
		{11, 1, 1}, {11, 0, 1}, {0, 0, 2, 128}, {1, 1}, {0, 1, 11}, {0, 8, 5, 0, 2}, {5, 0}, {0, 5, 1},
	} {
		f.Add(seed)
	}
	var reached sync.Map // what reached the evil server: method and URL
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Store(r.Method+" "+r.URL.String(), true)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"value":[{"id":"AAkAevil","subject":"evil"}],"@odata.deltaLink":"`+r.Host+`"}`)
	}))
	f.Cleanup(evil.Close)
	start := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

	f.Fuzz(func(t *testing.T, data []byte) {
		w := newWorld(t, graphsim.Options{})
		for i := range 3 {
			w.host.create("oro "+strconv.Itoa(i), start.Add(time.Duration(i)*24*time.Hour))
			if _, err := w.sim.UserCreateEvent(upn, outlookEvent("outlook "+strconv.Itoa(i), start.Add(time.Duration(i)*25*time.Hour))); err != nil {
				t.Fatal(err)
			}
		}
		h := &hostileGraph{base: http.DefaultTransport, graph: w.cfg.Endpoints.Graph, evil: evil.URL, data: bytes.Clone(data)}
		w.cfg.Transport = h
		for run := range 2 {
			ctx := context.Background()
			session, err := graphclient.NewSession(ctx, w.cfg, w.app, w.tok)
			if err != nil {
				t.Fatal(err)
			}
			r := calendar.New(session, calendar.Options{Backoff: time.Millisecond, MaxAttempts: 3})
			// two seconds: the SDK's first retry backoff (3 s) never fits, so
			// an input cannot make one run wait long
			res, err := calsync.Run(ctx, w.host.request(w.dir, w.strat, calsync.Options{TimeBudgetSeconds: 2}), r, calsync.RunOptions{})
			if t2, rotated := session.Tokens(); rotated {
				w.tok = t2
			}
			reached.Range(func(k, _ any) bool {
				reached.Delete(k)
				t.Fatalf("run %d: the evil server was reached: %v", run, k)
				return false
			})
			if err != nil {
				if k := calsync.KindOf(err); k == calsync.KindInternal || k == calsync.KindInvalidInput {
					t.Fatalf("run %d: %s error for Microsoft's fault: %v", run, k, err)
				}
				continue
			}
			for _, op := range res.Operations {
				if op.RemoteID != "" && !validGraphID(op.RemoteID) || op.Link != nil && !validGraphID(op.Link.RemoteID) ||
					op.RemoteID == "" && (op.Op == calsync.OpCreate || op.Op == calsync.OpUpdate) {
					t.Fatalf("run %d: operation with a bad remote id: %+v", run, op)
				}
			}
			for _, is := range res.Issues {
				if is.RemoteID != "" && !validGraphID(is.RemoteID) {
					t.Fatalf("run %d: issue with a bad remote id: %+v", run, is)
				}
				if is.Kind == calsync.KindInternal {
					t.Fatalf("run %d: internal issue: %+v", run, is)
				}
			}
			if st := res.State; st != nil {
				for _, l := range []string{st.DeltaLink, st.NextLink} {
					if l != "" && !strings.HasPrefix(l, w.cfg.Endpoints.Graph+"/") || strings.Contains(l, "/../") {
						t.Fatalf("run %d: state holds a link outside Graph: %q", run, l)
					}
				}
			}
			w.host.apply(res)
		}
	})
}
