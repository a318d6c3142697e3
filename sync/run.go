package calsync

import (
	"context"
	"errors"
	"fmt"
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
	e := &engine{remote: remote, opts: opts, options: req.Options, prev: req.State, start: opts.Now(), series: map[Issue]bool{}}
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
	e.cfg = planConfig{dir: eff.Direction, strategy: e.res.Settings.ConflictStrategy(), now: e.start, writeWho: eff.WriteAttendees}
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
	e.timeZone = req.TimeZone
	e.zone, e.zoneOK = allDayZone(req.TimeZone)
	e.bad = e.screen(req.Events)
	e.takeExceptions(req.Events, e.bad)
	e.screenSeries(req.Events, e.bad)
	e.screenZone(req.Events, e.bad)
	ctx, cancel := context.WithTimeoutCause(ctx, budget, errBudget)
	defer cancel()
	e.budget = ctx
	if err := e.run(ctx, req.Mode, req.Events); err != nil {
		return Result{}, err
	}
	// what the host stores must be valid as its next call's state (links
	// from Microsoft were checked as they came in: this is a last guard)
	if st := e.res.State; st != nil && st != req.State {
		st.Sent = e.mailboxSent()
		if err := st.validate(opts.CheckLink); err != nil {
			return Result{}, &Error{Kind: KindInternal, Op: "sync.run", Message: "the run made a state that is not valid as the next call's", Err: err}
		}
	}
	return e.finish(), nil
}

// engine holds what stays the same for a whole run (its inputs, clock,
// budget and settings) and the result the run builds. What a phase finds
// goes to the next one as a value: roundRead (read), index and pairInput
// (pair), confirmed (confirm), planned (plan, guard), the pass with its
// tally (apply, emit, settle) and roundEnd (nextState).
type engine struct {
	remote  Remote
	opts    RunOptions
	cfg     planConfig
	options Options // the request's switches
	// timeZone is the request's IANA zone; zone its Windows name, in which
	// all-day events are written (zoneOK false: it has none)
	timeZone, zone string
	zoneOK         bool
	prev           *State // the request's state; nil on a first call
	window         Window
	start          time.Time
	// deadline: the budget's end (Remote calls end then); halfway: the
	// main delta round stops reading pages after this
	deadline, halfway time.Time
	// budget is the run's context: it ends with the budget
	budget context.Context
	// lastRunAt is when the previous run ended (state.lastRunAt): its
	// writes are older
	lastRunAt time.Time
	// bad: the Oro ids of the request's invalid events (see screen)
	bad map[string]bool

	// the result, built by the phases
	res        Result
	partial    Reason // why the run is partial ("" when it is not)
	retryAfter time.Duration
	// series: the issues reported for recurring series (see skipSeries)
	series map[Issue]bool
	// exc: the Oro exceptions of the request by their master's Oro id,
	// written by writeExceptions; excIDs their ids; sent: every event of
	// the request by id
	exc    map[string][]*Event
	excIDs map[string]bool
	sent   map[string]*Event
}

// screen leaves the events whose content is invalid out of the run, each
// with an issue naming the field, and returns their ids; the others are
// synchronized. An invalid event stays in the indexes: its Microsoft copy
// pairs with it and is then left alone (pair drops the pair), instead of
// pairing with nothing and overwriting the event (a pull or an upsert).
func (e *engine) screen(events []Event) map[string]bool {
	bad := map[string]bool{}
	for i, ev := range events {
		if err := ev.invalid(); err != nil {
			bad[ev.ID] = true
			e.res.Issues = append(e.res.Issues, Issue{OroID: ev.ID, Kind: KindInvalidInput, Reason: ReasonInvalidEvent,
				Message: Invalid(fmt.Sprintf("events[%d].%s", i, err.field), "%s", err.msg).Error()})
		}
	}
	return bad
}

