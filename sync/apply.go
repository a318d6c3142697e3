package calsync

import (
	"context"
	"slices"
	"strconv"
)

// The apply phase: the plan's writes sent through Remote.Apply (or
// StreamApplier.ApplyStream), and each result taken once (handle).

// StreamApplier may be implemented by a Remote that takes writes while
// earlier ones are in flight, so that a large push keeps the mailbox busy
// from its first write to its last instead of draining it at the end of
// every Apply call. The engine then hands a round's writes over through one
// ApplyStream call instead of Apply calls of RunOptions.ApplyChunk writes.
type StreamApplier interface {
	// ApplyStream performs writes as Apply does (the same contract: every
	// result final, an error only when nothing reached Graph). It asks feed
	// for the next writes, at most n, whenever it has room for them, until
	// feed returns none (which it then asks no more), and gives each
	// result to each as it comes, in any order. feed and each are called
	// from one goroutine, one at a time; each may block. While it runs,
	// the engine may call Get and FindByOroID.
	ApplyStream(ctx context.Context, feed func(n int) []Write, each func(WriteResult)) error
}

// planned is one decision on its way to the host.
type planned struct {
	p       *pairInput
	d       decision
	attempt int
}

func (pl *planned) remoteID() string { return pl.p.remoteID() }

// maxAttempts bounds how often a write is decided again in one run because
// its Microsoft copy moved on (412) or went away (404) while we wrote it.
const maxAttempts = 3

// execute sends the queued writes, through one stream (StreamApplier) or
// in chunks, deciding again after 412 and 404. It never sends a write
// again: Apply owns the retries (see Remote).
func (e *engine) execute(ctx context.Context, ps *pass, queue []*planned) error {
	stream, _ := e.remote.(StreamApplier)
	for len(queue) > 0 {
		var again []*planned
		for len(queue) > 0 {
			if e.timeUp() { // what waits, to be decided again or written, is the next run's
				for _, pl := range append(again, queue...) {
					e.record(pl, "not_attempted")
					e.postpone(ps, pl, Issue{Kind: KindUnavailable, Reason: ReasonTimeBudget, Message: "not written: the time budget ran out; it is written next run"})
				}
				e.partial = ReasonTimeBudget
				return nil
			}
			var next []*planned
			var err error
			if stream != nil {
				next, queue, err = e.applyStream(ctx, stream, ps, queue)
			} else {
				n := min(len(queue), e.opts.ApplyChunk)
				chunk := queue[:n]
				queue = queue[n:]
				next, err = e.applyChunk(ctx, ps, chunk)
			}
			if err != nil {
				return err
			}
			again = append(again, next...)
		}
		for _, pl := range again {
			pl.attempt++
			if pl.attempt >= maxAttempts {
				e.fail(ps, pl, Issue{Kind: KindConflict, Reason: ReasonWriteFailed, Message: "the event kept changing in Microsoft 365 while we wrote it"})
				continue
			}
			queue = append(queue, pl)
		}
	}
	return nil
}

// write is the Write that carries out pl's decision, keyed key.
func (pl *planned) write(key, zone string) Write {
	w := Write{Key: key, Op: pl.d.write, OroID: pl.p.oro.ID, Fields: pl.d.fields}
	if pl.d.write == WriteCreate {
		replaces := ""
		if l := pl.p.link(); l != nil {
			replaces = l.RemoteID
		}
		w.TransactionID = TransactionID(pl.p.oro.ID, pl.p.oro.UID, replaces)
		w.Event = pl.d.target.remote(zone)
		w.Event.OroID, w.Event.TransactionID = pl.p.oro.ID, w.TransactionID
		return w
	}
	w.ID = pl.remoteID()
	switch {
	case pl.p.remoteS == remotePresent:
		w.IfMatch = pl.p.remote.ETag
	case pl.p.link() != nil:
		w.IfMatch = pl.p.link().ETag
	}
	if pl.d.write == WriteUpdate {
		w.Event = pl.d.target.remote(zone)
	}
	return w
}

