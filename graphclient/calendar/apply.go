package calendar

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	kjson "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/oro-msync/oro-msync/graphclient"
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

// Wire format of a JSON batch (graph-facts §6): the request is written by
// encodeBatch. Item ids are the index of the item in its batch; responses
// come back in any order and are matched by id. An item's headers are read
// only when it failed (itemError).
type batchResponse struct {
	Responses []batchItemResponse `json:"responses"`
}

type batchItemResponse struct {
	ID      string          `json:"id"`
	Status  int             `json:"status"`
	Headers json.RawMessage `json:"headers"`
	Body    json.RawMessage `json:"body"`
	// ev is a 2xx item's body, when the answer was read in one pass
	// (decodeAnswers); Body is then nil
	ev *graphEvent
}

// oneRead is a $batch answer read in one pass: each item's body decoded
// with it, as an event, or as the Graph error it holds.
type oneRead struct {
	Responses []struct {
		ID      string          `json:"id"`
		Status  int             `json:"status"`
		Headers json.RawMessage `json:"headers"`
		Body    *struct {
			graphEvent
			Error json.RawMessage `json:"error"`
		} `json:"body"`
	} `json:"responses"`
}

// decodeAnswers reads a $batch answer into its items by id (lower-cased).
// The whole answer is decoded in one pass, item bodies included, which
// scans each body once instead of three times; an answer that does not fit
// (an item body that is no event nor error object) is read again item by
// item, so that one odd item fails alone.
func decodeAnswers(body []byte) (map[string]batchItemResponse, error) {
	var one oneRead
	if decode(body, &one) == nil {
		out := make(map[string]batchItemResponse, len(one.Responses))
		for _, x := range one.Responses {
			a := batchItemResponse{ID: x.ID, Status: x.Status, Headers: x.Headers}
			switch {
			case x.Body == nil:
			case x.Status >= 200 && x.Status < 300:
				a.ev = &x.Body.graphEvent
			case x.Body.Error != nil:
				a.Body = slices.Concat([]byte(`{"error":`), x.Body.Error, []byte(`}`))
			}
			out[strings.ToLower(a.ID)] = a
		}
		return out, nil
	}
	var resp batchResponse
	if err := decode(body, &resp); err != nil {
		return nil, err
	}
	out := make(map[string]batchItemResponse, len(resp.Responses))
	for _, a := range resp.Responses {
		out[strings.ToLower(a.ID)] = a
	}
	return out, nil
}

// graphBatchConcurrency is how many items of an unordered batch Graph runs
// at once against Outlook (graph-facts §6).
const graphBatchConcurrency = 4

// itemPrefer is sent on every batch item (the session asks for immutable ids
// on every request, and the middleware's headers reach the
// $batch request, not the items inside it).
const itemPrefer = `IdType="ImmutableId", outlook.timezone="UTC", outlook.body-content-type="text"`

