package calsync_test

import (
	"context"
	"flag"
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

var (
	modelSeeds = flag.Int("model.seeds", 300, "number of seeds of the model-based sync test")
	modelSeed  = flag.Uint64("model.seed", 0, "run only this seed of the model-based sync test")
)

var t0 = scenario.T0

func ptr[T any](v T) *T { return &v }

// TestModel drives random edits on both sides (events the user organizes
// and attendee copies the user does not), random faults and lost results in
// one of the three directions, then fault-free runs, and checks the
// invariants of CONFLICTS.md: on every run, events the user does not
// organize are never written in Microsoft 365, microsoft_to_oro never writes
// to Microsoft 365 and oro_to_microsoft never changes Oro; at the end, both
// sides agree as the direction says (see agree).
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

// checkedRemote is the fake with the per-run invariants checked on every
// write the engine sends.
type checkedRemote struct {
	*scenario.Fake
	dir        calsync.Direction
	violations []string
}

func (r *checkedRemote) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	for _, w := range writes {
		if !r.dir.Pushes() {
			r.violations = append(r.violations, fmt.Sprintf("%s: %s of %s written to Microsoft 365", r.dir, w.Op, w.OroID))
		}
		if ev, ok := r.Event(w.ID); ok && w.Op != calsync.WriteCreate && !ev.IsOrganizer {
			r.violations = append(r.violations, fmt.Sprintf("%s of %s (oro %s) written although the user does not organize it", w.Op, w.ID, w.OroID))
		}
	}
	return r.Fake.Apply(ctx, writes)
}

var directions = []calsync.Direction{calsync.DirectionBoth, calsync.DirectionBoth, calsync.DirectionOroToMicrosoft, calsync.DirectionMicrosoftToOro}

