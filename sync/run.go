package calsync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Run performs one synchronization for one user. It validates req, reads
// Microsoft-side changes through remote, plans, writes (unless dry run) and
// returns what the host must apply and persist. An error means the run as a
// whole failed (invalid request, Microsoft unreachable, tokens dead); the
// host keeps its old state and retries. Per-event failures are Issues.
func Run(ctx context.Context, req Request, remote Remote, opts RunOptions) (Result, error) {
	opts = opts.withDefaults()
	if err := req.Validate(); err != nil {
		return Result{}, err
	}
	if req.State != nil && opts.CheckLink != nil {
		if err := req.State.validate(opts.CheckLink); err != nil {
			return Result{}, err
		}
	}
	e := &engine{req: req, remote: remote, opts: opts, start: opts.Now(), series: map[Issue]bool{}}
	if req.State != nil {
		e.lastRunAt = req.State.LastRunAt
	}
	e.res = Result{
		Operations: []Operation{},
		Issues:     []Issue{},
		Settings:   Resolve(req.Cascade),
		Stats:      Stats{Calls: map[string]int{}, Conflicts: map[string]int{}},
	}
	eff := e.res.Settings.Effective
	e.cfg = planConfig{dir: eff.Direction, strategy: e.res.Settings.ConflictStrategy(), now: e.start}
	budget := req.Options.TimeBudget()
	if dl, ok := ctx.Deadline(); ok { // the caller's deadline bounds it too
		budget = min(budget, time.Until(dl))
	}
	// Remote calls end a little before the budget, leaving time to build
	// the result
	budget -= min(budget/10, time.Second)
	e.deadline, e.halfway = e.start.Add(budget), e.start.Add(budget/2)
	e.window = defaultWindow(req.State, e.start)
	if req.Window != nil {
		e.window = *req.Window
	}
	if !eff.Enabled {
		e.res.Status, e.res.Reason = StatusSkipped, ReasonDisabled
		e.res.State = req.State
		return e.finish(), nil
	}
	e.screen()
	ctx, cancel := context.WithTimeoutCause(ctx, budget, errBudget)
	defer cancel()
	e.budget = ctx
	if err := e.run(ctx); err != nil {
		return Result{}, err
	}
	// what the host stores must be valid as its next call's state (links
	// from Microsoft were checked as they came in: this is a last guard)
	if st := e.res.State; st != nil && st != req.State {
		if err := st.validate(opts.CheckLink); err != nil {
			return Result{}, &Error{Kind: KindInternal, Op: "sync.run", Message: "the run made a state that is not valid as the next call's", Err: err}
		}
	}
	return e.finish(), nil
}

// screen leaves the events whose content is invalid out of the run, each
// with an issue naming the field; the others are synchronized. An invalid
// event stays in the request, and so in the indexes: its Microsoft copy
// pairs with it and is then left alone (pair drops the pair), instead of
// pairing with nothing and overwriting the event (a pull or an upsert).
func (e *engine) screen() {
	e.bad = map[string]bool{}
	for i, ev := range e.req.Events {
		if err := ev.invalid(); err != nil {
			e.bad[ev.ID] = true
			e.res.Issues = append(e.res.Issues, Issue{OroID: ev.ID, Kind: KindInvalidInput, Reason: ReasonInvalidEvent,
				Message: Invalid(fmt.Sprintf("events[%d].%s", i, err.field), "%s", err.msg).Error()})
		}
	}
}

// errBudget is the cause of the run's context ending with the time budget,
// and what round answers when the budget ran out before it read a page.
var errBudget = errors.New("the time budget ran out")

type engine struct {
	req      Request
	remote   Remote
	opts     RunOptions
	cfg      planConfig
	window   Window
	start    time.Time
	deadline time.Time // the budget's end (Remote calls end then)
	halfway  time.Time // the main delta round stops reading pages after this
	// budget is the run's context: it ends with the budget
	budget context.Context
	// lastRunAt is when the previous run ended (state.lastRunAt): its
	// writes are older
	lastRunAt time.Time
	res       Result

	retryAfter time.Duration
	oroC       []content
	byRemote   map[string]int // link.RemoteID → index in req.Events
	byTx       map[string]int // transactionId → unlinked Oro event
	byUID      map[string]int // uid → unlinked Oro event (full mode)
	used       map[int]bool   // Oro events already paired
	// bad: the Oro ids of the request's invalid events (see screen)
	bad map[string]bool
	// written: Microsoft ids we wrote in this run → the changeKey we left
	// ("" for deletes); the settle round recognises our echoes by it.
	written map[string]string
	// after: the Oro event as it will be once the host applied our
	// operations, by Microsoft id (for the settle round).
	after map[string]*Event
	// counts of our effects, for the state's guard bases
	msCreated, msDeleted, oroCreated, oroDeleted int
	// changes made by people that this run saw, for the guard bases of
	// incremental rounds: events created and deleted (or moved out of the
	// window) in Microsoft 365, Oro events created and deleted in Oro
	msNew, msGone, oroNew, oroGone int
	// msBase is the Microsoft-side count the run starts from; snapshot: the
	// round lists every event (full), so its items are counted instead
	msBase   int
	snapshot bool
	// carried: Oro-side deletions returned by the earlier calls of the
	// round this call continues (the guard judges a round as a whole)
	carried int
	// checkedTo: the linked Oro events absent from a full round that are
	// confirmed, by Oro id (see State.CheckedTo and confirm)
	checkedTo string
	partial   Reason
	settling  bool // in the settle round
	// refused: the main round was cut (see confirm) at page refusedPage
	// because Microsoft refused to read a removal there
	refused     bool
	refusedPage int
	// series: the issues reported for recurring series (see skipSeries)
	series map[Issue]bool
}

func (e *engine) finish() Result {
	now := e.opts.Now()
	e.res.Stats.DurationMs = now.Sub(e.start).Milliseconds()
	if rc, ok := e.remote.(RequestCounter); ok && e.res.Status != StatusSkipped {
		e.res.Stats.GraphRequests = rc.GraphRequests()
	}
	next := now.Add(time.Duration(e.res.Settings.Effective.SyncIntervalMinutes) * time.Minute)
	if e.retryAfter > 0 && now.Add(e.retryAfter).After(next) {
		next = now.Add(e.retryAfter)
	}
	e.res.NextSyncAt = next
	return e.res
}

func (e *engine) call(kind string) { e.res.Stats.Calls[kind]++ }

