package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"
)

type batchItem struct {
	id, method, url string
	headers         map[string]string
	body            json.RawMessage
	dependsOn       []string
}

// serveBatch serves POST /v1.0/$batch (facts §6): at most 20 items, ids
// unique case-insensitively, relative urls, Content-Type required with a
// body, each item throttled on its own. A batch without dependsOn runs at
// most BatchConcurrency items at once; one with dependsOn runs its items one
// at a time in dependency order (facts §6: "with dependsOn, Graph sends them
// one at a time"), answering 424 for an item that depends on a failed one.
// A dependsOn that is not an array of ids, names an unknown id or closes a
// cycle makes the batch malformed: 400 for the whole batch, none of it run.
func (s *Sim) serveBatch(c *gctx, rec *RequestRecord, itemsStart time.Time) {
	m, ok := c.decodeObject()
	if !ok {
		return
	}
	raw, ok := m["requests"].([]any)
	if !ok || len(raw) == 0 {
		c.fail(400, "BadRequest", "Invalid batch payload format: 'requests' must be a non-empty array.")
		return
	}
	if len(raw) > 20 {
		c.fail(400, "BadRequest", "The number of requests in a batch cannot exceed 20.")
		return
	}
	items := make([]*batchItem, 0, len(raw))
	byID := map[string]*batchItem{}
	for _, r := range raw {
		o, _ := r.(map[string]any)
		it := &batchItem{headers: map[string]string{}}
		it.id, _ = o["id"].(string)
		it.method, _ = o["method"].(string)
		it.url, _ = o["url"].(string)
		if it.id == "" || it.method == "" || it.url == "" {
			c.fail(400, "BadRequest", "Each batch request requires id, method and url.")
			return
		}
		if _, dup := byID[strings.ToLower(it.id)]; dup {
			c.fail(400, "BadRequest", fmt.Sprintf("Batch request ids must be unique; '%s' is repeated.", it.id))
			return
		}
		if strings.Contains(it.url, "://") {
			c.fail(400, "BadRequest", fmt.Sprintf("Batch request url '%s' must be relative.", it.url))
			return
		}
		if hs, ok := o["headers"].(map[string]any); ok {
			for k, v := range hs {
				it.headers[k] = fmt.Sprint(v)
			}
		}
		if b, ok := o["body"]; ok && b != nil {
			hasCT := false
			for k := range it.headers {
				hasCT = hasCT || strings.EqualFold(k, "Content-Type")
			}
			if !hasCT {
				c.fail(400, "BadRequest", fmt.Sprintf("Batch request '%s' has a body but no Content-Type header.", it.id))
				return
			}
			it.body, _ = json.Marshal(b)
		}
		if raw, ok := o["dependsOn"]; ok && raw != nil {
			deps, ok := raw.([]any)
			if !ok {
				c.fail(400, "BadRequest", fmt.Sprintf("Batch request '%s': dependsOn must be an array of request ids.", it.id))
				return
			}
			for _, d := range deps {
				ds, ok := d.(string)
				if !ok {
					c.fail(400, "BadRequest", fmt.Sprintf("Batch request '%s': dependsOn must be an array of request ids.", it.id))
					return
				}
				it.dependsOn = append(it.dependsOn, strings.ToLower(ds))
			}
		}
		byID[strings.ToLower(it.id)] = it
		items = append(items, it)
	}
	for _, it := range items {
		for _, d := range it.dependsOn {
			if _, ok := byID[d]; !ok {
				c.fail(400, "BadRequest", fmt.Sprintf("Batch request '%s' depends on unknown request '%s'.", it.id, d))
				return
			}
		}
	}
	if order, cyclic := runOrder(items, byID); cyclic != nil {
		c.fail(400, "BadRequest", fmt.Sprintf("Batch request '%s' depends on itself through dependsOn.", cyclic.id))
		return
	} else if order != nil {
		s.serveSequential(c, rec, order, itemsStart)
		return
	}

	// Unordered: at most BatchConcurrency items at once, answered in
	// completion order (facts §6: any order).
	reqID := c.w.Header().Get("request-id") // read once: items run concurrently
	var mu sync.Mutex
	var resps []any
	sem := make(chan struct{}, s.opts.BatchConcurrency)
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Go(func() {
			sem <- struct{}{}
			_, out, irec, _ := s.runBatchItem(c, it, reqID, time.Time{})
			<-sem
			mu.Lock()
			resps = append(resps, out)
			rec.BatchItems = append(rec.BatchItems, irec)
			mu.Unlock()
		})
	}
	wg.Wait()
	c.ok(200, map[string]any{"responses": resps})
}

// runOrder returns the order in which a batch with dependsOn runs: each
// item after everything it depends on, otherwise in request order. It
// returns nil for a batch without dependsOn (its items run concurrently),
// and an item on a cycle when there is one.
func runOrder(items []*batchItem, byID map[string]*batchItem) (order []*batchItem, cyclic *batchItem) {
	ordered := false
	for _, it := range items {
		ordered = ordered || len(it.dependsOn) > 0
	}
	if !ordered {
		return nil, nil
	}
	const (
		unseen = iota
		visiting
		placed
	)
	state := map[*batchItem]int{}
	var visit func(it *batchItem) *batchItem
	visit = func(it *batchItem) *batchItem {
		switch state[it] {
		case placed:
			return nil
		case visiting:
			return it
		}
		state[it] = visiting
		for _, d := range it.dependsOn {
			if c := visit(byID[d]); c != nil {
				return c
			}
		}
		state[it] = placed
		order = append(order, it)
		return nil
	}
	for _, it := range items {
		if c := visit(it); c != nil {
			return nil, c
		}
	}
	return order, nil
}

