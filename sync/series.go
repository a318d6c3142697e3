package calsync

import (
	"cmp"
	"context"
	"slices"
	"strings"
	gosync "sync"
	"time"
)

// Recurring series (sync/CONFLICTS.md, "Recurring series"). A series is one
// unit: when any item of it shows up in a delta round (its master, an
// occurrence stub or an exception), its master is read with its pattern,
// exceptions and cancelled occurrences, and that read stands for the whole
// series. Its master (content and pattern, the recurrence group) goes both
// ways; its exceptions and cancellations (the series group) come from
// Microsoft 365 for the host to reconcile (see Event.Exceptions), and
// Oro's own are written to it before the series is decided
// (series_write.go). A series Oro cannot hold (SeriesInfo.Problem) is set
// aside with an issue.

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

// unit reports a series master read whole, which the engine synchronizes.
func (r *RemoteEvent) unit() bool {
	return r.Type == "seriesMaster" && r.Series != nil && r.Series.Problem == "" && r.Series.Recurrence != nil
}

// gatherSeries replaces the items of each series in a round with one read
// of its master (a unit), a removal when the master is gone. Reads run
// ReadConcurrency at a time, one per series however many of its
// occurrences the round holds.
func (e *engine) gatherSeries(ctx context.Context, rd *roundRead) error {
	page := map[string]int{}
	for id, it := range rd.items {
		if it.Removed || !it.recurring() {
			continue
		}
		m := it.series()
		if pg, ok := page[m]; !ok || rd.page[id] > pg {
			page[m] = rd.page[id]
		}
		delete(rd.items, id)
		delete(rd.page, id)
	}
	ids := sortedKeys(page)
	got := make([]RemoteEvent, len(ids))
	errs := make([]error, len(ids))
	sem := make(chan struct{}, e.opts.ReadConcurrency)
	var wg gosync.WaitGroup
	for i, id := range ids {
		e.call("get")
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() {
				if v := recover(); v != nil {
					errs[i] = panicked("sync.series", v)
				}
				<-sem
				wg.Done()
			}()
			got[i], errs[i] = e.readSeries(ctx, id)
		}()
	}
	wg.Wait()
	for i, id := range ids {
		switch KindOf(errs[i]) {
		case "":
			rd.items[id] = &got[i]
		case KindNotFound: // the series is gone
			rd.items[id] = &RemoteEvent{ID: id, Removed: true}
		default:
			e.noteErr(errs[i])
			return errs[i]
		}
		rd.page[id] = page[id]
	}
	return nil
}

// readSeries reads a series master with its Series, in one request when
// the Remote can (SeriesGetter).
func (e *engine) readSeries(ctx context.Context, id string) (RemoteEvent, error) {
	if sg, ok := e.remote.(SeriesGetter); ok {
		return sg.GetSeries(ctx, id)
	}
	return e.remote.Get(ctx, id)
}

// overlapsWindow reports whether a Microsoft copy meets the window: a
// unit when one of its occurrences (or exceptions) does.
func (e *engine) overlapsWindow(it *RemoteEvent) bool {
	if !it.unit() {
		return e.window.overlaps(it.Start, it.End)
	}
	for _, ex := range it.Series.Exceptions {
		if e.window.overlaps(ex.Start, ex.End) {
			return true
		}
	}
	d := it.End.Sub(it.Start)
	skip := map[time.Time]bool{}
	for _, t := range it.Series.Cancelled {
		skip[t.UTC()] = true
	}
	for _, ex := range it.Series.Exceptions {
		skip[ex.OriginalStart.UTC()] = true
	}
	for _, t := range it.Series.Recurrence.Occurrences(it.Start, e.window.Start.Add(-d), e.window.End) {
		if !skip[t.UTC()] && e.window.overlaps(t, t.Add(d)) {
			return true
		}
	}
	return false
}

