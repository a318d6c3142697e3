package simtest

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

var (
	seeds     = flag.Int("seeds", 200, "number of seeds the randomized sync test runs")
	firstSeed = flag.Uint64("seed", 1, "first seed of the randomized sync test")
)

func TestTwoWay(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	start := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	w.host.create("from oro", start)
	msID, err := w.sim.UserCreateEvent(upn, outlookEvent("from outlook", start.Add(24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	w.mustSync(calsync.Options{})
	w.agree()
	if w.requests["batch"] != 1 {
		t.Errorf("first sync requests %v: want one batch", w.requests)
	}

	// Both sides edit; an incremental run carries the changes across.
	w.host.edit("oro-1", "from oro, edited")
	if err := w.sim.UserUpdateEvent(upn, msID, map[string]any{"subject": "from outlook, edited"}); err != nil {
		t.Fatal(err)
	}
	w.mustSync(calsync.Options{})
	w.agree()

	// Nothing changed: one delta request.
	w.mustSync(calsync.Options{})
	if fmt.Sprint(w.requests) != "map[delta:1]" {
		t.Errorf("idle incremental run made %v, want map[delta:1]", w.requests)
	}
}

func outlookEvent(subject string, start time.Time) map[string]any {
	f := "2006-01-02T15:04:05"
	return map[string]any{"subject": subject,
		"start": map[string]any{"dateTime": start.UTC().Format(f), "timeZone": "UTC"},
		"end":   map[string]any{"dateTime": start.UTC().Add(time.Hour).Format(f), "timeZone": "UTC"}}
}

// TestRandomized is the model-based test: random edits on both sides, random
// faults from the simulator and results randomly lost by the host; after the
// faults stop, clean runs must leave both sides equal, with no duplicate and
// nothing lost. -seeds and -seed choose the seeds; a failure names its seed.
func TestRandomized(t *testing.T) {
	n := *seeds
	if testing.Short() {
		n = min(n, 20)
	}
	for s := *firstSeed; s < *firstSeed+uint64(n); s++ {
		// Not parallel: creating a Graph client writes SDK globals that
		// parsing reads (a race in msgraph-sdk-go itself).
		t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) { runSeed(t, s) })
	}
}

var strategies = []calsync.ConflictResolution{"oro_wins", "microsoft_wins", "most_recent", "merge"}

func runSeed(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	w := newWorld(t, graphsim.Options{Seed: seed})
	w.strat = strategies[rng.IntN(len(strategies))]
	label := 0
	title := func() string { label++; return fmt.Sprintf("s%d-%d", seed, label) }
	when := func() time.Time {
		return time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(60*24)) * time.Hour)
	}
	var log []string
	defer func() {
		if t.Failed() {
			t.Logf("seed %d (strategy %s): rerun with -run 'TestRandomized/seed=%d$'; steps:\n%v", seed, w.strat, seed, log)
		}
	}()
	steps := 4 + rng.IntN(5)
	for step := range steps {
		// Edits on both sides.
		for range rng.IntN(4) {
			live := w.host.live()
			switch k := rng.IntN(10); {
			case k < 4 || len(live) == 0:
				id := w.host.create(title(), when())
				log = append(log, "oro create "+id)
			case k < 7:
				ev := live[rng.IntN(len(live))]
				w.host.edit(ev.ID, title())
				log = append(log, "oro edit "+ev.ID)
			default:
				ev := live[rng.IntN(len(live))]
				w.host.remove(ev.ID)
				log = append(log, "oro delete "+ev.ID)
			}
		}
		ms := w.sim.Events(upn)
		for range rng.IntN(4) {
			switch k := rng.IntN(10); {
			case k < 4 || len(ms) == 0:
				_, err := w.sim.UserCreateEvent(upn, outlookEvent(title(), when()))
				if err != nil {
					t.Fatal(err)
				}
				log = append(log, "ms create")
			case k < 7:
				id, _ := ms[rng.IntN(len(ms))]["id"].(string)
				if err := w.sim.UserUpdateEvent(upn, id, map[string]any{"subject": title()}); err != nil {
					log = append(log, "ms edit failed: "+err.Error())
					continue
				}
				log = append(log, "ms edit "+id)
			default:
				id, _ := ms[rng.IntN(len(ms))]["id"].(string)
				if err := w.sim.UserDeleteEvent(upn, id); err == nil {
					log = append(log, "ms delete "+id)
				}
			}
		}
		// Faults for this run.
		for range rng.IntN(3) {
			f := randomFault(rng)
			w.sim.AddFault(f)
			log = append(log, fmt.Sprintf("fault %s %s %d drop=%v", f.Method, f.Path, f.Status, f.Drop))
		}
		if rng.IntN(8) == 0 {
			if err := w.sim.ExpireDeltaTokens(upn); err != nil {
				t.Fatal(err)
			}
			log = append(log, "expire delta tokens")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := w.sync(ctx, calsync.Options{AllowMassDelete: true, TimeBudgetSeconds: 10})
		cancel()
		w.sim.ClearFaults()
		switch {
		case err != nil:
			log = append(log, fmt.Sprintf("run %d failed: %v", step, err))
		case rng.IntN(4) == 0:
			log = append(log, fmt.Sprintf("run %d: result lost", step))
		default:
			w.host.apply(res)
			log = append(log, fmt.Sprintf("run %d: %s, %d ops, %d issues", step, res.Status, len(res.Operations), len(res.Issues)))
		}
	}
	// Fault-free: run until a run changes nothing on either side (bounded).
	for i := 0; ; i++ {
		res, err := w.sync(context.Background(), calsync.Options{AllowMassDelete: true})
		if err != nil {
			t.Fatalf("clean run %d: %v", i, err)
		}
		w.host.apply(res)
		log = append(log, fmt.Sprintf("clean run %d: %s, %d ops, pushed %d, issues %+v", i, res.Status, len(res.Operations), res.Stats.Pushed, res.Issues))
		if res.Status == calsync.StatusCompleted && len(res.Operations) == 0 && res.Stats.Pushed == 0 && len(res.Issues) == 0 {
			break
		}
		if i == 4 {
			t.Fatalf("no quiescence after %d clean runs", i+1)
		}
	}
	w.agree()
}

