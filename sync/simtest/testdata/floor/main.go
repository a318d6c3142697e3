// Command floor is the floor the process benchmarks measure the sidecar
// against: the least a program must do to pull a mailbox into Oro, or to
// push Oro's events into it. It knows nothing of the engine, state or
// errors.
//
//	floor pull GRAPH START END
//	floor push GRAPH START END
//
// pull reads one calendarView delta round of the window from GRAPH (with
// the access token from its environment, FLOOR_TOKEN, and the sidecar's
// Prefer headers and page size), decodes each page with encoding/json
// into a small struct and keeps every event. push reads a sync.run request
// line from stdin and does what the sidecar's first sync of it must: reads
// the window's delta round, creates every event in $batch requests and
// reads the round that follows. Both then write one JSON reply of about
// the sidecar's size to stdout, an operation per event, and end at the end
// of their input.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"
)

type dateTime struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

type event struct {
	ID            string                        `json:"id"`
	ETag          string                        `json:"@odata.etag"`
	ChangeKey     string                        `json:"changeKey"`
	ICalUID       string                        `json:"iCalUId"`
	TransactionID string                        `json:"transactionId"`
	Type          string                        `json:"type"`
	IsOrganizer   bool                          `json:"isOrganizer"`
	LastModified  string                        `json:"lastModifiedDateTime"`
	Subject       string                        `json:"subject"`
	Body          *struct{ Content string }     `json:"body"`
	Location      *struct{ DisplayName string } `json:"location"`
	IsAllDay      bool                          `json:"isAllDay"`
	Start         *dateTime                     `json:"start"`
	End           *dateTime                     `json:"end"`
	IsReminderOn  bool                          `json:"isReminderOn"`
	Reminder      int                           `json:"reminderMinutesBeforeStart"`
}

// operation is a reply entry of about the sidecar's size per event.
type operation struct {
	Op       string `json:"op"`
	RemoteID string `json:"remoteId"`
	Reason   string `json:"reason"`
	Key      string `json:"key"`
	Event    struct {
		UID, Title, Description, Location, Start, End string
		AllDay                                        bool
	} `json:"event"`
	Link link `json:"link"`
}

type link struct {
	V                         int
	RemoteID, ChangeKey, ETag string
	ICalUID, Hash, SyncedAt   string
	Fields                    map[string]string
}

func main() {
	mode, graph, start, end := os.Args[1], os.Args[2], os.Args[3], os.Args[4]
	first := graph + "/me/calendarView/delta?startDateTime=" + url.QueryEscape(start) + "&endDateTime=" + url.QueryEscape(end)
	in := bufio.NewReaderSize(os.Stdin, 1<<20)
	var ops []operation
	switch mode {
	case "pull":
		events, _ := readRound(first)
		ops = pulled(events)
	case "push":
		ops = push(graph, first, in)
	default:
		fail(fmt.Errorf("mode %q: want pull or push", mode))
	}
	w := bufio.NewWriter(os.Stdout)
	out := struct {
		JSONRPC string `json:"jsonrpc"`
		ID      int    `json:"id"`
		Result  struct {
			Status     string      `json:"status"`
			Operations []operation `json:"operations"`
		} `json:"result"`
	}{JSONRPC: "2.0", ID: 1}
	out.Result.Status, out.Result.Operations = "completed", ops
	if err := json.NewEncoder(w).Encode(out); err != nil {
		fail(err)
	}
	if err := w.Flush(); err != nil {
		fail(err)
	}
	// as the sidecar, it ends at the end of its input (the benchmark
	// reads its peak memory before)
	_, _ = io.Copy(io.Discard, in)
}

// readRound reads a delta round from link to its end and returns its
// events and the round's deltaLink.
func readRound(link string) ([]event, string) {
	var events []event
	for {
		req, err := http.NewRequest("GET", link, nil)
		if err != nil {
			fail(err)
		}
		req.Header.Add("Prefer", "odata.maxpagesize=200")
		var page struct {
			Value     []event `json:"value"`
			NextLink  string  `json:"@odata.nextLink"`
			DeltaLink string  `json:"@odata.deltaLink"`
		}
		do(req, &page)
		events = append(events, page.Value...)
		if page.NextLink == "" {
			return events, page.DeltaLink
		}
		link = page.NextLink
	}
}

