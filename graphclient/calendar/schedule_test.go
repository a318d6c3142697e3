package calendar

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// batchSizes returns the number of items of each $batch in the log, and
// how many items answered 424.
func batchSizes(f *fixture) (sizes []int, failedDeps int) {
	for _, rec := range f.sim.Requests() {
		if rec.Path != "/v1.0/$batch" {
			continue
		}
		sizes = append(sizes, len(rec.BatchItems))
		for _, it := range rec.BatchItems {
			if it.Status == http.StatusFailedDependency {
				failedDeps++
			}
		}
	}
	return sizes, failedDeps
}

// TestChainsInFlight: a push larger than one batch goes out as chained
// batches (each holding one mailbox slot) of which 4 are in flight at
// once, so batches overlap while the mailbox never sees more than 4
// requests: the simulator, which answers a fifth with 429, throttles
// nothing.
func TestChainsInFlight(t *testing.T) {
	f := newFixture(t, graphsim.Options{Latency: time.Millisecond, BatchItemLatency: 2 * time.Millisecond})
	r := New(f.session, Options{})
	mustOK(t, apply(t, r, creates(200)))
	checkChains(t, f)
	sizes, _ := batchSizes(f)
	if len(sizes) != 10 {
		t.Errorf("batch sizes %v, want 10 batches of 20", sizes)
	}
	if ran := f.ranItems("POST"); ran != 200 {
		t.Errorf("%d creates ran, want 200", ran)
	}
}

// TestFailedDependencyResent: the head of a chained batch fails, so Graph
// answers 424 for the items after it, which never ran: each is sent again
// once, and a 424 is not an attempt (MaxAttempts 1 leaves no retry).
func TestFailedDependencyResent(t *testing.T) {
	f := newFixture(t, graphsim.Options{BatchItemLatency: time.Millisecond})
	r := New(f.session, Options{MaxAttempts: 1})
	f.sim.AddFault(graphsim.Fault{Method: "POST", Path: "/v1.0/me/events", Count: 1, Status: http.StatusBadRequest})
	res := apply(t, r, creates(45))
	var rejected int
	for k, x := range res {
		switch {
		case x.Err == nil:
		case calsync.KindOf(x.Err) == calsync.KindRejected:
			rejected++
		default:
			t.Errorf("write %s: %v", k, x.Err)
		}
	}
	if rejected != 1 {
		t.Errorf("%d writes rejected, want the 1 the fault answered", rejected)
	}
	sizes, failedDeps := batchSizes(f)
	sent := 0
	for _, n := range sizes {
		sent += n
	}
	// 45 writes go as chains of 20, 20 and 5; the fault answers the item
	// that runs first, the head of one of them
	if (failedDeps != 19 && failedDeps != 4) || sent != 45+failedDeps {
		t.Errorf("%d items answered 424, %d items sent in %v: want those behind the failed head of its chain (19 or 4), each sent again once", failedDeps, sent, sizes)
	}
	if ran := f.ranItems("POST"); ran != 45 {
		t.Errorf("%d creates ran, want 45 (each once)", ran)
	}
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled, want 0", n)
	}
}

// TestBudgetStopsBeforeLimit: with a request budget of 50 (and a simulator
// answering the 51st request in 10 minutes with 429), a push of 80 sends
// 50 writes; the other 30 answer throttled without being sent, with a
// Retry-After after which none of the call's requests counts any more (10
// minutes after the minute of the last one, as the state dates them). A
// read refused by the budget sends nothing either.
func TestBudgetStopsBeforeLimit(t *testing.T) {
	f := newFixture(t, graphsim.Options{MailboxRequestLimit: 50, BatchItemLatency: time.Millisecond})
	r := New(f.session, Options{RequestBudget: 50})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	res, err := r.Apply(ctx, creates(80))
	if err != nil {
		t.Fatal(err)
	}
	var done, spent int
	for _, x := range res {
		if x.Err == nil {
			done++
			continue
		}
		e := calsync.AsError(x.Err)
		if e.Kind != calsync.KindThrottled || e.Code != "RequestBudgetSpent" || e.RetryAfter <= 9*time.Minute || e.RetryAfter > 11*time.Minute {
			t.Errorf("%s: %v (kind %s, retryAfter %v), want throttled by the budget for 10 minutes after the minute of the last request", x.Key, x.Err, e.Kind, e.RetryAfter)
		}
		spent++
	}
	if done != 50 || spent != 30 || len(res) != 80 {
		t.Errorf("%d done, %d not sent of %d results: want 50 and 30", done, spent, len(res))
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Apply took %v: it waited for a budget that frees after its deadline", time.Since(start))
	}
	if ran := f.ranItems("POST"); ran != 50 {
		t.Errorf("%d creates ran, want 50", ran)
	}
	before := len(f.sim.Requests())
	if _, err := r.Get(ctx, res[0].Event.ID); calsync.KindOf(err) != calsync.KindThrottled {
		t.Errorf("a read past the budget: %v, want throttled", err)
	}
	if n := len(f.sim.Requests()); n != before {
		t.Errorf("a read past the budget sent %d requests", n-before)
	}
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled by the simulator, want 0", n)
	}
}

