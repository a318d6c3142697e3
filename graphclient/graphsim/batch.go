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
// body, dependsOn ordering with 424, at most BatchConcurrency items at once,
// each item throttled on its own.
func (s *Sim) serveBatch(c *gctx, rec *RequestRecord) {
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
		if deps, ok := o["dependsOn"].([]any); ok {
			for _, d := range deps {
				it.dependsOn = append(it.dependsOn, strings.ToLower(fmt.Sprint(d)))
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

	type result struct {
		status int
		out    map[string]any
		rec    RequestRecord
	}
	done := map[string]chan struct{}{}
	results := map[string]*result{}
	for _, it := range items {
		done[strings.ToLower(it.id)] = make(chan struct{})
	}
	reqID := c.w.Header().Get("request-id") // read once: items run concurrently
	var mu sync.Mutex
	var order []string
	sem := make(chan struct{}, s.opts.BatchConcurrency)
	var wg sync.WaitGroup
	for _, it := range items {
		wg.Add(1)
		go func() {
			defer wg.Done()
			key := strings.ToLower(it.id)
			defer close(done[key])
			failedDep := false
			for _, d := range it.dependsOn {
				<-done[d]
				mu.Lock()
				failedDep = failedDep || results[d].status >= 400
				mu.Unlock()
			}
			var res *result
			if failedDep {
				res = &result{status: 424, out: map[string]any{"id": it.id, "status": 424,
					"headers": map[string]string{"Content-Type": "application/json"},
					"body":    map[string]any{"error": map[string]any{"code": "FailedDependency", "message": "A request this request depends on failed."}}},
					rec: RequestRecord{Method: it.method, Path: it.url, Status: 424, Endpoint: it.method + " (failed dependency)"}}
			} else {
				sem <- struct{}{}
				status, out, irec := s.runBatchItem(c, it, reqID)
				<-sem
				res = &result{status: status, out: out, rec: irec}
			}
			mu.Lock()
			results[key] = res
			order = append(order, key)
			mu.Unlock()
		}()
	}
	wg.Wait()
	// Responses come back in completion order (facts §6: any order).
	resps := make([]any, 0, len(order))
	for _, k := range order {
		resps = append(resps, results[k].out)
		rec.BatchItems = append(rec.BatchItems, results[k].rec)
	}
	c.ok(200, map[string]any{"responses": resps})
}

// runBatchItem executes one item through the Graph handler, so every rule
// (auth, throttling, faults, validation) applies per item.
func (s *Sim) runBatchItem(c *gctx, it *batchItem, reqID string) (int, map[string]any, RequestRecord) {
	u, err := url.Parse("/v1.0/" + strings.TrimPrefix(it.url, "/"))
	irec := RequestRecord{Method: it.method}
	if err != nil {
		return 400, itemError(it.id, 400, "BadRequest", "Invalid url."), irec
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
			irec.Endpoint = s.serveGraph(lost, req, it.body, &irec, s.opts.BatchItemLatency)
			time.Sleep(f.Latency)
			s.writeItemFault(sw, f)
		case f.Drop || f.Status != 0:
			time.Sleep(f.Latency)
			s.writeItemFault(sw, f)
		default:
			irec.Endpoint = s.serveGraph(sw, req, it.body, &irec, s.opts.BatchItemLatency+f.Latency)
		}
	} else {
		irec.Endpoint = s.serveGraph(sw, req, it.body, &irec, s.opts.BatchItemLatency)
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
	return status, out, irec
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