// serveSequential runs a batch's items one at a time in order (see
// runOrder): an item whose dependency failed (any status of 400 or more,
// a 424 included) is answered 424 without running. Responses come back in
// the order the items ran.
func (s *Sim) serveSequential(c *gctx, rec *RequestRecord, order []*batchItem, at time.Time) {
	reqID := c.w.Header().Get("request-id")
	status := map[string]int{}
	resps := make([]any, 0, len(order))
	for _, it := range order {
		failedDep := false
		for _, d := range it.dependsOn {
			failedDep = failedDep || status[d] >= 400
		}
		var st int
		var out map[string]any
		var irec RequestRecord
		if failedDep {
			st, out = failedDependency(it)
			irec = RequestRecord{Method: it.method, Path: it.url, Status: st, Endpoint: it.method + " (failed dependency)"}
		} else {
			var took time.Duration
			st, out, irec, took = s.runBatchItem(c, it, reqID, at)
			// The next item starts when this one ended in the model, or
			// now if it ended sooner (turned away at once): the
			// simulator's own time and its timers' lateness on a busy
			// machine do not add up over a chain.
			at = at.Add(took)
			if now := time.Now(); now.Before(at) {
				at = now
			}
		}
		status[strings.ToLower(it.id)] = st
		resps = append(resps, out)
		rec.BatchItems = append(rec.BatchItems, irec)
	}
	c.ok(200, map[string]any{"responses": resps})
}

// failedDependency is the answer for an item that was not run because an
// item it depends on failed.
func failedDependency(it *batchItem) (int, map[string]any) {
	return http.StatusFailedDependency, itemError(it.id, http.StatusFailedDependency, "FailedDependency", "A request this request depends on failed.")
}

// runBatchItem executes one item through the Graph handler, so every rule
// (auth, throttling, faults, validation) applies per item. The item starts
// at start in the latency model (zero: now); took is its time there, the
// service time it was given or a fault's latency.
func (s *Sim) runBatchItem(c *gctx, it *batchItem, reqID string, start time.Time) (_ int, _ map[string]any, _ RequestRecord, took time.Duration) {
	u, err := url.Parse("/v1.0/" + strings.TrimPrefix(it.url, "/"))
	irec := RequestRecord{Method: it.method}
	if err != nil {
		return 400, itemError(it.id, 400, "BadRequest", "Invalid url."), irec, 0
	}
	irec.Path, irec.Query = u.Path, u.RawQuery
	req := httptest.NewRequest(strings.ToUpper(it.method), u.String(), bytes.NewReader(it.body))
	req.RemoteAddr = batchRemote
	req.Host = c.r.Host
	for k, v := range it.headers {
		req.Header.Set(k, v) // lower-cased names, comma-joined values (sdk-notes §6)
	}
	req.Header.Set("Authorization", c.r.Header.Get("Authorization"))
	req.Header.Set("X-Graphsim-Base", c.base)
	rr := httptest.NewRecorder()
	rr.Header().Set("request-id", reqID)
	sw := &statusWriter{ResponseWriter: rr}

	// The item's service time, BatchItemLatency, is spent inside
	// serveGraph holding the item's mailbox slot (facts §7). A fault that
	// answers for Graph does so after its Latency without reaching the
	// mailbox, unless After lets the item be performed first (its answer
	// is lost); one that lets the item through adds its Latency to the
	// service time (see Fault).
	if u.Path == "/v1.0/$batch" {
		s.graphError(sw, 400, "BadRequest", "A batch cannot contain a batch.")
	} else if f := s.takeFault(req.Method, u.Path); f != nil {
		irec.Fault = true
		switch {
		case f.After && (f.Drop || f.Status != 0):
			lost := httptest.NewRecorder()
			lost.Header().Set("request-id", reqID)
			irec.Endpoint = s.serveGraph(lost, req, it.body, &irec, s.opts.BatchItemLatency, start)
			time.Sleep(f.Latency)
			s.writeItemFault(sw, f)
			took = s.opts.BatchItemLatency + f.Latency
		case f.Drop || f.Status != 0:
			time.Sleep(f.Latency)
			s.writeItemFault(sw, f)
			took = f.Latency
		default:
			took = s.opts.BatchItemLatency + f.Latency
			irec.Endpoint = s.serveGraph(sw, req, it.body, &irec, took, start)
		}
	} else {
		took = s.opts.BatchItemLatency
		irec.Endpoint = s.serveGraph(sw, req, it.body, &irec, took, start)
	}
	if irec.Endpoint == "" {
		irec.Endpoint = req.Method + " " + u.Path
	}
	status := sw.status
	if status == 0 {
		status = 200
	}
	irec.Status = status
	out := map[string]any{"id": it.id, "status": status}
	hdr := map[string]string{}
	for k, vs := range rr.Header() {
		if k != "Www-Authenticate" {
			hdr[k] = strings.Join(vs, ",")
		}
	}
	out["headers"] = hdr
	if b := rr.Body.Bytes(); len(b) > 0 {
		if json.Valid(b) {
			out["body"] = json.RawMessage(b)
		} else {
			out["body"] = string(b)
		}
	}
	return status, out, irec, took
}

// writeItemFault answers a batch item for a fault: a dropped item answers
// 504, as Graph does for an item whose backend went away.
func (s *Sim) writeItemFault(w http.ResponseWriter, f *Fault) {
	if f.Drop {
		s.graphError(w, 504, "UnknownError", "")
		return
	}
	s.writeFault(w, f)
}

func itemError(id string, status int, code, msg string) map[string]any {
	return map[string]any{"id": id, "status": status, "headers": map[string]string{"Content-Type": "application/json"},
		"body": map[string]any{"error": map[string]any{"code": code, "message": msg}}}
}