func (e *engine) noteErr(err error) {
	if ae := AsError(err); ae.RetryAfter > e.retryAfter {
		e.retryAfter = ae.RetryAfter
	}
}

func (e *engine) overBudget() bool { return !e.opts.Now().Before(e.deadline) }

// timeUp reports that the budget is spent, by the clock or because the
// run's context ended with it.
func (e *engine) timeUp() bool {
	return e.overBudget() || context.Cause(e.budget) == errBudget
}

// needFull answers that the next call must be a full one.
func (e *engine) needFull(st State, reason Reason) {
	st.V, st.Window, st.NeedsFull, st.DeltaLink, st.NextLink = StateVersion, e.window, true, "", ""
	e.unsynced(st, reason, KindResyncRequired, "not synced: Microsoft 365 change tracking must be rebuilt; call again with mode full")
}

// unsynced answers partial with st, every event of the request pending.
func (e *engine) unsynced(st State, reason Reason, kind Kind, msg string) {
	e.res.Status, e.res.Reason, e.res.State = StatusPartial, reason, &st
	for _, ev := range e.req.Events { // nothing was synced: all stay pending
		if e.bad[ev.ID] {
			continue // its invalid_event issue
		}
		e.res.Issues = append(e.res.Issues, Issue{OroID: ev.ID, Kind: kind, Retryable: true, Reason: reason, Message: msg})
	}
}

// outOfTime answers a call whose budget ran out before it read anything:
// the state does not move (a full round starts again).
func (e *engine) outOfTime(st State, fresh bool) {
	if fresh {
		st = State{OroCount: st.OroCount, MicrosoftCount: st.MicrosoftCount, NeedsFull: true}
	}
	st.V, st.Window, st.LastRunAt = StateVersion, e.window, e.opts.Now()
	e.unsynced(st, ReasonTimeBudget, KindUnavailable, "not synced: the time budget ran out; call again")
}

func (e *engine) run(ctx context.Context) error {
	var st State
	if e.req.State != nil {
		st = *e.req.State
	}
	sameWindow := e.req.State != nil && st.Window.Start.Equal(e.window.Start) && st.Window.End.Equal(e.window.End)
	full := e.req.Mode == ModeFull
	if !full && sameWindow && st.FullRound && st.NextLink != "" {
		// a full round split over calls goes on with every event: the
		// call that reads its end checks the linked ones for absence
		st.NeedsFull = true
		e.unsynced(st, ReasonResyncRequired, KindResyncRequired, "not synced: a full synchronization is under way; call again with mode full")
		return nil
	}
	if !full && (!sameWindow || st.NeedsFull || st.DeltaLink == "" && st.NextLink == "") {
		e.needFull(st, ReasonResyncRequired)
		return nil
	}
	link, fresh := "", true
	switch {
	case sameWindow && st.NextLink != "":
		link, fresh = st.NextLink, false
	case !full:
		link, fresh = st.DeltaLink, false
	}
	// this call continues a round an earlier call began: a full round keeps
	// matching by UID, and the guard counts the deletions already returned
	continued := !fresh && st.NextLink != "" && link == st.NextLink
	fullRound := full || continued && st.FullRound
	if continued {
		e.carried = st.RoundOroDeletes
		if st.FullRound {
			e.checkedTo = st.CheckedTo
		}
	}
	e.index(fullRound)

	rd, err := e.round(ctx, link, e.halfway)
	if KindOf(err) == KindResyncRequired {
		if !full {
			e.needFull(st, ReasonResyncRequired)
			return nil
		}
		fresh, continued, e.carried = true, false, 0
		rd, err = e.round(ctx, "", e.halfway)
	}
	// this call reads the end of a snapshot round (its first page too, or
	// continuing one, whose calls all carry every event): a linked event
	// absent from the part this call read may be gone (see pair)
	// the guard's base on the Microsoft side: a snapshot round (full) counts
	// its items, from zero or on from the earlier calls of the round
	e.snapshot = fresh || continued && st.FullRound
	complete := e.snapshot && rd.deltaLink != ""
	writes := !e.req.Options.DryRun && rd.nextLink == ""
	if !fresh {
		e.msBase = st.MicrosoftCount
	}
	advance := false
	if err == nil {
		advance, err = e.process(ctx, rd, full, complete, writes, true)
	}
	if errors.Is(err, errBudget) {
		e.outOfTime(st, fresh)
		return nil
	}
	if err != nil {
		return err
	}

	newState := State{V: StateVersion, Window: e.window, DeltaLink: st.DeltaLink, LastRunAt: e.opts.Now()}
	settled := ""
	if advance && writes && len(e.written) > 0 && !e.overBudget() {
		settled = e.settle(ctx, rd.deltaLink)
	}
	// the guard bases: what people changed on each side plus our writes,
	// except what a replayed round shows again
	if !advance {
		e.msNew, e.msGone, e.oroCreated = 0, 0, 0
	}
	newState.MicrosoftCount = e.msBase + e.msNew - e.msGone
	if e.snapshot && advance {
		newState.MicrosoftCount = e.msBase + countPresent(rd.items)
	}
	switch {
	case full: // the synced events; the others count once linked (oroNew)
		for _, ev := range e.req.Events {
			if !ev.Deleted && ev.Link != nil && !e.bad[ev.ID] {
				newState.OroCount++
			}
		}
		newState.OroCount += e.oroNew
	case e.req.Options.OroEventCount > 0:
		newState.OroCount = e.req.Options.OroEventCount
	default:
		newState.OroCount = st.OroCount + e.oroNew - e.oroGone
	}
	newState.MicrosoftCount = max(0, newState.MicrosoftCount+e.msCreated-e.msDeleted)
	newState.OroCount = max(0, newState.OroCount+e.oroCreated-e.oroDeleted)

	if e.refused { // the call stopped at a refused removal: count the calls
		newState.RefusedReads = 1
		if e.refusedPage == 0 {
			newState.RefusedReads += st.RefusedReads
		}
	}
	switch {
	case e.req.Options.DryRun:
		e.res.State = e.req.State
	case !advance:
		// a guard stopped Oro-side deletions read by this call, or the
		// budget left its first page undecided: the state stays where this
		// call began, so that they come back
		if continued {
			newState.NextLink, newState.FullRound, newState.RoundOroDeletes = st.NextLink, st.FullRound, st.RoundOroDeletes
			// with the absent events this call confirmed (see process)
			newState.NeedsFull, newState.CheckedTo = st.FullRound, e.checkedTo
		} else if fresh {
			newState.DeltaLink, newState.NeedsFull = "", true // a full round: read it again
		}
		e.res.State = &newState
	case rd.nextLink != "":
		// a full round goes on in full mode (see the start of run)
		newState.NextLink, newState.FullRound, newState.NeedsFull = rd.nextLink, fullRound, fullRound
		if fullRound {
			newState.CheckedTo = e.checkedTo
		}
		newState.RoundOroDeletes = e.carried + e.oroDeleted
		if !e.refused {
			e.partial = ReasonTimeBudget
		}
		e.res.State = &newState
	default:
		newState.DeltaLink = cmp.Or(settled, rd.deltaLink)
		e.res.State = &newState
	}
	e.res.Status = StatusCompleted
	if e.partial != "" {
		e.res.Status, e.res.Reason = StatusPartial, e.partial
	}
	return nil
}