// Apply performs writes in JSON batches. It is the one owner of write
// retries and of the lookup after an ambiguous create, as the calsync.Remote
// contract asks: the engine takes every result as final for its run.
//
// Scheduling (graph-facts §6, §7): Microsoft lets an app run 4 requests at
// once against a mailbox, and Graph runs the items of a batch one at a time
// when each depends on the one before it (dependsOn), but up to 4 at once
// when they are unordered. So while more writes wait than one batch holds,
// every batch is a chain: item i depends on item i-1, and the batch holds
// one mailbox slot for its whole round trip. Up to Concurrency chains are in
// flight at once, and when one answers the next batch goes out at once, so
// the mailbox runs 4 writes at every moment without ever seeing a fifth. A
// batch takes up to BatchSize ready writes in queue order. The last batch
// (every write left fits in it) waits for the chains in flight and goes
// unordered, holding as many slots as Graph runs of its items at once: it
// is then alone, and done in a quarter of the time a chain would take.
//
// Graph answers 424 for an item whose predecessor in its chain failed: it
// was never performed, so it is sent again at once (in a later batch), which
// counts neither as an attempt nor against the request budget.
//
// Items answered 429, 503 or 504 go back to the queue after their
// Retry-After (or a doubling backoff) and travel in a later batch, while ctx
// allows and MaxAttempts is not reached; their last error is their result
// otherwise. A batch request that fails as a whole (network, 5xx, 429 on
// $batch) is retried the same way, all its items with it.
//
// Request budget: every batch item spends one request of the Remote's
// budget (RequestBudget per 10 minutes, Microsoft's per-mailbox limit, the
// earlier calls' requests of Options.Sent counted too), so that a very
// large push never provokes 429s. When it is spent, Apply waits for the
// window to free requests if ctx allows it; otherwise the writes not yet
// sent answer throttled, not sent, with a RetryAfter after which none of
// the requests the budget counts is in the window any more (see
// budget.spent): the engine ends its run partial and asks to be called
// again then.
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
func (r *Remote) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	results := make([]calsync.WriteResult, 0, len(writes))
	feed := func(n int) []calsync.Write {
		n = min(n, len(writes))
		out := writes[:n]
		writes = writes[n:]
		return out
	}
	if err := r.ApplyStream(ctx, feed, func(x calsync.WriteResult) { results = append(results, x) }); err != nil {
		return nil, err
	}
	return results, nil
}

// ApplyStream is Apply for writes handed over while earlier ones are in
// flight (calsync.StreamApplier): it asks feed for more whenever fewer
// writes wait than two rounds of its chains take, so that its chains never
// wait for the caller, and it goes on until feed answers none. The last
// batch goes unordered (see Apply) only once feed has no more.
func (r *Remote) ApplyStream(ctx context.Context, feed func(n int) []calsync.Write, each func(calsync.WriteResult)) (err error) {
	defer recovered(&err, "graph.batch")
	a := &applier{r: r, ctx: ctx, feed: feed, more: true, each: each,
		landed: make(chan *flight, r.opts.Concurrency), done: make(chan *flight, 2*r.opts.Concurrency), flying: map[*flight]flyingBatch{}}
	return a.run()
}

// applier is one ApplyStream call: the queue of writes not yet answered,
// the batches in flight, and where writes come from and results go. Only
// run's goroutine touches it; a batch in flight owns its jobs until its
// flight comes back on done.
type applier struct {
	r   *Remote
	ctx context.Context

	feed func(n int) []calsync.Write
	more bool // feed may have more writes
	each func(calsync.WriteResult)

	queue    []*job
	inflight int            // batches holding the mailbox (sent, not answered)
	judging  int            // batches answered whose answers are being read
	landed   chan *flight   // a batch's answer came: its chain is free
	done     chan *flight   // a batch's answers are read
	reached  bool           // some item got an answer of its own
	fatal    *calsync.Error // nothing reached Graph and the run cannot go on

	// flying holds when each chained batch in flight went and how many
	// items it carries; itemTime is what a chained item has taken so far
	// (a moving average), to tell whether the last batch should wait for
	// them and go unordered (see next)
	flying   map[*flight]flyingBatch
	itemTime time.Duration
}

type flyingBatch struct {
	sent  time.Time
	items int
}

