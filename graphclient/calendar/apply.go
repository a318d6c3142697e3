package calendar

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	kjson "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// A job is one Write on its way through Apply.
type job struct {
	w        calsync.Write
	body     json.RawMessage // create/update payload, built once
	attempts int
	readyAt  time.Time      // not before this (Retry-After)
	lastErr  *calsync.Error // the last transient failure, reported if retries run out
	// lookup: an earlier attempt of this create may have been performed,
	// so it is looked up by its Oro id before it is sent again.
	lookup bool
}

// Wire format of a JSON batch (graph-facts §6). Item ids are the index of the
// item in its batch; responses come back in any order and are matched by id.
type batchRequest struct {
	Requests []batchItem `json:"requests"`
}

type batchItem struct {
	ID      string            `json:"id"`
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

type batchResponse struct {
	Responses []batchItemResponse `json:"responses"`
}

type batchItemResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers"`
	Body    json.RawMessage   `json:"body"`
}

// itemPrefer is sent on every batch item (the session asks for immutable ids
// on every request, and the middleware's headers reach the
// $batch request, not the items inside it).
const itemPrefer = `IdType="ImmutableId", outlook.timezone="UTC", outlook.body-content-type="text"`

// Apply performs writes in JSON batches. It is the one owner of write
// retries and of the lookup after an ambiguous create, as the calsync.Remote
// contract asks: the engine takes every result as final for its run.
//
// Batches hold at most BatchSize unordered items; Graph runs the items of one
// batch at most 4 at a time, and a batch holds as many mailbox slots as items
// it may run at once, so batches of 4 or more go out one after another and the
// mailbox never sees more than Concurrency requests. Items answered 429, 503
// or 504 go back to the queue after their Retry-After (or a doubling backoff)
// and travel in a later batch, while ctx allows and MaxAttempts is not
// reached; their last error is their result otherwise. A batch request that
// fails as a whole (network, 5xx, 429 on $batch) is retried the same way, all
// its items with it.
//
// A retry must not repeat a write that was performed although its answer was
// lost. Conditional updates and deletes that already happened answer 412 or
// 404, which the engine resolves by reading again (412 is never retried
// here: deciding again is the engine's business). A create is not
// conditional, and whether Graph deduplicates its transactionId is
// unconfirmed (graph-facts §3), so a create whose attempt may have been
// performed (no answer, a 5xx, a batch answer without it) or that was
// answered 409 (what Graph may answer for a repeated transactionId) is
// looked up by its Oro id before it is sent again: the event found, the one
// with its transactionId, is the create's result.
//
// Apply returns an error only when no write reached Graph at all, for a reason
// that concerns the whole run (reconnect, consent, cancellation).
func (r *Remote) Apply(ctx context.Context, writes []calsync.Write) (_ []calsync.WriteResult, err error) {
	defer recovered(&err, "graph.batch")
	results := make([]calsync.WriteResult, 0, len(writes))
	var queue []*job
	for _, w := range writes {
		j := &job{w: w}
		if err := j.prepare(); err != nil {
			results = append(results, calsync.WriteResult{Key: w.Key, Err: err})
			continue
		}
		queue = append(queue, j)
	}
	reached := false // some item got an answer of its own
	for len(queue) > 0 {
		ready, waiting := r.nextBatch(queue, time.Now())
		if len(ready) == 0 {
			wake := waiting[0].readyAt
			for _, j := range waiting {
				if j.readyAt.Before(wake) {
					wake = j.readyAt
				}
			}
			if err := sleepUntil(ctx, wake); err != nil {
				break
			}
			continue
		}
		queue = waiting
		ready, again, found := r.lookUp(ctx, ready, &results)
		queue = append(queue, again...)
		reached = reached || found
		if len(ready) == 0 {
			continue
		}
		answers, err := r.sendBatch(ctx, ready)
		// one clock reading per answer: items of one batch that wait the
		// same Retry-After become ready together and travel together again
		answered := time.Now()
		if err != nil {
			if e := calsync.AsError(err); !reached && !e.Kind.Retryable() && e.Kind != calsync.KindRejected {
				return nil, e // nothing reached Graph; the run cannot go on
			}
			queue = append(queue, r.retryOrFinish(ctx, ready, calsync.AsError(err), answered, &results)...)
			continue
		}
		reached = true
		for i, j := range ready {
			a, ok := answers[strconv.Itoa(i)]
			if !ok {
				queue = append(queue, r.retryOrFinish(ctx, []*job{j}, &calsync.Error{Kind: calsync.KindUnavailable,
					Op: "graph.batch", Message: "batch response lacks an item"}, answered, &results)...)
				continue
			}
			res, retry := itemResult(j, a)
			if retry != nil {
				queue = append(queue, r.retryOrFinish(ctx, []*job{j}, retry, answered, &results)...)
				continue
			}
			if a.Status == 403 && j.w.Op == calsync.WriteDelete {
				res.Err = r.deleteRefused(ctx, j.w.ID, res.Err)
			}
			results = append(results, res)
		}
	}
	for _, j := range queue { // ctx ended while waiting
		err := j.lastErr
		if err == nil {
			err = calsync.AsError(ctx.Err())
		}
		results = append(results, calsync.WriteResult{Key: j.w.Key, Err: err})
	}
	return results, nil
}