func runModel(seed uint64) string {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	clock := scenario.NewClock(t0)
	fake := scenario.NewFake(clock)
	fake.PageSize = 1 + rng.IntN(4)
	h := scenario.NewHost(clock)
	strategy := calsync.ConflictResolutions[rng.IntN(len(calsync.ConflictResolutions))]
	dir := directions[rng.IntN(len(directions))]
	remote := &checkedRemote{Fake: fake, dir: dir}
	cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(true), Direction: &dir, ConflictResolution: &strategy}}
	trace := []string{fmt.Sprintf("direction %s, strategy %s", dir, strategy)}
	// attendee copies deleted in Oro: they stay in Microsoft 365
	declined := map[string]bool{}
	nextOro := 0
	when := func() (string, string) {
		d := time.Date(2026, 1, 10+rng.IntN(20), 8+rng.IntN(8), 0, 0, 0, time.UTC)
		return d.Format(time.RFC3339), d.Add(time.Hour).Format(time.RFC3339)
	}
	sync := func(faults bool) (calsync.Result, error) {
		mode := calsync.ModeIncremental
		if h.State == nil || h.State.NeedsFull || rng.IntN(10) == 0 {
			mode = calsync.ModeFull
		}
		req := h.Request(mode, cascade, calsync.Options{AllowMassDelete: true})
		res, err := calsync.Run(context.Background(), req, remote, calsync.RunOptions{Now: clock.Now, ApplyChunk: 5, ReadConcurrency: 1, CheckLink: fake.CheckLink})
		if msg := stateProblem(fake, req, res); msg != "" {
			remote.violations = append(remote.violations, msg)
		}
		lost := faults && rng.IntN(4) == 0
		trace = append(trace, fmt.Sprintf("sync %s faults=%v lost=%v err=%v status=%s ops=%d issues=%d", mode, faults, lost, err, res.Status, len(res.Operations), len(res.Issues)))
		for _, op := range res.Operations {
			if !dir.Pulls() && op.Op != calsync.OpLink {
				remote.violations = append(remote.violations, fmt.Sprintf("%s: Oro operation %s oro=%s ms=%s (%s)", dir, op.Op, op.OroID, op.RemoteID, op.Reason))
			}
		}
		if err == nil && !lost {
			h.Apply(req, res)
		}
		return res, err
	}
	faults := []scenario.Fault{scenario.WriteThrottled, scenario.WriteUnavailable, scenario.WriteDrop, scenario.WriteMoved, scenario.DeltaExpired, scenario.DeltaUnavailable, scenario.DeltaReplay, scenario.DeltaDupes, scenario.GetUnavailable}
	steps := 5 + rng.IntN(25)
	for range steps {
		clock.Advance(time.Duration(rng.IntN(600)) * time.Second)
		switch k := rng.IntN(10); {
		case k < 2:
			nextOro++
			s, e := when()
			id := fmt.Sprintf("e%d", nextOro)
			h.Add(calsync.Event{ID: id, Title: fmt.Sprintf("oro-%d", nextOro), Start: s, End: e})
			trace = append(trace, "oro add "+id)
		case k < 4 && len(h.Events) > 0:
			id := pick(rng, slices.Sorted(maps.Keys(h.Events)))
			ev := h.Events[id]
			if ev.Deleted {
				continue
			}
			if rng.IntN(4) == 0 {
				if ev.Link != nil && ev.Link.ReadOnly {
					declined[ev.Link.RemoteID] = true
				}
				h.Remove(id)
				trace = append(trace, "oro delete "+id)
				continue
			}
			v := rng.IntN(1000)
			h.Edit(id, func(ev *calsync.Event) {
				switch rng.IntN(3) {
				case 0:
					ev.Title = fmt.Sprintf("oro-edit-%d", v)
				case 1:
					ev.Location = fmt.Sprintf("room-%d", v)
				default: // none, or one to three reminders
					ev.Reminders = []calsync.Reminder{}
					for range rng.IntN(4) {
						ev.Reminders = append(ev.Reminders, calsync.Reminder{Method: "email",
							Interval: calsync.ReminderInterval{Number: rng.IntN(24), Unit: []string{"M", "H", "D"}[rng.IntN(3)]}})
					}
				}
			})
			trace = append(trace, "oro edit "+id)
		case k < 5:
			s, _ := time.Parse(time.RFC3339, "2026-01-15T10:00:00Z")
			organizer := rng.IntN(3) > 0
			id := fake.Seed("", calsync.RemoteEvent{Subject: fmt.Sprintf("ms-%d", rng.IntN(1000)), IsOrganizer: organizer, Start: s, End: s.Add(time.Hour)})
			trace = append(trace, fmt.Sprintf("ms add %s organizer=%v", id, organizer))
		case k < 7 && len(fake.Events()) > 0:
			id := pick(rng, ids(fake.Events()))
			if rng.IntN(4) == 0 {
				fake.Delete(id)
				trace = append(trace, "ms delete "+id)
				continue
			}
			editRemote(rng, fake, id)
			trace = append(trace, "ms edit "+id)
		case k < 8:
			f := faults[rng.IntN(len(faults))]
			fake.Fault(f)
			trace = append(trace, "fault "+string(f))
		default:
			sync(true)
		}
	}
	fake.ClearFaults()
	// One-way directions leave the other side's changes alone; touching
	// every event on the source side makes the final state predictable.
	switch dir {
	case calsync.DirectionOroToMicrosoft:
		for _, id := range slices.Sorted(maps.Keys(h.Events)) {
			if !h.Events[id].Deleted {
				h.Edit(id, func(ev *calsync.Event) { ev.Title += " (final)" })
			}
		}
		trace = append(trace, "oro edit every event")
	case calsync.DirectionMicrosoftToOro:
		for _, id := range ids(fake.Events()) {
			// a random edit may give back the content the link holds (no
			// change at all): this one always changes it
			fake.Edit(id, func(ev *calsync.RemoteEvent) { ev.Subject += " (final)" })
		}
		trace = append(trace, "ms edit every event")
	}
	for i := 0; ; i++ {
		res, err := sync(false)
		if err != nil {
			return fmt.Sprintf("fault-free run failed: %v\n%s", err, strings.Join(trace, "\n"))
		}
		if res.Status == calsync.StatusCompleted && len(res.Issues) == 0 {
			break
		}
		if i == 3 {
			return fmt.Sprintf("no clean run after faults stopped\n%s", strings.Join(trace, "\n"))
		}
	}
	if len(remote.violations) > 0 {
		return strings.Join(remote.violations, "\n") + "\n" + strings.Join(trace, "\n")
	}
	if msg := agree(h, fake, dir, declined); msg != "" {
		return msg + "\n" + strings.Join(trace, "\n")
	}
	return ""
}

