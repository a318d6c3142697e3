package calsync

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Oro exceptions written to Microsoft 365 (CONFLICTS.md, "Recurring
// series", "Exceptions made in Oro"). An Oro exception (recurringEventId,
// originalStart, isCancelled) of a series linked as a series is compared
// with what the read of its master holds at that original start: a
// cancelled occurrence, an exception with its content, or a plain
// occurrence. Where they differ, the occurrence is deleted (cancelled) or
// patched (made an exception); where they agree, nothing is written, so an
// exception already written, or one Oro got from Microsoft 365, costs
// nothing. Occurrence ids come from one windowed instances listing per
// series. After the writes the master is read again, and that read stands
// for the series: nothing is predicted.

// OccurrenceLister may be implemented by a Remote that lists a series'
// occurrences (Graph: GET /events/{id}/instances). A Remote without it
// cannot write an Oro exception over a plain occurrence (its id is
// unknown); exceptions Microsoft 365 already holds are written all the
// same.
type OccurrenceLister interface {
	// Occurrences lists the occurrences and exceptions of series master id
	// that overlap [from, to), each with its OriginalStart; cancelled
	// occurrences are not listed.
	Occurrences(ctx context.Context, id string, from, to time.Time) ([]RemoteEvent, error)
}

// exceptionGroups are the field groups an exception is compared and
// written in: its reminder and attendees are the series'.
var exceptionGroups = [...]string{fieldTitle, fieldDescription, fieldLocation, fieldWhen}

// takeExceptions sets the Oro exceptions of the request aside for
// writeExceptions, by their master's Oro id, and leaves them out of the
// pairing (bad): an exception has no link of its own. A deleted exception
// row (a tombstone with recurringEventId and originalStart) goes with
// them, to be compared with what Microsoft 365 holds there.
func (e *engine) takeExceptions(events []Event, bad map[string]bool) {
	e.exc, e.excIDs, e.sent = map[string][]*Event{}, map[string]bool{}, map[string]*Event{}
	for i := range events {
		ev := &events[i]
		e.sent[ev.ID] = ev
		if ev.RecurringEventID == "" || ev.Recurrence != nil || ev.Deleted && (ev.Link != nil || ev.OriginalStart == "") {
			continue
		}
		if !bad[ev.ID] {
			e.exc[ev.RecurringEventID] = append(e.exc[ev.RecurringEventID], ev)
		}
		bad[ev.ID] = true
		e.excIDs[ev.ID] = true
	}
}

// exceptionIssue reports an Oro exception that was not written.
func (e *engine) exceptionIssue(x *Event, remoteID string, kind Kind, reason Reason, msg string) {
	e.res.Issues = append(e.res.Issues, Issue{OroID: x.ID, RemoteID: remoteID, Kind: kind, Retryable: kind.Retryable(), Reason: reason, Message: msg})
}

// exceptionIssues reports each of xs with the same issue.
func (e *engine) exceptionIssues(xs []*Event, remoteID string, kind Kind, reason Reason, msg string) {
	for _, x := range xs {
		e.exceptionIssue(x, remoteID, kind, reason, msg)
	}
}

// writeExceptions writes the Oro exceptions of the request, series by
// series, before the round's pairs are decided: a series whose exceptions
// were written is then decided as it stands after them. writes: the round
// may write (see process); when it may not, the exceptions wait for the
// next call.
func (e *engine) writeExceptions(ctx context.Context, ps *pass, pairs []*pairInput, skip []bool, writes bool) {
	if len(e.exc) == 0 {
		return
	}
	masters := map[string]int{}
	for i, p := range pairs {
		if p.oro != nil && p.oro.Recurrence != nil && !p.oro.Deleted {
			masters[p.oro.ID] = i
		}
	}
	for _, id := range sortedKeys(e.exc) {
		xs := e.exc[id]
		slices.SortFunc(xs, func(a, b *Event) int {
			return cmp.Or(cmp.Compare(a.OriginalStart, b.OriginalStart), cmp.Compare(a.ID, b.ID))
		})
		i, ok := masters[id]
		m := e.sent[id]
		switch {
		case !ok && m != nil && (m.Deleted || e.bad[id]):
			// its master is deleted in Oro, or left out of the run with its
			// own issue (invalid, or a single event made a series): the
			// exceptions go with it
			continue
		case !ok && m != nil:
			e.exceptionIssues(xs, "", KindInvalidInput, ReasonRecurring, "not synced: recurringEventId names an event that is not a series master")
			continue
		case !ok:
			// a deleted row without its series has nothing to be
			// compared with: it is confirmed
			e.exceptionIssues(slices.DeleteFunc(slices.Clone(xs), func(x *Event) bool { return x.Deleted }), "", KindInvalidInput, ReasonRecurring,
				"not synced: an exception is written with its series: send its series master (recurringEventId) in the same request")
			continue
		case skip[i] || !writes && !e.options.DryRun || e.timeUp():
			e.exceptionIssues(xs, "", KindUnavailable, ReasonTimeBudget, "not written: the time budget ran out; it is written next run")
			continue
		}
		e.seriesExceptions(ctx, ps, pairs[i], xs)
	}
}

// exceptionWrite is one Oro exception on its way to Microsoft 365.
type exceptionWrite struct {
	x    *Event
	c    content   // the exception's content (not for a cancellation)
	orig time.Time // its original start, UTC
	// cur is what Microsoft 365 holds at orig: an exception, or (after the
	// listing) the occurrence; nil when it is to be looked up
	cur    *RemoteEvent
	reason Reason // oro_changed, or conflict_oro_won
}

// seriesExceptions writes the exceptions xs of the Oro series p.
func (e *engine) seriesExceptions(ctx context.Context, ps *pass, p *pairInput, xs []*Event) {
	l := p.link()
	all := func(kind Kind, reason Reason, msg string) { e.exceptionIssues(xs, p.remoteID(), kind, reason, msg) }
	switch {
	case !e.cfg.dir.Pushes():
		return // microsoft_to_oro: Oro's changes stay in Oro, its own series' included
	case l == nil:
		all(KindUnavailable, ReasonRecurring, "not written yet: an exception is written once its series is in Microsoft 365 (next run)")
		return
	case !l.Series:
		return // the single event made a series in Oro has its issue
	}
	if p.remoteS == remoteUnknown {
		// the series did not show up in the round: read it
		e.call("get")
		s, err := e.readSeries(ctx, l.RemoteID)
		switch KindOf(err) {
		case "":
			p.setRemote(&s, remotePresent)
		case KindNotFound:
			p.setRemote(&RemoteEvent{ID: l.RemoteID}, remoteGone)
		default:
			e.noteErr(err)
			ae := AsError(err)
			all(ae.Kind, ReasonReadFailed, "not written: its series could not be read: "+ae.Error())
			return
		}
	}
	if p.remoteS != remotePresent || !p.remote.unit() {
		return // gone (its deletion is decided with the master), or set aside with its issue
	}
	if why := p.readOnly(); why != "" {
		is := readOnlyIssue(why, "an exception of a series the connected user does not organize; it is not changed in Microsoft 365",
			"an exception of a series with attendees, whom any change would notify; it is not changed in Microsoft 365")
		all(is.Kind, is.Reason, is.Message)
		if e.cfg.dir.Pulls() {
			// as for the series' own fields: Oro gets back the series as
			// Microsoft 365 holds it, its exceptions replacing Oro's
			p.pullSeries()
		}
		return
	}
	od, rd := p.oroDigest(), p.remoteDigest()
	for _, g := range []string{fieldRecurrence, fieldWhen} {
		i := slices.Index(fieldGroups[:], g)
		switch {
		case !od.fields[i].is(l.Fields[g]):
			// Oro cleared the series' exceptions; Microsoft 365 resets
			// them when the new pattern or time is written
			all(KindUnavailable, ReasonRecurring, "not written yet: the series' pattern or time changed in Oro; its exceptions are written next run, over the new pattern")
			return
		case !rd.fields[i].is(l.Fields[g]) && e.cfg.dir.Pulls():
			all(KindConflict, ReasonRecurring, "not written: the series' pattern or time changed in Microsoft 365, which resets its exceptions; Oro receives the series as Microsoft 365 now holds it")
			return
		}
	}
	iSeries := slices.Index(fieldGroups[:], fieldSeries)
	msChanged := !rd.fields[iSeries].is(l.Fields[fieldSeries])
	if msChanged && oroSeriesHash(xs) == l.Fields[fieldSeries] {
		// Oro's exceptions are those last synced (a full call sends them
		// all, changed or not): no Oro change, nothing to write over
		// Microsoft's; Oro receives them with its series
		return
	}
	plan := e.planExceptions(p, xs, msChanged)
	if len(plan) == 0 {
		return
	}
	if !e.lookUpOccurrences(ctx, p, plan) {
		return
	}
	var todo []*exceptionWrite
	for _, w := range plan {
		if w.cur != nil && !w.x.IsCancelled && sameException(w.c, w.cur) {
			continue // Oro's exception is the occurrence as it stands
		}
		if w.cur != nil {
			todo = append(todo, w)
		}
	}
	if len(todo) == 0 {
		return
	}
	if e.options.DryRun {
		for _, w := range todo {
			op, _ := w.write(e.zone)
			e.res.Writes = append(e.res.Writes, WriteRecord{Op: op.Op, OroID: w.x.ID, RemoteID: op.ID, Fields: op.Fields, Reason: w.reason, Outcome: "planned"})
		}
		return
	}
	e.applyExceptions(ctx, ps, p, todo, msChanged)
}

// oroSeriesHash is the series group's hash of the Oro exceptions xs, as if
// they were all of the series' (tombstones left out); "" when one cannot
// be read. It equals the link's only when xs are the exceptions both sides
// held when it was made.
func oroSeriesHash(xs []*Event) string {
	var exBuf, cancelledBuf [256]byte
	var exSpans, cancelledSpans [8]span
	ex := keys{buf: exBuf[:0], spans: exSpans[:0]}
	cancelled := keys{buf: cancelledBuf[:0], spans: cancelledSpans[:0]}
	for _, x := range xs {
		if x.Deleted {
			continue
		}
		t, err := time.Parse(time.RFC3339, x.OriginalStart)
		if err != nil {
			return ""
		}
		if x.IsCancelled {
			cancelled.buf = t.UTC().AppendFormat(cancelled.buf, time.RFC3339)
			cancelled = cancelled.end()
			continue
		}
		c, cerr := parseContent(*x)
		if cerr != nil {
			return ""
		}
		ex.buf = appendExceptionText(ex.buf, t, c)
		ex = ex.end()
	}
	var b [512]byte
	h := newFNV64()
	h.write(appendSeriesText(b[:0], ex, cancelled))
	return h.sum().String()
}

// planExceptions compares each Oro exception with what the series read
// holds at its original start, and keeps those to write. msChanged: the
// series' exceptions changed in Microsoft 365 since the link; an exception
// that differs on both sides is then a conflict, resolved by the strategy
// (per exception, without a base: merge falls back to Oro's).
func (e *engine) planExceptions(p *pairInput, xs []*Event, msChanged bool) []*exceptionWrite {
	s := p.remote.Series
	cancelled := make(map[time.Time]bool, len(s.Cancelled))
	for _, t := range s.Cancelled {
		cancelled[t.UTC()] = true
	}
	changed := make(map[time.Time]*RemoteEvent, len(s.Exceptions))
	for i := range s.Exceptions {
		changed[s.Exceptions[i].OriginalStart.UTC()] = &s.Exceptions[i]
	}
	var plan []*exceptionWrite
	for _, x := range xs {
		t, err := time.Parse(time.RFC3339, x.OriginalStart) // validated, but for a tombstone
		if err != nil {
			continue
		}
		w := &exceptionWrite{x: x, orig: t.UTC(), reason: ReasonOroChanged}
		if x.Deleted {
			if !msChanged { // else Oro receives Microsoft's exceptions again with its series
				e.rowDeleted(p, w, cancelled[w.orig], changed[w.orig] != nil)
			}
			continue
		}
		if !x.IsCancelled {
			w.c, _ = parseContent(*x) // screened
			w.c.Reminder = ReminderUnset
			if msg := w.c.check(); msg != "" {
				e.exceptionIssue(x, p.remoteID(), KindRejected, ReasonInvalidEvent, msg)
				continue
			}
			if w.c.AllDay && !e.zoneOK {
				e.exceptionIssue(x, p.remoteID(), KindRejected, ReasonTimeZoneUnmapped,
					fmt.Sprintf("not synced: the all-day exception needs the user's time zone in Microsoft 365, and timeZone %q has no Windows time zone name", e.timeZone))
				continue
			}
		}
		ex := changed[w.orig]
		switch {
		case cancelled[w.orig] && x.IsCancelled:
			continue // written already
		case cancelled[w.orig]:
			if !msChanged {
				e.exceptionIssue(x, p.remoteID(), KindRejected, ReasonRecurring, fmt.Sprintf(
					"not written: the occurrence of %s at %s was restored in Oro, but stays cancelled in Microsoft 365: Microsoft Graph cannot restore a cancelled occurrence; "+
						"cancel it again in Oro, or add it to Oro as a single event", seriesName(p), x.OriginalStart))
			}
			continue // cancelled in Outlook: Oro receives the cancellation with its series
		case ex != nil && !x.IsCancelled && sameException(w.c, ex):
			continue // written already, or Oro has it from Microsoft 365
		case ex != nil && msChanged:
			if !e.exceptionWins(x, ex) {
				e.res.Stats.Conflicts[string(microsoftWon)]++
				continue // Oro receives Microsoft's with its series
			}
			e.res.Stats.Conflicts[string(oroWon)]++
			w.reason = ReasonConflictOroWon
		}
		w.cur = ex
		plan = append(plan, w)
	}
	return plan
}

// rowDeleted reports an Oro exception row deleted (w.x, a tombstone) over
// an occurrence Microsoft 365 holds cancelled or changed (an exception):
// Graph cannot make either a plain occurrence again. A row deleted over a
// plain occurrence is confirmed.
func (e *engine) rowDeleted(p *pairInput, w *exceptionWrite, cancelled, exception bool) {
	var msg string
	switch {
	case cancelled:
		msg = "stays cancelled in Microsoft 365: Microsoft Graph cannot restore a cancelled occurrence; cancel it again in Oro, or add it to Oro as a single event"
	case exception:
		msg = "stays changed in Microsoft 365: Microsoft Graph cannot make a changed occurrence plain again; change it in Oro as it is in Microsoft 365, or in Outlook as it is in Oro"
	default:
		return
	}
	e.exceptionIssue(w.x, p.remoteID(), KindRejected, ReasonRecurring, fmt.Sprintf(
		"not written: the exception of %s at %s was deleted in Oro, but the occurrence %s", seriesName(p), w.x.OriginalStart, msg))
}

// seriesName names the series p in an exception's issue.
func seriesName(p *pairInput) string {
	return fmt.Sprintf("the series %q (Oro %s)", p.oro.Title, p.oro.ID)
}

// exceptionWins resolves an exception changed on both sides: whether
// Oro's is written.
func (e *engine) exceptionWins(x *Event, ex *RemoteEvent) bool {
	// merge has no per-exception base to merge with: Oro's, as oro_wins
	return e.cfg.dir != DirectionBoth || oroWins(e.cfg.strategy, x.UpdatedAt, ex.LastModified)
}

// sameException reports whether Microsoft's occurrence or exception r holds
// Oro's exception content c.
func sameException(c content, r *RemoteEvent) bool {
	rc := remoteContent(r)
	for _, g := range exceptionGroups {
		if c.field(g) != rc.field(g) {
			return false
		}
	}
	return true
}

// lookUpOccurrences finds the occurrences the plan writes over that are
// not exceptions yet, in one listing of the span of their original
// starts; an original start with no occurrence is reported. false: the
// listing failed (every exception of the series is reported).
func (e *engine) lookUpOccurrences(ctx context.Context, p *pairInput, plan []*exceptionWrite) bool {
	var from, to time.Time
	for _, w := range plan {
		if w.cur != nil {
			continue
		}
		if from.IsZero() || w.orig.Before(from) {
			from = w.orig
		}
		if w.orig.After(to) {
			to = w.orig
		}
	}
	if from.IsZero() {
		return true
	}
	lister, ok := e.remote.(OccurrenceLister)
	var occs []RemoteEvent
	var err error = &Error{Kind: KindInternal, Op: "sync.exceptions", Message: "the Microsoft 365 adapter cannot list a series' occurrences"}
	if ok {
		e.call("instances")
		occs, err = lister.Occurrences(ctx, p.remote.ID, from, to.Add(time.Minute))
	}
	if err != nil {
		e.noteErr(err)
		ae := AsError(err)
		for _, w := range plan {
			e.exceptionIssue(w.x, p.remoteID(), ae.Kind, ReasonReadFailed, "not written: the occurrences of its series could not be read: "+ae.Error())
		}
		return false
	}
	byOrig := make(map[time.Time]*RemoteEvent, len(occs))
	for i := range occs {
		if occs[i].SeriesMasterID == p.remote.ID || occs[i].SeriesMasterID == "" {
			byOrig[occs[i].OriginalStart.UTC()] = &occs[i]
		}
	}
	for _, w := range plan {
		if w.cur != nil {
			continue
		}
		if w.cur = byOrig[w.orig]; w.cur == nil {
			e.exceptionIssue(w.x, p.remoteID(), KindRejected, ReasonRecurring,
				"not written: originalStart "+w.orig.Format(time.RFC3339)+" is not an occurrence of the series in Microsoft 365")
		}
	}
	return true
}

// write is the Write that carries w out: a cancellation deletes the
// occurrence (or exception), a change patches the groups that differ.
// An exception's write is conditional on its etag; a plain occurrence's is
// not: its etag follows its master's (the simulator derives it from the
// master's changeKey; UNCONFIRMED on Graph), which every write of the
// series changes, so the writes of one series in one $batch would fail
// each other with 412, one written per run. It was listed just before.
func (w *exceptionWrite) write(zone string) (Write, bool) {
	out := Write{OroID: w.x.ID, ID: w.cur.ID}
	if w.cur.Type != "occurrence" {
		out.IfMatch = w.cur.ETag
	}
	if w.x.IsCancelled {
		out.Op = WriteDelete
		return out, true
	}
	out.Op, out.Event = WriteUpdate, w.c.remote(zone)
	rc := remoteContent(w.cur)
	for _, g := range exceptionGroups {
		if w.c.field(g) != rc.field(g) {
			out.Fields = append(out.Fields, graphFields[g]...)
		}
	}
	return out, len(out.Fields) > 0
}

// applyExceptions sends the writes of one series in one Apply call, then
// reads the series again; that read stands for it in the rest of the run.
// A write that failed, unless the read shows it done after all, is
// reported, and the exception is sent again next run.
func (e *engine) applyExceptions(ctx context.Context, ps *pass, p *pairInput, todo []*exceptionWrite, msChanged bool) {
	var writes []Write
	var sent []*exceptionWrite
	for _, w := range todo {
		wr, ok := w.write(e.zone)
		if !ok {
			continue
		}
		wr.Key = fmt.Sprintf("x%d", len(writes))
		writes = append(writes, wr)
		sent = append(sent, w)
	}
	if len(writes) == 0 {
		return
	}
	e.call("apply")
	e.res.Stats.Calls["writes"] += len(writes)
	results, err := e.remote.Apply(ctx, writes)
	failed := map[int]error{}
	if err != nil {
		e.noteErr(err)
		for i := range writes {
			failed[i] = err
		}
	} else {
		got := map[string]WriteResult{}
		for _, r := range results {
			got[r.Key] = r
		}
		for i, wr := range writes {
			r, ok := got[wr.Key]
			switch {
			case !ok:
				failed[i] = &Error{Kind: KindUnavailable, Op: "sync.exceptions", Message: "no result for this write"}
			case r.Err != nil:
				e.noteErr(r.Err)
				failed[i] = r.Err
			case r.Event != nil:
				ps.written[r.Event.ID] = r.Event.ChangeKey
			default:
				ps.written[wr.ID] = ""
			}
		}
	}
	for i, wr := range writes {
		outcome := "done"
		if failed[i] != nil {
			outcome = "failed"
		} else {
			e.res.Stats.Pushed++
		}
		e.res.Writes = append(e.res.Writes, WriteRecord{Op: wr.Op, OroID: wr.OroID, RemoteID: wr.ID, Fields: wr.Fields, Reason: sent[i].reason, Outcome: outcome})
	}
	// the series as it now stands: what Graph shows, never predicted
	e.call("get")
	after, rerr := e.readSeries(ctx, p.remote.ID)
	if rerr != nil || !after.unit() {
		if rerr != nil {
			e.noteErr(rerr)
		}
		// the next run reads it (its delta round shows the series)
		for i := range writes {
			if failed[i] != nil {
				e.exceptionFailed(sent[i], p, failed[i])
			}
		}
		return
	}
	for i := range writes {
		if failed[i] != nil && !e.holds(&after, sent[i]) {
			e.exceptionFailed(sent[i], p, failed[i])
		}
	}
	p.setRemote(&after, remotePresent)
	ps.written[after.ID] = after.ChangeKey
	if !msChanged {
		// Oro held what the link recorded, and now holds what Microsoft 365
		// holds after our writes: the link records that, so our writes are
		// not pulled back as Microsoft's change
		p.rebaseSeries(after.Series.sum().String())
	}
}

// holds reports whether the series read s holds w's exception (a write
// that failed may have been done after all).
func (e *engine) holds(s *RemoteEvent, w *exceptionWrite) bool {
	if w.x.IsCancelled {
		return slices.ContainsFunc(s.Series.Cancelled, func(t time.Time) bool { return t.Equal(w.orig) })
	}
	for i := range s.Series.Exceptions {
		if x := &s.Series.Exceptions[i]; x.OriginalStart.Equal(w.orig) {
			return sameException(w.c, x)
		}
	}
	return false
}

// exceptionFailed reports an exception whose write failed with err.
func (e *engine) exceptionFailed(w *exceptionWrite, p *pairInput, err error) {
	ae := AsError(err)
	kind := ae.Kind
	if kind == KindNotFound {
		kind = KindConflict // the occurrence moved on: the next run decides again
	}
	e.exceptionIssue(w.x, p.remoteID(), kind, ReasonWriteFailed, ae.Error())
}

// pullSeries makes the pair's series group (its exceptions) count as
// changed in Microsoft 365 only, so that the pair's decision gives Oro the
// series as Microsoft 365 holds it: the link and the Oro side record a
// value no series hashes to.
func (p *pairInput) pullSeries() {
	const notMicrosofts = "oro"
	p.rebaseSeries(notMicrosofts)
	p.oroC.seriesHash = notMicrosofts
}

// rebaseSeries makes the pair's link record h as the series group both
// sides hold (a copy: the request's link is the host's).
func (p *pairInput) rebaseSeries(h string) {
	l := *p.oro.Link
	l.Fields = maps.Clone(l.Fields)
	l.Fields[fieldSeries] = h
	// the host's link records neither this series nor (when the write left
	// the master's changeKey alone) a reason to store a fresh one
	l.ChangeKey = ""
	var d digest
	for i, f := range fieldGroups {
		d.fields[i].text, d.set[i] = l.Fields[f]
	}
	l.Hash = d.over(func(i int) bool { return d.set[i] }).String()
	o := *p.oro
	o.Link = &l
	p.oro, p.oroD = &o, nil
}

// A series made a single event in Oro (its recurrence removed; Oro drops
// its exceptions) is an update of its master whose fields name the
// recurrence (see skipGroup): Graph's adapter writes "recurrence": null,
// and Graph makes the series a single event at its first occurrence's
// time, its exceptions gone (calendar-semantics §1.3). The event is then
// read again and linked as a single event.

// madeSingle reports whether pl's write makes a series a single event.
func (pl *planned) madeSingle() bool {
	return pl.d.write == WriteUpdate && pl.d.target.Recurrence == nil && pl.writesGroup(fieldRecurrence)
}

// readSingle reads a series made a single event again: what Graph made of
// it, never predicted (ev, the write's answer, when the read fails).
func (e *engine) readSingle(ctx context.Context, ev *RemoteEvent) *RemoteEvent {
	e.call("get")
	cur, err := e.remote.Get(ctx, ev.ID)
	if err != nil {
		e.noteErr(err)
		return ev
	}
	return &cur
}

// singleRest: Graph kept the first occurrence's time where Oro's differs
// (or left another field apart): pl is decided again as the update of
// what still differs, written to the single event ev now is. true: pl
// writes again.
func (pl *planned) singleRest(ev *RemoteEvent) bool {
	if ev.recurring() {
		return false // still a series: the next run compares again
	}
	f := changedFields(pl.d.target, remoteContent(ev), pl.p.link())
	if len(f) == 0 {
		return false
	}
	cp := *ev
	pl.p.setRemote(&cp, remotePresent)
	pl.d.fields = f
	return true
}
