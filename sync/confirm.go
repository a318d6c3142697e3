package calsync

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
)

// The confirm phase: the reads that settle what a delta round left open.

// read is one request confirm makes for a pair: FindByOroID (find) or Get
// of id. page is the round's page of the pair's item, -1 for none.
type read struct {
	p    *pairInput
	find bool
	id   string
	// orFind: when the Get of id answers not found, FindByOroID (then
	// find is set too)
	orFind bool
	page   int
	// absent: confirms a linked Oro event absent from a full round
	absent bool
	// the outcome: done once sent; late when it failed because the budget
	// ran out
	done, late bool
	got        RemoteEvent
	found      []RemoteEvent
	err        error
}

// do sends the read (from one of readAll's goroutines). A panic in the
// Remote is the read's error, of kind internal (the run fails with it),
// never a crash of the process.
func (r *read) do(ctx context.Context, remote Remote) {
	r.done = true
	defer func() {
		if v := recover(); v != nil {
			r.err = panicked("sync.read", v)
		}
	}()
	if !r.find {
		r.got, r.err = r.get(ctx, remote)
		if !r.orFind || KindOf(r.err) != KindNotFound {
			return
		}
		r.find = true
	}
	var found []RemoteEvent
	found, r.err = remote.FindByOroID(ctx, r.p.oro.ID)
	r.found = createdFor(r.p.oro, found)
}

// get reads the copy r.id. A series master (by its link) is read with its
// exceptions in one request (SeriesGetter), where Get takes two; with Get
// when it answers that it is not one (any more).
func (r *read) get(ctx context.Context, remote Remote) (RemoteEvent, error) {
	if l := r.p.link(); l != nil && l.Series {
		if sg, ok := remote.(SeriesGetter); ok {
			if got, err := sg.GetSeries(ctx, r.id); KindOf(err) != KindNotFound {
				return got, err
			}
		}
	}
	return remote.Get(ctx, r.id)
}

// absentID orders the reads confirming absent events: by Oro id, after
// the others ("").
func (r *read) absentID() string {
	if !r.absent {
		return ""
	}
	return "\x00" + r.p.oro.ID
}

// answered reports a read that answered: found, or (Get) not found.
func (r *read) answered() bool {
	return r.done && (r.err == nil || !r.find && KindOf(r.err) == KindNotFound)
}

// failed reports a read that failed for good and not for its event alone
// (see eventError): the run fails with it.
func (r *read) failed() bool {
	return r.done && !r.answered() && !r.late && !eventError(r.err)
}

// readFor says what confirm must read for p: nil when nothing.
func (e *engine) readFor(p *pairInput) *read {
	switch {
	case p.remote == nil && p.oro != nil && p.oro.Deleted && p.link() == nil && e.cfg.dir.Pushes():
		// a tombstone of an event no result linked: a run whose result was
		// lost may have created it, beyond the round this call reads
		return &read{p: p, find: true}
	case p.remote != nil && p.remote.Removed && (p.oro != nil || e.cfg.dir.Pulls()):
		// a tombstone's linked copy gone: a run whose result was lost may
		// have re-created it (edit versus delete), beyond the part of the
		// round this call reads
		orFind := p.oro != nil && p.oro.Deleted && p.link() != nil && e.cfg.dir.Pushes()
		return &read{p: p, id: remoteIDOf(p.link(), p.remote), orFind: orFind}
	case p.remoteS == remoteUnknown && p.remote == nil && p.link() != nil && !p.oro.Deleted && !p.oroDigest().matches(p.link()) &&
		(!e.cfg.dir.Pushes() || p.readOnly() != "" || p.link().ETag == "" || p.oroC.Who != nil && p.oroC.Who.own || p.seriesMadeSingle()):
		// an Oro edit that will not be pushed (microsoft_to_oro, or an
		// event we do not organize), or whose link records no version of
		// the copy (see emit): Microsoft's copy decides; or one that
		// writes Oro's attendees: they are written over the copy's
		// (resources kept, see withResources); or a series made a single
		// event
		return &read{p: p, id: remoteIDOf(p.link(), p.remote)}
	}
	return nil
}

// remoteIDOf returns the link's remote id, or r's when l is nil.
func remoteIDOf(l *Link, r *RemoteEvent) string {
	if l != nil {
		return l.RemoteID
	}
	return r.ID
}

// confirmed is what confirm settled besides the pairs themselves.
type confirmed struct {
	skip []bool // the pairs left undecided in this call
	// cut: the first page whose items are dropped (-1 when none)
	cut int
	// checkedTo: the linked Oro events absent from a complete snapshot
	// round are confirmed up to this Oro id (see State.CheckedTo)
	checkedTo string
	// refused: the main round was cut at this page because Microsoft
	// refused to read a removal there (-1 when not)
	refused int
}