// stateProblem reports a result whose state would not be valid as the
// next call's state: Request.Validate refuses it, or the check of links
// Run applies (RunOptions.CheckLink) does.
func stateProblem(fake *scenario.Fake, req calsync.Request, res calsync.Result) string {
	if res.State == nil {
		return ""
	}
	next := req
	next.State = res.State
	err := next.Validate()
	for _, l := range []string{res.State.DeltaLink, res.State.NextLink} {
		if err == nil && l != "" {
			err = fake.CheckLink("state", l)
		}
	}
	if err != nil {
		return fmt.Sprintf("the state returned is not valid as the next call's: %v (%+v)", err, *res.State)
	}
	return ""
}

func pick(rng *rand.Rand, keys []string) string { return keys[rng.IntN(len(keys))] }

func ids(evs []calsync.RemoteEvent) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.ID
	}
	return out
}

func editRemote(rng *rand.Rand, fake *scenario.Fake, id string) {
	v := rng.IntN(1000)
	fake.Edit(id, func(ev *calsync.RemoteEvent) {
		switch rng.IntN(3) {
		case 0:
			ev.Subject = fmt.Sprintf("ms-edit-%d", v)
		case 1:
			ev.Body = fmt.Sprintf("body-%d", v)
		default:
			ev.Reminder = []int{calsync.ReminderOff, 0, 15, 1080}[v%4]
		}
	})
}

// agree checks the final state after the fault-free runs:
//   - no Oro event is pending, and no two Oro events share a Microsoft copy;
//   - a linked Oro event's copy exists and has the same content;
//   - both and oro_to_microsoft: every live Oro event is linked, and no
//     Microsoft event carries the Oro id of an event that is not linked to
//     it (no duplicate, nothing leaked);
//   - both and microsoft_to_oro: every Microsoft event has an Oro event,
//     except (both) attendee copies deleted in Oro, which stay in
//     Microsoft 365 unlinked.
func agree(h *scenario.Host, fake *scenario.Fake, dir calsync.Direction, declined map[string]bool) string {
	linked := map[string]string{}
	for _, id := range slices.Sorted(maps.Keys(h.Events)) {
		e := h.Events[id]
		if e.Deleted || e.Dirty {
			return fmt.Sprintf("oro %s still pending (deleted=%v dirty=%v)", id, e.Deleted, e.Dirty)
		}
		if e.Link == nil {
			if dir.Pushes() {
				return fmt.Sprintf("oro %s has no link", id)
			}
			continue // microsoft_to_oro: Oro's own events stay in Oro
		}
		if other, dup := linked[e.Link.RemoteID]; dup {
			return fmt.Sprintf("oro %s and %s both linked to %s (duplicate in Oro)", other, id, e.Link.RemoteID)
		}
		linked[e.Link.RemoteID] = id
		r, ok := fake.Event(e.Link.RemoteID)
		if !ok {
			return fmt.Sprintf("oro %s linked to missing %s", id, e.Link.RemoteID)
		}
		if !calsync.SameContent(e.Event, r) {
			return fmt.Sprintf("oro %s %q@%s reminders %v differs from %s %q@%s reminder %d", id, e.Title, e.Location, e.Reminders, r.ID, r.Subject, r.Location, r.Reminder)
		}
	}
	for _, r := range fake.Events() {
		oro, ok := linked[r.ID]
		switch {
		case ok && r.OroID != "" && r.OroID != oro:
			return fmt.Sprintf("microsoft %s carries oro id %s but is linked to %s", r.ID, r.OroID, oro)
		case ok:
		case dir.Pushes() && r.OroID != "":
			return fmt.Sprintf("microsoft %s carries oro id %s but no Oro event is linked to it (duplicate or leaked)", r.ID, r.OroID)
		case !dir.Pulls():
		case declined[r.ID] && !r.IsOrganizer && dir == calsync.DirectionBoth:
		default:
			return fmt.Sprintf("microsoft %s has no Oro event (duplicate or lost)", r.ID)
		}
	}
	return ""
}