// prepare validates a write and builds its body once.
func (j *job) prepare() *calsync.Error {
	w := j.w
	switch w.Op {
	case calsync.WriteCreate:
	case calsync.WriteUpdate, calsync.WriteDelete:
		if w.ID == "" {
			return &calsync.Error{Kind: calsync.KindInternal, Op: "graph.batch", Message: string(w.Op) + " without an event id"}
		}
		if !validID(w.ID) {
			// it would go into the item's URL: ".." or a "/" would name
			// another resource
			return malformedID(opName(w.Op))
		}
	default:
		return &calsync.Error{Kind: calsync.KindInternal, Op: "graph.batch", Message: "unknown write op " + strconv.Quote(string(w.Op))}
	}
	if w.Op == calsync.WriteDelete {
		return nil
	}
	b, err := toGraph(w)
	if err != nil {
		return &calsync.Error{Kind: calsync.KindInternal, Op: "graph.batch", Message: "encoding the event", Err: err}
	}
	j.body = b
	return nil
}

// nextBatch splits the queue into the jobs to send now (ready, at most
// BatchSize, queue order kept) and the rest.
func (r *Remote) nextBatch(queue []*job, now time.Time) (ready, rest []*job) {
	for _, j := range queue {
		if len(ready) < r.opts.BatchSize && !j.readyAt.After(now) {
			ready = append(ready, j)
		} else {
			rest = append(rest, j)
		}
	}
	return ready, rest
}

// retryOrFinish puts jobs that failed transiently back in the queue after
// their Retry-After or a backoff counted from answered (when the failure
// came back), or records err as their result when their attempts are used
// up or the wait would outlast ctx. A create that may have been performed
// is marked for a lookup first; a 409 is retried only for such a create.
func (r *Remote) retryOrFinish(ctx context.Context, jobs []*job, err *calsync.Error, answered time.Time, results *[]calsync.WriteResult) (again []*job) {
	for _, j := range jobs {
		j.attempts++
		j.lastErr = err
		j.lookup = j.lookup || mayBePerformed(j.w, err)
		wait := err.RetryAfter
		if wait <= 0 {
			wait = r.opts.Backoff << min(j.attempts-1, 6)
		}
		j.readyAt = answered.Add(wait)
		deadline, has := ctx.Deadline()
		if !err.Kind.Retryable() || err.Kind == calsync.KindConflict && !j.lookup || err.Kind == calsync.KindResyncRequired ||
			j.attempts >= r.opts.MaxAttempts || ctx.Err() != nil || (has && j.readyAt.After(deadline)) {
			*results = append(*results, calsync.WriteResult{Key: j.w.Key, Err: err})
			continue
		}
		again = append(again, j)
	}
	return again
}