// run keeps Concurrency batches in flight until every write feed hands
// over has its result, waiting for Retry-After (or the request budget) when
// nothing is ready.
func (a *applier) run() error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		// What is queued goes first, and the writes feed hands over are
		// prepared while those batches fly. While feed may have more, the
		// queue holds at least a round of full batches here (topUp filled
		// it to two), so no batch goes short or unordered for want of a
		// topUp first.
		a.launch(time.Now())
		if a.fatal == nil {
			a.topUp()
			a.launch(time.Now())
		}
		now := time.Now()
		if !a.busy() && (len(a.queue) == 0 && !a.more || a.fatal != nil || a.ctx.Err() != nil) {
			break
		}
		if len(a.queue) == 0 && a.more && a.fatal == nil {
			continue // all sent (or answered): feed has the next writes
		}
		var wake <-chan time.Time
		if at, ok := a.wakeAt(now); ok && a.fatal == nil && a.inflight < a.r.opts.Concurrency {
			timer.Reset(max(at.Sub(now), 0))
			wake = timer.C
		}
		var ended <-chan struct{}
		if !a.busy() {
			ended = a.ctx.Done() // with batches in flight, their answers come first
		}
		select {
		case f := <-a.landed:
			a.inflight--
			a.judging++
			a.timed(f)
		case f := <-a.done:
			a.judging--
			a.take(f)
		case <-wake:
		case <-ended:
		}
		if wake != nil && !timer.Stop() {
			select { // drained for the next Reset
			case <-timer.C:
			default:
			}
		}
	}
	if a.fatal != nil && !a.reached {
		return a.fatal
	}
	for _, j := range a.queue { // ctx ended while waiting, or the run cannot go on
		err := j.lastErr
		if err == nil {
			err = calsync.AsError(a.ctx.Err())
		}
		if err == nil {
			err = a.fatal
		}
		a.each(calsync.WriteResult{Key: j.w.Key, Err: err})
	}
	return nil
}

// launch sends batches from the queue while fewer than Concurrency fly.
func (a *applier) launch(now time.Time) {
	for a.fatal == nil && a.ctx.Err() == nil && a.inflight < a.r.opts.Concurrency {
		jobs, chained, sp := a.next(now)
		if len(jobs) == 0 {
			return
		}
		a.inflight++
		f := &flight{spend: sp}
		if chained {
			a.flying[f] = flyingBatch{sent: now, items: len(jobs)}
		}
		go func() {
			a.r.fly(a.ctx, f, jobs, chained, func() { a.landed <- f })
			a.done <- f
		}()
	}
}

// topUp asks feed for writes while fewer wait than two rounds of chains
// take (the next round's batches, and the one after while they fly), and
// prepares them; a write that cannot be sent has its result at once.
func (a *applier) topUp() {
	want := 2 * a.r.opts.Concurrency * a.r.opts.BatchSize
	for a.more && len(a.queue) < want {
		ws := a.feed(want - len(a.queue))
		if len(ws) == 0 {
			a.more = false
			return
		}
		for _, w := range ws {
			j := &job{w: w}
			if err := j.prepare(); err != nil {
				a.each(calsync.WriteResult{Key: w.Key, Err: err})
				continue
			}
			a.queue = append(a.queue, j)
		}
	}
}

// next takes the next batch out of the queue: up to BatchSize writes ready
// at now, in queue order, as many as the request budget allows, and whether
// it goes chained. The last batch (feed has no more, and all that is queued
// is ready and fits in it) goes unordered, and only once nothing else is in
// flight; until then next returns none. When the budget allows no write and ctx does not leave
// time to wait for it, every queued write gets the budget's answer.
func (a *applier) next(now time.Time) (jobs []*job, chained bool, sp *spend) {
	n := 0
	for _, j := range a.queue {
		if !j.readyAt.After(now) {
			n++
		}
	}
	if n == 0 {
		return nil, false, nil
	}
	chained = a.more || n != len(a.queue) || n > a.r.opts.BatchSize || a.inflight > 0 && !a.worthWaiting(now, n)
	if !chained && a.inflight > 0 {
		return nil, false, nil
	}
	n = min(n, a.r.opts.BatchSize)
	if b := a.r.slots.budget; b != nil {
		if sp = b.take(n); sp == nil {
			// spent: once the batches in flight are answered (and so
			// dated), wait for it if ctx leaves time, or give up
			if deadline, has := a.ctx.Deadline(); !a.busy() && has && now.Add(b.wait()).After(deadline) {
				err := b.spent()
				for _, j := range a.queue {
					a.each(calsync.WriteResult{Key: j.w.Key, Err: err})
				}
				a.queue = nil
			}
			return nil, false, nil
		}
		n = sp.n
	}
	jobs = make([]*job, 0, n)
	rest := a.queue[:0]
	for _, j := range a.queue {
		if len(jobs) < n && !j.readyAt.After(now) {
			jobs = append(jobs, j)
		} else {
			rest = append(rest, j)
		}
	}
	clear(a.queue[len(rest):])
	a.queue = rest
	return jobs, chained, sp
}

