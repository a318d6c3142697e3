package calsync

import (
	"reflect"
	"testing"
	"time"
)

// TestNextState checks the state transition case by case: one row per way
// a call's round ends.
func TestNextState(t *testing.T) {
	w := Window{Start: t0, End: t0.Add(24 * time.Hour)}
	at := t0.Add(time.Minute)
	prev := State{V: StateVersion, Window: w, DeltaLink: "d0", NextLink: "n0", FullRound: true, CheckedTo: "e1",
		RoundOroDeletes: 2, RefusedReads: 1, OroCount: 10, MicrosoftCount: 8}
	base := State{V: StateVersion, Window: w, LastRunAt: at}
	with := func(f func(*State)) State { s := base; f(&s); return s }
	tests := []struct {
		name string
		prev State
		t    tally
		r    roundEnd
		want State
	}{
		{"incremental round ends: counts move with changes and writes", prev,
			tally{msBase: 8, msNew: 2, msGone: 1, msCreated: 1, oroNew: 1, oroGone: 2, oroCreated: 1},
			roundEnd{advance: true, deltaLink: "d1", refused: -1},
			with(func(s *State) { s.DeltaLink, s.MicrosoftCount, s.OroCount = "d1", 10, 10 })},
		{"the host's Oro count wins over the tally", prev, tally{msBase: 8, oroNew: 5},
			roundEnd{advance: true, deltaLink: "d1", oroEventCount: 42, refused: -1},
			with(func(s *State) { s.DeltaLink, s.MicrosoftCount, s.OroCount = "d1", 8, 42 })},
		{"full snapshot ends: the items are counted", State{}, tally{oroNew: 2},
			roundEnd{advance: true, full: true, snapshot: true, fresh: true, present: 5, oroLinked: 3, deltaLink: "d1", refused: -1},
			with(func(s *State) { s.DeltaLink, s.MicrosoftCount, s.OroCount = "d1", 5, 5 })},
		{"full snapshot ends: the settle round's changes count on top", State{}, tally{msNew: 2, msGone: 1, oroNew: 2},
			roundEnd{advance: true, full: true, snapshot: true, fresh: true, present: 5, oroLinked: 3, deltaLink: "d1", refused: -1},
			with(func(s *State) { s.DeltaLink, s.MicrosoftCount, s.OroCount = "d1", 6, 5 })},
		{"full round cut by the budget goes on in full mode", State{}, tally{oroDeleted: 1, carried: 3},
			roundEnd{advance: true, full: true, snapshot: true, fresh: true, present: 4, checkedTo: "e7", nextLink: "n1", refused: -1},
			with(func(s *State) {
				s.NextLink, s.FullRound, s.NeedsFull, s.CheckedTo, s.RoundOroDeletes = "n1", true, true, "e7", 4
				s.MicrosoftCount = 4
			})},
		{"incremental round cut keeps its delta link", prev, tally{msBase: 8},
			roundEnd{advance: true, nextLink: "n1", refused: -1},
			with(func(s *State) { s.DeltaLink, s.NextLink, s.MicrosoftCount, s.OroCount = "d0", "n1", 8, 10 })},
		{"guard stopped a continued round: it stays where it began", prev, tally{msBase: 8, msNew: 3, oroCreated: 2},
			roundEnd{continued: true, checkedTo: "e3", refused: -1},
			with(func(s *State) {
				s.DeltaLink, s.NextLink, s.FullRound, s.RoundOroDeletes, s.NeedsFull, s.CheckedTo = "d0", "n0", true, 2, true, "e3"
				s.MicrosoftCount, s.OroCount = 8, 10
			})},
		{"guard stopped a fresh round: a full round again", State{}, tally{},
			roundEnd{fresh: true, full: true, refused: -1},
			with(func(s *State) { s.NeedsFull = true })},
		{"refused removal on the first page counts the calls", prev, tally{msBase: 8},
			roundEnd{advance: true, nextLink: "n0", refused: 0},
			with(func(s *State) {
				s.DeltaLink, s.NextLink, s.RefusedReads, s.MicrosoftCount, s.OroCount = "d0", "n0", 2, 8, 10
			})},
		{"refused removal on a later page starts counting", prev, tally{msBase: 8},
			roundEnd{advance: true, nextLink: "n2", refused: 2},
			with(func(s *State) {
				s.DeltaLink, s.NextLink, s.RefusedReads, s.MicrosoftCount, s.OroCount = "d0", "n2", 1, 8, 10
			})},
		{"counts never go below zero", State{OroCount: 1}, tally{msDeleted: 3, oroDeleted: 4},
			roundEnd{advance: true, deltaLink: "d1", refused: -1},
			with(func(s *State) { s.DeltaLink = "d1" })},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.r.window, tc.r.at = w, at
			if got := nextState(tc.prev, tc.t, tc.r); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("nextState:\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestSentWithin: what a state carries of the mailbox's request limit is
// the minutes that still count at the call's end (until a window after
// the minute ends), merged by minute and in order, at most MaxSent, the
// oldest folded into the next (counted longer, never shorter).
func TestSentWithin(t *testing.T) {
	now := t0.Add(30 * time.Minute).Add(30 * time.Second) // 30:30
	m := func(min, n int) SentMinute { return SentMinute{At: t0.Add(time.Duration(min) * time.Minute), N: n} }
	var eleven []SentMinute
	for i := 20; i <= 30; i++ {
		eleven = append(eleven, m(i, 1))
	}
	tests := []struct {
		name string
		in   []SentMinute
		want []SentMinute
	}{
		{"none", nil, nil},
		{"a minute ended more than a window ago is dropped; the one ending within it counts",
			[]SentMinute{m(19, 5), m(20, 7)}, []SentMinute{m(20, 7)}},
		{"unordered and repeated minutes, an empty one", []SentMinute{m(30, 2), m(25, 0), m(22, 3), m(30, 4), {At: t0.Add(22*time.Minute + 10*time.Second), N: 1}},
			[]SentMinute{m(22, 4), m(30, 6)}},
		{"eleven minutes: the oldest goes into the next", eleven, append([]SentMinute{m(21, 2)}, eleven[2:]...)},
		{"beyond a window ahead: no clock skew explains it", []SentMinute{m(40, 1), m(41, 9)}, []SentMinute{m(40, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SentWithin(tt.in, now); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}
