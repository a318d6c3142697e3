package graphsim

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// postItem is a batch item creating an event, depending on deps.
func postItem(id string, deps ...any) map[string]any {
	it := map[string]any{"id": id, "method": "POST", "url": "/me/events", "headers": map[string]any{"content-type": "application/json"},
		"body": simpleEvent("b"+id, "2025-01-07T10:00:00", "2025-01-07T11:00:00")}
	if len(deps) > 0 {
		it["dependsOn"] = deps
	}
	return it
}

// statuses returns a batch answer's item statuses by id, and the ids in
// the order the answer lists them.
func statuses(t *testing.T, r resp) (map[string]int, []string) {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.raw)
	}
	got := map[string]int{}
	var order []string
	for _, x := range r.body["responses"].([]any) {
		m := x.(map[string]any)
		got[m["id"].(string)] = int(m["status"].(float64))
		order = append(order, m["id"].(string))
	}
	return got, order
}

// TestBatchDependsOnChain: §6 items chained by dependsOn run one at a time
// in dependency order (not request order), and an item depending on a
// failed one, directly or through a 424, answers 424 without running.
func TestBatchDependsOnChain(t *testing.T) {
	e := newEnv(t, Options{})
	missing := "/me/events/" + formatID("E0123456789abcdef", false)
	body := map[string]any{"requests": []any{
		postItem("c", "b"),
		postItem("a"),
		map[string]any{"id": "b", "method": "PATCH", "url": missing, "dependsOn": []any{"A"}, // ids compare case-insensitively
			"headers": map[string]any{"content-type": "application/json"}, "body": map[string]any{"subject": "x"}},
		postItem("d", "c"),
	}}
	got, order := statuses(t, e.do("POST", "/v1.0/$batch", body))
	want := map[string]int{"a": 201, "b": 404, "c": 424, "d": 424}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("item %s: %d, want %d", k, got[k], v)
		}
	}
	if fmt.Sprint(order) != "[a b c d]" {
		t.Errorf("answered in order %v, want the run order [a b c d]", order)
	}
	if n := e.sim.Counts()["POST /v1.0/me/events"]; n != 1 {
		t.Errorf("%d creates ran, want 1: a 424 item never runs", n)
	}
}

// TestBatchDependsOnSequential: a batch with dependsOn runs one item at a
// time, so it holds one mailbox slot: four chained batches at once stay
// within the mailbox's 4 concurrent requests, and each takes the sum of
// its items' service times.
func TestBatchDependsOnSequential(t *testing.T) {
	const lat = 25 * time.Millisecond
	e := newEnv(t, Options{BatchItemLatency: lat})
	chain := func(n int) map[string]any {
		reqs := []any{postItem("0")}
		for i := 1; i < n; i++ {
			reqs = append(reqs, postItem(fmt.Sprint(i), fmt.Sprint(i-1)))
		}
		return map[string]any{"requests": reqs}
	}
	start := time.Now()
	var wg sync.WaitGroup
	answers := make([]resp, 4)
	for i := range answers {
		wg.Go(func() { answers[i] = e.do("POST", "/v1.0/$batch", chain(4)) })
	}
	wg.Wait()
	if d := time.Since(start); d < 4*lat {
		t.Errorf("4 chained items took %v, want at least %v (one at a time)", d, 4*lat)
	}
	for _, a := range answers {
		got, _ := statuses(t, a)
		for id, st := range got {
			if st != 201 {
				t.Errorf("item %s: %d, want 201 (4 chained batches hold 4 slots)", id, st)
			}
		}
	}

	// One dependsOn makes the whole batch sequential, the items that
	// depend on nothing included (§6: fully sequential or fully parallel).
	start = time.Now()
	statuses(t, e.do("POST", "/v1.0/$batch", map[string]any{"requests": []any{postItem("0"), postItem("1"), postItem("2"), postItem("3", "0")}}))
	if d := time.Since(start); d < 4*lat {
		t.Errorf("a batch with a dependsOn took %v, want at least %v (one item at a time)", d, 4*lat)
	}
}

// TestBatchDependsOnMalformed: §6 a batch that cannot be parsed answers
// 400 as a whole; a dependsOn naming an unknown id, closing a cycle, or
// not an array of ids is such a batch. Nothing of it runs.
func TestBatchDependsOnMalformed(t *testing.T) {
	e := newEnv(t, Options{})
	for _, tc := range []struct {
		name string
		reqs []any
	}{
		{"unknown id", []any{postItem("1"), postItem("2", "3")}},
		{"cycle", []any{postItem("1", "3"), postItem("2", "1"), postItem("3", "2")}},
		{"itself", []any{postItem("1"), postItem("2", "2")}},
		{"not an array", []any{postItem("1"), func() map[string]any { it := postItem("2"); it["dependsOn"] = "1"; return it }()}},
		{"not an id", []any{postItem("1"), postItem("2", 1)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/v1.0/$batch", map[string]any{"requests": tc.reqs})
			if r.status != 400 || r.code() != "BadRequest" {
				t.Errorf("%d %s, want 400 BadRequest", r.status, r.raw)
			}
		})
	}
	if n := e.sim.Counts()["POST /v1.0/me/events"]; n != 0 {
		t.Errorf("%d creates ran from malformed batches, want 0", n)
	}
}
