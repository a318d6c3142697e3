package calsync

import (
	"context"
	"fmt"
	"strings"
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
	e := &engine{req: req, remote: remote, opts: opts, start: opts.Now()}
	e.res = Result{
		Operations: []Operation{},
		Issues:     []Issue{},
		Settings:   Resolve(req.Cascade),
		Stats:      Stats{Calls: map[string]int{}, Conflicts: map[string]int{}},
	}
	eff := e.res.Settings.Effective
	e.cfg = planConfig{dir: eff.Direction, strategy: e.res.Settings.ConflictStrategy()}
	budget := DefaultTimeBudget
	if req.Options.TimeBudgetSeconds > 0 {
		budget = time.Duration(req.Options.TimeBudgetSeconds) * time.Second
	}
	e.deadline = e.start.Add(budget)
	e.window = DefaultWindow(e.start)
	if req.Window != nil {
		e.window = *req.Window
	}
	if !eff.Enabled {
		e.res.Status, e.res.Reason = StatusSkipped, ReasonDisabled
		e.res.State = req.State
		return e.finish(), nil
	}
	if err := e.run(ctx); err != nil {
		return Result{}, err
	}
	return e.finish(), nil
}

type engine struct {
	req      Request
	remote   Remote
	opts     RunOptions
	cfg      planConfig
	window   Window
	start    time.Time
	deadline time.Time
	res      Result

	retryAfter time.Duration
	oroC       []content
	byRemote   map[string]int // link.RemoteID → index in req.Events
	byTx       map[string]int // transactionId → unlinked Oro event
	byOroID    map[string]int // Oro id → unlinked Oro event
	byUID      map[string]int // uid → unlinked Oro event (full mode)
	used       map[int]bool   // Oro events already paired
	// written: Microsoft ids we wrote in this run → the changeKey we left
	// ("" for deletes); the settle round recognises our echoes by it.
	written map[string]string
	// after: the Oro event as it will be once the host applied our
	// operations, by Microsoft id (for the settle round).
	after map[string]*Event
	// counts of our effects, for the state's guard bases
	msCreated, msDeleted, oroCreated, oroDeleted int
	partial                                      Reason
	settling                                     bool // in the settle round
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

// needFull answers that the next call must be a full one.
func (e *engine) needFull(st State, reason Reason) {
	st.V, st.Window, st.NeedsFull, st.DeltaLink, st.NextLink = StateVersion, e.window, true, "", ""
	e.res.Status, e.res.Reason, e.res.State = StatusPartial, reason, &st
	for _, ev := range e.req.Events { // nothing was synced: all stay pending
		e.res.Issues = append(e.res.Issues, Issue{OroID: ev.ID, Kind: KindResyncRequired, Retryable: true, Reason: reason,
			Message: "not synced: Microsoft 365 change tracking must be rebuilt; call again with mode full"})
	}
}

func (e *engine) run(ctx context.Context) error {
	var st State
	if e.req.State != nil {
		st = *e.req.State
	}
	sameWindow := e.req.State != nil && st.Window.Start.Equal(e.window.Start) && st.Window.End.Equal(e.window.End)
	full := e.req.Mode == ModeFull
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
	// a full round continued by a later call keeps matching by UID
	fullRound := full || (link == st.NextLink && st.NextLink != "" && st.FullRound)
	e.index(fullRound)

	items, deltaLink, nextLink, err := e.round(ctx, link)
	if KindOf(err) == KindResyncRequired {
		if !full {
			e.needFull(st, ReasonResyncRequired)
			return nil
		}
		fresh = true
		items, deltaLink, nextLink, err = e.round(ctx, "")
	}
	if err != nil {
		return err
	}
	complete := fresh && deltaLink != ""
	writes := !e.req.Options.DryRun && nextLink == ""
	advance, err := e.process(ctx, items, full, complete, writes, true)
	if err != nil {
		return err
	}

	newState := State{V: StateVersion, Window: e.window, DeltaLink: st.DeltaLink, LastRunAt: e.opts.Now()}
	newState.MicrosoftCount, newState.OroCount = st.MicrosoftCount, st.OroCount
	if complete {
		newState.MicrosoftCount = countPresent(items)
	}
	if full {
		newState.OroCount = 0
		for _, ev := range e.req.Events {
			if !ev.Deleted {
				newState.OroCount++
			}
		}
	} else if e.req.Options.OroEventCount > 0 {
		newState.OroCount = e.req.Options.OroEventCount
	}
	newState.MicrosoftCount = max(0, newState.MicrosoftCount+e.msCreated-e.msDeleted)
	newState.OroCount = max(0, newState.OroCount+e.oroCreated-e.oroDeleted)

	switch {
	case e.req.Options.DryRun:
		e.res.State = e.req.State
	case nextLink != "":
		newState.NextLink, newState.FullRound = nextLink, fullRound
		e.partial = ReasonTimeBudget
		e.res.State = &newState
	case !advance: // a guard stopped deletions pulled from this round: replay it next run
		newState.NextLink = st.NextLink
		e.res.State = &newState
	default:
		newState.DeltaLink = deltaLink
		if len(e.written) > 0 && !e.overBudget() {
			if dl, ok := e.settle(ctx, deltaLink); ok {
				newState.DeltaLink = dl
			}
		}
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
		if !it.Removed {
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
	e.byOroID = make(map[string]int)
	e.byUID = make(map[string]int)
	e.used = make(map[int]bool)
	e.written = map[string]string{}
	e.after = map[string]*Event{}
	for i := range e.req.Events {
		ev := &e.req.Events[i]
		if !ev.Deleted {
			e.oroC[i], _ = parseContent(*ev) // Validate accepted it
		}
		if ev.Link != nil {
			e.byRemote[ev.Link.RemoteID] = i
			e.byTx[TransactionID(ev.ID, ev.UID, ev.Link.RemoteID)] = i // a re-creation
			continue
		}
		e.byTx[TransactionID(ev.ID, ev.UID, "")] = i
		e.byOroID[ev.ID] = i
		if full && ev.UID != "" && !ev.Deleted {
			e.byUID[ev.UID] = i
		}
	}
}

// round reads one delta round from link ("" for a new round). It stops at
// the deltaLink, or when the time budget runs out (nextLink returned), and
// fails on a round that does not end (endless nextLinks).
func (e *engine) round(ctx context.Context, link string) (items map[string]*RemoteEvent, deltaLink, nextLink string, err error) {
	items = map[string]*RemoteEvent{}
	var lastSig string
	repeats := 0
	for page := 0; ; page++ {
		if page >= e.opts.MaxDeltaPages {
			return nil, "", "", &Error{Kind: KindUnavailable, Op: "sync.delta", Message: fmt.Sprintf("the delta round did not end after %d pages", page)}
		}
		if page > 0 && e.overBudget() {
			return items, "", link, nil
		}
		e.call("delta")
		p, err := e.remote.Delta(ctx, e.window, link)
		if err != nil {
			e.noteErr(err)
			return nil, "", "", err
		}
		var sig strings.Builder
		for i := range p.Events {
			ev := p.Events[i]
			sig.WriteString(ev.ID + "/" + ev.ChangeKey + ";")
			items[ev.ID] = &ev // later occurrences replace earlier ones
		}
		if s := sig.String(); s != "" && s == lastSig {
			// the same non-empty page again under a new nextLink: a known
			// service bug that never ends
			if repeats++; repeats >= 3 {
				return nil, "", "", &Error{Kind: KindUnavailable, Op: "sync.delta", Message: "the delta round repeats the same page"}
			}
		} else {
			lastSig, repeats = s, 0
		}
		if p.DeltaLink != "" {
			return items, p.DeltaLink, "", nil
		}
		if p.NextLink == "" || p.NextLink == link {
			return nil, "", "", &Error{Kind: KindUnavailable, Op: "sync.delta", Message: "a delta page carried neither a new nextLink nor a deltaLink"}
		}
		link = p.NextLink
	}
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
	// Our own creates first (by Oro id or transactionId): they take
	// precedence over the link of an event whose old copy was deleted.
	for _, id := range ids {
		it, p := items[id], pairs[id]
		if it.Removed {
			continue
		}
		i, ok := e.byOroID[it.OroID]
		if !ok || it.OroID == "" {
			i, ok = e.byTx[it.TransactionID]
			ok = ok && it.TransactionID != ""
		}
		if ok && !e.used[i] {
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
		}
	}
	out := make([]*pairInput, 0, len(ids))
	for _, id := range ids {
		if p, ok := pairs[id]; ok {
			out = append(out, p)
		}
	}
	for i := range e.req.Events {
		if e.used[i] || !unmatched {
			continue
		}
		ev := &e.req.Events[i]
		p := &pairInput{oro: ev, oroC: e.oroC[i], remoteS: remoteUnknown}
		if ev.Link != nil && full && complete {
			p.remote = &RemoteEvent{ID: ev.Link.RemoteID, Removed: true} // absent from the full snapshot: confirm
		}
		out = append(out, p)
	}
	return out
}

// confirm resolves what the delta round left open with Get: a removal may
// be a deletion or a move out of the window, and some Oro edits need the
// Microsoft copy to decide.
func (e *engine) confirm(ctx context.Context, p *pairInput) error {
	need := p.remote != nil && p.remote.Removed && (p.oro != nil || e.cfg.dir.Pulls())
	if p.remoteS == remoteUnknown && p.remote == nil && p.link() != nil && !p.oro.Deleted && p.oroC.hash() != p.link().Hash {
		// an Oro edit that will not be pushed (microsoft_to_oro, or an event
		// we do not organize): Microsoft's copy decides
		need = !e.cfg.dir.Pushes() || p.link().ReadOnly
	}
	if !need {
		if p.remote != nil && p.remote.Removed {
			p.remote, p.remoteS = nil, remoteGone
		}
		return nil
	}
	id := remoteIDOf(p.link(), p.remote)
	e.call("get")
	r, err := e.remote.Get(ctx, id)
	switch KindOf(err) {
	case "":
		p.remote, p.remoteS = &r, remotePresent
		p.inWindow = e.window.overlaps(r.Start, r.End)
	case KindNotFound:
		p.remote, p.remoteS = &RemoteEvent{ID: id}, remoteGone
	default:
		e.noteErr(err)
		return err
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
// It reports false when a guard stopped Oro-side deletions (the round must
// be replayed, so its deltaLink must not be kept).
func (e *engine) process(ctx context.Context, items map[string]*RemoteEvent, full, complete, writes, unmatched bool) (bool, error) {
	pairs := e.pair(items, full, complete, unmatched)
	var plan []*planned
	for _, p := range pairs {
		if err := e.confirm(ctx, p); err != nil {
			return false, err
		}
		d := decide(p, e.cfg)
		plan = append(plan, &planned{p: p, d: d})
	}
	advance := e.guard(plan, full, complete)
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
			if pl.d.pull == OpDelete { // a delete needs no link
				e.emit(pl, nil)
			}
		case !writes:
			// read only part of a round: the write waits for the next call
			// (the Oro event keeps its old link and is sent again)
			if !e.settling {
				e.issue(pl, Issue{Kind: KindUnavailable, Reason: ReasonTimeBudget, Message: "not written: the time budget ran out; it is written next run"})
			}
		default:
			queue = append(queue, pl)
		}
	}
	return advance, e.execute(ctx, queue)
}

// guard applies the mass-delete guard to both sides.
func (e *engine) guard(plan []*planned, full, complete bool) bool {
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
	msTotal := st.MicrosoftCount
	if complete {
		msTotal = 0
		for _, pl := range plan {
			if pl.p.remoteS == remotePresent {
				msTotal++
			}
		}
		msTotal += msDel
	}
	oroTotal := st.OroCount
	if full {
		oroTotal = len(e.req.Events)
	} else if e.req.Options.OroEventCount > 0 {
		oroTotal = e.req.Options.OroEventCount
	}
	trips := func(n, total int) bool {
		return n >= MassDeleteMinimum && float64(n) > thr*float64(max(total, n))
	}
	advance := true
	stop := func(side string, n, total int, match func(*planned) bool, clear func(*planned)) {
		e.res.Guards = append(e.res.Guards, GuardReport{Side: side, Deletes: n, Total: total, Threshold: thr})
		for _, pl := range plan {
			if match(pl) {
				clear(pl)
				pl.d.issue = &Issue{Kind: KindForbidden, Reason: ReasonMassDeleteGuard,
					Message: fmt.Sprintf("not deleted in %s: this run would delete %d of %d events there; pass allowMassDelete to confirm", sideName(side), n, total)}
			}
		}
		if e.partial == "" {
			e.partial = ReasonMassDeleteGuard
		}
	}
	if trips(msDel, msTotal) {
		stop("microsoft", msDel, msTotal, func(pl *planned) bool { return pl.d.write == WriteDelete }, func(pl *planned) { pl.d = decision{} })
	}
	if trips(oroDel, oroTotal) {
		advance = false
		stop("oro", oroDel, oroTotal, func(pl *planned) bool { return pl.d.pull == OpDelete }, func(pl *planned) { pl.d = decision{} })
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

// fail reports a write that did not happen. When the Microsoft copy is one
// an unrecorded run created, the host still gets its link, so that the
// association survives (the Oro event stays pending and is written next run).
func (e *engine) fail(pl *planned, is Issue) {
	e.record(pl, "failed")
	e.issue(pl, is)
	if pl.p.ours && pl.p.remoteS == remotePresent && pl.p.link() == nil {
		e.emit(&planned{p: pl.p, d: decision{relink: true, target: remoteContent(pl.p.remote), reason: ReasonRecovered}}, nil)
	}
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
	cur := written
	if cur == nil && pl.p.remoteS == remotePresent {
		cur = pl.p.remote
	}
	var link *Link
	if cur != nil && d.write != WriteDelete {
		link = newLink(cur, d.target, e.opts.Now())
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
		ev.UID = cur.ICalUID
		if pl.p.oro != nil {
			ev.ID, ev.UID = pl.p.oro.ID, pl.p.oro.UID
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
	if d.pull != "" {
		e.res.Stats.Pulled++
	}
	if op.Link != nil {
		e.after[op.Link.RemoteID] = afterEvent(pl.p.oro, op.Link, d.target)
	}
	var tag string
	if op.Link != nil {
		tag = op.Link.ChangeKey + "/" + op.Link.Hash
	}
	op.Key = shortHash(string(op.Op) + "|" + op.OroID + "|" + op.RemoteID + "|" + tag)
	e.res.Operations = append(e.res.Operations, op)
}

// afterEvent is the Oro event as the host will hold it after applying op.
func afterEvent(oro *Event, l *Link, c content) *Event {
	ev := c.event()
	if oro != nil {
		ev.ID, ev.UID, ev.UpdatedAt = oro.ID, oro.UID, oro.UpdatedAt
	}
	ev.Link = l
	return &ev
}

// execute sends the queued writes in chunks, re-deciding after 412 and 404
// and looking up ambiguous creates before trying them again.
func (e *engine) execute(ctx context.Context, queue []*planned) error {
	const maxAttempts = 3
	for len(queue) > 0 {
		var retry []*planned
		for len(queue) > 0 {
			if e.overBudget() {
				for _, pl := range queue {
					e.record(pl, "not_attempted")
					e.issue(pl, Issue{Kind: KindUnavailable, Reason: ReasonTimeBudget, Message: "not written: the time budget ran out; it is written next run"})
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
		switch KindOf(err) {
		case KindReconnectRequired, KindConsentRequired, KindCancelled:
			return nil, err
		}
		for _, pl := range chunk {
			e.fail(pl, Issue{Kind: KindOf(err), Reason: ReasonWriteFailed, Message: AsError(err).Error()})
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
	for _, pl := range chunk {
		if !seen[writes[indexOf(chunk, pl)].Key] {
			e.fail(pl, Issue{Kind: KindUnavailable, Reason: ReasonWriteFailed, Message: "no result for this write"})
		}
	}
	return retry, nil
}

func indexOf(chunk []*planned, pl *planned) int {
	for i, c := range chunk {
		if c == pl {
			return i
		}
	}
	return -1
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
	case kind == KindConflict || kind == KindNotFound && pl.d.write != WriteCreate:
		// the Microsoft copy moved on (412) or is gone (404): read it and decide again
		id := pl.remoteID()
		e.call("get")
		cur, err := e.remote.Get(ctx, id)
		switch KindOf(err) {
		case "":
			pl.p.remote, pl.p.remoteS = &cur, remotePresent
		case KindNotFound:
			pl.p.remote, pl.p.remoteS = &RemoteEvent{ID: id}, remoteGone
		default:
			e.noteErr(err)
			e.fail(pl, Issue{Kind: KindOf(err), Reason: ReasonWriteFailed, Message: AsError(err).Error()})
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
	case pl.d.write == WriteCreate && (kind == KindUnavailable || kind == KindInternal || kind == KindCancelled):
		// the create may have happened: look before creating again
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
			e.fail(pl, Issue{Kind: kind, Reason: ReasonWriteFailed, Message: AsError(r.Err).Error()})
			return false, nil
		}
		return true, nil
	}
	e.fail(pl, Issue{Kind: kind, Reason: ReasonWriteFailed, Message: AsError(r.Err).Error()})
	return false, nil
}

// settle reads the changes made since the main round — our own writes and
// whatever happened meanwhile — so that the returned deltaLink is past our
// echoes. Echoes are recognised by id and changeKey; other changes are
// planned like any other, without writing (their Oro events, if changed,
// come back next run). Failure is harmless: the old deltaLink is kept and
// the echoes are recognised by content hash next run.
func (e *engine) settle(ctx context.Context, link string) (string, bool) {
	items, dl, _, err := e.round(ctx, link)
	if err != nil || dl == "" {
		return "", false
	}
	for id, it := range items {
		ck, ours := e.written[id]
		if ours && (it.Removed && ck == "" || !it.Removed && it.ChangeKey == ck) {
			e.res.Stats.Echoes++
			delete(items, id)
		}
	}
	if len(items) == 0 {
		return dl, true
	}
	// plan the rest against the Oro side as it stands after this run
	prev := e.req.Events
	events := make([]Event, 0, len(prev))
	for _, ev := range prev {
		if ev.Link != nil {
			if a, ok := e.after[ev.Link.RemoteID]; ok && a.ID == ev.ID {
				continue
			}
		}
		events = append(events, ev)
	}
	for _, id := range sortedKeys(e.after) {
		if a := e.after[id]; a.ID != "" {
			events = append(events, *a)
		}
	}
	e.req.Events = events
	e.index(false)
	e.settling = true
	if _, err := e.process(ctx, items, false, false, false, false); err != nil {
		return "", false
	}
	return dl, true
}
