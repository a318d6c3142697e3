package calsync_test

import (
	"context"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// A request without a window keeps the state's default window across
// midnight (no daily full resync) and takes a new one only once the
// default has slid WindowSlideDays past it.
func TestDefaultWindowSlidesRarely(t *testing.T) {
	clock := scenario.NewClock(time.Date(2026, 2, 1, 23, 0, 0, 0, time.UTC))
	fake := scenario.NewFake(clock)
	run := func(mode calsync.Mode, st *calsync.State) calsync.Result {
		t.Helper()
		req := calsync.Request{Cascade: bothWays, Mode: mode, State: st, Events: []calsync.Event{}}
		res, err := calsync.Run(context.Background(), req, fake, calsync.RunOptions{Now: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := run(calsync.ModeFull, nil)
	first := res.State.Window
	if want := calsync.DefaultWindow(clock.Now()); first != want {
		t.Fatalf("first window %v, want %v", first, want)
	}
	for _, wait := range []time.Duration{2 * time.Hour, 24 * time.Hour, 20 * 24 * time.Hour} {
		clock.Advance(wait)
		res = run(calsync.ModeIncremental, res.State)
		if res.Status != calsync.StatusCompleted || res.State.Window != first {
			t.Fatalf("%s: %s (%s), window %v; want completed in the first window", clock.Now(), res.Status, res.Reason, res.State.Window)
		}
	}
	clock.Advance(10 * 24 * time.Hour) // 31 days after the first run
	res = run(calsync.ModeIncremental, res.State)
	if res.Status != calsync.StatusPartial || res.Reason != calsync.ReasonResyncRequired || res.State.Window != calsync.DefaultWindow(clock.Now()) {
		t.Fatalf("31 days on: %s (%s), window %v; want resync_required with today's default window", res.Status, res.Reason, res.State.Window)
	}
}
