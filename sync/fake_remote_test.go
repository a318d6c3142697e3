package calsync

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// fakeClock is the injected clock of scenario and model tests; every Remote
// call advances it by the fake's latency.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time          { return c.t }
func (c *fakeClock) Advance(d time.Duration) { c.t = c.t.Add(d) }

// scenarioRemote is a Remote with the controls scenario tests need. The
// in-memory fake implements it; a wrapper around the Graph simulator can
// too, so the same scenarios run against both.
type scenarioRemote interface {
	Remote
	RequestCounter
	// Seed creates an event as a Microsoft 365 user would and returns its id.
	Seed(ev RemoteEvent) string
	// Edit changes an event as a Microsoft 365 user would.
	Edit(id string, fn func(*RemoteEvent))
	Delete(id string)
	// Events returns every event, ordered by id.
	Events() []RemoteEvent
	// Fault queues a fault for the next matching request (see fakeRemote.Fault).
	Fault(spec string)
	// TakeLog returns the requests made since the last call.
	TakeLog() []string
}

// fakeRemote is an in-memory Microsoft 365 calendar faithful to the Graph
// facts the engine depends on: changeKey and ETag change on every write,
// delta rounds page, replay, repeat items, report deletions and
// out-of-window changes as @removed, expire (410), If-Match answers 412,
// throttling carries Retry-After (and Apply retries it, as graphclient
// does), a create repeated with the same transactionId returns the first
// event.
type fakeRemote struct {
	clock    *fakeClock
	latency  time.Duration
	pageSize int
	events   map[string]*RemoteEvent
	nextID   int
	version  int
	// changes is the change log; a delta token is a position in it.
	changes    []string
	generation int // bumped by a 410 fault: older tokens expire
	rounds     map[string][]RemoteEvent
	txids      map[string]string
	faults     []string
	log        []string
	counts     map[string]int
}

func newFakeRemote(clock *fakeClock) *fakeRemote {
	return &fakeRemote{clock: clock, latency: 100 * time.Millisecond, pageSize: 3,
		events: map[string]*RemoteEvent{}, rounds: map[string][]RemoteEvent{}, txids: map[string]string{}, counts: map[string]int{}}
}

// Fault queues one fault: "delta 410", "delta 503", "delta replay"
// (the round's deltaLink replays the last change), "delta dupes" (each page
// repeats the previous page's last item and an empty page comes first),
// "delta endless", "get 503", "write 429", "write 503" (final, after the
// fake's own retries), "write drop" (performed, result lost), "write 412"
// (someone else changes the event first), "write reject".
//
// "latency 400ms" sets the time every request takes from now on.
func (f *fakeRemote) Fault(spec string) {
	if v, ok := strings.CutPrefix(spec, "latency "); ok {
		f.latency, _ = time.ParseDuration(v)
		return
	}
	f.faults = append(f.faults, spec)
}

func (f *fakeRemote) takeFault(prefix string) string {
	for i, s := range f.faults {
		if strings.HasPrefix(s, prefix+" ") {
			f.faults = slices.Delete(f.faults, i, i+1)
			return strings.TrimPrefix(s, prefix+" ")
		}
	}
	return ""
}

func (f *fakeRemote) request(kind, line string) {
	f.clock.Advance(f.latency)
	f.counts[kind]++
	f.log = append(f.log, line)
}

func (f *fakeRemote) GraphRequests() map[string]int { return maps2(f.counts) }

