package graphsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestFaultAfter: Fault.After performs the request, then loses its answer
// (a 5xx in its place, or a dropped connection; for a batch item a 504):
// the write happened although the client saw it fail (facts §3: the case
// transactionId exists for; §7: a retried POST after a 5xx can duplicate).
// Without After the same fault answers before the mailbox, and nothing is
// written.
func TestFaultAfter(t *testing.T) {
	ev := func(subject string) map[string]any {
		return simpleEvent(subject, "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	}
	batch := func(subjects ...string) map[string]any {
		var reqs []any
		for i, s := range subjects {
			reqs = append(reqs, map[string]any{"id": string(rune('a' + i)), "method": "POST", "url": "/me/events",
				"headers": map[string]any{"Content-Type": "application/json"}, "body": ev(s)})
		}
		return map[string]any{"requests": reqs}
	}
	cases := []struct {
		name  string
		fault Fault
		// setup creates the event the request is about, if any, before
		// the fault is armed
		setup bool
		// send makes the request about id; it returns the HTTP status (0:
		// no answer) and the item statuses of a batch by id.
		send func(e *env, id string) (int, map[string]int)
		// want is the subjects in the mailbox afterwards, the HTTP status
		// and the item statuses.
		want      []string
		status    int
		items     map[string]int
		logStatus int // the request log's status for the faulted request
	}{
		{name: "§3 create performed, then 504",
			fault: Fault{Method: "POST", Path: "/v1.0/me/events", Status: 504, After: true},
			send: func(e *env, id string) (int, map[string]int) {
				return e.do("POST", "/v1.0/me/events", ev("x")).status, nil
			},
			want: []string{"x"}, status: 504, logStatus: 504},
		{name: "§3 create performed, then the connection drops",
			fault: Fault{Method: "POST", Path: "/v1.0/me/events", Drop: true, After: true},
			send:  func(e *env, id string) (int, map[string]int) { return e.raw("POST", "/v1.0/me/events", ev("x")), nil },
			want:  []string{"x"}, status: 0, logStatus: 0},
		{name: "§7 504 without After: not performed",
			fault: Fault{Method: "POST", Path: "/v1.0/me/events", Status: 504},
			send: func(e *env, id string) (int, map[string]int) {
				return e.do("POST", "/v1.0/me/events", ev("x")).status, nil
			},
			want: nil, status: 504, logStatus: 504},
		{name: "§7 update performed, then 503",
			fault: Fault{Method: "PATCH", Path: "/v1.0/me/events/*", Status: 503, After: true},
			setup: true,
			send: func(e *env, id string) (int, map[string]int) {
				return e.do("PATCH", "/v1.0/me/events/"+id, map[string]any{"subject": "after"}).status, nil
			},
			want: []string{"after"}, status: 503, logStatus: 503},
		{name: "§7 delete performed, then 504",
			fault: Fault{Method: "DELETE", Path: "/v1.0/me/events/*", Status: 504, After: true},
			setup: true,
			send: func(e *env, id string) (int, map[string]int) {
				return e.do("DELETE", "/v1.0/me/events/"+id, nil).status, nil
			},
			want: nil, status: 504, logStatus: 504},
		{name: "§6 batch performed, then the connection drops",
			fault: Fault{Method: "POST", Path: "/v1.0/$batch", Drop: true, After: true},
			send: func(e *env, id string) (int, map[string]int) {
				return e.raw("POST", "/v1.0/$batch", batch("x", "y")), nil
			},
			want: []string{"x", "y"}, status: 0, logStatus: 0},
		{name: "§6 batch item performed, then 504",
			fault: Fault{Method: "POST", Path: "/v1.0/me/events", Status: 504, After: true},
			send:  func(e *env, id string) (int, map[string]int) { return e.batch(batch("x")) },
			want:  []string{"x"}, status: 200, items: map[string]int{"a": 504}, logStatus: 200},
		{name: "§6 batch item performed, then dropped: 504",
			fault: Fault{Method: "POST", Path: "/v1.0/me/events", Drop: true, After: true},
			send:  func(e *env, id string) (int, map[string]int) { return e.batch(batch("x")) },
			want:  []string{"x"}, status: 200, items: map[string]int{"a": 504}, logStatus: 200},
		{name: "§6 batch item 504 without After: not performed",
			fault: Fault{Method: "POST", Path: "/v1.0/me/events", Status: 504},
			send:  func(e *env, id string) (int, map[string]int) { return e.batch(batch("x")) },
			want:  nil, status: 200, items: map[string]int{"a": 504}, logStatus: 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			var id string
			if tc.setup {
				id = e.create(ev("before")).str("id")
			}
			e.sim.AddFault(tc.fault)
			status, items := tc.send(e, id)
			if status != tc.status {
				t.Errorf("status %d, want %d", status, tc.status)
			}
			for id, want := range tc.items {
				if items[id] != want {
					t.Errorf("item %s: status %d, want %d", id, items[id], want)
				}
			}
			var got []string
			for _, m := range e.sim.Events(testUPN) {
				got = append(got, m["subject"].(string))
			}
			if len(got) != len(tc.want) || (len(got) > 0 && !equalSets(got, tc.want)) {
				t.Errorf("mailbox %v, want %v", got, tc.want)
			}
			recs := e.sim.Requests()
			last := recs[len(recs)-1]
			if !last.Fault && (len(last.BatchItems) == 0 || !last.BatchItems[0].Fault) {
				t.Errorf("fault not logged: %+v", last)
			}
			if last.Status != tc.logStatus {
				t.Errorf("logged status %d, want %d", last.Status, tc.logStatus)
			}
		})
	}
}

// TestFaultAfterRetry: the retry of a create whose answer was lost meets
// the transactionId dedupe (facts §3, UNCONFIRMED): by default the first
// event with 201, with TransactionIDConflict a 409. Either way one event.
func TestFaultAfterRetry(t *testing.T) {
	for _, conflict := range []bool{false, true} {
		e := newEnv(t, Options{TransactionIDConflict: conflict})
		ev := simpleEvent("tx", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
		ev["transactionId"] = "tx-1"
		e.sim.AddFault(Fault{Method: "POST", Path: "/v1.0/me/events", Status: 504, After: true})
		if r := e.do("POST", "/v1.0/me/events", ev); r.status != 504 {
			t.Fatalf("conflict=%v: first answer %d, want 504", conflict, r.status)
		}
		again := e.do("POST", "/v1.0/me/events", ev)
		switch {
		case conflict && (again.status != 409 || again.code() != "ErrorDuplicateTransactionId"):
			t.Errorf("conflict mode: retry %d %s", again.status, again.raw)
		case !conflict && (again.status != 201 || again.str("transactionId") != "tx-1"):
			t.Errorf("dedupe: retry %d %s", again.status, again.raw)
		}
		if n := len(e.sim.Events(testUPN)); n != 1 {
			t.Errorf("conflict=%v: %d events, want 1", conflict, n)
		}
	}
}

// TestFaultAfterControl: the control API takes "after" too.
func TestFaultAfterControl(t *testing.T) {
	e := newEnv(t, Options{})
	f := `{"method":"POST","path":"/v1.0/me/events","status":504,"after":true}`
	resp, err := http.Post(e.srv.URL+"/_sim/faults", "application/json", strings.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST /_sim/faults: %d", resp.StatusCode)
	}
	r := e.do("POST", "/v1.0/me/events", simpleEvent("x", "2025-01-07T10:00:00", "2025-01-07T11:00:00"))
	if n := len(e.sim.Events(testUPN)); r.status != 504 || n != 1 {
		t.Errorf("answer %d with %d events, want 504 with 1", r.status, n)
	}
}

// raw sends a Graph request on a fresh connection (so a dropped connection
// is not retried silently) and returns its status, 0 when there was no
// answer.
func (e *env) raw(method, path string, body any) int {
	e.t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+e.tok)
	req.Header.Set("Content-Type", "application/json")
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	r, err := fresh.Do(req)
	if err != nil {
		return 0
	}
	r.Body.Close()
	return r.StatusCode
}

// batch posts a $batch and returns its status and the items' statuses.
func (e *env) batch(body map[string]any) (int, map[string]int) {
	e.t.Helper()
	r := e.do("POST", "/v1.0/$batch", body)
	items := map[string]int{}
	resps, _ := r.body["responses"].([]any)
	for _, x := range resps {
		m := x.(map[string]any)
		items[m["id"].(string)] = int(m["status"].(float64))
	}
	return r.status, items
}

func equalSets(a, b []string) bool {
	seen := map[string]int{}
	for _, s := range a {
		seen[s]++
	}
	for _, s := range b {
		seen[s]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
