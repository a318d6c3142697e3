package calsync

import "context"

// The settle phase: a second delta round right after our writes.

// settle reads the changes made since the main round (ps) — our own writes
// and whatever happened meanwhile — so that the returned deltaLink is past
// our echoes. Echoes are recognised by id and changeKey; other changes are
// planned like any other, without writing (their Oro events, if changed,
// come back next run), against the Oro events as the host holds them once
// it applied the main round's operations. Failure is harmless: "" keeps
// the old deltaLink, and the echoes are recognised by content hash next
// run. Changes other than our echoes are counted in the tally as changes
// (see nextState).
func (e *engine) settle(ctx context.Context, link string, events []Event, ps *pass) (deltaLink string) {
	rd, err := e.readRound(ctx, link, e.deadline)
	if err != nil || rd.deltaLink == "" {
		return ""
	}
	echoed := map[string]bool{}
	for id, it := range rd.items {
		ck, ours := ps.written[id]
		if ours && (it.Removed && ck == "" || !it.Removed && it.ChangeKey == ck) {
			e.res.Stats.Echoes++
			delete(rd.items, id)
			echoed[id] = true
		}
	}
	for id, it := range rd.items {
		// the occurrence stubs of a series whose master is our echo: a
		// stub carries no content, only that its series changed, which
		// the master's changeKey says was our write (a change of anyone
		// else's to an occurrence shows as an exception, or on the master)
		if it.Type == "occurrence" && echoed[it.SeriesMasterID] {
			delete(rd.items, id)
		}
	}
	if len(rd.items) == 0 {
		return rd.deltaLink
	}

	sp := newPass(newIndex(eventsAfter(events, ps.after), e.bad, false), ps.t)
	sp.mode = settleRound
	out, err := e.process(ctx, sp, rd, "")
	if err != nil || !out.advance {
		return "" // a guard stopped deletions: the next run reads them again
	}
	return rd.deltaLink // "" when the budget left part of it undecided
}

// eventsAfter is the Oro side as it stands once the host applied the
// operations that left after (by Microsoft id): events, those changed
// replaced by their after versions, the new ones added.
func eventsAfter(events []Event, after map[string]*Event) []Event {
	replaced := make(map[string]bool, len(after))
	for _, a := range after {
		replaced[a.ID] = true
	}
	out := make([]Event, 0, len(events))
	for _, ev := range events {
		if !replaced[ev.ID] { // linked or not before: the event as it is after
			out = append(out, ev)
		}
	}
	for _, id := range sortedKeys(after) {
		if a := after[id]; a.ID != "" {
			out = append(out, *a)
		}
	}
	return out
}