// TestBudgetPaces: when the window frees requests before ctx's deadline,
// Apply waits for them and goes on, under the simulator's limit all along.
func TestBudgetPaces(t *testing.T) {
	const window = 300 * time.Millisecond
	f := newFixture(t, graphsim.Options{MailboxRequestLimit: 20, MailboxRequestWindow: window})
	r := New(f.session, Options{RequestBudget: 20})
	r.slots.budget.window = window
	start := time.Now()
	mustOK(t, apply(t, r, creates(50)))
	if d := time.Since(start); d < 2*window {
		t.Errorf("50 writes at 20 per %v took %v, want at least %v", window, d, 2*window)
	}
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled, want 0", n)
	}
}

// TestEngineKeepsChainsAcrossChunks: the engine hands its writes over as
// one stream (ApplyStream), so that even handed over 20 at a time
// (ApplyChunk 20, one batch's worth), 4 chained batches fly at once: the
// chains do not drain between one handful and the next, the mailbox never
// sees more than 4 requests, and only the last batch goes unordered.
func TestEngineKeepsChainsAcrossChunks(t *testing.T) {
	f := newFixture(t, graphsim.Options{Latency: time.Millisecond, BatchItemLatency: 2 * time.Millisecond})
	res := runEngine(t, f, nil, oroEvents(200), 20)
	if res.Status != calsync.StatusCompleted || res.Stats.Pushed != 200 {
		t.Fatalf("%s (%s), pushed %d; want completed, 200", res.Status, res.Reason, res.Stats.Pushed)
	}
	if n := res.Stats.Calls["apply"]; n != 1 {
		t.Errorf("%d apply calls, want 1 stream", n)
	}
	checkChains(t, f)
}

// checkChains checks a push run as four chains of batches: nothing
// throttled, never more than 4 requests against the mailbox, 4 batches in
// flight at once, and only the last batch unordered.
func checkChains(t *testing.T, f *fixture) {
	t.Helper()
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled, want 0", n)
	}
	if p := f.meter.max(); p > 4 {
		t.Errorf("%d requests ran against the mailbox at once, want at most 4", p)
	}
	if o := f.meter.overlap(); o != 4 {
		t.Errorf("at most %d batches in flight at once, want 4", o)
	}
	if u := f.meter.unordered; u > 1 {
		t.Errorf("%d batches of several items without dependsOn, want at most the last", u)
	}
}

