package calsync

import (
	"context"
	"fmt"
)

// The apply phase: the plan's writes sent through Remote.Apply, and each
// result taken once (handle).

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

// execute sends the queued writes in chunks, deciding again after 412 and
// 404. It never sends a write again: Apply owns the retries (see Remote).
func (e *engine) execute(ctx context.Context, ps *pass, queue []*planned) error {
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
			n := min(len(queue), e.opts.ApplyChunk)
			chunk := queue[:n]
			queue = queue[n:]
			next, err := e.applyChunk(ctx, ps, chunk)
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
	writes := make([]Write, len(chunk))
	byKey := make(map[string]*planned, len(chunk))
	for i, pl := range chunk {
		writes[i] = pl.write(fmt.Sprintf("%d", i), e.zone)
		byKey[writes[i].Key] = pl
	}
	e.call("apply")
	e.res.Stats.Calls["writes"] += len(writes)
	results, err := e.remote.Apply(ctx, writes)
	if err != nil {
		e.noteErr(err)
		switch k := KindOf(err); {
		case k == KindReconnectRequired, k == KindConsentRequired, k == KindCancelled && !e.timeUp():
			return nil, err
		}
		for _, pl := range chunk {
			e.failed(ps, pl, err)
		}
		return nil, nil
	}
	var again []*planned
	seen := map[string]bool{}
	for _, r := range results {
		pl := byKey[r.Key]
		if pl == nil || seen[r.Key] {
			continue
		}
		seen[r.Key] = true
		redecided, err := e.handle(ctx, ps, pl, r)
		if err != nil {
			return nil, err
		}
		if redecided {
			again = append(again, pl)
		}
	}
	for i, pl := range chunk {
		if !seen[writes[i].Key] {
			e.fail(ps, pl, Issue{Kind: KindUnavailable, Reason: ReasonWriteFailed, Message: "no result for this write"})
		}
	}
	return again, nil
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
	if pl.d.target.Reminder == ReminderUnset {
		// written without a reminder (the host sent none): the copy's,
		// Graph's default, is what the link records
		pl.d.target.Reminder = ev.Reminder
	}
	// never written: the link records the copy's attendees
	pl.d.target.Who, pl.d.target.whoHash = ev.who(), ""
	if ev.unit() { // nor are a series' exceptions
		pl.d.target.Series, pl.d.target.seriesHash = ev.Series, ""
	}
	if pl.d.write == WriteCreate && remoteContent(ev).hash() != pl.d.target.hash() {
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
