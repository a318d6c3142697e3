package calsync

// The pair phase: the Oro events indexed by their Microsoft ids and keys,
// and each Microsoft item of a round paired with its Oro event.

// pairInput is everything the planner needs about one event.
type pairInput struct {
	oro     *Event // nil: the event was not in the request
	oroC    content
	remote  *RemoteEvent // current Microsoft copy when remoteState is remotePresent
	remoteS remoteState
	// ours: the unlinked remote event was created by us for this Oro event
	// (matched by its transactionId), so its content is the base.
	ours bool
	// inWindow: the remote copy overlaps the sync window.
	inWindow bool
	// replaced: the remote copy is our re-creation of an event whose linked
	// copy was deleted; the old link no longer applies.
	replaced bool
	// known: the remote copy, whose Oro event is not in the request, carries
	// our Oro id: it is not new (an edit in Microsoft 365, or the echo of
	// our own write), and the Oro event it belongs to is named.
	known bool
	// writeWho: Oro's attendees are written (writeAttendees; see
	// attendee.go)
	writeWho bool
	// the hashes of oroC and of the remote copy's content, computed once
	// (see oroDigest and remoteDigest; setRemote forgets the latter)
	oroD, remoteD *digest
}

func (p *pairInput) link() *Link {
	if p.oro == nil || p.replaced {
		return nil
	}
	return p.oro.Link
}

// setRemote replaces what the pair knows of its Microsoft copy.
func (p *pairInput) setRemote(r *RemoteEvent, s remoteState) {
	p.remote, p.remoteS, p.remoteD = r, s, nil
	if p.oro != nil {
		p.oroD = nil // its reminder and attendees may come from the copy (fillReminder, fillWho)
	}
}

// oroDigest is the hashes of the Oro event's content (its attendees, and
// its reminder when the host did not send it, filled in first).
func (p *pairInput) oroDigest() *digest {
	if p.oroD == nil {
		p.fillReminder()
		p.fillWho()
		p.fillSeries()
		d := p.oroC.digest()
		p.oroD = &d
	}
	return p.oroD
}

// remoteDigest is the hashes of the Microsoft copy's content.
func (p *pairInput) remoteDigest() *digest {
	if p.remoteD == nil {
		d := remoteContent(p.remote).digest()
		p.remoteD = &d
	}
	return p.remoteD
}

// index finds the Oro events of a round by Microsoft id, transactionId and
// iCalendar UID.
type index struct {
	events   []Event
	oroC     []content
	byRemote map[string]int // link.RemoteID → index in events
	byTx     map[string]int // transactionId → unlinked Oro event
	byUID    map[string]int // uid → unlinked Oro event (full mode)
	used     map[int]bool   // Oro events already paired
	bad      map[string]bool
}

// newIndex indexes events; bad are the ids of the invalid ones (see
// screen), whose content is not read; full: unlinked events are matched by
// iCalendar UID too.
func newIndex(events []Event, bad map[string]bool, full bool) *index {
	n := len(events)
	x := &index{events: events, oroC: make([]content, n), byRemote: make(map[string]int, n),
		byTx: make(map[string]int), byUID: make(map[string]int), used: make(map[int]bool), bad: bad}
	for i := range events {
		ev := &events[i]
		if !ev.Deleted && !bad[ev.ID] {
			x.oroC[i], _ = parseContent(*ev) // screen accepted it
		}
		// our creates' transactionIds, and those of earlier versions (a
		// create whose result was lost before an upgrade)
		for _, tx := range ourTransactionIDs(ev) {
			x.byTx[tx] = i
		}
		if ev.Link != nil {
			x.byRemote[ev.Link.RemoteID] = i
			continue
		}
		if full && ev.UID != "" && !ev.Deleted && ev.RecurringEventID == "" {
			// (an exception carries its series' uid: only the master is matched)
			x.byUID[ev.UID] = i
		}
	}
	return x
}

// ourTransactionIDs are the transactionIds ev's create sets, in this
// version's form and in earlier versions' (a create whose result was lost
// before an upgrade): for a linked event, those of a re-creation of its
// copy.
func ourTransactionIDs(ev *Event) [2]string {
	replaces := ""
	if ev.Link != nil {
		replaces = ev.Link.RemoteID
	}
	return [2]string{TransactionID(ev.ID, ev.UID, replaces), legacyTransactionID(ev.ID, ev.UID, replaces)}
}