// worthWaiting reports whether the last batch, of n writes, is done sooner
// by waiting for the chains in flight and going unordered (a quarter of
// its items' time) than as one more chain at once, going by the time
// chained items have taken so far (none yet: it is not).
func (a *applier) worthWaiting(now time.Time, n int) bool {
	if a.itemTime <= 0 {
		return false
	}
	var wait time.Duration
	for _, fb := range a.flying {
		wait = max(wait, fb.sent.Add(time.Duration(fb.items)*a.itemTime).Sub(now))
	}
	per := min(n, graphBatchConcurrency)
	return wait+time.Duration((n+per-1)/per)*a.itemTime < time.Duration(n)*a.itemTime
}

// wakeAt is when a batch may go that cannot go now: when the request
// budget frees requests if it is spent, when the first queued write that
// waits for its Retry-After is ready otherwise. ok is false when nothing
// waits for the clock (only for batches in flight).
func (a *applier) wakeAt(now time.Time) (at time.Time, ok bool) {
	if len(a.queue) == 0 {
		return time.Time{}, false
	}
	if b := a.r.slots.budget; b != nil && b.left() == 0 {
		return now.Add(b.wait()), true
	}
	for _, j := range a.queue {
		if j.readyAt.After(now) && (!ok || j.readyAt.Before(at)) {
			at, ok = j.readyAt, true
		}
	}
	return at, ok
}

// busy reports whether batches are in flight or their answers being read:
// their writes may come back to the queue, and their spends are undated.
func (a *applier) busy() bool { return a.inflight+a.judging > 0 }

// timed takes the time a chained batch that was answered took per item.
func (a *applier) timed(f *flight) {
	fb, ok := a.flying[f]
	if !ok {
		return
	}
	delete(a.flying, f)
	if f.err == nil && fb.items > 0 {
		t := f.answered.Sub(fb.sent) / time.Duration(fb.items)
		if a.itemTime == 0 {
			a.itemTime = t
		} else {
			a.itemTime = (3*a.itemTime + t) / 4
		}
	}
}

// take records what one batch came to.
func (a *applier) take(f *flight) {
	a.reached = a.reached || f.reached
	var unsent []*job
	for _, v := range f.verdicts {
		switch {
		case v.res != nil:
			a.each(*v.res)
		case v.unsent:
			v.j.readyAt = time.Time{}
			unsent = append(unsent, v.j)
		default:
			a.queue = append(a.queue, a.r.retryOrFinish(a.ctx, []*job{v.j}, v.retry, f.answered, a.each)...)
		}
	}
	// the budget counts what Graph may have run, dated once answered
	a.r.slots.budget.settle(f.spend, len(unsent)+f.notSent)
	if len(unsent) > 0 { // first: they were next in line
		a.queue = append(unsent, a.queue...)
	}
	if f.err == nil {
		return
	}
	if e := f.err; !a.reached && !e.Kind.Retryable() && e.Kind != calsync.KindRejected {
		a.fatal = e // nothing reached Graph; the run cannot go on
		for _, j := range f.failed {
			j.lastErr = e
		}
		a.queue = append(a.queue, f.failed...)
		return
	}
	a.queue = append(a.queue, a.r.retryOrFinish(a.ctx, f.failed, f.err, f.answered, a.each)...)
}

// A flight is what one batch came to: a verdict per write it carried, or
// the error of the batch request as a whole for the writes it sent.
type flight struct {
	verdicts []verdict
	failed   []*job
	err      *calsync.Error
	answered time.Time // one clock reading: writes that wait the same Retry-After travel together again
	reached  bool
	spend    *spend // the budget the batch's items took
	notSent  int    // items the budget took that did not go (a lookup settled them)
}

// A verdict is one write's outcome in a flight: its result, a transient
// failure to retry after, or unsent (424: Graph never performed it).
type verdict struct {
	j      *job
	res    *calsync.WriteResult
	retry  *calsync.Error
	unsent bool
}