// do sends req with the token and the sidecar's Prefer headers and decodes
// its 200 answer into v.
func do(req *http.Request, v any) {
	req.Header.Set("Authorization", "Bearer "+os.Getenv("FLOOR_TOKEN"))
	req.Header.Add("Prefer", `outlook.timezone="UTC"`)
	req.Header.Add("Prefer", `outlook.body-content-type="text"`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fail(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 {
		fail(fmt.Errorf("status %d, %v: %.300s", resp.StatusCode, err, body))
	}
	if err := json.Unmarshal(body, v); err != nil {
		fail(err)
	}
}

// pulled is an operation per event pulled.
func pulled(events []event) []operation {
	ops := make([]operation, len(events))
	for i, ev := range events {
		op := &ops[i]
		op.Op, op.RemoteID, op.Reason, op.Key = "create", ev.ID, "created_in_microsoft", ev.ChangeKey
		op.Event.UID, op.Event.Title, op.Event.AllDay = ev.ICalUID, ev.Subject, ev.IsAllDay
		if ev.Body != nil {
			op.Event.Description = ev.Body.Content
		}
		if ev.Location != nil {
			op.Event.Location = ev.Location.DisplayName
		}
		if ev.Start != nil && ev.End != nil {
			op.Event.Start, op.Event.End = ev.Start.DateTime, ev.End.DateTime
		}
		op.Link = linkOf(ev)
	}
	return ops
}

func linkOf(ev event) link {
	return link{V: 1, RemoteID: ev.ID, ChangeKey: ev.ChangeKey, ETag: ev.ETag, ICalUID: ev.ICalUID,
		Hash: ev.TransactionID, SyncedAt: ev.LastModified,
		Fields: map[string]string{"title": ev.Type, "time": ev.LastModified}}
}

// linkOfPushed is a pushed event's link: beside what any link holds, the
// sidecar's records a hash of each field group it wrote.
func linkOfPushed(ev event) link {
	l := linkOf(ev)
	for _, f := range [...]string{"description", "location", "reminder", "who"} {
		l.Fields[f] = ev.ChangeKey
	}
	return l
}

// An Oro event as the request carries it, and what a push writes of it.
type (
	oroEvent struct {
		ID          string `json:"id"`
		UID         string `json:"uid"`
		Title       string `json:"title"`
		Description string `json:"description"`
		Location    string `json:"location"`
		Start       string `json:"start"`
		End         string `json:"end"`
		AllDay      bool   `json:"allDay"`
		UpdatedAt   string `json:"updatedAt"`
	}
	property struct {
		ID    string `json:"id"`
		Value string `json:"value"`
	}
	written struct {
		Subject string `json:"subject"`
		Body    struct {
			ContentType string `json:"contentType"`
			Content     string `json:"content"`
		} `json:"body"`
		Location struct {
			DisplayName string `json:"displayName"`
		} `json:"location"`
		Start         dateTime   `json:"start"`
		End           dateTime   `json:"end"`
		IsAllDay      bool       `json:"isAllDay"`
		TransactionID string     `json:"transactionId"`
		Properties    []property `json:"singleValueExtendedProperties"`
	}
	batchItem struct {
		ID        string            `json:"id"`
		Method    string            `json:"method"`
		URL       string            `json:"url"`
		Headers   map[string]string `json:"headers"`
		Body      *written          `json:"body"`
		DependsOn []string          `json:"dependsOn,omitempty"`
	}
)

// push reads the request's events from in, reads the first delta round
// (the sidecar's first sync does), creates every event in batches of 20
// whose items depend each on the one before, 4 batches at once, reads the
// round that follows (the echoes of its own writes, as the sidecar's
// settle round does) and returns a link operation per event.
func push(graph, first string, in *bufio.Reader) []operation {
	line, err := in.ReadBytes('\n')
	if err != nil {
		fail(err)
	}
	var req struct {
		Params struct {
			Events []oroEvent `json:"events"`
		} `json:"params"`
	}
	if err := json.Unmarshal(line, &req); err != nil {
		fail(err)
	}
	events := req.Params.Events
	_, deltaLink := readRound(first)
	ops := make([]operation, len(events))
	chunks := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for from := range chunks {
				batch(graph, events[from:min(from+20, len(events))], ops[from:])
			}
		})
	}
	for from := 0; from < len(events); from += 20 {
		chunks <- from
	}
	close(chunks)
	wg.Wait()
	readRound(deltaLink)
	return ops
}

// batch creates events in one $batch and fills their operations.
func batch(graph string, events []oroEvent, ops []operation) {
	items := make([]batchItem, len(events))
	for i, e := range events {
		w := &written{Subject: e.Title, TransactionID: e.ID, IsAllDay: e.AllDay,
			Start: utc(e.Start), End: utc(e.End),
			Properties: []property{{ID: "String {6E1F9C52-3A7D-4B08-9E25-C41D7A80B3F6} Name OroEventId", Value: e.ID}}}
		w.Body.ContentType, w.Body.Content, w.Location.DisplayName = "text", e.Description, e.Location
		items[i] = batchItem{ID: strconv.Itoa(i), Method: "POST", URL: "/me/events", Body: w,
			Headers: map[string]string{"Prefer": `IdType="ImmutableId", outlook.timezone="UTC", outlook.body-content-type="text"`, "Content-Type": "application/json"}}
		if i > 0 {
			items[i].DependsOn = []string{strconv.Itoa(i - 1)}
		}
	}
	body, err := json.Marshal(map[string]any{"requests": items})
	if err != nil {
		fail(err)
	}
	req, err := http.NewRequest("POST", graph+"/$batch", bytes.NewReader(body))
	if err != nil {
		fail(err)
	}
	req.Header.Set("Content-Type", "application/json")
	var answer struct {
		Responses []struct {
			ID     string `json:"id"`
			Status int    `json:"status"`
			Body   event  `json:"body"`
		} `json:"responses"`
	}
	do(req, &answer)
	for _, r := range answer.Responses {
		i, err := strconv.Atoi(r.ID)
		if err != nil || i < 0 || i >= len(events) || r.Status != 201 {
			fail(fmt.Errorf("batch item %q: status %d", r.ID, r.Status))
		}
		ops[i].Op, ops[i].RemoteID, ops[i].Key, ops[i].Link = "link", r.Body.ID, events[i].ID, linkOfPushed(r.Body)
	}
}

// utc is an Oro time as Graph takes it, in UTC.
func utc(s string) dateTime {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		fail(err)
	}
	return dateTime{DateTime: t.UTC().Format("2006-01-02T15:04:05"), TimeZone: "UTC"}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "floor:", err)
	os.Exit(1)
}