func (e *engine) finish() Result {
	now := e.opts.Now()
	e.res.Stats.DurationMs = now.Sub(e.start).Milliseconds()
	if rc, ok := e.remote.(RequestCounter); ok && e.res.Status != StatusSkipped {
		e.res.Stats.GraphRequests = rc.GraphRequests()
	}
	interval := time.Duration(e.res.Settings.Effective.SyncIntervalMinutes) * time.Minute
	e.res.NextSyncAt = nextSyncAt(now, interval, e.res.Status, e.res.Reason, e.retryAfter)
	return e.res
}

// mailboxSent is what the new state carries of the mailbox's request
// limit: the requests the Remote counts (see RequestLedger), or those the
// call was given when it keeps no ledger, as far as they count at the
// call's end.
func (e *engine) mailboxSent() []SentMinute {
	now := e.opts.Now()
	if l, ok := e.remote.(RequestLedger); ok {
		return SentWithin(l.SentRequests(), now)
	}
	if e.prev != nil {
		return SentWithin(e.prev.Sent, now)
	}
	return nil
}

func (e *engine) call(kind string) { e.res.Stats.Calls[kind]++ }

func (e *engine) noteErr(err error) {
	if ae := AsError(err); ae != nil && ae.RetryAfter > e.retryAfter {
		e.retryAfter = ae.RetryAfter
	}
}

// waitsPastBudget reports whether err asks to wait (its RetryAfter) until
// after the budget's end.
func (e *engine) waitsPastBudget(err error) bool {
	ae := AsError(err)
	return ae != nil && ae.RetryAfter > 0 && !e.opts.Now().Add(ae.RetryAfter).Before(e.deadline)
}

func (e *engine) overBudget() bool { return !e.opts.Now().Before(e.deadline) }

// timeUp reports that the budget is spent, by the clock or because the
// run's context ended with it.
func (e *engine) timeUp() bool {
	return e.overBudget() || context.Cause(e.budget) == errBudget
}

// needFull answers that the next call must be a full one.
func (e *engine) needFull(st State, events []Event) {
	st.V, st.Window, st.NeedsFull, st.DeltaLink, st.NextLink = StateVersion, e.window, true, "", ""
	e.unsynced(st, events, Issue{Kind: KindResyncRequired, Reason: ReasonResyncRequired, Message: "not synced: Microsoft 365 change tracking must be rebuilt; call again with mode full"})
}

// unsynced answers partial with st (reason is's), every event of the
// request pending with an issue like is.
func (e *engine) unsynced(st State, events []Event, is Issue) {
	e.res.Status, e.res.Reason, e.res.State = StatusPartial, is.Reason, &st
	is.Retryable = true
	for _, ev := range events { // nothing was synced: all stay pending
		if e.bad[ev.ID] && !e.excIDs[ev.ID] {
			continue // its invalid_event issue
		}
		is.OroID = ev.ID
		e.res.Issues = append(e.res.Issues, is)
	}
}

// outOfTime answers a call whose budget ran out before it read anything:
// the state does not move (a full round starts again).
func (e *engine) outOfTime(st State, fresh bool, events []Event) {
	if fresh {
		st = State{OroCount: st.OroCount, MicrosoftCount: st.MicrosoftCount, NeedsFull: true}
	}
	st.V, st.Window, st.LastRunAt = StateVersion, e.window, e.opts.Now()
	// Microsoft's Retry-After, if it asked to back off, is why the budget
	// ran out
	e.unsynced(st, events, Issue{Kind: KindUnavailable, Reason: ReasonTimeBudget, Message: "not synced: the time budget ran out; call again",
		RetryAfterMs: e.retryAfter.Milliseconds()})
}

