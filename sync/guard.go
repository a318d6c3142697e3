package calsync

import "fmt"

// The guard phase: the mass-delete guard, judged on the counts of a tally.

// Side names one side of the synchronization.
type Side string

// The sides.
const (
	SideOro       Side = "oro"
	SideMicrosoft Side = "microsoft"
)

// name is the side as messages name it.
func (s Side) name() string {
	if s == SideOro {
		return "Oro"
	}
	return "Microsoft 365"
}

// tally counts what a run saw and did on each side: the base of the
// mass-delete guard and of the counts the next state keeps (see nextState).
// The main round and the settle round add to the same tally.
type tally struct {
	// msBase is the Microsoft-side count the run starts from (0 for a
	// snapshot round read from its start, whose items are counted)
	msBase int
	// carried: Oro-side deletions returned by the earlier calls of the
	// round this call continues (the guard judges a round as a whole)
	carried int
	// our effects: Microsoft events created and deleted by our writes,
	// Oro events created and deleted by our operations
	msCreated, msDeleted, oroCreated, oroDeleted int
	// changes made by people that this run saw, for the guard bases of
	// incremental rounds: events created and deleted (or moved out of the
	// window) in Microsoft 365, Oro events created and deleted in Oro
	msNew, msGone, oroNew, oroGone int
}

// guard applies the mass-delete guard to both sides of a round's plan. The
// Oro side counts the whole round: the deletions returned by earlier calls
// of a round split by the time budget and by the main round of a settle
// round count too. The Microsoft side is judged only where writes happen (a
// round's last call). It reports false when it stopped Oro-side deletions.
func (e *engine) guard(plan []*planned, t *tally, mode roundMode, oroEvents int, writes bool) bool {
	if e.options.AllowMassDelete {
		return true
	}
	thr := e.options.MassDeleteThreshold
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
	msTotal := t.msBase
	if mode.snapshot() {
		for _, pl := range plan {
			if pl.p.remoteS == remotePresent {
				msTotal++
			}
		}
		msTotal += msDel
	}
	oroTotal := 0
	switch {
	case mode.full():
		oroTotal = oroEvents
	case e.options.OroEventCount > 0:
		oroTotal = e.options.OroEventCount
	case e.prev != nil:
		oroTotal = e.prev.OroCount
	}
	// what earlier calls of this round deleted was part of the base; the
	// counts come from the host, which Validate keeps from being negative:
	// the guard never counts below zero all the same
	done := max(0, t.carried) + t.oroDeleted
	oroTotal = max(0, oroTotal) + max(0, t.carried)
	msTotal = max(0, msTotal)
	advance := true
	if writes && trips(msDel, msTotal, thr) {
		e.stopDeletes(plan, SideMicrosoft, msDel, msTotal, thr)
	}
	if oroDel > 0 && trips(done+oroDel, oroTotal, thr) {
		advance = false
		e.stopDeletes(plan, SideOro, done+oroDel, oroTotal, thr)
	}
	return advance
}

// trips reports n deletions of total over the threshold thr.
func trips(n, total int, thr float64) bool {
	return n >= MassDeleteMinimum && float64(n) > thr*float64(max(total, n))
}

// stopDeletes turns the plan's deletions on side into issues, and reports
// the guard.
func (e *engine) stopDeletes(plan []*planned, side Side, n, total int, thr float64) {
	e.res.Guards = append(e.res.Guards, GuardReport{Side: side, Deletes: n, Total: total, Threshold: thr})
	for _, pl := range plan {
		if side == SideMicrosoft && pl.d.write == WriteDelete || side == SideOro && pl.d.pull == OpDelete {
			pl.d = keepPair(pl.p) // a tombstone keeps its copy of ours
			pl.d.issue = &Issue{Kind: KindForbidden, Reason: ReasonMassDeleteGuard,
				Message: fmt.Sprintf("not deleted in %s: this run would delete %d of %d events there; pass allowMassDelete to confirm", side.name(), n, total)}
		}
	}
	if e.partial == "" {
		e.partial = ReasonMassDeleteGuard
	}
}