func countPresent(items map[string]*RemoteEvent) int {
	n := 0
	for _, it := range items {
		if !it.Removed && !it.recurring() {
			n++
		}
	}
	return n
}

// index builds the lookups from Microsoft ids and keys to Oro events.
func (e *engine) index(full bool) {
	n := len(e.req.Events)
	e.oroC = make([]content, n)
	e.byRemote = make(map[string]int, n)
	e.byTx = make(map[string]int)
	e.byUID = make(map[string]int)
	e.used = make(map[int]bool)
	e.written = map[string]string{}
	e.after = map[string]*Event{}
	for i := range e.req.Events {
		ev := &e.req.Events[i]
		if !ev.Deleted && !e.bad[ev.ID] {
			e.oroC[i], _ = parseContent(*ev) // screen accepted it
		}
		// our creates' transactionIds, and those of earlier versions (a
		// create whose result was lost before an upgrade)
		if ev.Link != nil {
			e.byRemote[ev.Link.RemoteID] = i
			e.byTx[TransactionID(ev.ID, ev.UID, ev.Link.RemoteID)] = i // a re-creation
			e.byTx[legacyTransactionID(ev.ID, ev.UID, ev.Link.RemoteID)] = i
			continue
		}
		e.byTx[TransactionID(ev.ID, ev.UID, "")] = i
		e.byTx[legacyTransactionID(ev.ID, ev.UID, "")] = i
		if full && ev.UID != "" && !ev.Deleted {
			e.byUID[ev.UID] = i
		}
	}
}

// roundRead is what round read of a delta round.
type roundRead struct {
	items map[string]*RemoteEvent // by id; later occurrences replace earlier ones
	page  map[string]int          // the page each item was last seen on
	// links[k] is the link that reads page k: a state whose nextLink is
	// links[k] continues the round after the pages before k
	links []string
	// deltaLink ends a round read to its end; nextLink continues one that
	// was not (or whose pages from links[k] on were left undecided)
	deltaLink, nextLink string
}

// round reads one delta round from link ("" for a new round). It stops at
// the deltaLink, or after a page read at or after stopAt or when the
// budget cut a request short (nextLink set; errBudget when not even the
// first page came), and fails on a round that does not end (endless
// nextLinks).
func (e *engine) round(ctx context.Context, link string, stopAt time.Time) (*roundRead, error) {
	rd := &roundRead{items: map[string]*RemoteEvent{}, page: map[string]int{}}
	var lastSig string
	repeats := 0
	for page := 0; ; page++ {
		if page >= e.opts.MaxDeltaPages {
			return rd, &Error{Kind: KindUnavailable, Op: "sync.delta", Message: fmt.Sprintf("the delta round did not end after %d pages", page)}
		}
		if page > 0 && !e.opts.Now().Before(stopAt) {
			rd.nextLink = link
			return rd, nil
		}
		e.call("delta")
		p, err := e.remote.Delta(ctx, e.window, link)
		switch {
		case err != nil && e.timeUp() && page > 0:
			rd.nextLink = link
			return rd, nil
		case err != nil && e.timeUp():
			return rd, errBudget
		case err != nil:
			e.noteErr(err)
			return rd, err
		}
		for _, l := range [...]string{p.NextLink, p.DeltaLink} {
			if err := e.checkLink(l); err != nil {
				return rd, err
			}
		}
		rd.links = append(rd.links, link)
		var sig strings.Builder
		for i := range p.Events {
			ev := p.Events[i]
			if msg := remoteIDProblem(ev.ID); msg != "" {
				// never an operation or a link the host cannot use
				e.res.Issues = append(e.res.Issues, Issue{Kind: KindUnavailable, Retryable: true, Reason: ReasonReadFailed,
					Message: "an item of Microsoft 365's change list was left out: its id " + msg})
				continue
			}
			sig.WriteString(ev.ID + "/" + ev.ChangeKey + ";")
			rd.items[ev.ID], rd.page[ev.ID] = &ev, page
		}
		if s := sig.String(); s != "" && s == lastSig {
			// the same non-empty page again under a new nextLink: a known
			// service bug that never ends
			if repeats++; repeats >= 3 {
				return rd, &Error{Kind: KindUnavailable, Op: "sync.delta", Message: "the delta round repeats the same page"}
			}
		} else {
			lastSig, repeats = s, 0
		}
		if p.DeltaLink != "" {
			rd.deltaLink = p.DeltaLink
			return rd, nil
		}
		if p.NextLink == "" || p.NextLink == link {
			return rd, &Error{Kind: KindUnavailable, Op: "sync.delta", Message: "a delta page carried neither a new nextLink nor a deltaLink"}
		}
		link = p.NextLink
	}
}

// checkLink checks a link a delta page answered ("" passes) as the state
// that keeps it will be checked: a link that fails is Microsoft's fault.
func (e *engine) checkLink(link string) error {
	if link == "" {
		return nil
	}
	var err error
	if msg := linkProblem(link); msg != "" {
		err = errors.New("the link " + msg)
	} else if e.opts.CheckLink != nil {
		err = e.opts.CheckLink("link", link)
	}
	if err != nil {
		return &Error{Kind: KindUnavailable, Op: "sync.delta", Message: "Microsoft 365 answered a delta link that cannot be followed", Err: err}
	}
	return nil
}