// applyChunk sends one Apply call and takes its results; it returns the
// writes decided again, to send as new writes.
func (e *engine) applyChunk(ctx context.Context, ps *pass, chunk []*planned) ([]*planned, error) {
	writes := e.writes(chunk)
	e.call("apply")
	e.res.Stats.Calls["writes"] += len(writes)
	results, err := e.remote.Apply(ctx, writes)
	if err != nil {
		return nil, e.applyFailed(ps, chunk, err)
	}
	t := newTaking(chunk)
	for _, r := range results {
		if err := t.take(ctx, e, ps, r); err != nil {
			return nil, err
		}
	}
	e.noResult(ps, t.unanswered(chunk))
	return t.again, nil
}

// applyStream hands queue's writes to one ApplyStream call, as long as the
// budget allows, and takes each result as it comes; it returns the writes
// decided again, to send as new writes, and those it did not hand over
// (the budget ran out, or the stream failed before them).
func (e *engine) applyStream(ctx context.Context, s StreamApplier, ps *pass, queue []*planned) (again, rest []*planned, err error) {
	writes := e.writes(queue)
	e.call("apply")
	fed := 0 // feed's until results is closed
	feed := func(n int) []Write {
		if fed == len(writes) || e.timeUp() {
			return nil
		}
		n = min(n, e.opts.ApplyChunk, len(writes)-fed)
		fed += n
		return writes[fed-n : fed]
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make(chan WriteResult, 2*e.opts.ApplyChunk)
	var serr error
	go func() {
		defer close(results)
		serr = s.ApplyStream(sctx, feed, func(r WriteResult) { results <- r })
	}()
	t := newTaking(queue)
	for r := range results {
		if err == nil {
			err = t.take(ctx, e, ps, r)
		}
		if err != nil {
			cancel() // the run fails: the stream's answers are drained
		}
	}
	if err != nil {
		return nil, nil, err
	}
	e.res.Stats.Calls["writes"] += fed
	sent := queue[:fed]
	if serr != nil {
		return t.again, queue[fed:], e.applyFailed(ps, t.unanswered(sent), serr)
	}
	e.noResult(ps, t.unanswered(sent))
	return t.again, queue[fed:], nil
}

// writes returns the Writes carrying out pls, keyed by their index.
func (e *engine) writes(pls []*planned) []Write {
	writes := make([]Write, len(pls))
	for i, pl := range pls {
		writes[i] = pl.write(strconv.Itoa(i), e.zone)
	}
	return writes
}

// applyFailed takes an Apply call's error for the writes it left without
// a result: the run fails with it when it concerns the run (reconnect,
// consent, cancelled before the budget ran out), each write fails with it
// otherwise.
func (e *engine) applyFailed(ps *pass, open []*planned, err error) error {
	e.noteErr(err)
	switch k := KindOf(err); {
	case k == KindReconnectRequired, k == KindConsentRequired, k == KindCancelled && !e.timeUp():
		return err
	}
	for _, pl := range open {
		e.failed(ps, pl, err)
	}
	return nil
}

// taking takes the results of writes keyed by their index in pls, each
// once.
type taking struct {
	pls   []*planned
	seen  []bool
	again []*planned // decided again, to write again
}

func newTaking(pls []*planned) *taking {
	return &taking{pls: pls, seen: make([]bool, len(pls))}
}

// take handles r unless it names no write or one already taken.
func (t *taking) take(ctx context.Context, e *engine, ps *pass, r WriteResult) error {
	i, err := strconv.Atoi(r.Key)
	if err != nil || i < 0 || i >= len(t.pls) || t.seen[i] || strconv.Itoa(i) != r.Key {
		return nil
	}
	t.seen[i] = true
	redecided, err := e.handle(ctx, ps, t.pls[i], r)
	if redecided {
		t.again = append(t.again, t.pls[i])
	}
	return err
}

// unanswered returns the writes of sent (a prefix of t's) that got no
// result.
func (t *taking) unanswered(sent []*planned) []*planned {
	var open []*planned
	for i, pl := range sent {
		if !t.seen[i] {
			open = append(open, pl)
		}
	}
	return open
}

// noResult fails the writes pls, which got no result.
func (e *engine) noResult(ps *pass, pls []*planned) {
	for _, pl := range pls {
		e.fail(ps, pl, Issue{Kind: KindUnavailable, Reason: ReasonWriteFailed, Message: "no result for this write"})
	}
}

// handle takes one write result, classified once: done, moved on or gone
// (decided again), or failed for this run (see the Remote contract: Apply
// has retried what was transient and looked up what it may have created).
// true means "decided again, write again".
func (e *engine) handle(ctx context.Context, ps *pass, pl *planned, r WriteResult) (bool, error) {
	if r.Err == nil {
		return e.done(ctx, ps, pl, r.Event)
	}
	e.noteErr(r.Err)
	if kind := KindOf(r.Err); (kind == KindConflict || kind == KindNotFound) && pl.d.write != WriteCreate {
		// the Microsoft copy moved on (412) or is gone (404): read it and decide again
		if err := e.reread(ctx, pl); err != nil {
			e.noteErr(err)
			e.failed(ps, pl, err)
			return false, nil
		}
		return e.redecide(ps, pl, true), nil
	}
	e.failed(ps, pl, r.Err)
	return false, nil
}

// done takes a write that succeeded; ev is the copy as it stands after it
// (nil for a delete).
func (e *engine) done(ctx context.Context, ps *pass, pl *planned, ev *RemoteEvent) (bool, error) {
	e.record(pl, "done")
	if ev != nil {
		e.res.Writes[len(e.res.Writes)-1].RemoteID = ev.ID
	}
	e.res.Stats.Pushed++
	switch pl.d.write {
	case WriteCreate:
		ps.t.msCreated++
	case WriteDelete:
		ps.t.msDeleted++
		ps.written[pl.remoteID()] = ""
		e.emit(ps, pl, nil)
		return false, nil
	}
	if ev == nil {
		return false, &Error{Kind: KindInternal, Op: "sync.apply", Message: "a successful write returned no event"}
	}
	if ev.Type == "seriesMaster" && !ev.unit() {
		// a write's answer holds no exceptions, and a pattern or time
		// change may have reset them: the series as it now stands
		e.call("get")
		if s, err := e.readSeries(ctx, ev.ID); err == nil && s.unit() {
			ev = &s
		}
	}
	single := pl.madeSingle()
	if single {
		ev = e.readSingle(ctx, ev)
	}
	if pl.d.target.Reminder == ReminderUnset {
		// written without a reminder (the host sent none): the copy's,
		// Graph's default, is what the link records
		pl.d.target.Reminder = ev.Reminder
	}
	// never written: the link records the copy's attendees
	pl.d.target.Who, pl.d.target.whoHash = ev.who(), ""
	if ev.unit() { // nor are a series' exceptions
		pl.d.target.Series, pl.d.target.seriesHash = ev.Series, ""
		if pl.d.pull == "" && e.clearedExceptions(pl) && (len(ev.Series.Exceptions) > 0 || len(ev.Series.Cancelled) > 0) {
			// Oro cleared the series' exceptions with its pattern or time
			// change; Graph kept these (a cancellation, for one): Oro gets
			// the series as Graph now holds it, not predicted
			pl.d.pull = OpUpdate
		}
	}
	if single && pl.singleRest(ev) {
		return true, nil
	}
	if pl.d.write == WriteCreate && remoteContent(ev).digest().all != pl.d.target.digest().all {
		// Graph answered a repeated transactionId with the event an
		// unrecorded run created, changed since: decide again against it
		cp := *ev
		pl.p.setRemote(&cp, remotePresent)
		pl.p.ours, pl.p.replaced = true, pl.p.link() != nil
		return e.redecide(ps, pl, false), nil
	}
	ps.written[ev.ID] = ev.ChangeKey
	e.emit(ps, pl, ev)
	return false, nil
}

// clearedExceptions reports a write of an Oro series' pattern or time (Oro
// then holds no exception of it) with no exception of it in the request
// (one made in Oro since waits for the next run, see writeExceptions, and
// must not be dropped by an update listing Graph's exceptions).
func (e *engine) clearedExceptions(pl *planned) bool {
	if pl.d.write != WriteUpdate || pl.p.oro == nil || len(e.exc[pl.p.oro.ID]) > 0 {
		return false
	}
	return pl.writesGroup(fieldRecurrence) || pl.writesGroup(fieldWhen)
}

// writesGroup reports whether pl's write names a field of group g.
func (pl *planned) writesGroup(g string) bool {
	return slices.ContainsFunc(pl.d.fields, func(f string) bool { return slices.Contains(graphFields[g], f) })
}

// reread reads pl's Microsoft copy again after its write answered 412 or
// 404. A tombstone whose linked copy is gone is looked up by its Oro id: a
// run whose result was lost may have re-created it (see readFor).
func (e *engine) reread(ctx context.Context, pl *planned) error {
	id := pl.remoteID()
	e.call("get")
	cur, err := e.remote.Get(ctx, id)
	switch KindOf(err) {
	case "":
		pl.p.setRemote(&cur, remotePresent)
		return nil
	case KindNotFound:
	default:
		return err
	}
	pl.p.setRemote(&RemoteEvent{ID: id}, remoteGone)
	if !pl.p.oro.Deleted || pl.p.link() == nil {
		return nil
	}
	e.call("findByOroId")
	all, err := e.remote.FindByOroID(ctx, pl.p.oro.ID)
	if err != nil {
		return err
	}
	if found := createdFor(pl.p.oro, all); len(found) > 0 {
		f := found[0]
		pl.p.setRemote(&f, remotePresent)
		pl.p.ours, pl.p.replaced = true, true
		pl.p.inWindow = e.window.overlaps(f.Start, f.End)
	}
	return nil
}

// redecide decides pl again against its Microsoft copy as read; true when
// the new decision writes. counted: the conflict it resolves counts.
func (e *engine) redecide(ps *pass, pl *planned, counted bool) bool {
	if e.setAside(ps, pl.p) { // it became part of a series
		return false
	}
	pl.d = decide(pl.p, e.cfg)
	if counted && pl.d.conflict != "" {
		e.res.Stats.Conflicts[string(pl.d.conflict)]++
	}
	if pl.d.write == "" {
		e.emit(ps, pl, nil)
		return false
	}
	return true
}

// failed reports a write that failed with err. A retryable failure the
// budget cut short (the run's context ended, or Microsoft asked to wait
// past the budget) makes the run partial: the write is the next call's.
func (e *engine) failed(ps *pass, pl *planned, err error) {
	ae := AsError(err)
	is := Issue{Kind: ae.Kind, Reason: ReasonWriteFailed, Message: ae.Error(), RetryAfterMs: retryMs(err)}
	if (ae.Kind.Retryable() || ae.Kind == KindCancelled) && (e.timeUp() || !e.opts.Now().Add(ae.RetryAfter).Before(e.deadline)) {
		is.Reason, e.partial = ReasonTimeBudget, ReasonTimeBudget
	}
	e.fail(ps, pl, is)
}

// fail reports a write that did not happen.
func (e *engine) fail(ps *pass, pl *planned, is Issue) {
	e.record(pl, "failed")
	e.postpone(ps, pl, is)
}

func (e *engine) record(pl *planned, outcome string) {
	e.res.Writes = append(e.res.Writes, WriteRecord{Op: pl.d.write, OroID: pl.p.oro.ID, RemoteID: pl.remoteID(), Fields: pl.d.fields, Reason: pl.d.reason, Outcome: outcome})
}
