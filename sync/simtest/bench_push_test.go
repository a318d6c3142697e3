package simtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkPush5kProcess is BenchmarkFullSync10kProcess for a first sync
// that only pushes: 5,000 Oro events, none in Outlook (10,000 would run
// into Microsoft's 10,000 requests per 10 minutes). Beside the sidecar's
// CPU per event it reports the codec floor's (see tap.measure): the CPU
// time, in this process and at its best of five passes, of only decoding
// the request, encoding the same batches, decoding the same answers with
// encoding/json into small structs and writing a reply of the same size,
// without a process, HTTP or a collection of its own. BenchmarkPush5kFloor
// is the floor as a program, as BenchmarkPull10kFloor is the pull's.
//
//	go test ./sync/simtest/ -run '^$' -bench 'Push5k(Process|Floor)' -benchtime 3x
func BenchmarkPush5kProcess(b *testing.B) { processSync(b, 5000, 0, time.Hour, &tap{}) }

// BenchmarkPush5kFloor is BenchmarkPush5kProcess's floor: the same 5,000
// Oro events pushed by testdata/floor, a program that decodes the request
// and the Graph answers with encoding/json into small structs, sends the
// creates in $batch requests of 20 with net/http, reads the delta rounds
// a first sync reads and writes a reply of about the sidecar's size.
func BenchmarkPush5kFloor(b *testing.B) { floorSync(b, "push", 5000, 0, time.Hour) }

// A tap stands between the sidecar and the simulator and keeps every
// Graph request body and answer, to measure the floor on the same traffic.
type tap struct {
	mu        sync.Mutex
	exchanges []exchange

	floorPerEvent float64 // µs of CPU per event, the last measure's
}

type exchange struct {
	path      string
	req, resp []byte
}

// serve starts a server passing requests to h through t, forgetting what
// an earlier run kept, and returns its URL.
func (t *tap) serve(b *testing.B, h http.Handler) string {
	t.mu.Lock()
	t.exchanges = nil
	t.mu.Unlock()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		t.mu.Lock()
		t.exchanges = append(t.exchanges, exchange{path: r.URL.Path, req: body, resp: tw.body.Bytes()})
		t.mu.Unlock()
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

// Small structs: what a minimal program would read and write.
type (
	floorDateTime struct {
		DateTime string `json:"dateTime"`
		TimeZone string `json:"timeZone"`
	}
	floorProperty struct {
		ID    string `json:"id"`
		Value string `json:"value"`
	}
	floorEvent struct {
		ID        string `json:"id,omitempty"`
		ETag      string `json:"@odata.etag,omitempty"`
		ChangeKey string `json:"changeKey,omitempty"`
		Subject   string `json:"subject"`
		Body      struct {
			ContentType string `json:"contentType"`
			Content     string `json:"content"`
		} `json:"body"`
		Start    floorDateTime `json:"start"`
		End      floorDateTime `json:"end"`
		Location struct {
			DisplayName string `json:"displayName"`
		} `json:"location"`
		IsAllDay                   bool            `json:"isAllDay"`
		IsReminderOn               bool            `json:"isReminderOn"`
		ReminderMinutesBeforeStart int             `json:"reminderMinutesBeforeStart"`
		TransactionID              string          `json:"transactionId,omitempty"`
		Type                       string          `json:"type,omitempty"`
		LastModified               string          `json:"lastModifiedDateTime,omitempty"`
		Properties                 []floorProperty `json:"singleValueExtendedProperties,omitempty"`
		Removed                    *struct {
			Reason string `json:"reason"`
		} `json:"@removed,omitempty"`
	}
	floorBatch struct {
		Requests []struct {
			ID        string            `json:"id"`
			Method    string            `json:"method"`
			URL       string            `json:"url"`
			Headers   map[string]string `json:"headers,omitempty"`
			Body      *floorEvent       `json:"body,omitempty"`
			DependsOn []string          `json:"dependsOn,omitempty"`
		} `json:"requests"`
	}
	floorBatchAnswer struct {
		Responses []struct {
			ID      string            `json:"id"`
			Status  int               `json:"status"`
			Headers map[string]string `json:"headers"`
			Body    floorEvent        `json:"body"`
		} `json:"responses"`
	}
	floorPage struct {
		Value     []floorEvent `json:"value"`
		NextLink  string       `json:"@odata.nextLink"`
		DeltaLink string       `json:"@odata.deltaLink"`
	}
	floorRequest struct {
		Params struct {
			Events []struct {
				ID          string    `json:"id"`
				UID         string    `json:"uid"`
				Title       string    `json:"title"`
				Description string    `json:"description"`
				Location    string    `json:"location"`
				Start       string    `json:"start"`
				End         string    `json:"end"`
				AllDay      bool      `json:"allDay"`
				UpdatedAt   time.Time `json:"updatedAt"`
			} `json:"events"`
		} `json:"params"`
	}
)

// measure takes the floor of the run t saw, whose request was line and
// whose reply was replySize bytes, per event of n: the least CPU time of
// five passes over decoding line, encoding the batches the sidecar sent
// (decoded beforehand into small structs), decoding every Graph answer
// into small structs (a $batch answer's items, a delta page's events,
// the id of anything else) and writing a reply of replySize bytes.
func (t *tap) measure(b *testing.B, line string, replySize, n int) {
	t.mu.Lock()
	exs := t.exchanges
	t.mu.Unlock()
	var batches []floorBatch
	for _, ex := range exs {
		if strings.HasSuffix(ex.path, "/$batch") {
			var fb floorBatch
			if err := json.Unmarshal(ex.req, &fb); err != nil {
				b.Fatal(err)
			}
			batches = append(batches, fb)
		}
	}
	reply := bytes.Repeat([]byte{' '}, replySize)
	var least time.Duration
	for range 5 {
		c0 := processCPU()
		var req floorRequest
		if err := json.Unmarshal([]byte(line), &req); err != nil {
			b.Fatal(err)
		}
		for _, fb := range batches {
			if _, err := json.Marshal(fb); err != nil {
				b.Fatal(err)
			}
		}
		for _, ex := range exs {
			var err error
			switch {
			case strings.HasSuffix(ex.path, "/$batch"):
				err = json.Unmarshal(ex.resp, new(floorBatchAnswer))
			case strings.Contains(ex.path, "/delta"):
				err = json.Unmarshal(ex.resp, new(floorPage))
			default:
				err = json.Unmarshal(ex.resp, new(struct {
					ID string `json:"id"`
				}))
			}
			if err != nil {
				b.Fatalf("%s: %v", ex.path, err)
			}
		}
		if _, err := io.Copy(io.Discard, bytes.NewReader(reply)); err != nil {
			b.Fatal(err)
		}
		if d := processCPU() - c0; least == 0 || d < least {
			least = d
		}
	}
	t.floorPerEvent = float64(least.Microseconds()) / float64(n)
}

// processCPU is this process's user plus system CPU time so far.
func processCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}
