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
