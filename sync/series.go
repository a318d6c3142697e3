package calsync

import "cmp"

// Recurring series: the one place where the engine recognises them. Series
// are not synchronized yet (see CONFLICTS.md): a part of a series is set
// aside wherever a round or a write shows one, never pulled, written or
// counted.

// recurring reports a part of a recurring series: its master, an
// occurrence or an exception.
func (r *RemoteEvent) recurring() bool {
	switch r.Type {
	case "seriesMaster", "occurrence", "exception":
		return true
	}
	return false
}

// series names the recurring series r belongs to: its master's id.
func (r *RemoteEvent) series() string { return cmp.Or(r.SeriesMasterID, r.ID) }

// setAside reports whether p's Microsoft copy, present, is part of a
// recurring series; if so it is reported once (skipSeries) and p goes no
// further.
func (e *engine) setAside(ps *pass, p *pairInput) bool {
	if p.remoteS != remotePresent || !p.remote.recurring() {
		return false
	}
	e.skipSeries(ps, p)
	return true
}

// skipSeries reports a part of a recurring series: one issue per series
// (and per Oro event paired with it) in a run, however many of its
// occurrences the run read. An Oro event deleted since its copy became part
// of a series drops its link: the series stays in Microsoft 365.
func (e *engine) skipSeries(ps *pass, p *pairInput) {
	if p.oro != nil && p.oro.Deleted && p.link() != nil {
		e.emit(ps, &planned{p: p, d: decision{unlink: true, reason: ReasonRecurring}}, nil)
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

// countPresent counts the round's items present, the parts of series left
// out: the Microsoft-side count of a snapshot round.
func countPresent(items map[string]*RemoteEvent) int {
	n := 0
	for _, it := range items {
		if !it.Removed && !it.recurring() {
			n++
		}
	}
	return n
}
