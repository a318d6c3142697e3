package calsync

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

var (
	modelSeeds = flag.Int("model.seeds", 300, "number of seeds of the model-based sync test")
	modelSeed  = flag.Uint64("model.seed", 0, "run only this seed of the model-based sync test")
)

// TestModel drives random edits on both sides, random faults and lost
// results, then fault-free runs, and checks that both sides agree: every
// Oro event has exactly one Microsoft copy with the same content and every
// Microsoft event exactly one Oro event.
func TestModel(t *testing.T) {
	first, n := uint64(1), uint64(*modelSeeds)
	if *modelSeed != 0 {
		first, n = *modelSeed, 1
	}
	for seed := first; seed < first+n; seed++ {
		if msg := runModel(seed); msg != "" {
			t.Fatalf("seed %d: %s\n(rerun: go test ./sync -run TestModel -model.seed=%d -v)", seed, msg, seed)
		}
	}
}

func runModel(seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	clock := &fakeClock{t: t0}
	remote := newFakeRemote(clock)
	remote.pageSize = 1 + rng.IntN(4)
	h := newHost(clock)
	strategy := ConflictResolutions[rng.IntN(len(ConflictResolutions))]
	dir := DirectionBoth
	cascade := Cascade{System: &ScopeSettings{Enabled: ptr(true), Direction: &dir, ConflictResolution: &strategy}}
	var trace []string
	nextOro := 0
	when := func() (string, string) {
		d := time.Date(2026, 1, 10+rng.IntN(20), 8+rng.IntN(8), 0, 0, 0, time.UTC)
		return d.Format(time.RFC3339), d.Add(time.Hour).Format(time.RFC3339)
	}
	sync := func(faults bool) (Result, error) {
		mode := ModeIncremental
		if h.state == nil || h.state.NeedsFull || rng.IntN(10) == 0 {
			mode = ModeFull
		}
		opts := Options{AllowMassDelete: true}
		req := h.request(mode, cascade, opts)
		res, err := Run(context.Background(), req, remote, RunOptions{Now: clock.Now, ApplyChunk: 5})
		lost := faults && rng.IntN(4) == 0
		trace = append(trace, fmt.Sprintf("sync %s faults=%v lost=%v err=%v status=%s ops=%d issues=%d", mode, faults, lost, err, res.Status, len(res.Operations), len(res.Issues)))
		if err == nil && !lost {
			h.apply(req, res)
		}
		return res, err
	}
	faults := []string{"write 429", "write 503", "write drop", "write 412", "delta 410", "delta 503", "delta replay", "delta dupes", "get 503"}
	steps := 5 + rng.IntN(25)
	for range steps {
		clock.Advance(time.Duration(rng.IntN(600)) * time.Second)
		switch k := rng.IntN(10); {
		case k < 2:
			nextOro++
			s, e := when()
			id := fmt.Sprintf("e%d", nextOro)
			h.add(Event{ID: id, Title: fmt.Sprintf("oro-%d", nextOro), Start: s, End: e})
			trace = append(trace, "oro add "+id)
		case k < 4 && len(h.events) > 0:
			id := pick(rng, sortedKeys(h.events))
			if h.events[id].Deleted {
				continue
			}
			if rng.IntN(4) == 0 {
				h.remove(id)
				trace = append(trace, "oro delete "+id)
				continue
			}
			v := rng.IntN(1000)
			h.edit(id, func(ev *Event) {
				if rng.IntN(2) == 0 {
					ev.Title = fmt.Sprintf("oro-edit-%d", v)
				} else {
					ev.Location = fmt.Sprintf("room-%d", v)
				}
			})
			trace = append(trace, "oro edit "+id)
		case k < 5:
			s, _ := time.Parse(time.RFC3339, "2026-01-15T10:00:00Z")
			id := remote.Seed(RemoteEvent{Subject: fmt.Sprintf("ms-%d", rng.IntN(1000)), IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
			trace = append(trace, "ms add "+id)
		case k < 7 && len(remote.events) > 0:
			id := pick(rng, sortedKeys(remote.events))
			if rng.IntN(4) == 0 {
				remote.Delete(id)
				trace = append(trace, "ms delete "+id)
				continue
			}
			v := rng.IntN(1000)
			remote.Edit(id, func(ev *RemoteEvent) {
				if rng.IntN(2) == 0 {
					ev.Subject = fmt.Sprintf("ms-edit-%d", v)
				} else {
					ev.Body = fmt.Sprintf("body-%d", v)
				}
			})
			trace = append(trace, "ms edit "+id)
		case k < 8:
			f := faults[rng.IntN(len(faults))]
			remote.Fault(f)
			trace = append(trace, "fault "+f)
		default:
			sync(true)
		}
	}
	remote.faults = nil
	for i := 0; ; i++ {
		res, err := sync(false)
		if err != nil {
			return fmt.Sprintf("fault-free run failed: %v\n%s", err, strings.Join(trace, "\n"))
		}
		if res.Status == StatusCompleted && len(res.Issues) == 0 {
			break
		}
		if i == 3 {
			return fmt.Sprintf("no clean run after faults stopped\n%s", strings.Join(trace, "\n"))
		}
	}
	if msg := agree(h, remote); msg != "" {
		return msg + "\n" + strings.Join(trace, "\n")
	}
	return ""
}

func pick(rng *rand.Rand, keys []string) string { return keys[rng.IntN(len(keys))] }

// agree checks that both sides hold the same events, one to one.
func agree(h *host, remote *fakeRemote) string {
	linked := map[string]string{}
	for _, id := range sortedKeys(h.events) {
		e := h.events[id]
		if e.Deleted || e.dirty {
			return fmt.Sprintf("oro %s still pending (deleted=%v dirty=%v)", id, e.Deleted, e.dirty)
		}
		if e.Link == nil {
			return fmt.Sprintf("oro %s has no link", id)
		}
		if other, dup := linked[e.Link.RemoteID]; dup {
			return fmt.Sprintf("oro %s and %s both linked to %s (duplicate in Oro)", other, id, e.Link.RemoteID)
		}
		linked[e.Link.RemoteID] = id
		r, ok := remote.events[e.Link.RemoteID]
		if !ok {
			return fmt.Sprintf("oro %s linked to missing %s", id, e.Link.RemoteID)
		}
		oc, _ := parseContent(e.Event)
		if oc.hash() != remoteContent(r).hash() {
			return fmt.Sprintf("oro %s %+v differs from %s %+v", id, oc, r.ID, remoteContent(r))
		}
	}
	for id := range remote.events {
		if _, ok := linked[id]; !ok {
			return fmt.Sprintf("microsoft %s has no Oro event (duplicate or lost)", id)
		}
	}
	return ""
}