// mayBePerformed reports whether a create that failed with err may have been
// performed all the same: it got no answer or a 5xx (the write may have
// happened before the answer was lost, graph-facts §7), or a 409, which is
// what Graph may answer for a transactionId it has seen (§3, unconfirmed).
// Without an Oro id there is nothing to look it up by.
func mayBePerformed(w calsync.Write, err *calsync.Error) bool {
	return w.Op == calsync.WriteCreate && w.OroID != "" &&
		(err.Kind == calsync.KindUnavailable || err.Kind == calsync.KindConflict)
}

// lookUp looks up by Oro id, concurrently within the mailbox slots, the
// creates in jobs whose earlier attempt may have been performed (graph-facts
// §3: look for your own tag before retrying). A create found is done: the
// event its transactionId names is its result, and found is true. The jobs
// to send now are returned in send, those whose lookup failed transiently
// in again (still marked for a lookup).
func (r *Remote) lookUp(ctx context.Context, jobs []*job, results *[]calsync.WriteResult) (send, again []*job, found bool) {
	type answer struct {
		events []calsync.RemoteEvent
		err    error
	}
	answers := make([]answer, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		if j.lookup {
			wg.Go(func() { answers[i].events, answers[i].err = r.FindByOroID(ctx, j.w.OroID) })
		}
	}
	wg.Wait()
	answered := time.Now()
	for i, j := range jobs {
		a := answers[i]
		switch {
		case !j.lookup:
			send = append(send, j)
		case a.err != nil:
			again = append(again, r.retryOrFinish(ctx, []*job{j}, calsync.AsError(a.err), answered, results)...)
		default:
			if ev, ok := createdBy(j.w, a.events); ok {
				*results = append(*results, calsync.WriteResult{Key: j.w.Key, Event: &ev})
				found = true
				continue
			}
			j.lookup = false // not performed: send it again
			send = append(send, j)
		}
	}
	return send, again, found
}

// createdBy picks, among the events carrying w's Oro id, the one w created:
// the one with its transactionId, which Graph keeps from the create on
// (graph-facts §3); any of them when w has none.
func createdBy(w calsync.Write, events []calsync.RemoteEvent) (calsync.RemoteEvent, bool) {
	for _, ev := range events {
		if w.TransactionID == "" || ev.TransactionID == w.TransactionID {
			return ev, true
		}
	}
	return calsync.RemoteEvent{}, false
}

// itemResult turns one batch item's answer into the write's result, or into
// the transient error to retry it after.
func itemResult(j *job, a batchItemResponse) (calsync.WriteResult, *calsync.Error) {
	res := calsync.WriteResult{Key: j.w.Key}
	if a.Status >= 200 && a.Status < 300 {
		if j.w.Op == calsync.WriteDelete {
			return res, nil
		}
		ev, err := parseEvent(a.Body)
		if err != nil || !validID(ev.ID) {
			res.Err = &calsync.Error{Kind: calsync.KindUnavailable, Op: opName(j.w.Op), Message: "unreadable event in the batch response", Err: err}
			return res, nil
		}
		if ev.OroID == "" {
			ev.OroID = j.w.OroID // written with the request; Graph does not echo it
		}
		res.Event = &ev
		return res, nil
	}
	e := classify(itemError(a), opName(j.w.Op))
	if a.Status == 410 && j.w.Op == calsync.WriteDelete {
		e = alreadyGone(e)
	}
	if a.Status == 429 || a.Status == 503 || a.Status == 504 || a.Status == 409 && j.w.Op == calsync.WriteCreate {
		return res, e
	}
	res.Err = e
	return res, nil
}

// alreadyGone is the answer to a DELETE of an event already deleted when
// Graph answers it 410 (ErrorItemNotFound) or, for a cancelled occurrence,
// 403 (semantics §1.7): not found, like a 404 (the caller decides again),
// never resync_required, which a 410 means for a delta token.
func alreadyGone(e *calsync.Error) *calsync.Error {
	return &calsync.Error{Kind: calsync.KindNotFound, Op: e.Op, Code: e.Code, Message: "the event is already deleted", Err: e}
}

