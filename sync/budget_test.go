package calsync_test

import (
	"context"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// throttled answers every write 429 Retry-After 3s and, as graphclient
// does, waits and retries (up to 6 times) only while the context's
// deadline allows; waiting advances the fake clock.
type throttled struct {
	*scenario.Fake
	clock *scenario.Clock
}

func (r *throttled) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	const wait = 3 * time.Second
	deadline, has := ctx.Deadline()
	for range 6 {
		if has && time.Now().Add(wait).After(deadline) {
			break
		}
		r.clock.Advance(wait)
	}
	out := make([]calsync.WriteResult, len(writes))
	for i, w := range writes {
		out[i] = calsync.WriteResult{Key: w.Key, Err: &calsync.Error{Kind: calsync.KindThrottled, RetryAfter: wait, Message: "too many requests"}}
	}
	return out, nil
}

// Writes Microsoft throttles longer than the budget allows end the run on
// time as partial (time_budget), and the next call writes them: nothing lost,
// no duplicate.
func TestBudgetThrottledWritesEndPartial(t *testing.T) {
	w := newWorld(t)
	for _, id := range []string{"e1", "e2", "e3"} {
		w.host.Add(calsync.Event{ID: id, Title: id, Start: "2026-01-20T09:00:00Z", End: "2026-01-20T10:00:00Z"})
	}
	w.remote = &throttled{Fake: w.fake, clock: w.clock}
	res := w.sync(calsync.Options{TimeBudgetSeconds: 2})
	if res.Status != calsync.StatusPartial || res.Reason != calsync.ReasonTimeBudget || res.Stats.DurationMs > 2000 {
		t.Fatalf("status %s (%s) after %dms; want partial (time_budget) within the 2 s budget", res.Status, res.Reason, res.Stats.DurationMs)
	}
	if len(res.Issues) != 3 || res.Issues[0].Reason != calsync.ReasonTimeBudget || !res.Issues[0].Retryable {
		t.Fatalf("issues %+v; want 3 retryable time_budget issues", res.Issues)
	}
	w.remote = w.fake
	if res := w.sync(calsync.Options{}); res.Status != calsync.StatusCompleted {
		t.Fatalf("next call: %s (%s) %+v", res.Status, res.Reason, res.Issues)
	}
	if n := len(w.fake.Events()); n != 3 {
		t.Errorf("%d Microsoft events, want 3", n)
	}
	for id, e := range w.host.Events {
		if e.Link == nil || e.Dirty {
			t.Errorf("%s not synced: link %v dirty %v", id, e.Link, e.Dirty)
		}
	}
}

// hung is a Microsoft side whose delta requests never answer before the
// context ends.
type hung struct{ *scenario.Fake }

func (hung) Delta(ctx context.Context, _ calsync.Window, _ string) (calsync.DeltaPage, error) {
	<-ctx.Done()
	return calsync.DeltaPage{}, &calsync.Error{Kind: calsync.KindUnavailable, Message: "timed out", Err: ctx.Err()}
}

// The run's context ends with the budget: a request that hangs ends the
// run on time as partial (time_budget) with its state unchanged.
func TestBudgetEndsHungRequest(t *testing.T) {
	w := newWorld(t)
	w.seedLinked(1)
	before := *w.host.State
	w.remote = hung{w.fake}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	req := w.host.Request(calsync.ModeIncremental, bothWays, calsync.Options{TimeBudgetSeconds: 1})
	res, err := calsync.Run(ctx, req, w.remote, calsync.RunOptions{Now: w.clock.Now})
	if err != nil || res.Status != calsync.StatusPartial || res.Reason != calsync.ReasonTimeBudget {
		t.Fatalf("err %v, status %s (%s); want partial (time_budget)", err, res.Status, res.Reason)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the run took %v with a 1 s budget", d)
	}
	if res.State.DeltaLink != before.DeltaLink {
		t.Errorf("deltaLink %q, want the old %q", res.State.DeltaLink, before.DeltaLink)
	}
}

// A caller's deadline earlier than the budget bounds the run the same way.
func TestBudgetHonoursCallerDeadline(t *testing.T) {
	w := newWorld(t)
	w.seedLinked(1)
	w.remote = hung{w.fake}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req := w.host.Request(calsync.ModeIncremental, bothWays, calsync.Options{})
	res, err := calsync.Run(ctx, req, w.remote, calsync.RunOptions{Now: w.clock.Now})
	if err != nil || res.Status != calsync.StatusPartial || res.Reason != calsync.ReasonTimeBudget {
		t.Fatalf("err %v, status %s (%s); want partial (time_budget) before the caller's deadline", err, res.Status, res.Reason)
	}
}
