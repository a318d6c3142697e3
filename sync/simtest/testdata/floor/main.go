// Command floor is the floor BenchmarkPull10kFloor measures the sidecar's
// pull against: the least a program must do to pull a mailbox into Oro.
// It reads one calendarView delta round from the Graph URL on its command
// line (with the access token from its environment, FLOOR_TOKEN, and the
// sidecar's Prefer headers and page size), decodes each page with
// encoding/json into a small struct, keeps every event, and writes one
// JSON reply of about the sidecar's size: an operation per event, with the
// event, to stdout, and ends at the end of its input. It knows nothing of the engine, state or errors.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
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
	Link struct {
		V                         int
		RemoteID, ChangeKey, ETag string
		ICalUID, Hash, SyncedAt   string
		Fields                    map[string]string
	} `json:"link"`
}

func main() {
	graph, start, end := os.Args[1], os.Args[2], os.Args[3]
	link := graph + "/me/calendarView/delta?startDateTime=" + url.QueryEscape(start) + "&endDateTime=" + url.QueryEscape(end)
	var events []event
	for link != "" {
		req, err := http.NewRequest("GET", link, nil)
		if err != nil {
			fail(err)
		}
		req.Header.Set("Authorization", "Bearer "+os.Getenv("FLOOR_TOKEN"))
		req.Header.Add("Prefer", `outlook.timezone="UTC"`)
		req.Header.Add("Prefer", `outlook.body-content-type="text"`)
		req.Header.Add("Prefer", "odata.maxpagesize=200")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fail(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			fail(fmt.Errorf("status %d, %v: %.300s", resp.StatusCode, err, body))
		}
		var page struct {
			Value     []event `json:"value"`
			NextLink  string  `json:"@odata.nextLink"`
			DeltaLink string  `json:"@odata.deltaLink"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			fail(err)
		}
		events = append(events, page.Value...)
		link = page.NextLink
	}
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
		op.Link.V, op.Link.RemoteID, op.Link.ChangeKey, op.Link.ETag = 1, ev.ID, ev.ChangeKey, ev.ETag
		op.Link.ICalUID, op.Link.Hash, op.Link.SyncedAt = ev.ICalUID, ev.TransactionID, ev.LastModified
		op.Link.Fields = map[string]string{"title": ev.Type, "time": ev.LastModified}
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
	_, _ = io.Copy(io.Discard, os.Stdin)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "floor:", err)
	os.Exit(1)
}