func maps2(m map[string]int) map[string]int {
	out := make(map[string]int, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (f *fakeRemote) TakeLog() []string { l := f.log; f.log = nil; return l }

func (f *fakeRemote) touch(ev *RemoteEvent) {
	f.version++
	ev.ChangeKey = "ck" + strconv.Itoa(f.version)
	ev.ETag = `W/"` + ev.ChangeKey + `"`
	ev.LastModified = f.clock.Now()
	f.changes = append(f.changes, ev.ID)
}

func (f *fakeRemote) Seed(ev RemoteEvent) string {
	f.nextID++
	ev.ID = fmt.Sprintf("AAMk%03d", f.nextID)
	if ev.ICalUID == "" {
		ev.ICalUID = "ical-" + ev.ID
	}
	ev.Type = "singleInstance"
	f.touch(&ev)
	f.events[ev.ID] = &ev
	return ev.ID
}

func (f *fakeRemote) Edit(id string, fn func(*RemoteEvent)) {
	ev := f.events[id]
	fn(ev)
	f.touch(ev)
}

func (f *fakeRemote) Delete(id string) {
	delete(f.events, id)
	f.changes = append(f.changes, id)
}

func (f *fakeRemote) Events() []RemoteEvent {
	var out []RemoteEvent
	for _, id := range sortedKeys(f.events) {
		out = append(out, *f.events[id])
	}
	return out
}

func inWindow(w Window, ev *RemoteEvent) bool { return w.overlaps(ev.Start, ev.End) }

func (f *fakeRemote) Delta(ctx context.Context, w Window, link string) (DeltaPage, error) {
	if err := ctx.Err(); err != nil {
		return DeltaPage{}, err
	}
	short := link
	if short == "" {
		short = "(new round)"
	}
	f.request("delta", "GET delta "+short)
	switch f.takeFault("delta") {
	case "410":
		f.generation++
		f.log = append(f.log, "  -> 410 SyncStateNotFound")
		return DeltaPage{}, &Error{Kind: KindResyncRequired, Op: "graph.delta", Code: "SyncStateNotFound", Message: "sync state not found"}
	case "503":
		f.log = append(f.log, "  -> 503")
		return DeltaPage{}, &Error{Kind: KindUnavailable, Op: "graph.delta", RetryAfter: 30 * time.Second, Message: "service unavailable"}
	case "replay":
		f.faults = append(f.faults, "round replay")
	case "dupes":
		f.faults = append(f.faults, "round dupes")
	case "endless":
		f.faults = append(f.faults, "round endless")
	}
	if strings.HasPrefix(link, "next/") {
		return f.page(link)
	}
	var items []RemoteEvent
	if link == "" {
		for _, id := range sortedKeys(f.events) {
			if ev := f.events[id]; inWindow(w, ev) {
				items = append(items, *ev)
			}
		}
	} else {
		var gen, pos int
		if _, err := fmt.Sscanf(link, "delta/%d/%d", &gen, &pos); err != nil || gen != f.generation {
			f.log = append(f.log, "  -> 410 SyncStateNotFound")
			return DeltaPage{}, &Error{Kind: KindResyncRequired, Op: "graph.delta", Code: "SyncStateNotFound", Message: "sync state not found"}
		}
		seen := map[string]bool{}
		for _, id := range f.changes[pos:] {
			if seen[id] {
				continue
			}
			seen[id] = true
			if ev, ok := f.events[id]; ok && inWindow(w, ev) {
				items = append(items, *ev)
			} else {
				items = append(items, RemoteEvent{ID: id, Removed: true})
			}
		}
		slices.SortFunc(items, func(a, b RemoteEvent) int { return strings.Compare(a.ID, b.ID) })
	}
	end := len(f.changes)
	mode := f.takeFault("round")
	if mode == "replay" && end > 0 {
		end--
		mode = f.takeFault("round")
	}
	key := strconv.Itoa(len(f.rounds))
	f.rounds[key] = items
	first := "next/" + key + "/0/" + strconv.Itoa(f.generation) + "/" + strconv.Itoa(end)
	if mode == "dupes" {
		f.log = append(f.log, "  -> 200 empty page")
		return DeltaPage{NextLink: first + "/dupes"}, nil
	} else if mode == "endless" {
		return DeltaPage{NextLink: first + "/endless"}, nil
	}
	return f.page(first)
}

func (f *fakeRemote) page(link string) (DeltaPage, error) {
	parts := strings.Split(link, "/")
	items := f.rounds[parts[1]]
	off, _ := strconv.Atoi(parts[2])
	gen, end := parts[3], parts[4]
	flag := ""
	if len(parts) > 5 {
		flag = "/" + parts[5]
	}
	if flag == "/endless" {
		f.log = append(f.log, "  -> 200 same page again")
		return DeltaPage{Events: items[:min(1, len(items))], NextLink: fmt.Sprintf("next/%s/%d/%s/%s%s", parts[1], off+1, gen, end, flag)}, nil
	}
	hi := min(off+f.pageSize, len(items))
	page := slices.Clone(items[off:hi])
	if flag == "/dupes" && off > 0 {
		page = append([]RemoteEvent{items[off-1]}, page...)
	}
	f.log = append(f.log, fmt.Sprintf("  -> 200 %d items", len(page)))
	if hi < len(items) {
		return DeltaPage{Events: page, NextLink: fmt.Sprintf("next/%s/%d/%s/%s%s", parts[1], hi, gen, end, flag)}, nil
	}
	return DeltaPage{Events: page, DeltaLink: "delta/" + gen + "/" + end}, nil
}

func (f *fakeRemote) Get(ctx context.Context, id string) (RemoteEvent, error) {
	f.request("get", "GET event "+id)
	if f.takeFault("get") == "503" {
		f.log = append(f.log, "  -> 503")
		return RemoteEvent{}, &Error{Kind: KindUnavailable, Op: "graph.getEvent", Message: "service unavailable"}
	}
	ev, ok := f.events[id]
	if !ok {
		f.log = append(f.log, "  -> 404")
		return RemoteEvent{}, &Error{Kind: KindNotFound, Op: "graph.getEvent", Message: "not found"}
	}
	return *ev, nil
}

func (f *fakeRemote) FindByOroID(ctx context.Context, oroID string) ([]RemoteEvent, error) {
	f.request("find", "GET events?$filter=oroId eq "+oroID)
	var out []RemoteEvent
	for _, ev := range f.Events() {
		if ev.OroID == oroID {
			out = append(out, ev)
		}
	}
	return out, nil
}

func (f *fakeRemote) Apply(ctx context.Context, writes []Write) ([]WriteResult, error) {
	var results []WriteResult
	for b := 0; b < len(writes); b += 20 {
		batch := writes[b:min(b+20, len(writes))]
		f.request("batch", fmt.Sprintf("POST $batch (%d)", len(batch)))
		for _, w := range batch {
			results = append(results, f.write(w))
		}
	}
	return results, nil
}

func (f *fakeRemote) write(w Write) WriteResult {
	desc := string(w.Op) + " " + w.OroID
	if w.ID != "" {
		desc += " " + w.ID
	}
	if len(w.Fields) > 0 {
		desc += " [" + strings.Join(w.Fields, ",") + "]"
	}
	fault := f.takeFault("write")
	fail := func(status string, err *Error) WriteResult {
		f.log = append(f.log, "  "+desc+" -> "+status)
		return WriteResult{Key: w.Key, Err: err}
	}
	switch fault {
	case "429":
		// graphclient retries per item after Retry-After; so does the fake
		f.log = append(f.log, "  "+desc+" -> 429 Retry-After 2")
		f.clock.Advance(2 * time.Second)
		f.counts["batch"]++
		f.log = append(f.log, "  retry POST $batch (1)")
	case "503":
		return fail("503", &Error{Kind: KindUnavailable, Op: "graph.batch", RetryAfter: 10 * time.Second, Message: "service unavailable"})
	case "reject":
		return fail("400", &Error{Kind: KindRejected, Op: "graph.batch", Message: "invalid event"})
	case "412":
		if ev, ok := f.events[w.ID]; ok {
			ev.Location += " (moved)"
			f.touch(ev)
		}
	}
	var res WriteResult
	switch w.Op {
	case WriteCreate:
		if id, ok := f.txids[w.TransactionID]; ok && f.events[id] != nil {
			ev := *f.events[id]
			f.log = append(f.log, "  "+desc+" -> 201 (transactionId seen: "+id+")")
			return WriteResult{Key: w.Key, Event: &ev}
		}
		ev := w.Event
		ev.IsOrganizer = true
		id := f.Seed(ev)
		f.txids[w.TransactionID] = id
		f.events[id].TransactionID = w.TransactionID
		out := *f.events[id]
		res = WriteResult{Key: w.Key, Event: &out}
		desc += " -> " + id
	default:
		ev, ok := f.events[w.ID]
		if !ok {
			return fail("404", &Error{Kind: KindNotFound, Op: "graph.batch", Message: "not found"})
		}
		if w.IfMatch != "" && w.IfMatch != ev.ETag {
			return fail("412", &Error{Kind: KindConflict, Op: "graph.batch", Code: "ErrorIrresolvableConflict", Message: "change key mismatch"})
		}
		if !ev.IsOrganizer {
			return fail("403 (not organizer: the engine must never try this)", &Error{Kind: KindForbidden, Op: "graph.batch", Message: "not organizer"})
		}
		if w.Op == WriteDelete {
			f.Delete(w.ID)
			res = WriteResult{Key: w.Key}
			break
		}
		for _, fl := range w.Fields {
			switch fl {
			case "subject":
				ev.Subject = w.Event.Subject
			case "body":
				ev.Body = w.Event.Body
			case "location":
				ev.Location = w.Event.Location
			case "start":
				ev.Start = w.Event.Start
			case "end":
				ev.End = w.Event.End
			case "allDay":
				ev.AllDay = w.Event.AllDay
			}
		}
		f.touch(ev)
		out := *ev
		res = WriteResult{Key: w.Key, Event: &out}
	}
	if fault == "drop" {
		return fail("done, response lost", &Error{Kind: KindUnavailable, Op: "graph.batch", Message: "connection reset"})
	}
	f.log = append(f.log, "  "+desc+" -> ok")
	return res
}
