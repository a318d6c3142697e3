package calsync

import (
	"context"
	"slices"
)

// One round through the phases: pair, confirm, series, plan, guard, apply
// and emit. The main round and the settle round both go through process.

// roundMode says what kind of round a pass takes through the phases.
type roundMode uint8

const (
	// settleRound reads our own echoes after the main round's writes: it
	// writes nothing, pairs no Oro event without an item and is not part
	// of a snapshot.
	settleRound roundMode = iota
	// incrementalRound: the changes since the last round, with the Oro
	// events changed since.
	incrementalRound
	// fullRound: a full call (every Oro event sent) continuing an
	// incremental round.
	fullRound
	// snapshotRound: a full call reading a round that lists every
	// Microsoft event, not to its end in this call.
	snapshotRound
	// snapshotEnd: a snapshot round read to its end: the linked Oro events
	// absent from it are confirmed (see pair).
	snapshotEnd
)

// mainMode is the mode of the call's main round: full call, snapshot
// round, and read to its end (deltaLink).
func mainMode(full, snapshot, ended bool) roundMode {
	switch {
	case snapshot && ended:
		return snapshotEnd
	case snapshot:
		return snapshotRound
	case full:
		return fullRound
	}
	return incrementalRound
}

func (m roundMode) full() bool     { return m >= fullRound }
func (m roundMode) snapshot() bool { return m >= snapshotRound }

// pass is one round on its way through the phases: its mode, the Oro
// events it pairs with, the run's tally it adds to, and what its writes
// and operations leave for the settle round.
type pass struct {
	mode roundMode
	idx  *index
	t    *tally
	// written: Microsoft ids we wrote → the changeKey we left ("" for
	// deletes); the settle round recognises our echoes by it
	written map[string]string
	// after: the Oro event as it will be once the host applied our
	// operations, by Microsoft id (for the settle round); kept only when
	// keepAfter, set by dispatch when the round writes or has written Oro's
	// exceptions (no settle round follows one that does neither)
	after     map[string]*Event
	keepAfter bool
}

func newPass(idx *index, t *tally) *pass {
	return &pass{idx: idx, t: t, written: map[string]string{}, after: map[string]*Event{}}
}

// roundOut is how a round came out of process.
type roundOut struct {
	// advance: false when a guard stopped Oro-side deletions, or when the
	// budget left the round's first page undecided (the round must be
	// replayed, so its deltaLink must not be kept)
	advance bool
	// checkedTo and refused: see confirmed
	checkedTo string
	refused   int
}

// process takes one round's items through the phases. When the budget
// left later pages undecided, rd continues the round there (see confirm)
// and nothing is written. checkedFrom: the absent linked events confirmed
// by earlier calls (see State.CheckedTo).
func (e *engine) process(ctx context.Context, ps *pass, rd *roundRead, checkedFrom string) (roundOut, error) {
	writes := ps.mode != settleRound && !e.options.DryRun && rd.nextLink == ""
	if err := e.gatherSeries(ctx, rd); err != nil {
		return roundOut{}, err
	}
	pairs := e.pair(ps.idx, rd.items, ps.mode, checkedFrom)
	// people's changes, classified before confirm reads the copies
	removed, created := make([]bool, len(pairs)), make([]bool, len(pairs))
	for i, p := range pairs {
		removed[i] = p.remote != nil && p.remote.Removed && rd.items[p.remote.ID] != nil
		created[i] = p.remote != nil && !p.remote.Removed && p.oro == nil && !p.known && p.inWindow
	}
	c, err := e.confirm(ctx, pairs, rd, ps.mode, checkedFrom)
	if err != nil {
		return roundOut{}, err
	}
	writes = writes && c.cut < 0
	if ps.mode != settleRound {
		e.writeExceptions(ctx, ps, pairs, c.skip, writes)
	}
	var plan []*planned
	for i, p := range pairs {
		if c.skip[i] || e.setAside(ps, p) {
			continue
		}
		switch {
		case ps.mode.snapshot(): // counted whole
		case removed[i] && (p.remoteS == remoteGone || !p.inWindow):
			ps.t.msGone++
		case created[i]: // or changed, when its Oro event came from Microsoft 365 and was not sent
			ps.t.msNew++
		}
		plan = append(plan, &planned{p: p, d: decide(p, e.cfg)})
	}
	out := roundOut{checkedTo: c.checkedTo, refused: c.refused}
	out.advance = e.guard(plan, ps.t, ps.mode, len(ps.idx.events)-len(e.bad), writes)
	if !out.advance { // the deletions the guard stopped are confirmed again
		out.checkedTo = checkedFrom
	}
	out.advance = out.advance && c.cut != 0
	return out, e.execute(ctx, ps, e.dispatch(ps, plan, writes))
}

// dispatch emits what needs no write and returns the writes to send.
func (e *engine) dispatch(ps *pass, plan []*planned, writes bool) []*planned {
	// a settle round follows when anything was written: the plan's writes,
	// or Oro's exceptions, written before it (writeExceptions)
	ps.keepAfter = len(ps.written) > 0 || writes && !e.options.DryRun && slices.ContainsFunc(plan, func(pl *planned) bool { return pl.d.write != "" })
	var queue []*planned
	for _, pl := range plan {
		if pl.d.conflict != "" {
			e.res.Stats.Conflicts[string(pl.d.conflict)]++
		}
		switch {
		case pl.d.write == "":
			e.emit(ps, pl, nil)
		case e.options.DryRun:
			e.record(pl, "planned")
			if pl.d.pull != "" { // the Oro half of the decision, as planned
				e.emit(ps, pl, nil)
			}
		case !writes:
			// read only part of a round: the write waits for the next call
			// (the Oro event is sent again)
			if ps.mode != settleRound {
				e.postpone(ps, pl, Issue{Kind: KindUnavailable, Reason: ReasonTimeBudget, Message: "not written: the time budget ran out; it is written next run"})
			}
		default:
			queue = append(queue, pl)
		}
	}
	return queue
}
