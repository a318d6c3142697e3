package calsync

import (
	"cmp"
	"time"
)

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

// validateSeries checks the series fields of an Oro event (p names it).
func (e *Event) validateSeries(p string) error {
	if e.Recurrence != nil {
		if err := e.Recurrence.Validate(p + ".recurrence"); err != nil {
			return err
		}
		if e.RecurringEventID != "" {
			return Invalid(p+".recurringEventId", "must be absent on a series master (the event has a recurrence)")
		}
	}
	if e.RecurringEventID == "" {
		if e.OriginalStart != "" || e.IsCancelled {
			return Invalid(p+".recurringEventId", "is required with originalStart and isCancelled (they describe an exception of a series)")
		}
		return nil
	}
	if _, err := time.Parse(time.RFC3339, e.OriginalStart); err != nil {
		return Invalid(p+".originalStart", "must be an RFC 3339 date-time with an offset (the occurrence the exception replaces), got %q", e.OriginalStart)
	}
	return nil
}

// seriesPart reports an Oro series master or exception.
func (e *Event) seriesPart() bool { return e.Recurrence != nil || e.RecurringEventID != "" }

// screenSeries leaves Oro series masters and exceptions out of the run, as
// screen does with invalid events, each with its issue: series are not
// written to Microsoft 365 yet, and writing a master as the single event it
// starts with would be wrong. Its Microsoft copy, if any (an event linked
// before it became a series), is left alone too, so nothing is duplicated.
// Tombstones go on: a deleted event carries no series fields.
func (e *engine) screenSeries(events []Event, bad map[string]bool) {
	for _, ev := range events {
		if ev.Deleted || !ev.seriesPart() || bad[ev.ID] {
			continue
		}
		bad[ev.ID] = true
		what := "a recurring series"
		if ev.RecurringEventID != "" {
			what = "an exception of a recurring series"
		}
		e.res.Issues = append(e.res.Issues, Issue{OroID: ev.ID, Kind: KindForbidden, Reason: ReasonRecurring,
			Message: "not synced: " + what + " made in Oro; series are not written to Microsoft 365 yet, so neither side is changed"})
	}
}