// randomFault picks one of the faults a real run meets: throttling and
// unavailability (with a short Retry-After so tests stay fast), dropped
// connections, 412s on writes and 410 on delta.
func randomFault(rng *rand.Rand) graphsim.Fault {
	ra := http.Header{"Retry-After": {"0.01"}}
	count := 1 + rng.IntN(3)
	switch rng.IntN(7) {
	case 0:
		return graphsim.Fault{Method: "POST", Path: "/v1.0/me/events", Count: count, Status: 429, Header: ra}
	case 1:
		return graphsim.Fault{Method: "PATCH", Path: "/v1.0/me/events/", Count: count, Status: 503, Header: ra}
	case 2:
		return graphsim.Fault{Method: "PATCH", Path: "/v1.0/me/events/", Count: count, Status: 412,
			Body: `{"error":{"code":"ErrorIrresolvableConflict","message":"The change key passed in the request does not match the current change key for the item."}}`}
	case 3:
		return graphsim.Fault{Method: "POST", Path: "/v1.0/$batch", Count: 1, Drop: true}
	case 4:
		return graphsim.Fault{Method: "GET", Path: "/v1.0/me/calendarView/delta", Count: 1, Status: 410,
			Body: `{"error":{"code":"SyncStateNotFound","message":"The sync state generation is not found."}}`}
	case 5:
		return graphsim.Fault{Method: "GET", Path: "/v1.0/me/calendarView/delta", Count: count, Status: 503, Header: ra}
	default:
		return graphsim.Fault{Method: "DELETE", Path: "/v1.0/me/events/", Count: count, Status: 429, Header: ra}
	}
}