// fly looks up the creates among jobs that may have been performed, sends
// the others in one batch, chained or not, and judges each answer into f.
// It calls landed once the batch is answered (its chain is free for the
// next batch while the answers are read), before any further change to f.
// It runs on its own goroutine and touches nothing but f and its jobs.
func (r *Remote) fly(ctx context.Context, f *flight, jobs []*job, chained bool, landed func()) {
	send, verdicts, found := r.lookUp(ctx, jobs)
	f.notSent = len(jobs) - len(send)
	var body []byte
	var err error
	if len(send) > 0 {
		body, err = r.sendBatch(ctx, send, chained)
	}
	f.answered = time.Now()
	if err != nil {
		f.err = calsync.AsError(err)
	}
	landed()
	f.verdicts, f.reached = verdicts, found
	if len(send) == 0 {
		return
	}
	if err != nil {
		f.failed = send
		return
	}
	answers, err := decodeAnswers(body)
	if err != nil {
		unreadable := &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.batch", Message: "unreadable batch response", Err: err}
		for _, j := range send {
			f.verdicts = append(f.verdicts, verdict{j: j, retry: unreadable})
		}
		return
	}
	f.reached = true
	start := len(f.verdicts)
	progress := false // a 424 for every item would mean no item ran
	for i, j := range send {
		a, ok := answers[strconv.Itoa(i)]
		switch {
		case !ok:
			f.verdicts = append(f.verdicts, verdict{j: j, retry: &calsync.Error{Kind: calsync.KindUnavailable,
				Op: "graph.batch", Message: "batch response lacks an item"}})
			continue
		case a.Status == http.StatusFailedDependency:
			f.verdicts = append(f.verdicts, verdict{j: j, unsent: true})
			continue
		}
		progress = true
		res, retry := itemResult(j, a)
		if retry != nil {
			f.verdicts = append(f.verdicts, verdict{j: j, retry: retry})
			continue
		}
		if a.Status == http.StatusForbidden && j.w.Op == calsync.WriteDelete {
			res.Err = r.deleteRefused(ctx, j.w.ID, res.Err)
		}
		f.verdicts = append(f.verdicts, verdict{j: j, res: &res})
	}
	if !progress {
		for i := range f.verdicts[start:] {
			if v := &f.verdicts[start+i]; v.unsent {
				v.unsent, v.retry = false, &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.batch",
					Message: "every item of the batch answered 424 (failed dependency)"}
			}
		}
	}
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
	if ce := calsync.AsError(err); ce != nil && ce.Kind == calsync.KindRejected {
		return ce // what Graph would refuse, said before asking it
	}
	if err != nil {
		return &calsync.Error{Kind: calsync.KindInternal, Op: "graph.batch", Message: "encoding the event", Err: err}
	}
	j.body = b
	return nil
}