// confirm resolves what the delta round left open with reads: a removal
// may be a deletion or a move out of the window, some Oro edits need the
// Microsoft copy to decide, and a tombstone no result linked may have a
// copy a lost run created. The reads go RunOptions.ReadConcurrency at a
// time, the round's pages in order, then the Oro events without an item.
//
// What the budget leaves unread is not decided in this call (skip): an Oro
// event without an item gets an issue and is sent again; from the first
// page with an unread item on (cut), the round's items are dropped, their
// Oro events get issues, and rd continues the round at that page, so that
// every call decides what it read before. A read Microsoft refuses for that
// event alone (eventError) leaves its pair undecided with an issue; any
// other failure fails the run.
func (e *engine) confirm(ctx context.Context, pairs []*pairInput, rd *roundRead, mode roundMode, checkedTo string) (confirmed, error) {
	c := confirmed{cut: -1, checkedTo: checkedTo, refused: -1}
	pages, byPair, reads := e.readsFor(pairs, rd)
	e.readAll(ctx, reads)
	// the absent events are confirmed up to the first unread one: the
	// round does not end before the others are (it goes on at its last
	// page), and the next call reads only those
	open := false
	for _, r := range reads {
		switch {
		case !r.absent:
		case open || !r.done || r.late:
			open = true
		default:
			c.checkedTo = r.p.oro.ID
		}
	}
	if open {
		c.cut = len(rd.links) - 1
	}
	refused, err := e.tallyReads(reads, mode, &c.cut)
	if err != nil {
		return confirmed{}, err
	}
	// a removal Microsoft refused to confirm cuts the round like the
	// budget: the round continues at its page next call (see retryRefused)
	cutIs := Issue{Kind: KindUnavailable, Reason: ReasonTimeBudget, Message: "not synced: the time budget ran out; it is synced next run"}
	if refused >= 0 && (c.cut < 0 || refused <= c.cut) {
		c.cut = refused
		cutIs.Reason, cutIs.Message = ReasonReadFailed, "not synced: Microsoft 365 refused to read an event removed in the same part of its change list; it is synced next run"
		if mode != settleRound {
			c.refused = refused
		}
	}
	c.skip = e.takeReads(pairs, pages, byPair, c, cutIs, mode)
	if c.cut >= 0 {
		for id, pg := range rd.page {
			if pg >= c.cut {
				delete(rd.items, id)
			}
		}
		rd.nextLink, rd.deltaLink = rd.links[c.cut], ""
	}
	return c, nil
}

// readsFor lists the reads the pairs need, in the order they are sent:
// the round's pages in order, then the other reads, those confirming
// absent events last by Oro id. pages[i] is the page of pairs[i]'s item
// (-1 for none), byPair[i] its read. A removal that needs no read is gone.
func (e *engine) readsFor(pairs []*pairInput, rd *roundRead) (pages []int, byPair, reads []*read) {
	pages = make([]int, len(pairs))
	byPair = make([]*read, len(pairs))
	for i, p := range pairs {
		pages[i] = -1
		if p.remote != nil && rd.items[p.remote.ID] == p.remote {
			pages[i] = rd.page[p.remote.ID]
		}
		if r := e.readFor(p); r != nil {
			r.page, byPair[i] = pages[i], r
			r.absent = p.remote != nil && p.remote.Removed && pages[i] < 0
			reads = append(reads, r)
		} else if p.remote != nil && p.remote.Removed {
			p.setRemote(nil, remoteGone)
		}
	}
	slices.SortStableFunc(reads, func(a, b *read) int {
		return cmp.Or(cmp.Compare(uint(a.page), uint(b.page)), cmp.Compare(a.absentID(), b.absentID()))
	})
	return pages, byPair, reads
}

// tallyReads counts the reads sent, moves *cut to the first page with a
// read left undone, and returns the first page with a removal Microsoft
// refused to read (-1 when none), or the error of a read that failed the
// run.
func (e *engine) tallyReads(reads []*read, mode roundMode, cut *int) (int, error) {
	refused := -1
	for _, r := range reads {
		if e.retryRefused(r, mode) && (refused < 0 || r.page < refused) {
			refused = r.page
		}
		switch {
		case r.failed():
			e.noteErr(r.err)
			return -1, r.err
		case !r.done || r.late:
			e.noteErr(r.err) // a late read may have been throttled
			if r.page >= 0 && (*cut < 0 || r.page < *cut) {
				*cut = r.page
			}
		case r.find:
			e.call("findByOroId")
			if r.orFind {
				e.call("get")
			}
		default:
			e.call("get")
		}
	}
	return refused, nil
}