// setAside reports whether p's Microsoft copy, present, is part of a
// recurring series the engine does not synchronize; if so it is reported
// once (skipSeries) and p goes no further.
func (e *engine) setAside(ps *pass, p *pairInput) bool {
	if p.remoteS != remotePresent || !p.remote.recurring() || p.remote.unit() {
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
	msg := "part of a recurring series in Microsoft 365 that is not synchronized, so neither side is changed"
	if s := p.remote.Series; s != nil && s.Problem != "" {
		msg = "a recurring series in Microsoft 365 that Oro cannot hold (" + s.Problem + "), so neither side is changed"
	}
	is := Issue{RemoteID: p.remote.series(), Kind: KindForbidden, Reason: ReasonRecurring, Message: msg}
	if p.oro != nil {
		is.OroID = p.oro.ID
	}
	if !e.series[is] {
		e.series[is] = true
		e.res.Issues = append(e.res.Issues, is)
	}
}

// countPresent counts the round's items present, the series not
// synchronized left out: the Microsoft-side count of a snapshot round.
func countPresent(items map[string]*RemoteEvent) int {
	n := 0
	for _, it := range items {
		if !it.Removed && (!it.recurring() || it.unit()) {
			n++
		}
	}
	return n
}

// text is the series group's compared value: each exception (its
// original start and content) and each cancelled occurrence, in order (see
// appendSeriesText).
func (s *SeriesInfo) text() string { return string(s.appendText(nil)) }

// sum is the series group's hash. Its buffer and the exceptions' keys are
// on the heap (an exception's hash makes text recursive, which escape
// analysis does not see through): one each rather than a string per
// exception.
func (s *SeriesInfo) sum() sum64 {
	var b [512]byte
	h := newFNV64()
	h.write(s.appendText(b[:0]))
	return h.sum()
}

// appendText appends text's value to b.
func (s *SeriesInfo) appendText(b []byte) []byte {
	var exBuf, cancelledBuf [256]byte
	var exSpans, cancelledSpans [8]span
	ex := keys{buf: exBuf[:0], spans: exSpans[:0]}
	for i := range s.Exceptions {
		ex.buf = appendExceptionText(ex.buf, s.Exceptions[i].OriginalStart, remoteContent(&s.Exceptions[i]))
		ex = ex.end()
	}
	cancelled := keys{buf: cancelledBuf[:0], spans: cancelledSpans[:0]}
	for _, t := range s.Cancelled {
		cancelled.buf = t.UTC().AppendFormat(cancelled.buf, time.RFC3339)
		cancelled = cancelled.end()
	}
	return appendSeriesText(b, ex, cancelled)
}

// appendExceptionText appends an exception's part of the series group's
// value: its original start and the hash of its content (the first
// groups).
func appendExceptionText(b []byte, orig time.Time, c content) []byte {
	d := c.digest()
	b = append(orig.UTC().AppendFormat(b, time.RFC3339), '=')
	return d.over(func(i int) bool { return i < legacyGroups }).appendText(b)
}

// appendSeriesText appends the series group's value: the exceptions'
// texts and the cancelled occurrences' original starts (RFC 3339, UTC),
// each in order. It sorts them in place.
func appendSeriesText(b []byte, exceptions, cancelled keys) []byte {
	b = exceptions.appendSorted(b, "|x")
	return cancelled.appendSorted(b, "|c")
}

// fillSeries gives an Oro event the series group's value it is known to
// hold (pull-only, as fillWho).
func (p *pairInput) fillSeries() {
	if p.oro == nil {
		return
	}
	p.oroC.Series, p.oroC.seriesHash = nil, ""
	if p.oro.Recurrence == nil {
		// a single event holds no exceptions, a series made one in Oro
		// included (Oro drops them)
		return
	}
	if p.link() == nil {
		// a series not linked yet holds none of Microsoft's exceptions
		p.oroC.Series = &SeriesInfo{}
		return
	}
	p.oroC.seriesHash = p.pulledHash(fieldSeries, func(r *RemoteEvent) string {
		if !r.unit() {
			return ""
		}
		return r.Series.sum().String()
	})
}

// exceptions renders a unit's exceptions for the host: the changed ones
// with their content, the cancelled ones by their original start, in
// original-start order.
func (s *SeriesInfo) exceptions() []Event {
	out := make([]Event, 0, len(s.Exceptions)+len(s.Cancelled))
	for i := range s.Exceptions {
		x := &s.Exceptions[i]
		c := remoteContent(x)
		c.Who, c.Series = nil, nil
		ev := c.event()
		ev.UID = x.ICalUID
		ev.OriginalStart = x.OriginalStart.UTC().Format(time.RFC3339)
		out = append(out, ev)
	}
	for _, t := range s.Cancelled {
		out = append(out, Event{OriginalStart: t.UTC().Format(time.RFC3339), IsCancelled: true})
	}
	slices.SortFunc(out, func(a, b Event) int { return strings.Compare(a.OriginalStart, b.OriginalStart) })
	return out
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

// screenSeries leaves out of the run, as screen does with invalid events,
// an event linked as a single event that became a series in Oro (with its
// issue; its Microsoft copy is left alone, so nothing is duplicated). New
// series and series linked as such go on; exceptions are written with
// their series (takeExceptions). Tombstones go on: a deleted event carries
// no series fields.
func (e *engine) screenSeries(events []Event, bad map[string]bool) {
	for _, ev := range events {
		switch {
		case ev.Deleted || ev.Recurrence == nil || bad[ev.ID]:
			continue
		case ev.Link == nil || ev.Link.Series:
			continue // a new series, or one already linked as a series
		}
		bad[ev.ID] = true
		e.res.Issues = append(e.res.Issues, Issue{OroID: ev.ID, Kind: KindForbidden, Reason: ReasonRecurring,
			Message: "not synced: a single event made a recurring series in Oro; Microsoft Graph is not known to accept a pattern added to a single event, so that change is not written and Microsoft 365 keeps the single event; " +
				"to have the series in Microsoft 365, create it in Oro as a new series and delete this event"})
	}
}

// seriesMadeSingle reports an Oro event linked as a series that is a
// single event now: its copy is read before it is written (see readFor),
// since whether Graph can make it one depends on the occurrences it still
// holds (cannotMakeSingle).
func (p *pairInput) seriesMadeSingle() bool {
	l := p.link()
	return p.oro != nil && !p.oro.Deleted && p.oro.Recurrence == nil && l != nil && l.Series
}

// cannotMakeSingle is the issue of a series made a single event in Oro
// (target, over a series link) that Graph cannot make one: every
// occurrence of its copy p.remote is cancelled, and Graph makes a series a
// single event at its first occurrence left (the simulator answers 400
// without one). nil when it can be written, or is not that case.
func (p *pairInput) cannotMakeSingle(target content) *Issue {
	if target.Recurrence != nil || !p.seriesMadeSingle() || p.remoteS != remotePresent || !p.remote.unit() || p.remote.hasOccurrence() {
		return nil
	}
	return &Issue{Kind: KindRejected, Reason: ReasonRecurring, Message: "not written: the series was made a single event in Oro, but every occurrence of it is cancelled in Microsoft 365, " +
		"and Microsoft Graph makes a series a single event only at an occurrence it still holds; to have the event in Microsoft 365, delete it in Oro and create it again"}
}

// hasOccurrence reports whether unit r has an occurrence left: a series
// without an end always has; an exception is one.
func (r *RemoteEvent) hasOccurrence() bool {
	s := r.Series
	if len(s.Exceptions) > 0 || s.Recurrence.Count == nil && s.Recurrence.EndTime == nil {
		return true
	}
	cancelled := make(map[time.Time]bool, len(s.Cancelled))
	for _, t := range s.Cancelled {
		cancelled[t.UTC()] = true
	}
	// a range that ends: its expansion is bounded by its count or end
	for _, t := range s.Recurrence.Occurrences(r.Start, r.Start, r.Start.AddDate(1000, 0, 0)) {
		if !cancelled[t.UTC()] {
			return true
		}
	}
	return false
}
