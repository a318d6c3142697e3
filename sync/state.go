package calsync

import (
	"slices"
	"time"
)

// The state transition: what the next call starts from, built in one
// place from what the call's round found.

// roundEnd is what the call's round ended with, as nextState needs it.
type roundEnd struct {
	window Window
	at     time.Time // when the call ended its round (state.lastRunAt)
	// fresh: the round started with this call; continued: this call
	// continued a round an earlier call began
	fresh, continued bool
	full             bool // a full call (every Oro event sent)
	// snapshot: the round lists every Microsoft event (see mainMode)
	snapshot bool
	// advance: the round was decided (false: a guard stopped Oro-side
	// deletions, or the budget left its first page undecided, and the
	// state stays where the call began so that they come back)
	advance bool
	// checkedTo: absent linked Oro events confirmed up to this id
	checkedTo string
	// refused: the page Microsoft refused to read a removal on (-1: none)
	refused int
	// nextLink continues the round; deltaLink (after the settle round's,
	// when it has one) ends it
	nextLink, deltaLink string
	// present: the round's items present in the window (series left out)
	present int
	// oroLinked: the linked Oro events the call sent (live and valid)
	oroLinked int
	// oroEventCount: the host's count of Oro events (options.oroEventCount)
	oroEventCount int
}

// nextState is the state the next call starts from, given the state this
// call started from (prev), what the run counted (t) and how its round
// ended (r). It is pure.
func nextState(prev State, t tally, r roundEnd) State {
	s := State{V: StateVersion, Window: r.window, DeltaLink: prev.DeltaLink, LastRunAt: r.at}
	if !r.advance { // what a replayed round shows again is not counted now
		t.msNew, t.msGone, t.oroCreated = 0, 0, 0
	}
	// the guard bases: what people changed on each side plus our writes; a
	// snapshot round counts its items instead of its changes (its settle
	// round's changes, which the snapshot does not list, count on top)
	s.MicrosoftCount = t.msBase + t.msNew - t.msGone
	if r.snapshot && r.advance {
		s.MicrosoftCount += r.present
	}
	switch {
	case r.full: // the synced events; the others count once linked (oroNew)
		s.OroCount = r.oroLinked + t.oroNew
	case r.oroEventCount > 0:
		s.OroCount = r.oroEventCount
	default:
		s.OroCount = prev.OroCount + t.oroNew - t.oroGone
	}
	s.MicrosoftCount = max(0, s.MicrosoftCount+t.msCreated-t.msDeleted)
	s.OroCount = max(0, s.OroCount+t.oroCreated-t.oroDeleted)
	if r.refused >= 0 { // the call stopped at a refused removal: count the calls
		s.RefusedReads = 1
		if r.refused == 0 {
			s.RefusedReads += prev.RefusedReads
		}
	}
	switch {
	case !r.advance:
		if r.continued {
			s.NextLink, s.FullRound, s.RoundOroDeletes = prev.NextLink, prev.FullRound, prev.RoundOroDeletes
			// with the absent events this call confirmed (see confirm)
			s.NeedsFull, s.CheckedTo = prev.FullRound, r.checkedTo
		} else if r.fresh {
			s.DeltaLink, s.NeedsFull = "", true // a full round: read it again
		}
	case r.nextLink != "":
		// a full round goes on in full mode (see the start of run)
		s.NextLink, s.FullRound, s.NeedsFull = r.nextLink, r.full, r.full
		if r.full {
			s.CheckedTo = r.checkedTo
		}
		s.RoundOroDeletes = t.carried + t.oroDeleted
	default:
		s.DeltaLink = r.deltaLink
	}
	return s
}

// SentWindow is how long a request counts in Microsoft's per-mailbox limit
// (graph-facts §7: 10,000 requests per 10 minutes); MaxSent bounds
// State.Sent.
const (
	SentWindow = 10 * time.Minute
	MaxSent    = 10
)

// SentWithin returns the entries of sent that still count at now, one per
// minute in the order of their minutes, at most MaxSent: an entry counts
// until a window after its minute ends (its last request may be that
// late), and the oldest ones beyond MaxSent are added to the next one,
// which counts them a little longer, never shorter. An entry more than a
// window ahead of now, which no clock skew explains, is dropped.
func SentWithin(sent []SentMinute, now time.Time) []SentMinute {
	var out []SentMinute
	for _, m := range sent {
		if m.N > 0 && m.At.Add(time.Minute+SentWindow).After(now) && !m.At.After(now.Add(SentWindow)) {
			out = append(out, SentMinute{At: m.At.UTC().Truncate(time.Minute), N: m.N})
		}
	}
	slices.SortFunc(out, func(a, b SentMinute) int { return a.At.Compare(b.At) })
	merged := out[:0]
	for _, m := range out {
		if k := len(merged) - 1; k >= 0 && merged[k].At.Equal(m.At) {
			merged[k].N += m.N
			continue
		}
		merged = append(merged, m)
	}
	for len(merged) > MaxSent {
		merged[1].N += merged[0].N
		merged = merged[1:]
	}
	return merged
}