// createdFor keeps, of the events FindByOroID found for ev, those ev's
// create made: by transactionId, as pairOurs pairs. Our Oro id on an event
// is no proof: a staging copy connected to the same mailbox writes the
// same Oro ids for its own events.
func createdFor(ev *Event, found []RemoteEvent) []RemoteEvent {
	ours := ourTransactionIDs(ev)
	var out []RemoteEvent
	for _, f := range found {
		if f.TransactionID != "" && (f.TransactionID == ours[0] || f.TransactionID == ours[1]) {
			out = append(out, f)
		}
	}
	return out
}

func (x *index) take(p *pairInput, i int) {
	x.used[i] = true
	p.oro, p.oroC = &x.events[i], x.oroC[i]
}

// pair matches the round's Microsoft items with the indexed Oro events;
// outside the settle round, Oro events without an item become pairs too.
// checkedTo: the linked events absent from a complete snapshot round up to
// this Oro id are confirmed already (see confirm).
func (e *engine) pair(x *index, items map[string]*RemoteEvent, mode roundMode, checkedTo string) []*pairInput {
	ids := sortedKeys(items)
	pairs := make(map[string]*pairInput, len(ids))
	for _, id := range ids {
		it := items[id]
		p := &pairInput{remote: it, remoteS: remotePresent, writeWho: e.cfg.writeWho}
		if it.Removed {
			p.remoteS = remoteUnknown // confirmed by Get
		} else {
			p.inWindow = e.overlapsWindow(it)
		}
		pairs[id] = p
	}
	x.pairOurs(ids, items, pairs)
	x.pairLinked(ids, items, pairs, mode.full())
	out := make([]*pairInput, 0, len(ids))
	for _, id := range ids {
		if p, ok := pairs[id]; ok && (p.oro == nil || !x.bad[p.oro.ID]) {
			// the copy of an invalid event is left alone: neither pulled
			// nor pushed nor counted (the event has its issue)
			out = append(out, p)
		}
	}
	if mode == settleRound {
		return out
	}
	for i := range x.events {
		ev := &x.events[i]
		if x.used[i] || x.bad[ev.ID] {
			continue
		}
		p := &pairInput{oro: ev, oroC: x.oroC[i], remoteS: remoteUnknown, writeWho: e.cfg.writeWho}
		if ev.Link != nil && mode == snapshotEnd && ev.ID > checkedTo {
			// absent from the snapshot, or from the part of it this call
			// read (the earlier calls of the round may have read it), and
			// not confirmed by them: confirm
			p.remote = &RemoteEvent{ID: ev.Link.RemoteID, Removed: true}
		}
		out = append(out, p)
	}
	return out
}

// pairOurs pairs our own creates first, by transactionId: they take
// precedence over the link of an event whose old copy was deleted. The
// whole transactionId must be the one this event's create sets, its hash
// of Oro id, uid and replaced copy included: the Oro id it carries alone
// is no proof (another installation connected to the mailbox, a staging
// copy, writes the same Oro ids for its own events).
func (x *index) pairOurs(ids []string, items map[string]*RemoteEvent, pairs map[string]*pairInput) {
	for _, id := range ids {
		it, p := items[id], pairs[id]
		if it.Removed {
			continue
		}
		i, ok := x.byTx[it.TransactionID]
		if ok && it.TransactionID != "" && !x.used[i] {
			if l := x.events[i].Link; l != nil {
				if l.RemoteID == id {
					continue // plainly linked: pairLinked
				}
				p.replaced = true
			}
			x.take(p, i)
			p.ours = true
		}
	}
}

// pairLinked pairs the items left by link, then (full) by iCalendar UID.
func (x *index) pairLinked(ids []string, items map[string]*RemoteEvent, pairs map[string]*pairInput, full bool) {
	for _, id := range ids {
		it, p := items[id], pairs[id]
		if p.oro != nil {
			continue
		}
		if i, ok := x.byRemote[id]; ok {
			if !x.used[i] {
				x.take(p, i)
			} else {
				delete(pairs, id) // the old copy of a re-created event: superseded
			}
		} else if i, ok := x.byUID[it.ICalUID]; ok && it.ICalUID != "" && !it.Removed && !x.used[i] {
			x.take(p, i)
		} else {
			// an incremental request leaves out synced events: a copy of ours
			// belongs to one of them (a full request sends them all)
			p.known = !full && it.OroID != ""
		}
	}
}

// remoteID is the id of the pair's Microsoft copy: the one seen, else the
// linked one ("" when neither).
func (p *pairInput) remoteID() string {
	switch {
	case p.remote != nil && p.remote.ID != "":
		return p.remote.ID
	case p.link() != nil:
		return p.link().RemoteID
	}
	return ""
}