// run reads the call's delta round, takes it through the phases (process),
// settles our echoes, and builds the next state from what the round
// found (nextState).
func (e *engine) run(ctx context.Context, mode Mode, events []Event) error {
	var st State
	if e.prev != nil {
		st = *e.prev
	}
	full := mode == ModeFull
	link, fresh, ok := e.roundLink(st, full, events)
	if !ok {
		return nil
	}
	// this call continues a round an earlier call began: a full round keeps
	// matching by UID (a continued full round is always a full call, see
	// roundLink), and the guard counts the deletions already returned
	continued := !fresh && st.NextLink != "" && link == st.NextLink
	ps := newPass(newIndex(events, e.bad, full), &tally{})
	checkedTo := ""
	if continued {
		ps.t.carried = st.RoundOroDeletes
		if st.FullRound {
			checkedTo = st.CheckedTo
		}
	}

	rd, err := e.readRound(ctx, link, e.halfway)
	if KindOf(err) == KindResyncRequired {
		if !full {
			e.needFull(st, events)
			return nil
		}
		fresh, continued, ps.t.carried = true, false, 0
		rd, err = e.readRound(ctx, "", e.halfway)
	}
	// a snapshot round lists every event (it starts with this call, or
	// this call continues one): its items are counted instead of the
	// changes, from zero or on from the earlier calls of the round
	ps.mode = mainMode(full, fresh || continued && st.FullRound, rd.deltaLink != "")
	if !fresh {
		ps.t.msBase = st.MicrosoftCount
	}
	var out roundOut
	if err == nil {
		out, err = e.process(ctx, ps, rd, checkedTo)
	}
	if errors.Is(err, errBudget) {
		e.outOfTime(st, fresh, events)
		return nil
	}
	if err != nil {
		return err
	}
	end := roundEnd{window: e.window, at: e.opts.Now(), fresh: fresh, continued: continued, full: full,
		snapshot: ps.mode.snapshot(), advance: out.advance, checkedTo: out.checkedTo, refused: out.refused,
		nextLink: rd.nextLink, deltaLink: rd.deltaLink, oroEventCount: e.options.OroEventCount}
	if out.advance && len(ps.written) > 0 && !e.overBudget() {
		if settled := e.settle(ctx, rd.deltaLink, events, ps); settled != "" {
			end.deltaLink = settled
		}
	}
	end.present, end.oroLinked = countPresent(rd.items), e.linked(events)
	if e.options.DryRun {
		e.res.State = e.prev
	} else {
		next := nextState(st, *ps.t, end)
		e.res.State = &next
		if out.advance && rd.nextLink != "" && out.refused < 0 {
			e.partial = ReasonTimeBudget // the round goes on next call
		}
	}
	e.res.Status = StatusCompleted
	if e.partial != "" {
		e.res.Status, e.res.Reason = StatusPartial, e.partial
	}
	return nil
}

// roundLink says where the call's delta round starts: link ("" for a new
// round; fresh then). Without a state that allows the call (a first call,
// a changed window, a full round under way for an incremental call), it
// answers the call itself and reports false.
func (e *engine) roundLink(st State, full bool, events []Event) (link string, fresh, ok bool) {
	sameWindow := e.prev != nil && st.Window.Start.Equal(e.window.Start) && st.Window.End.Equal(e.window.End)
	if !full && sameWindow && st.FullRound && st.NextLink != "" {
		// a full round split over calls goes on with every event: the
		// call that reads its end checks the linked ones for absence
		st.NeedsFull = true
		e.unsynced(st, events, Issue{Kind: KindResyncRequired, Reason: ReasonResyncRequired, Message: "not synced: a full synchronization is under way; call again with mode full"})
		return "", false, false
	}
	if !full && (!sameWindow || st.NeedsFull || st.DeltaLink == "" && st.NextLink == "") {
		e.needFull(st, events)
		return "", false, false
	}
	switch {
	case sameWindow && st.NextLink != "":
		return st.NextLink, false, true
	case !full:
		return st.DeltaLink, false, true
	}
	return "", true, true
}

// linked counts the linked Oro events among events, live and valid.
func (e *engine) linked(events []Event) int {
	n := 0
	for _, ev := range events {
		if !ev.Deleted && ev.Link != nil && !e.bad[ev.ID] {
			n++
		}
	}
	return n
}