// pair matches the round's Microsoft items with the request's Oro events;
// with unmatched, Oro events without an item become pairs too.
func (e *engine) pair(items map[string]*RemoteEvent, full, complete, unmatched bool) []*pairInput {
	ids := sortedKeys(items)
	pairs := make(map[string]*pairInput, len(ids))
	for _, id := range ids {
		it := items[id]
		p := &pairInput{remote: it, remoteS: remotePresent}
		if it.Removed {
			p.remoteS = remoteUnknown // confirmed by Get
		} else {
			p.inWindow = e.window.overlaps(it.Start, it.End)
		}
		pairs[id] = p
	}
	take := func(p *pairInput, i int) {
		e.used[i] = true
		p.oro, p.oroC = &e.req.Events[i], e.oroC[i]
	}
	// Our own creates first, by transactionId: they take precedence over
	// the link of an event whose old copy was deleted. The whole
	// transactionId must be the one this event's create sets, its hash of
	// Oro id, uid and replaced copy included: the Oro id it carries alone
	// is no proof (another installation connected to the mailbox, a
	// staging copy, writes the same Oro ids for its own events).
	for _, id := range ids {
		it, p := items[id], pairs[id]
		if it.Removed {
			continue
		}
		i, ok := e.byTx[it.TransactionID]
		if ok && it.TransactionID != "" && !e.used[i] {
			if l := e.req.Events[i].Link; l != nil {
				if l.RemoteID == id {
					continue // plainly linked: the next pass
				}
				p.replaced = true
			}
			take(p, i)
			p.ours = true
		}
	}
	for _, id := range ids {
		it, p := items[id], pairs[id]
		if p.oro != nil {
			continue
		}
		if i, ok := e.byRemote[id]; ok {
			if !e.used[i] {
				take(p, i)
			} else {
				delete(pairs, id) // the old copy of a re-created event: superseded
			}
		} else if i, ok := e.byUID[it.ICalUID]; ok && it.ICalUID != "" && !it.Removed && !e.used[i] {
			take(p, i)
		} else {
			// an incremental request leaves out synced events: a copy of ours
			// belongs to one of them (a full request sends them all)
			p.known = !full && it.OroID != ""
		}
	}
	out := make([]*pairInput, 0, len(ids))
	for _, id := range ids {
		if p, ok := pairs[id]; ok && (p.oro == nil || !e.bad[p.oro.ID]) {
			// the copy of an invalid event is left alone: neither pulled
			// nor pushed nor counted (the event has its issue)
			out = append(out, p)
		}
	}
	for i := range e.req.Events {
		if e.used[i] || !unmatched || e.bad[e.req.Events[i].ID] {
			continue
		}
		ev := &e.req.Events[i]
		p := &pairInput{oro: ev, oroC: e.oroC[i], remoteS: remoteUnknown}
		if ev.Link != nil && full && complete && ev.ID > e.checkedTo {
			// absent from the snapshot, or from the part of it this call
			// read (the earlier calls of the round may have read it), and
			// not confirmed by them: confirm
			p.remote = &RemoteEvent{ID: ev.Link.RemoteID, Removed: true}
		}
		out = append(out, p)
	}
	return out
}

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
			r.err = &Error{Kind: KindInternal, Op: "sync.read", Message: "internal error", Err: fmt.Errorf("panic: %v", v)}
		}
	}()
	if !r.find {
		r.got, r.err = remote.Get(ctx, r.id)
		if !r.orFind || KindOf(r.err) != KindNotFound {
			return
		}
		r.find = true
	}
	r.found, r.err = remote.FindByOroID(ctx, r.p.oro.ID)
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
	case p.remoteS == remoteUnknown && p.remote == nil && p.link() != nil && !p.oro.Deleted && p.oroC.hash() != p.link().Hash &&
		(!e.cfg.dir.Pushes() || p.link().ReadOnly || p.link().ETag == ""):
		// an Oro edit that will not be pushed (microsoft_to_oro, or an
		// event we do not organize), or whose link records no version of
		// the copy (see emit): Microsoft's copy decides
		return &read{p: p, id: remoteIDOf(p.link(), p.remote)}
	}
	return nil
}