// TestStreamBudgetSpent: a stream whose writes come a few at a time
// outlasts the request budget (50, a deadline before it frees): the 50
// writes it allows are done, and every later one, in the handfuls fed
// after the budget ran out, answers throttled without being sent, until
// feed has no more.
func TestStreamBudgetSpent(t *testing.T) {
	f := newFixture(t, graphsim.Options{MailboxRequestLimit: 50, BatchItemLatency: time.Millisecond})
	r := New(f.session, Options{RequestBudget: 50})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ws := creates(80)
	feed := func(n int) []calsync.Write {
		n = min(n, 7, len(ws))
		out := ws[:n]
		ws = ws[n:]
		return out
	}
	var done, spent int
	err := r.ApplyStream(ctx, feed, func(x calsync.WriteResult) {
		switch e := calsync.AsError(x.Err); {
		case x.Err == nil:
			done++
		case e.Kind == calsync.KindThrottled && e.Code == "RequestBudgetSpent":
			spent++
		default:
			t.Errorf("%s: %v", x.Key, x.Err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if done != 50 || spent != 30 || len(ws) != 0 {
		t.Errorf("%d done, %d not sent, %d never fed: want 50, 30, 0", done, spent, len(ws))
	}
	if ran := f.ranItems("POST"); ran != 50 {
		t.Errorf("%d creates ran, want 50", ran)
	}
	if n := f.throttled(); n != 0 {
		t.Errorf("%d requests throttled by the simulator, want 0", n)
	}
}

// TestEncodeBatch: the $batch body written by hand reads back, through
// encoding/json, as the items it carries: ids, methods, urls (ids
// escaped), headers (an ETag's quotes escaped), bodies as prepared, and
// each item of a chain depending on the one before it.
func TestEncodeBatch(t *testing.T) {
	create := &job{w: calsync.Write{Op: calsync.WriteCreate}, body: []byte(`{"subject":"a \"b\" <c>"}`)}
	update := &job{w: calsync.Write{Op: calsync.WriteUpdate, ID: "AA/k=", IfMatch: `W/"x\y"`}, body: []byte(`{"subject":"u"}`)}
	del := &job{w: calsync.Write{Op: calsync.WriteDelete, ID: "AAk=", IfMatch: `W/"z"`}}
	type item struct {
		ID, Method, URL string
		Headers         map[string]string
		Body            json.RawMessage
		DependsOn       []string
	}
	for _, chained := range []bool{false, true} {
		raw := encodeBatch([]*job{create, update, del}, chained)
		var got struct{ Requests []item }
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("%v: %s", err, raw)
		}
		prefer := `IdType="ImmutableId", outlook.timezone="UTC", outlook.body-content-type="text"`
		want := []item{
			{ID: "0", Method: "POST", URL: "/me/events", Headers: map[string]string{"Prefer": prefer, "Content-Type": "application/json"}, Body: create.body},
			{ID: "1", Method: "PATCH", URL: "/me/events/AA%2Fk=", Headers: map[string]string{"Prefer": prefer, "Content-Type": "application/json", "If-Match": `W/"x\y"`}, Body: update.body},
			{ID: "2", Method: "DELETE", URL: "/me/events/AAk=", Headers: map[string]string{"Prefer": prefer, "If-Match": `W/"z"`}},
		}
		if chained {
			want[1].DependsOn, want[2].DependsOn = []string{"0"}, []string{"1"}
		}
		if !reflect.DeepEqual(got.Requests, want) {
			t.Errorf("chained %v: %s\nread back %+v\nwant      %+v", chained, raw, got.Requests, want)
		}
	}
}

// TestDecodeAnswers: a $batch answer read in one pass, and one with an
// item body that is no object (read again item by item), give the same
// results: the event created, a 429 to retry after its Retry-After, a
// refusal with Graph's code; the odd item fails alone.
func TestDecodeAnswers(t *testing.T) {
	const items = `{"id":"0","status":201,"headers":{"Content-Type":"application/json"},"body":{"id":"AAk=","subject":"s","changeKey":"ck"}},
{"id":"1","status":429,"headers":{"Retry-After":"7"},"body":{"error":{"code":"ApplicationThrottled","message":"over"}}},
{"id":"2","status":400,"headers":{},"body":{"error":{"code":"ErrorInvalidRequest","message":"bad"}}}`
	j := &job{w: calsync.Write{Key: "k", Op: calsync.WriteCreate, OroID: "o1"}}
	for _, answer := range []string{
		`{"responses":[` + items + `]}`,
		`{"responses":[` + items + `,{"id":"3","status":502,"body":"<html>bad gateway</html>"}]}`,
	} {
		out, err := decodeAnswers([]byte(answer))
		if err != nil {
			t.Fatal(err)
		}
		if res, retry := itemResult(j, out["0"]); retry != nil || res.Err != nil || res.Event == nil || res.Event.ID != "AAk=" || res.Event.ChangeKey != "ck" || res.Event.OroID != "o1" {
			t.Errorf("item 0: %+v, %v; want the event created", res, retry)
		}
		if _, retry := itemResult(j, out["1"]); retry == nil || retry.Kind != calsync.KindThrottled || retry.RetryAfter != 7*time.Second {
			t.Errorf("item 1: %v; want throttled, retry after 7s", retry)
		}
		if res, retry := itemResult(j, out["2"]); retry != nil || calsync.KindOf(res.Err) != calsync.KindRejected || !strings.Contains(res.Err.Error(), "ErrorInvalidRequest") {
			t.Errorf("item 2: %v, %v; want rejected with Graph's code", res.Err, retry)
		}
		if a, ok := out["3"]; ok {
			if res, _ := itemResult(j, a); res.Err == nil {
				t.Errorf("item 3 (a 502 with an HTML body) succeeded")
			}
		}
	}
}
