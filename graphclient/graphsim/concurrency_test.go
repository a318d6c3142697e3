package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// outcome is one answer: of a plain request, or of one $batch item.
type outcome struct {
	status     int
	code       string
	retryAfter string
}

// send makes one Graph call: GET /v1.0/me/calendar when items is 0, else a
// $batch of items unordered GET /me items. It reports one outcome per
// request or item, and never calls t.Fatal (it runs on its own goroutine).
func (e *env) send(items int) ([]outcome, error) {
	method, u, ct := "GET", e.srv.URL+"/v1.0/me/calendar", ""
	var body io.Reader
	if items > 0 {
		reqs := make([]any, items)
		for i := range reqs {
			reqs[i] = map[string]any{"id": fmt.Sprint(i + 1), "method": "GET", "url": "/me"}
		}
		b, _ := json.Marshal(map[string]any{"requests": reqs})
		method, u, ct, body = "POST", e.srv.URL+"/v1.0/$batch", "application/json", bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+e.tok)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	var errBody struct {
		Error struct{ Code string } `json:"error"`
	}
	if items == 0 {
		_ = json.Unmarshal(raw, &errBody)
		return []outcome{{r.StatusCode, errBody.Error.Code, r.Header.Get("Retry-After")}}, nil
	}
	var br struct {
		Responses []struct {
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    json.RawMessage   `json:"body"`
		} `json:"responses"`
	}
	if r.StatusCode != 200 || json.Unmarshal(raw, &br) != nil || len(br.Responses) != items {
		return nil, fmt.Errorf("$batch: %d %s", r.StatusCode, raw)
	}
	out := make([]outcome, 0, items)
	for _, it := range br.Responses {
		errBody.Error.Code = ""
		_ = json.Unmarshal(it.Body, &errBody)
		out = append(out, outcome{it.Status, errBody.Error.Code, it.Headers["Retry-After"]})
	}
	return out, nil
}

// TestMailboxConcurrency: facts §7, Outlook allows 4 concurrent requests per
// app per mailbox; the excess is answered 429 ApplicationThrottled ("over its
// MailboxConcurrency limit") with Retry-After. Latency is service time, so a
// request holds its slot for all of it; in a $batch each running item holds
// a slot for its BatchItemLatency, and Graph runs at most 4 items of a batch
// at once (facts §6), so one batch alone is never throttled. A fault's
// Latency lengthens the service time of a request it lets through; a fault
// that answers for Graph (Status or Drop) never reaches the mailbox and
// holds no slot.
func TestMailboxConcurrency(t *testing.T) {
	const lat = 400 * time.Millisecond
	plain := func(n int) []int { return make([]int, n) }
	cases := []struct {
		name  string
		opts  Options
		fault *Fault
		sends []int       // each is one concurrent call: 0 a plain request, n a $batch of n items
		want  map[int]int // outcomes by status
	}{
		{"8 requests", Options{Latency: lat}, nil, plain(8), map[int]int{200: 4, 429: 4}},
		{"4 requests", Options{Latency: lat}, nil, plain(4), map[int]int{200: 4}},
		{"2 batches of 4 items", Options{BatchItemLatency: lat}, nil, []int{4, 4}, map[int]int{200: 4, 429: 4}},
		{"1 batch of 8 items", Options{BatchItemLatency: lat}, nil, []int{8}, map[int]int{200: 8}},
		{"batch of 4 items and 4 requests slowed by a fault", Options{BatchItemLatency: lat},
			&Fault{Method: "GET", Path: "/v1.0/me/calendar", Count: 4, Latency: lat}, []int{4, 0, 0, 0, 0}, map[int]int{200: 4, 429: 4}},
		{"8 requests answered 503 after a fault's latency", Options{},
			&Fault{Method: "GET", Path: "/v1.0/me/calendar", Count: 8, Status: 503, Latency: lat}, plain(8), map[int]int{503: 8}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.opts)
			if c.fault != nil {
				e.sim.AddFault(*c.fault)
			}
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				got   []outcome
				start = make(chan struct{})
			)
			for _, items := range c.sends {
				wg.Go(func() {
					<-start
					out, err := e.send(items)
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						t.Error(err)
					}
					got = append(got, out...)
				})
			}
			close(start)
			wg.Wait()
			byStatus := map[int]int{}
			for _, o := range got {
				byStatus[o.status]++
				if o.status == 429 && (o.code != "ApplicationThrottled" || o.retryAfter == "") {
					t.Errorf("429 with code %q, Retry-After %q; want ApplicationThrottled with Retry-After", o.code, o.retryAfter)
				}
			}
			if fmt.Sprint(byStatus) != fmt.Sprint(c.want) {
				t.Errorf("outcomes by status %v, want %v", byStatus, c.want)
			}
		})
	}
}