// retryOrFinish puts jobs that failed transiently back in the queue after
// their Retry-After or a backoff counted from answered (when the failure
// came back), or gives finish err as their result when their attempts are
// used up or the wait would outlast ctx. A create that may have been performed
// is marked for a lookup first; a 409 is retried only for such a create.
func (r *Remote) retryOrFinish(ctx context.Context, jobs []*job, err *calsync.Error, answered time.Time, finish func(calsync.WriteResult)) (again []*job) {
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
			finish(calsync.WriteResult{Key: j.w.Key, Err: err})
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
// to send now are returned in send; those found, and those whose lookup
// failed (still marked for a lookup), have their verdict.
func (r *Remote) lookUp(ctx context.Context, jobs []*job) (send []*job, verdicts []verdict, found bool) {
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
	for i, j := range jobs {
		a := answers[i]
		switch {
		case !j.lookup:
			send = append(send, j)
		case a.err != nil:
			verdicts = append(verdicts, verdict{j: j, retry: calsync.AsError(a.err)})
		default:
			if ev, ok := createdBy(j.w, a.events); ok {
				verdicts = append(verdicts, verdict{j: j, res: &calsync.WriteResult{Key: j.w.Key, Event: &ev}})
				found = true
				continue
			}
			j.lookup = false // not performed: send it again
			send = append(send, j)
		}
	}
	return send, verdicts, found
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
		var ev calsync.RemoteEvent
		var err error
		if a.ev != nil {
			ev = fromGraph(a.ev)
		} else {
			ev, err = parseEvent(a.Body)
		}
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
	var headers map[string]string
	_ = decode(a.Headers, &headers) // none readable: none
	for k, v := range headers {
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

// sendBatch sends one $batch request and returns its answer as read (fly
// decodes it once the mailbox slot is free again).
// A chained batch's items each depend on the one before, so Graph runs them
// one at a time and the batch holds one mailbox slot; an unordered batch
// holds as many as Graph runs of it at once (at most 4). The caller spent
// the request budget.
func (r *Remote) sendBatch(ctx context.Context, jobs []*job, chained bool) ([]byte, error) {
	payload := encodeBatch(jobs, chained)
	ri := abs.NewRequestInformation()
	ri.Method = abs.POST
	ri.UrlTemplate = "{+baseurl}/$batch"
	ri.Headers.TryAdd("Accept", "application/json")
	ri.SetStreamContentAndContentType(payload, "application/json")

	width := min(len(jobs), graphBatchConcurrency)
	if chained {
		width = 1
	}
	release, err := r.slots.hold(ctx, width)
	if err != nil {
		return nil, classify(err, "graph.batch")
	}
	defer release()
	r.count(KindBatch)
	// the guard hands the answer over as it read it: no json.Valid scan
	// before decodeAnswers' own, and no copy by the SDK
	ctx, answer := graphclient.WithAnswer(ctx)
	raw, err := r.adapter.SendPrimitive(ctx, ri, "[]byte", odataError)
	if err != nil {
		return nil, classify(err, "graph.batch")
	}
	body, _ := raw.([]byte)
	if answer.Body != nil {
		body = answer.Body
	}
	return body, nil
}

// encodeBatch writes the body of a $batch request carrying jobs, chained
// or not: {"requests":[{"id","method","url","headers","body","dependsOn"}]}.
// It is written by hand: an item's body, encoded once by prepare, goes in
// as it is (encoding/json would copy and compact a json.RawMessage again),
// and its two or three headers need no map.
func encodeBatch(jobs []*job, chained bool) []byte {
	size := 16
	for _, j := range jobs {
		size += 256 + len(j.body) + len(j.w.ID) + len(j.w.IfMatch)
	}
	b := make([]byte, 0, size)
	b = append(b, `{"requests":[`...)
	for i, j := range jobs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"id":"`...)
		b = strconv.AppendInt(b, int64(i), 10)
		switch j.w.Op {
		case calsync.WriteCreate:
			b = append(b, `","method":"POST","url":"/me/events"`...)
		case calsync.WriteUpdate:
			b = append(b, `","method":"PATCH","url":`...)
			b = appendString(b, "/me/events/"+url.PathEscape(j.w.ID))
		case calsync.WriteDelete:
			b = append(b, `","method":"DELETE","url":`...)
			b = appendString(b, "/me/events/"+url.PathEscape(j.w.ID))
		}
		b = append(b, `,"headers":{"Prefer":`...)
		b = appendString(b, itemPrefer)
		if j.body != nil {
			b = append(b, `,"Content-Type":"application/json"`...)
		}
		if j.w.IfMatch != "" && j.w.Op != calsync.WriteCreate {
			b = append(b, `,"If-Match":`...)
			b = appendString(b, j.w.IfMatch)
		}
		b = append(b, '}')
		if j.body != nil {
			b = append(b, `,"body":`...)
			b = append(b, j.body...)
		}
		if chained && i > 0 { // each depends on the one before it
			b = append(b, `,"dependsOn":["`...)
			b = strconv.AppendInt(b, int64(i-1), 10)
			b = append(b, `"]`...)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// appendString appends s to b as a JSON string.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}
