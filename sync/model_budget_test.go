package calsync_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// TestModelBudgetGuard is TestModel's companion for the time budget and
// the mass-delete guard: random edits and bulk deletions on both sides,
// slow Microsoft responses with budgets of a second or two (delta rounds
// split over several calls, writes cut short), the guard on or confirmed
// at random with random thresholds, faults and lost results; then calls
// with the guard confirmed until one completes. Both sides must agree, with
// no duplicate and nothing lost. Same flags as TestModel.
func TestModelBudgetGuard(t *testing.T) {
	first, n := uint64(1), uint64(*modelSeeds)
	if *modelSeed != 0 {
		first, n = *modelSeed, 1
	}
	for seed := first; seed < first+n; seed++ {
		if msg := runModelBudget(seed); msg != "" {
			t.Fatalf("seed %d: %s\n(rerun: go test ./sync -run TestModelBudgetGuard -model.seed=%d -v)", seed, msg, seed)
		}
	}
}

func runModelBudget(seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 0xb0d6e7))
	clock := scenario.NewClock(t0)
	fake := scenario.NewFake(clock)
	fake.PageSize = 1 + rng.IntN(4)
	h := scenario.NewHost(clock)
	strategy := calsync.ConflictResolutions[rng.IntN(len(calsync.ConflictResolutions))]
	dir := calsync.DirectionBoth
	cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: &dir, ConflictResolution: &strategy}}
	trace := []string{fmt.Sprintf("strategy %s, page size %d", strategy, fake.PageSize)}
	nextOro := 0
	badState := "" // the first state returned that is not valid as the next call's
	when := func() (string, string) {
		d := time.Date(2026, 1, 10+rng.IntN(20), 8+rng.IntN(8), 0, 0, 0, time.UTC)
		return d.Format(time.RFC3339), d.Add(time.Hour).Format(time.RFC3339)
	}
	sync := func(opts calsync.Options, lost bool) (calsync.Result, error) {
		// full when needed, and now and then for repair: a repair run split
		// by the budget sees deletions made before it too (the call that
		// reads its end confirms the linked events absent from its part)
		mode := calsync.ModeIncremental
		if h.State == nil || h.State.NeedsFull || rng.IntN(8) == 0 {
			mode = calsync.ModeFull
		}
		req := h.Request(mode, cascade, opts)
		res, err := calsync.Run(context.Background(), req, fake, calsync.RunOptions{Now: clock.Now, ApplyChunk: 3, ReadConcurrency: 1, CheckLink: fake.CheckLink})
		if msg := stateProblem(fake, req, res); msg != "" && badState == "" {
			badState = msg
		}
		trace = append(trace, fmt.Sprintf("sync %s %+v lost=%v err=%v status=%s(%s) ops=%d issues=%d guards=%v", mode, opts, lost, err, res.Status, res.Reason, len(res.Operations), len(res.Issues), res.Guards))
		if err == nil && !lost {
			h.Apply(req, res)
		}
		return res, err
	}
	faults := []scenario.Fault{scenario.WriteThrottled, scenario.WriteUnavailable, scenario.WriteDrop, scenario.DeltaUnavailable, scenario.GetUnavailable, scenario.DeltaReplay}
	thresholds := []float64{0, 0.2, 0.5, 0.9}
	for range 10 + rng.IntN(30) {
		clock.Advance(time.Duration(rng.IntN(600)) * time.Second)
		switch k := rng.IntN(12); {
		case k < 2:
			for range 1 + rng.IntN(4) {
				nextOro++
				s, e := when()
				id := fmt.Sprintf("e%d", nextOro)
				h.Add(calsync.Event{ID: id, Title: fmt.Sprintf("oro-%d", nextOro), Start: s, End: e})
				trace = append(trace, "oro add "+id)
			}
		case k < 4 && len(h.Events) > 0:
			keys := slices.Sorted(maps.Keys(h.Events))
			for range 1 + rng.IntN(len(keys)) { // up to every event: bulk deletions trip the guard
				id := pick(rng, keys)
				if ev := h.Events[id]; ev == nil || ev.Deleted {
					continue
				}
				if rng.IntN(3) == 0 {
					h.Edit(id, func(ev *calsync.Event) { ev.Title = fmt.Sprintf("oro-edit-%d", rng.IntN(1000)) })
					trace = append(trace, "oro edit "+id)
					continue
				}
				h.Remove(id)
				trace = append(trace, "oro delete "+id)
			}
		case k < 5:
			for range 1 + rng.IntN(4) {
				s, _ := time.Parse(time.RFC3339, "2026-01-15T10:00:00Z")
				id := fake.Seed("", calsync.RemoteEvent{Subject: fmt.Sprintf("ms-%d", rng.IntN(1000)), IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
				trace = append(trace, "ms add "+id)
			}
		case k < 7 && len(fake.Events()) > 0:
			evs := ids(fake.Events())
			for range 1 + rng.IntN(len(evs)) {
				id := pick(rng, evs)
				if _, ok := fake.Event(id); !ok {
					continue
				}
				if rng.IntN(3) == 0 {
					editRemote(rng, fake, id)
					trace = append(trace, "ms edit "+id)
					continue
				}
				fake.Delete(id)
				trace = append(trace, "ms delete "+id)
			}
		case k < 8:
			f := faults[rng.IntN(len(faults))]
			fake.Fault(f)
			trace = append(trace, "fault "+string(f))
		default:
			latency := []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond}[rng.IntN(3)]
			fake.SetLatency(latency)
			opts := calsync.Options{TimeBudgetSeconds: 1 + rng.IntN(2), MassDeleteThreshold: thresholds[rng.IntN(len(thresholds))], AllowMassDelete: rng.IntN(3) == 0}
			trace = append(trace, "latency "+latency.String())
			sync(opts, rng.IntN(5) == 0)
		}
	}
	fake.ClearFaults()
	fake.SetLatency(100 * time.Millisecond)
	// a clean run that reads a round of its own (a round an earlier call
	// began does not show the changes made since)
	for i := 0; ; i++ {
		fresh := h.State == nil || h.State.NextLink == ""
		res, err := sync(calsync.Options{AllowMassDelete: true}, false)
		if err != nil {
			return fmt.Sprintf("fault-free run failed: %v\n%s", err, strings.Join(trace, "\n"))
		}
		if fresh && res.Status == calsync.StatusCompleted && len(res.Issues) == 0 {
			break
		}
		if i == 5 {
			return fmt.Sprintf("no clean run after faults stopped\n%s", strings.Join(trace, "\n"))
		}
	}
	if badState != "" {
		return badState + "\n" + strings.Join(trace, "\n")
	}
	if msg := agree(h, fake, dir, map[string]bool{}); msg != "" {
		return msg + "\n" + strings.Join(trace, "\n")
	}
	return ""
}
