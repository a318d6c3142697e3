package calsync

import "cmp"

// The emit phase: decisions (and the Microsoft copies our writes left)
// turned into operations, links and issues for the host.

// emit turns a decision (and the Microsoft copy after its write, if any)
// into operations for the host.
func (e *engine) emit(ps *pass, pl *planned, written *RemoteEvent) {
	if pl.d.issue != nil {
		e.issue(pl.p, *pl.d.issue)
	}
	cur := cmp.Or(written, present(pl.p))
	if cur != nil && remoteIDProblem(cur.ID) != "" {
		// no operation or link the host could not use: the Oro event
		// stays pending (Microsoft's fault, as in readRound)
		is := Issue{Kind: KindUnavailable, Retryable: true, Reason: ReasonReadFailed,
			Message: "not synced: Microsoft 365 answered the event without a usable id; it is synced next run"}
		if pl.p.oro != nil {
			is.OroID = pl.p.oro.ID
		}
		e.res.Issues = append(e.res.Issues, is)
		return
	}
	op, ok := e.operation(ps.t, pl, cur, written)
	if !ok {
		return
	}
	switch {
	case pl.d.pull == "":
	case pl.p.known && !pl.p.remote.LastModified.After(e.lastRunAt):
		// our own write, come back because no settle round absorbed it:
		// the update carries the content Oro already holds
		e.res.Stats.Echoes++
	default:
		e.res.Stats.Pulled++
	}
	if o := pl.p.oro; o != nil && ps.mode != settleRound {
		switch {
		case o.Link == nil && !o.Deleted && op.Link != nil:
			ps.t.oroNew++ // created in Oro, now linked
		case o.Deleted && o.Link != nil && (op.Op == OpLink && op.Link == nil || op.Op == OpCreate):
			ps.t.oroGone++ // deleted in Oro: its link dropped, or re-created (oroCreated)
		}
	}
	var tag string
	if op.Link != nil {
		if ps.keepAfter {
			ps.after[op.Link.RemoteID] = afterEvent(pl.p.oro, op, pl.d.target)
		}
		tag = op.Link.ChangeKey + "/" + op.Link.Hash
	}
	op.Key = shortHash(string(op.Op) + "|" + op.OroID + "|" + op.RemoteID + "|" + tag)
	e.res.Operations = append(e.res.Operations, op)
}

// operation is the host's operation for pl's decision, cur being the
// Microsoft copy it leaves (written by us, or as seen); false when there is
// none. It counts the Oro events it creates and deletes in t.
func (e *engine) operation(t *tally, pl *planned, cur, written *RemoteEvent) (Operation, bool) {
	d := pl.d
	var link *Link
	if cur != nil && d.write != WriteDelete {
		link = newLink(cur, d.target, e.opts.Now())
		if written == nil && !pl.p.remoteDigest().all.is(link.Hash) {
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
		t.oroDeleted++
	case d.pull != "":
		if link == nil {
			return op, false // nothing to link to (cannot happen: pulls come from a present copy)
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
		if r := d.target.Reminder; r != ReminderUnset && (d.pull == OpCreate || pl.p.oro == nil || pl.p.oroC.Reminder != r) {
			op.Reminder = reminderChange(r)
		}
		if d.pull == OpCreate {
			t.oroCreated++
		}
	case d.unlink || d.write == WriteDelete:
		op.Op = OpLink
	case d.relink || written != nil:
		op.Op, op.Link = OpLink, link
	default:
		return op, false
	}
	return op, true
}

// present returns p's Microsoft copy when it is present, else nil.
func present(p *pairInput) *RemoteEvent {
	if p.remoteS == remotePresent {
		return p.remote
	}
	return nil
}

// afterEvent is the Oro event as the host will hold it after applying op
// (a create or update holds c; its reminders stand for what the host holds
// after the operation's ReminderChange). An operation that changes the event gives it an updatedAt unknown here,
// so the settle round's operations on it carry no expectedUpdatedAt.
func afterEvent(oro *Event, op Operation, c content) *Event {
	if op.Op == OpLink && oro != nil && !oro.Deleted {
		// a link changes no content: the event is as the host holds it,
		// which is not the link's base when an Oro edit was postponed
		ev := *oro
		ev.Link = op.Link
		return &ev
	}
	ev := c.event()
	if oro != nil {
		ev.ID, ev.UID = oro.ID, oro.UID
		if op.Op == OpLink {
			ev.UpdatedAt = oro.UpdatedAt
		}
	}
	ev.Link = op.Link
	ev.Reminders = c.reminders()
	return &ev
}

// issue reports a problem with p's event.
func (e *engine) issue(p *pairInput, is Issue) {
	if p.oro != nil {
		is.OroID = p.oro.ID
	}
	is.RemoteID = p.remoteID()
	is.Retryable = is.Kind.Retryable()
	e.res.Issues = append(e.res.Issues, is)
}

// postpone reports a write that waits for a later call. An unlinked Oro
// event paired with a Microsoft copy (one an unrecorded run created, or one
// with its iCalendar UID) gets its link all the same, with the Microsoft
// copy as the base: the Oro event stays pending, and the later call, whose
// delta round may no longer show that copy, finds it by the link instead of
// creating another.
func (e *engine) postpone(ps *pass, pl *planned, is Issue) {
	e.issue(pl.p, is)
	if d := keepPair(pl.p); d.relink {
		e.emit(ps, &planned{p: pl.p, d: d}, nil)
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