// takeReads gives each pair what its read answered and returns the pairs
// left undecided: past the cut, not read, or refused (each with an issue,
// outside the settle round, which is read again next run).
func (e *engine) takeReads(pairs []*pairInput, pages []int, byPair []*read, c confirmed, cutIs Issue, mode roundMode) []bool {
	skip := make([]bool, len(pairs))
	for i, p := range pairs {
		r := byPair[i]
		if c.cut >= 0 && pages[i] >= c.cut || r != nil && (!r.done || r.late || r.absent && r.p.oro.ID > c.checkedTo) {
			skip[i] = true
			if mode != settleRound {
				e.partial = cutIs.Reason
				if p.oro != nil {
					is := cutIs
					if r != nil {
						is.RetryAfterMs = retryMs(r.err)
					}
					e.issue(p, is)
				}
			}
			continue
		}
		switch {
		case r == nil:
		case !r.answered():
			// Microsoft refuses to read this one event (a malformed id,
			// say): its issue, and the run goes on without it
			e.noteErr(r.err)
			is := Issue{Kind: KindOf(r.err), Reason: ReasonReadFailed, Message: r.err.Error(), RetryAfterMs: retryMs(r.err)}
			if p.remote != nil && p.remote.Removed {
				is.Message = fmt.Sprintf("removed from the Microsoft 365 calendar, but Microsoft refused %d times to confirm whether it was deleted: the Oro event is left as it is, delete it by hand if it was deleted (%s)", MaxRefusedReads, r.err.Error())
			}
			e.issue(p, is)
			skip[i] = true
		case r.find && len(r.found) > 0:
			// ours; for a linked tombstone, the re-creation of its copy
			p.setRemote(&r.found[0], remotePresent)
			p.ours, p.replaced = true, p.oro.Link != nil
			p.inWindow = e.window.overlaps(r.found[0].Start, r.found[0].End)
		case r.find && !r.orFind: // nothing of ours
		case r.err == nil && !r.find:
			p.setRemote(&r.got, remotePresent)
			p.inWindow = e.window.overlaps(r.got.Start, r.got.End)
		default: // not found
			p.setRemote(&RemoteEvent{ID: r.id}, remoteGone)
		}
	}
	return skip
}

// MaxRefusedReads is how many consecutive calls a removal whose
// confirming read Microsoft refuses stops the round at its page; the next
// call gives it up with an issue.
const MaxRefusedReads = 3

// retryRefused reports a read confirming a removal of the round that
// Microsoft refused (an event-level 403/400): the round stops at its page,
// as when the budget cut it, so that the deletion is not lost, until
// MaxRefusedReads consecutive calls were refused at that page (the page
// this call starts at, state.refusedReads counting them).
func (e *engine) retryRefused(r *read, mode roundMode) bool {
	if !r.done || r.late || r.answered() || r.find || r.page < 0 || !eventError(r.err) ||
		r.p.remote == nil || !r.p.remote.Removed {
		return false
	}
	return mode == settleRound || r.page > 0 || e.prev == nil || e.prev.RefusedReads < MaxRefusedReads-1
}

// readAll performs the reads, RunOptions.ReadConcurrency at a time, in
// order. It starts none once the budget is spent or a read failed for
// good; each records whether it failed because the budget ran out.
func (e *engine) readAll(ctx context.Context, reads []*read) {
	var mu sync.Mutex
	next, stop := 0, false
	take := func() *read {
		mu.Lock()
		defer mu.Unlock()
		if stop || next == len(reads) || e.timeUp() {
			stop = true
			return nil
		}
		next++
		return reads[next-1]
	}
	var wg sync.WaitGroup
	for range min(e.opts.ReadConcurrency, len(reads)) {
		wg.Go(func() {
			for r := take(); r != nil; r = take() {
				r.do(ctx, e.remote)
				r.late = !r.answered() && e.timeUp()
				if r.failed() {
					mu.Lock()
					stop = true
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
}

// panicked is a panic of the Remote during a read, as the read's error: of
// kind internal (the run fails with it), never a crash of the process.
func panicked(op string, v any) error {
	return &Error{Kind: KindInternal, Op: op, Message: "internal error", Err: fmt.Errorf("panic: %v", v)}
}

// eventError reports a failure to read one event that concerns that event
// only: Microsoft refused the request for it.
func eventError(err error) bool {
	switch KindOf(err) {
	case KindRejected, KindForbidden, KindInvalidInput:
		return true
	}
	return false
}