// confirm resolves what the delta round left open with reads: a removal
// may be a deletion or a move out of the window, some Oro edits need the
// Microsoft copy to decide, and a tombstone no result linked may have a
// copy a lost run created. The reads go RunOptions.ReadConcurrency at a
// time, the round's pages in order, then the Oro events without an item.
//
// What the budget leaves unread is not decided in this call (skip): an Oro
// event without an item gets an issue and is sent again; from the first
// page with an unread item on (cut, -1 when none), the round's items are
// dropped, their Oro events get issues, and rd continues the round at that
// page, so that every call decides what it read before. A read Microsoft
// refuses for that event alone (eventError) leaves its pair undecided with
// an issue; any other failure fails the run.
func (e *engine) confirm(ctx context.Context, pairs []*pairInput, rd *roundRead) (skip []bool, cut int, err error) {
	pages := make([]int, len(pairs))
	byPair := make([]*read, len(pairs))
	var reads []*read
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
			p.remote, p.remoteS = nil, remoteGone
		}
	}
	// the pages in order, then the other reads, those confirming absent
	// events last by Oro id
	slices.SortStableFunc(reads, func(a, b *read) int {
		return cmp.Or(cmp.Compare(uint(a.page), uint(b.page)), cmp.Compare(a.absentID(), b.absentID()))
	})
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
			e.checkedTo = r.p.oro.ID
		}
	}
	cut = -1
	if open {
		cut = len(rd.links) - 1
	}
	refused := -1 // the first page with a removal Microsoft refused to read
	for _, r := range reads {
		if e.retryRefused(r) && (refused < 0 || r.page < refused) {
			refused = r.page
		}
		switch {
		case r.failed():
			e.noteErr(r.err)
			return nil, -1, r.err
		case !r.done || r.late:
			if r.page >= 0 && (cut < 0 || r.page < cut) {
				cut = r.page
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
	// a removal Microsoft refused to confirm cuts the round like the
	// budget: the round continues at its page next call (see retryRefused)
	cutIs := Issue{Kind: KindUnavailable, Reason: ReasonTimeBudget, Message: "not synced: the time budget ran out; it is synced next run"}
	if refused >= 0 && (cut < 0 || refused <= cut) {
		cut = refused
		cutIs.Reason, cutIs.Message = ReasonReadFailed, "not synced: Microsoft 365 refused to read an event removed in the same part of its change list; it is synced next run"
		if !e.settling {
			e.refused, e.refusedPage = true, refused
		}
	}
	skip = make([]bool, len(pairs))
	for i, p := range pairs {
		r := byPair[i]
		if cut >= 0 && pages[i] >= cut || r != nil && (!r.done || r.late || r.absent && r.p.oro.ID > e.checkedTo) {
			skip[i] = true
			if !e.settling { // a settle round left undecided is read again next run
				e.partial = cutIs.Reason
				if p.oro != nil {
					e.issue(&planned{p: p}, cutIs)
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
			is := Issue{Kind: KindOf(r.err), Reason: ReasonReadFailed, Message: r.err.Error()}
			if p.remote != nil && p.remote.Removed {
				is.Message = fmt.Sprintf("removed from the Microsoft 365 calendar, but Microsoft refused %d times to confirm whether it was deleted: the Oro event is left as it is, delete it by hand if it was deleted (%s)", MaxRefusedReads, r.err.Error())
			}
			e.issue(&planned{p: p}, is)
			skip[i] = true
		case r.find && len(r.found) > 0:
			// ours; for a linked tombstone, the re-creation of its copy
			p.remote, p.remoteS, p.ours, p.replaced = &r.found[0], remotePresent, true, p.oro.Link != nil
			p.inWindow = e.window.overlaps(r.found[0].Start, r.found[0].End)
		case r.find && !r.orFind: // nothing of ours
		case r.err == nil && !r.find:
			p.remote, p.remoteS = &r.got, remotePresent
			p.inWindow = e.window.overlaps(r.got.Start, r.got.End)
		default: // not found
			p.remote, p.remoteS = &RemoteEvent{ID: r.id}, remoteGone
		}
	}
	if cut >= 0 {
		for id, pg := range rd.page {
			if pg >= cut {
				delete(rd.items, id)
			}
		}
		rd.nextLink, rd.deltaLink = rd.links[cut], ""
	}
	return skip, cut, nil
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
func (e *engine) retryRefused(r *read) bool {
	if !r.done || r.late || r.answered() || r.find || r.page < 0 || !eventError(r.err) ||
		r.p.remote == nil || !r.p.remote.Removed {
		return false
	}
	return e.settling || r.page > 0 || e.req.State == nil || e.req.State.RefusedReads < MaxRefusedReads-1
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

// eventError reports a failure to read one event that concerns that event
// only: Microsoft refused the request for it.
func eventError(err error) bool {
	switch KindOf(err) {
	case KindRejected, KindForbidden, KindInvalidInput:
		return true
	}
	return false
}

// skipSeries reports a part of a recurring series, which is never pulled,
// written or counted: one issue per series (and per Oro event paired with
// it) in a run, however many of its occurrences the run read. An Oro event
// deleted since its copy became part of a series drops its link: the
// series stays in Microsoft 365.
func (e *engine) skipSeries(p *pairInput) {
	if p.oro != nil && p.oro.Deleted && p.link() != nil {
		e.emit(&planned{p: p, d: decision{unlink: true, reason: ReasonRecurring}}, nil)
	}
	is := Issue{RemoteID: p.remote.series(), Kind: KindForbidden, Reason: ReasonRecurring,
		Message: "part of a recurring series in Microsoft 365: series are not synchronized yet, so neither side is changed"}
	if p.oro != nil {
		is.OroID = p.oro.ID
	}
	if !e.series[is] {
		e.series[is] = true
		e.res.Issues = append(e.res.Issues, is)
	}
}

// remoteIDOf returns the link's remote id, or r's when l is nil.
func remoteIDOf(l *Link, r *RemoteEvent) string {
	if l != nil {
		return l.RemoteID
	}
	return r.ID
}

// planned is one decision on its way to the host.
type planned struct {
	p       *pairInput
	d       decision
	attempt int
}

func (pl *planned) remoteID() string {
	switch {
	case pl.p.remote != nil && pl.p.remote.ID != "":
		return pl.p.remote.ID
	case pl.p.link() != nil:
		return pl.p.link().RemoteID
	}
	return ""
}

// process pairs, confirms, plans, guards and executes one round's items.
// It reports false when a guard stopped Oro-side deletions, or when the
// budget left the round's first page undecided (the round must be
// replayed, so its deltaLink must not be kept). When the budget left later
// pages undecided, rd continues the round there (see confirm) and nothing
// is written.
func (e *engine) process(ctx context.Context, rd *roundRead, full, complete, writes, unmatched bool) (bool, error) {
	pairs, checkedFrom := e.pair(rd.items, full, complete, unmatched), e.checkedTo
	removed, created := make([]bool, len(pairs)), make([]bool, len(pairs))
	for i, p := range pairs {
		removed[i] = p.remote != nil && p.remote.Removed && rd.items[p.remote.ID] != nil
		created[i] = p.remote != nil && !p.remote.Removed && p.oro == nil && !p.known && p.inWindow
	}
	skip, cut, err := e.confirm(ctx, pairs, rd)
	if err != nil {
		return false, err
	}
	writes = writes && cut < 0
	var plan []*planned
	for i, p := range pairs {
		if skip[i] {
			continue
		}
		if p.remoteS == remotePresent && p.remote.recurring() {
			e.skipSeries(p)
			continue
		}
		switch {
		case e.snapshot: // counted whole
		case removed[i] && (p.remoteS == remoteGone || !p.inWindow):
			e.msGone++
		case created[i]: // or changed, when its Oro event came from Microsoft 365 and was not sent
			e.msNew++
		}
		d := decide(p, e.cfg)
		plan = append(plan, &planned{p: p, d: d})
	}
	advance := e.guard(plan, full, writes)
	if !advance { // the deletions the guard stopped are confirmed again
		e.checkedTo = checkedFrom
	}
	advance = advance && cut != 0
	var queue []*planned
	for _, pl := range plan {
		if pl.d.conflict != "" {
			e.res.Stats.Conflicts[pl.d.conflict]++
		}
		switch {
		case pl.d.write == "":
			e.emit(pl, nil)
		case e.req.Options.DryRun:
			e.record(pl, "planned")
			if pl.d.pull != "" { // the Oro half of the decision, as planned
				e.emit(pl, nil)
			}
		case !writes:
			// read only part of a round: the write waits for the next call
			// (the Oro event is sent again)
			if !e.settling {
				e.postpone(pl, Issue{Kind: KindUnavailable, Reason: ReasonTimeBudget, Message: "not written: the time budget ran out; it is written next run"})
			}
		default:
			queue = append(queue, pl)
		}
	}
	return advance, e.execute(ctx, queue)
}

// guard applies the mass-delete guard to both sides. The Oro side counts
// the whole round: the deletions returned by earlier calls of a round split
// by the time budget and by the main round of a settle round count too. The
// Microsoft side is judged only where writes happen (a round's last call).
func (e *engine) guard(plan []*planned, full, writes bool) bool {
	if e.req.Options.AllowMassDelete {
		return true
	}
	thr := e.req.Options.MassDeleteThreshold
	if thr == 0 {
		thr = DefaultMassDeleteThreshold
	}
	var msDel, oroDel int
	for _, pl := range plan {
		if pl.d.write == WriteDelete {
			msDel++
		}
		if pl.d.pull == OpDelete {
			oroDel++
		}
	}
	st := State{}
	if e.req.State != nil {
		st = *e.req.State
	}
	msTotal := e.msBase
	if e.snapshot {
		for _, pl := range plan {
			if pl.p.remoteS == remotePresent {
				msTotal++
			}
		}
		msTotal += msDel
	}
	oroTotal := st.OroCount
	if full {
		oroTotal = len(e.req.Events) - len(e.bad)
	} else if e.req.Options.OroEventCount > 0 {
		oroTotal = e.req.Options.OroEventCount
	}
	// what earlier calls of this round deleted was part of the base; the
	// counts come from the host, which Validate keeps from being negative:
	// the guard never counts below zero all the same
	done := max(0, e.carried) + e.oroDeleted
	oroTotal = max(0, oroTotal) + max(0, e.carried)
	msTotal = max(0, msTotal)
	trips := func(n, total int) bool {
		return n >= MassDeleteMinimum && float64(n) > thr*float64(max(total, n))
	}
	advance := true
	stop := func(side string, n, total int, match func(*planned) bool) {
		e.res.Guards = append(e.res.Guards, GuardReport{Side: side, Deletes: n, Total: total, Threshold: thr})
		for _, pl := range plan {
			if match(pl) {
				pl.d = keepPair(pl.p) // a tombstone keeps its copy of ours
				pl.d.issue = &Issue{Kind: KindForbidden, Reason: ReasonMassDeleteGuard,
					Message: fmt.Sprintf("not deleted in %s: this run would delete %d of %d events there; pass allowMassDelete to confirm", sideName(side), n, total)}
			}
		}
		if e.partial == "" {
			e.partial = ReasonMassDeleteGuard
		}
	}
	if writes && trips(msDel, msTotal) {
		stop("microsoft", msDel, msTotal, func(pl *planned) bool { return pl.d.write == WriteDelete })
	}
	if oroDel > 0 && trips(done+oroDel, oroTotal) {
		advance = false
		stop("oro", done+oroDel, oroTotal, func(pl *planned) bool { return pl.d.pull == OpDelete })
	}
	return advance
}

func sideName(side string) string {
	if side == "oro" {
		return "Oro"
	}
	return "Microsoft 365"
}

func (e *engine) record(pl *planned, outcome string) {
	e.res.Writes = append(e.res.Writes, WriteRecord{Op: pl.d.write, OroID: pl.p.oro.ID, RemoteID: pl.remoteID(), Fields: pl.d.fields, Reason: pl.d.reason, Outcome: outcome})
}

// fail reports a write that did not happen.
func (e *engine) fail(pl *planned, is Issue) {
	e.record(pl, "failed")
	e.postpone(pl, is)
}

// postpone reports a write that waits for a later call. An unlinked Oro
// event paired with a Microsoft copy (one an unrecorded run created, or one
// with its iCalendar UID) gets its link all the same, with the Microsoft
// copy as the base: the Oro event stays pending, and the later call, whose
// delta round may no longer show that copy, finds it by the link instead of
// creating another.
func (e *engine) postpone(pl *planned, is Issue) {
	e.issue(pl, is)
	if d := keepPair(pl.p); d.relink {
		e.emit(&planned{p: pl.p, d: d}, nil)
	}
}

// keepPair links an unlinked Oro event to the Microsoft copy it was paired
// with (see postpone); no decision when there is nothing to keep.
func keepPair(p *pairInput) decision {
	if p.oro == nil || p.link() != nil || p.remoteS != remotePresent {
		return decision{}
	}
	reason := ReasonMatchedUID
	if p.ours {
		reason = ReasonRecovered
	}
	return decision{relink: true, target: remoteContent(p.remote), reason: reason}
}

// failed reports a write that failed with err. A retryable failure the
// budget cut short (the run's context ended, or Microsoft asked to wait
// past the budget) makes the run partial: the write is the next call's.
func (e *engine) failed(pl *planned, err error) {
	ae := AsError(err)
	is := Issue{Kind: ae.Kind, Reason: ReasonWriteFailed, Message: ae.Error()}
	if (ae.Kind.Retryable() || ae.Kind == KindCancelled) && (e.timeUp() || !e.opts.Now().Add(ae.RetryAfter).Before(e.deadline)) {
		is.Reason, e.partial = ReasonTimeBudget, ReasonTimeBudget
	}
	e.fail(pl, is)
}

func (e *engine) issue(pl *planned, is Issue) {
	if pl.p.oro != nil {
		is.OroID = pl.p.oro.ID
	}
	is.RemoteID = pl.remoteID()
	is.Retryable = is.Kind.Retryable()
	e.res.Issues = append(e.res.Issues, is)
}

// emit turns a decision (and the Microsoft copy after its write, if any)
// into operations for the host.
func (e *engine) emit(pl *planned, written *RemoteEvent) {
	d := pl.d
	if d.issue != nil {
		e.issue(pl, *d.issue)
	}
	if cur := cmp.Or(written, present(pl.p)); cur != nil && remoteIDProblem(cur.ID) != "" {
		// no operation or link the host could not use: the Oro event
		// stays pending (Microsoft's fault, as in round)
		is := Issue{Kind: KindUnavailable, Retryable: true, Reason: ReasonReadFailed,
			Message: "not synced: Microsoft 365 answered the event without a usable id; it is synced next run"}
		if pl.p.oro != nil {
			is.OroID = pl.p.oro.ID
		}
		e.res.Issues = append(e.res.Issues, is)
		return
	}
	cur := cmp.Or(written, present(pl.p))
	var link *Link
	if cur != nil && d.write != WriteDelete {
		link = newLink(cur, d.target, e.opts.Now())
		if written == nil && remoteContent(cur).hash() != link.Hash {
			// the base is not what the copy holds (an edit left alone):
			// the link records no version of the copy, so an Oro edit
			// reads the copy before writing (see readFor) instead of
			// patching only the fields it changed over the copy's edit
			link.ChangeKey, link.ETag = "", ""
		}
	}
	op := Operation{RemoteID: pl.remoteID(), Reason: d.reason}
	if written != nil {
		op.RemoteID = written.ID
	}
	if pl.p.oro != nil {
		op.OroID = pl.p.oro.ID
		if !pl.p.oro.UpdatedAt.IsZero() {
			t := pl.p.oro.UpdatedAt
			op.ExpectedUpdatedAt = &t
		}
	}
	// a known copy (its Oro event not in the request) names no Oro event:
	// its Oro id comes from a transactionId, which another installation
	// connected to the mailbox may have written, so the host finds the
	// event only by the link it stored for remoteId (or applies nothing)
	switch {
	case d.pull == OpDelete:
		op.Op = OpDelete
		e.oroDeleted++
	case d.pull != "":
		if link == nil {
			return // nothing to link to (cannot happen: pulls come from a present copy)
		}
		op.Op, op.Link = d.pull, link
		ev := d.target.event()
		switch {
		case pl.p.oro != nil:
			ev.ID, ev.UID = pl.p.oro.ID, pl.p.oro.UID
		case pl.p.known:
			// created in Oro: its uid is Oro's, not known here, and never
			// Microsoft's iCalUId; the host keeps it
		default:
			ev.UID = cur.ICalUID // for a new Oro event; an existing one keeps its uid
		}
		op.Event = &ev
		if d.pull == OpCreate {
			e.oroCreated++
		}
	case d.unlink || d.write == WriteDelete:
		op.Op = OpLink
	case d.relink || written != nil:
		op.Op, op.Link = OpLink, link
	default:
		return
	}
	switch {
	case d.pull == "":
	case pl.p.known && !pl.p.remote.LastModified.After(e.lastRunAt):
		// our own write, come back because no settle round absorbed it:
		// the update carries the content Oro already holds
		e.res.Stats.Echoes++
	default:
		e.res.Stats.Pulled++
	}
	if o := pl.p.oro; o != nil && !e.settling {
		switch {
		case o.Link == nil && !o.Deleted && op.Link != nil:
			e.oroNew++ // created in Oro, now linked
		case o.Deleted && o.Link != nil && (op.Op == OpLink && op.Link == nil || op.Op == OpCreate):
			e.oroGone++ // deleted in Oro: its link dropped, or re-created (oroCreated)
		}
	}
	if op.Link != nil {
		e.after[op.Link.RemoteID] = afterEvent(pl.p.oro, op, d.target)
	}
	var tag string
	if op.Link != nil {
		tag = op.Link.ChangeKey + "/" + op.Link.Hash
	}
	op.Key = shortHash(string(op.Op) + "|" + op.OroID + "|" + op.RemoteID + "|" + tag)
	e.res.Operations = append(e.res.Operations, op)
}

// present returns p's Microsoft copy when it is present, else nil.
func present(p *pairInput) *RemoteEvent {
	if p.remoteS == remotePresent {
		return p.remote
	}
	return nil
}

// afterEvent is the Oro event as the host will hold it after applying op.
// An operation that changes the event gives it an updatedAt unknown here,
// so the settle round's operations on it carry no expectedUpdatedAt.
func afterEvent(oro *Event, op Operation, c content) *Event {
	ev := c.event()
	if oro != nil {
		ev.ID, ev.UID = oro.ID, oro.UID
		if op.Op == OpLink {
			ev.UpdatedAt = oro.UpdatedAt
		}
	}
	ev.Link = op.Link
	return &ev
}

// execute sends the queued writes in chunks, re-deciding after 412 and 404
// and looking up ambiguous creates before trying them again.
func (e *engine) execute(ctx context.Context, queue []*planned) error {
	const maxAttempts = 3
	for len(queue) > 0 {
		var retry []*planned
		for len(queue) > 0 {
			if e.timeUp() { // what waits, to retry or to be written, is the next run's
				for _, pl := range append(retry, queue...) {
					e.record(pl, "not_attempted")
					e.postpone(pl, Issue{Kind: KindUnavailable, Reason: ReasonTimeBudget, Message: "not written: the time budget ran out; it is written next run"})
				}
				e.partial = ReasonTimeBudget
				return nil
			}
			n := min(len(queue), e.opts.ApplyChunk)
			chunk := queue[:n]
			queue = queue[n:]
			again, err := e.applyChunk(ctx, chunk)
			if err != nil {
				return err
			}
			retry = append(retry, again...)
		}
		for _, pl := range retry {
			pl.attempt++
			if pl.attempt >= maxAttempts {
				e.fail(pl, Issue{Kind: KindConflict, Reason: ReasonWriteFailed, Message: "the event kept changing in Microsoft 365 while we wrote it"})
				continue
			}
			queue = append(queue, pl)
		}
	}
	return nil
}

func (e *engine) applyChunk(ctx context.Context, chunk []*planned) ([]*planned, error) {
	writes := make([]Write, len(chunk))
	byKey := make(map[string]*planned, len(chunk))
	for i, pl := range chunk {
		w := Write{Key: fmt.Sprintf("%d", i), Op: pl.d.write, OroID: pl.p.oro.ID, Fields: pl.d.fields}
		switch pl.d.write {
		case WriteCreate:
			replaces := ""
			if l := pl.p.link(); l != nil {
				replaces = l.RemoteID
			}
			w.TransactionID = TransactionID(pl.p.oro.ID, pl.p.oro.UID, replaces)
			w.Event = pl.d.target.remote()
			w.Event.OroID, w.Event.TransactionID = pl.p.oro.ID, w.TransactionID
		default:
			w.ID = pl.remoteID()
			switch {
			case pl.p.remoteS == remotePresent:
				w.IfMatch = pl.p.remote.ETag
			case pl.p.link() != nil:
				w.IfMatch = pl.p.link().ETag
			}
			if pl.d.write == WriteUpdate {
				w.Event = pl.d.target.remote()
			}
		}
		writes[i] = w
		byKey[w.Key] = pl
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
			e.failed(pl, err)
		}
		return nil, nil
	}
	var retry []*planned
	seen := map[string]bool{}
	for _, r := range results {
		pl := byKey[r.Key]
		if pl == nil || seen[r.Key] {
			continue
		}
		seen[r.Key] = true
		again, err := e.handle(ctx, pl, r)
		if err != nil {
			return nil, err
		}
		if again {
			retry = append(retry, pl)
		}
	}
	for i, pl := range chunk {
		if !seen[writes[i].Key] {
			e.fail(pl, Issue{Kind: KindUnavailable, Reason: ReasonWriteFailed, Message: "no result for this write"})
		}
	}
	return retry, nil
}

// handle takes one write result; true means "decided again, write again".
func (e *engine) handle(ctx context.Context, pl *planned, r WriteResult) (bool, error) {
	if r.Err == nil {
		e.record(pl, "done")
		if r.Event != nil {
			e.res.Writes[len(e.res.Writes)-1].RemoteID = r.Event.ID
		}
		e.res.Stats.Pushed++
		switch pl.d.write {
		case WriteCreate:
			e.msCreated++
		case WriteDelete:
			e.msDeleted++
			e.written[pl.remoteID()] = ""
			e.emit(pl, nil)
			return false, nil
		}
		if r.Event == nil {
			return false, &Error{Kind: KindInternal, Op: "sync.apply", Message: "a successful write returned no event"}
		}
		if pl.d.write == WriteCreate && remoteContent(r.Event).hash() != pl.d.target.hash() {
			// Graph answered a repeated transactionId with the event an
			// unrecorded run created, changed since: decide again against it
			ev := *r.Event
			pl.p.remote, pl.p.remoteS, pl.p.ours, pl.p.replaced = &ev, remotePresent, true, pl.p.link() != nil
			if ev.recurring() {
				e.skipSeries(pl.p)
				return false, nil
			}
			pl.d = decide(pl.p, e.cfg)
			if pl.d.write == "" {
				e.emit(pl, nil)
				return false, nil
			}
			return true, nil
		}
		e.written[r.Event.ID] = r.Event.ChangeKey
		e.emit(pl, r.Event)
		return false, nil
	}
	e.noteErr(r.Err)
	kind := KindOf(r.Err)
	switch {
	case (kind == KindConflict || kind == KindNotFound) && pl.d.write != WriteCreate:
		// the Microsoft copy moved on (412) or is gone (404): read it and decide again
		id := pl.remoteID()
		e.call("get")
		cur, err := e.remote.Get(ctx, id)
		switch KindOf(err) {
		case "":
			pl.p.remote, pl.p.remoteS = &cur, remotePresent
		case KindNotFound:
			pl.p.remote, pl.p.remoteS = &RemoteEvent{ID: id}, remoteGone
			if pl.p.oro.Deleted && pl.p.link() != nil {
				// a tombstone's linked copy gone, its removal not in this
				// call's round: a run whose result was lost may have
				// re-created it (see readFor)
				e.call("findByOroId")
				found, ferr := e.remote.FindByOroID(ctx, pl.p.oro.ID)
				if ferr != nil {
					e.noteErr(ferr)
					e.failed(pl, ferr)
					return false, nil
				}
				if len(found) > 0 {
					f := found[0]
					pl.p.remote, pl.p.remoteS, pl.p.ours, pl.p.replaced = &f, remotePresent, true, true
					pl.p.inWindow = e.window.overlaps(f.Start, f.End)
				}
			}
		default:
			e.noteErr(err)
			e.failed(pl, err)
			return false, nil
		}
		if pl.p.remoteS == remotePresent && pl.p.remote.recurring() { // it became part of a series
			e.skipSeries(pl.p)
			return false, nil
		}
		pl.d = decide(pl.p, e.cfg)
		if pl.d.conflict != "" {
			e.res.Stats.Conflicts[pl.d.conflict]++
		}
		if pl.d.write == "" {
			e.emit(pl, nil)
			return false, nil
		}
		return true, nil
	case pl.d.write == WriteCreate && (kind == KindUnavailable || kind == KindInternal || kind == KindCancelled || kind == KindConflict):
		// the create may have happened (a 409 may be Graph refusing a
		// repeated transactionId): look before creating again
		e.call("findByOroId")
		found, err := e.remote.FindByOroID(ctx, pl.p.oro.ID)
		if err == nil && len(found) > 0 {
			f := found[0]
			e.record(pl, "done")
			e.res.Stats.Pushed++
			e.msCreated++
			e.written[f.ID] = f.ChangeKey
			e.emit(pl, &f)
			return false, nil
		}
		if err != nil {
			e.noteErr(err)
		}
		if kind == KindCancelled || ctx.Err() != nil {
			e.failed(pl, r.Err)
			return false, nil
		}
		return true, nil
	}
	e.failed(pl, r.Err)
	return false, nil
}

// settle reads the changes made since the main round — our own writes and
// whatever happened meanwhile — so that the returned deltaLink is past our
// echoes. Echoes are recognised by id and changeKey; other changes are
// planned like any other, without writing (their Oro events, if changed,
// come back next run). Failure is harmless: the old deltaLink is kept and
// the echoes are recognised by content hash next run.
func (e *engine) settle(ctx context.Context, link string) string {
	rd, err := e.round(ctx, link, e.deadline)
	if err != nil || rd.deltaLink == "" {
		return ""
	}
	for id, it := range rd.items {
		ck, ours := e.written[id]
		if ours && (it.Removed && ck == "" || !it.Removed && it.ChangeKey == ck) {
			e.res.Stats.Echoes++
			delete(rd.items, id)
		}
	}
	if len(rd.items) == 0 {
		return rd.deltaLink
	}
	// plan the rest against the Oro side as it stands after this run
	prev := e.req.Events
	replaced := make(map[string]bool, len(e.after))
	for _, a := range e.after {
		replaced[a.ID] = true
	}
	events := make([]Event, 0, len(prev))
	for _, ev := range prev {
		if !replaced[ev.ID] { // linked or not before: the event as it is after
			events = append(events, ev)
		}
	}
	for _, id := range sortedKeys(e.after) {
		if a := e.after[id]; a.ID != "" {
			events = append(events, *a)
		}
	}
	e.req.Events = events
	e.index(false)
	e.settling, e.snapshot = true, false
	advance, err := e.process(ctx, rd, false, false, false, false)
	if err != nil || !advance {
		return "" // a guard stopped deletions: the next run reads them again
	}
	return rd.deltaLink // "" when the budget left part of it undecided

}