// deleteRefused tells a DELETE refused 403 because its occurrence is
// already cancelled from one refused access: a GET of the id answers 404
// for the first. err is the 403's error.
func (r *Remote) deleteRefused(ctx context.Context, id string, err error) error {
	if _, gerr := r.Get(ctx, id); calsync.KindOf(gerr) == calsync.KindNotFound {
		return alreadyGone(calsync.AsError(err))
	}
	return err
}

func opName(op calsync.WriteOp) string {
	return "graph." + string(op) + "Event"
}

// itemError rebuilds the error the SDK would have returned for this answer
// had it come on its own, so that graphclient.Classify sees the same shapes
// either way: an ODataError when the body is a Graph error, an ApiError
// otherwise, both with status and headers.
func itemError(a batchItemResponse) error {
	h := abs.NewResponseHeaders()
	for k, v := range a.Headers {
		h.Add(k, v)
	}
	if n, err := kjson.NewJsonParseNode(a.Body); err == nil {
		if v, err := n.GetObjectValue(odataerrors.CreateODataErrorFromDiscriminatorValue); err == nil {
			if oe, ok := v.(*odataerrors.ODataError); ok && oe.GetErrorEscaped() != nil {
				oe.ResponseStatusCode = a.Status
				oe.ResponseHeaders = h
				return oe
			}
		}
	}
	return &abs.ApiError{Message: "batch item failed with status " + strconv.Itoa(a.Status), ResponseStatusCode: a.Status, ResponseHeaders: h}
}

// sendBatch sends one $batch request and returns the item answers by id.
func (r *Remote) sendBatch(ctx context.Context, jobs []*job) (map[string]batchItemResponse, error) {
	req := batchRequest{Requests: make([]batchItem, len(jobs))}
	for i, j := range jobs {
		it := batchItem{ID: strconv.Itoa(i), Headers: map[string]string{"Prefer": itemPrefer}, Body: j.body}
		switch j.w.Op {
		case calsync.WriteCreate:
			it.Method, it.URL = "POST", "/me/events"
		case calsync.WriteUpdate:
			it.Method, it.URL = "PATCH", "/me/events/"+url.PathEscape(j.w.ID)
		case calsync.WriteDelete:
			it.Method, it.URL = "DELETE", "/me/events/"+url.PathEscape(j.w.ID)
		}
		if j.body != nil {
			it.Headers["Content-Type"] = "application/json"
		}
		if j.w.IfMatch != "" && j.w.Op != calsync.WriteCreate {
			it.Headers["If-Match"] = j.w.IfMatch
		}
		req.Requests[i] = it
	}
	payload, err := json.Marshal(req)
	if err != nil {
		return nil, &calsync.Error{Kind: calsync.KindInternal, Op: "graph.batch", Message: "encoding the batch", Err: err}
	}
	ri := abs.NewRequestInformation()
	ri.Method = abs.POST
	ri.UrlTemplate = "{+baseurl}/$batch"
	ri.Headers.TryAdd("Accept", "application/json")
	ri.SetStreamContentAndContentType(payload, "application/json")

	release, err := r.slots.acquire(ctx, len(jobs))
	if err != nil {
		return nil, classify(err, "graph.batch")
	}
	defer release()
	r.count(KindBatch)
	raw, err := r.adapter.SendPrimitive(ctx, ri, "[]byte", abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		return nil, classify(err, "graph.batch")
	}
	body, _ := raw.([]byte)
	var resp batchResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.batch", Message: "unreadable batch response", Err: err}
	}
	out := make(map[string]batchItemResponse, len(resp.Responses))
	for _, a := range resp.Responses {
		out[strings.ToLower(a.ID)] = a
	}
	return out, nil
}

// sleepUntil waits until t or until ctx ends.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
