package calendar

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestCreateAnswerLost: creates that Graph performed but whose answer was
// lost (the $batch connection dropped, or an item answered 504 after the
// write, or the batch's answer could not be read) are looked up by Oro id,
// not sent again: whether Graph deduplicates the transactionId
// (graph-facts §3, UNCONFIRMED) must not matter. With the dedupe switched
// to 409 or left on, exactly one event exists per create and the results
// carry it; lookups keep the mailbox within 4 requests.
func TestCreateAnswerLost(t *testing.T) {
	cases := []struct {
		name   string
		n      int              // creates
		faults []graphsim.Fault // armed before Apply
		finds  int              // lookups expected
	}{
		{"batch performed, connection dropped", 20,
			[]graphsim.Fault{{Method: "POST", Path: "/v1.0/$batch", Drop: true, After: true}}, 20},
		{"batch performed, answered 503", 5,
			[]graphsim.Fault{{Method: "POST", Path: "/v1.0/$batch", Status: 503, After: true}}, 5},
		{"batch performed, its answer unreadable", 4,
			[]graphsim.Fault{{Method: "POST", Path: "/v1.0/$batch", Status: 200, Body: `{"responses":{"id":"0","status":201}}`, After: true}}, 4},
		{"items performed, answered 504", 6,
			[]graphsim.Fault{{Method: "POST", Path: "/v1.0/me/events", Count: 2, Status: 504, After: true}}, 2},
		{"batch performed, connection dropped, first lookup dropped too", 3,
			[]graphsim.Fault{{Method: "POST", Path: "/v1.0/$batch", Drop: true, After: true},
				{Method: "GET", Path: "/v1.0/me/events", Drop: true}}, 4},
	}
	for _, tc := range cases {
		for _, conflict := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/TransactionIDConflict=%v", tc.name, conflict), func(t *testing.T) {
				f := newFixture(t, graphsim.Options{TransactionIDConflict: conflict, Latency: time.Millisecond, BatchItemLatency: time.Millisecond})
				r := New(f.session, Options{Backoff: 10 * time.Millisecond})
				for _, fault := range tc.faults {
					f.sim.AddFault(fault)
				}
				ws := creates(tc.n)
				res := apply(t, r, ws)
				mustOK(t, res)
				events, _, _ := pull(t, r, "")
				if len(events) != tc.n {
					t.Errorf("%d events in the calendar, want %d", len(events), tc.n)
				}
				for _, w := range ws {
					got := res[w.Key].Event
					if got == nil {
						t.Errorf("%s: no event in the result", w.Key)
						continue
					}
					if ev, ok := events[got.ID]; !ok || ev.Subject != w.Event.Subject || got.OroID != w.OroID {
						t.Errorf("%s: result %s (oro %q) is not the event created for it", w.Key, got.ID, got.OroID)
					}
				}
				counts := r.GraphRequests()
				if counts[KindBatch] != 1 || counts[KindFind] != tc.finds {
					t.Errorf("requests %v: want 1 batch (nothing sent again) and %d lookups", counts, tc.finds)
				}
				if n, p := f.throttled(), f.meter.max(); n != 0 || p > 4 {
					t.Errorf("%d requests throttled, %d at once against the mailbox: want 0, at most 4", n, p)
				}
			})
		}
	}
}

// TestCreateConflictLookedUp: a create answered 409 (what Graph may answer
// for a transactionId it has seen, graph-facts §3) is looked up: the event
// an earlier run created is its result. A 409 for a create that was not
// performed (nothing found) is sent again.
func TestCreateConflictLookedUp(t *testing.T) {
	f := newFixture(t, graphsim.Options{TransactionIDConflict: true})
	r := New(f.session, Options{Backoff: 10 * time.Millisecond})
	ws := creates(3)
	first := apply(t, r, ws)
	mustOK(t, first)
	// A repeated run whose first result was lost sends the same creates.
	again := apply(t, r, ws)
	mustOK(t, again)
	for _, w := range ws {
		if a, b := first[w.Key].Event.ID, again[w.Key].Event.ID; a != b {
			t.Errorf("%s: second create answered %s, first %s", w.Key, b, a)
		}
	}

	f.sim.AddFault(graphsim.Fault{Method: "POST", Path: "/v1.0/me/events", Status: http.StatusConflict,
		Body: `{"error":{"code":"ErrorIrresolvableConflict","message":"ConcurrentItemSave"}}`})
	more := creates(5)[3:]
	res := apply(t, r, more)
	mustOK(t, res)
	events, _, _ := pull(t, r, "")
	if len(events) != 5 {
		t.Errorf("%d events in the calendar, want 5", len(events))
	}
	for _, w := range more {
		if _, ok := events[res[w.Key].Event.ID]; !ok {
			t.Errorf("%s: result %s not in the calendar", w.Key, res[w.Key].Event.ID)
		}
	}
}

// TestUpdateNotLookedUp: only creates are looked up; an update answered 504
// is sent again as before (a repeated PATCH is harmless).
func TestUpdateNotLookedUp(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{Backoff: 10 * time.Millisecond})
	created := apply(t, r, creates(1))
	mustOK(t, created)
	ev := created["oro-0"].Event
	f.sim.AddFault(graphsim.Fault{Method: "PATCH", Path: "/v1.0/me/events/", Status: 504, After: true})
	res := apply(t, r, []calsync.Write{{Key: "u", Op: calsync.WriteUpdate, OroID: "oro-0", ID: ev.ID,
		Fields: []string{"subject"}, Event: calsync.RemoteEvent{Subject: "renamed"}}})
	mustOK(t, res)
	if c := r.GraphRequests(); c[KindFind] != 0 || c[KindBatch] != 3 {
		t.Errorf("requests %v: want no lookup, the update sent twice", c)
	}
	got, err := r.Get(context.Background(), ev.ID)
	if err != nil || got.Subject != "renamed" {
		t.Errorf("after the retried update: %q, %v", got.Subject, err)
	}
}
