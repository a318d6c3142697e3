package scenario

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// Fake is an in-memory Microsoft 365 calendar faithful to the Graph
// facts the engine depends on: changeKey and ETag change on every write,
// delta rounds page, replay, repeat items, report deletions and
// out-of-window changes as @removed, expire (410), If-Match answers 412,
// throttling carries Retry-After (and Apply retries it, as graphclient
// does), a create repeated with the same transactionId returns the first
// event, and a create whose answer was lost is looked up by Apply, as the
// calsync.Remote contract asks.
type Fake struct {
	// PageSize is the number of items per delta page (default 3).
	PageSize int

	clock   *Clock
	latency time.Duration
	events  map[string]*calsync.RemoteEvent
	nextID  int
	version int
	// changes is the change log; a delta token is a position in it.
	changes    []string
	generation int // bumped by a 410 fault: older tokens expire
	rounds     map[string][]calsync.RemoteEvent
	txids      map[string]string
	faults     []string
	log        []string
	counts     map[string]int
	// reads serializes Get and FindByOroID, which the engine calls from
	// several goroutines at once (RunOptions.ReadConcurrency) while it
	// calls nothing else
	reads sync.Mutex
}

// NewFake returns an empty calendar whose requests advance clock by 100ms.
func NewFake(clock *Clock) *Fake {
	return &Fake{clock: clock, latency: 100 * time.Millisecond, PageSize: 3,
		events: map[string]*calsync.RemoteEvent{}, rounds: map[string][]calsync.RemoteEvent{}, txids: map[string]string{}, counts: map[string]int{}}
}

// Fault queues one fault (see Fault for what each one does; a "write"
// fault hits the next write, "write drop" performs it and loses its
// answer).
func (f *Fake) Fault(fault Fault) { f.faults = append(f.faults, string(fault)) }

// SetLatency sets the time every request takes from now on.
func (f *Fake) SetLatency(d time.Duration) { f.latency = d }

// takeFault takes the first queued fault on prefix ("delta", "get",
// "write", or "round" for the round quirks a delta fault queues) and
// returns the rest of it ("410"), "" when none.
func (f *Fake) takeFault(prefix string) string {
	for i, s := range f.faults {
		if strings.HasPrefix(s, prefix+" ") {
			f.faults = slices.Delete(f.faults, i, i+1)
			return strings.TrimPrefix(s, prefix+" ")
		}
	}
	return ""
}

func (f *Fake) request(kind, line string) {
	f.clock.Advance(f.latency)
	f.counts[kind]++
	f.log = append(f.log, line)
}

// GraphRequests counts the requests by kind (calsync.RequestCounter).
func (f *Fake) GraphRequests() map[string]int { return maps.Clone(f.counts) }

// TakeLog returns the requests made since the last call.
func (f *Fake) TakeLog() []string { l := f.log; f.log = nil; return l }

// ClearFaults drops every queued fault.
func (f *Fake) ClearFaults() { f.faults = nil }

// Name returns s: the fake's ids, changeKeys and links are readable and
// sort in creation order.
func (f *Fake) Name(s string) string { return s }

// Ordered reports true: the fake's ids sort in creation order.
func (f *Fake) Ordered() bool { return true }

func (f *Fake) touch(ev *calsync.RemoteEvent) {
	f.version++
	ev.ChangeKey = "ck" + strconv.Itoa(f.version)
	ev.ETag = `W/"` + ev.ChangeKey + `"`
	ev.LastModified = f.clock.Now()
	f.changes = append(f.changes, ev.ID)
}

// Seed creates an event as a Microsoft 365 user would and returns its id
// (ref, the script's name for it, is not needed: ids are readable).
func (f *Fake) Seed(_ string, ev calsync.RemoteEvent) string {
	f.nextID++
	ev.ID = fmt.Sprintf("AAMk%03d", f.nextID)
	if ev.ICalUID == "" {
		ev.ICalUID = "ical-" + ev.ID
	}
	ev.Type = "singleInstance"
	if ev.Series != nil { // a series written with its pattern (no exceptions here)
		ev.Type = "seriesMaster"
	}
	if ev.Reminder == calsync.ReminderUnset {
		// Graph's default for a create that sets none (calendar-semantics §1.5)
		ev.Reminder = 15
		if ev.AllDay {
			ev.Reminder = 1080
		}
	}
	ev.Created = f.clock.Now()
	f.touch(&ev)
	f.events[ev.ID] = &ev
	return ev.ID
}

// Edit changes an event as a Microsoft 365 user would.
func (f *Fake) Edit(id string, fn func(*calsync.RemoteEvent)) {
	ev := f.events[id]
	fn(ev)
	f.touch(ev)
}

// Delete deletes an event as a Microsoft 365 user would.
func (f *Fake) Delete(id string) {
	delete(f.events, id)
	f.changes = append(f.changes, id)
}

// Events returns every event, ordered by id.
func (f *Fake) Events() []calsync.RemoteEvent {
	var out []calsync.RemoteEvent
	for _, id := range sortedKeys(f.events) {
		out = append(out, *f.events[id])
	}
	return out
}

func inWindow(w calsync.Window, ev *calsync.RemoteEvent) bool {
	return ev.Start.Before(w.End) && ev.End.After(w.Start)
}

// deltaItem is ev as a delta round returns it: like Graph's calendarView
// delta, which cannot $expand extended properties, without our Oro id
// property; graphclient reads the Oro id from our transactionId instead.
func deltaItem(ev *calsync.RemoteEvent) calsync.RemoteEvent {
	it := *ev
	it.OroID, _ = calsync.OroIDFromTransactionID(it.TransactionID)
	return it
}

// Delta implements calsync.Remote.
func (f *Fake) Delta(ctx context.Context, w calsync.Window, link string) (calsync.DeltaPage, error) {
	if err := ctx.Err(); err != nil {
		return calsync.DeltaPage{}, err
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
		return calsync.DeltaPage{}, &calsync.Error{Kind: calsync.KindResyncRequired, Op: "graph.delta", Code: "SyncStateNotFound", Message: "sync state not found"}
	case "503":
		f.log = append(f.log, "  -> 503")
		return calsync.DeltaPage{}, &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.delta", RetryAfter: 30 * time.Second, Message: "service unavailable"}
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
	var items []calsync.RemoteEvent
	if link == "" {
		for _, id := range sortedKeys(f.events) {
			if ev := f.events[id]; inWindow(w, ev) {
				items = append(items, deltaItem(ev))
			}
		}
	} else {
		var gen, pos int
		if _, err := fmt.Sscanf(link, "delta/%d/%d", &gen, &pos); err != nil || gen != f.generation {
			f.log = append(f.log, "  -> 410 SyncStateNotFound")
			return calsync.DeltaPage{}, &calsync.Error{Kind: calsync.KindResyncRequired, Op: "graph.delta", Code: "SyncStateNotFound", Message: "sync state not found"}
		}
		seen := map[string]bool{}
		for _, id := range f.changes[pos:] {
			if seen[id] {
				continue
			}
			seen[id] = true
			if ev, ok := f.events[id]; ok && inWindow(w, ev) {
				items = append(items, deltaItem(ev))
			} else {
				items = append(items, calsync.RemoteEvent{ID: id, Removed: true})
			}
		}
		slices.SortFunc(items, func(a, b calsync.RemoteEvent) int { return strings.Compare(a.ID, b.ID) })
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
		return calsync.DeltaPage{NextLink: first + "/dupes"}, nil
	} else if mode == "endless" {
		return calsync.DeltaPage{NextLink: first + "/endless"}, nil
	}
	return f.page(first)
}

func (f *Fake) page(link string) (calsync.DeltaPage, error) {
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
		return calsync.DeltaPage{Events: items[:min(1, len(items))], NextLink: fmt.Sprintf("next/%s/%d/%s/%s%s", parts[1], off+1, gen, end, flag)}, nil
	}
	hi := min(off+f.PageSize, len(items))
	page := slices.Clone(items[off:hi])
	if flag == "/dupes" && off > 0 {
		page = append([]calsync.RemoteEvent{items[off-1]}, page...)
	}
	f.log = append(f.log, fmt.Sprintf("  -> 200 %d items", len(page)))
	if hi < len(items) {
		return calsync.DeltaPage{Events: page, NextLink: fmt.Sprintf("next/%s/%d/%s/%s%s", parts[1], hi, gen, end, flag)}, nil
	}
	return calsync.DeltaPage{Events: page, DeltaLink: "delta/" + gen + "/" + end}, nil
}

// CheckLink accepts the fake's own links only (calsync.RunOptions.CheckLink).
func (f *Fake) CheckLink(field, link string) error {
	if !strings.HasPrefix(link, "delta/") && !strings.HasPrefix(link, "next/") {
		return calsync.Invalid(field, "is not a link of the fake calendar")
	}
	return nil
}

// Get implements calsync.Remote.
func (f *Fake) Get(ctx context.Context, id string) (calsync.RemoteEvent, error) {
	f.reads.Lock()
	defer f.reads.Unlock()
	f.request("get", "GET event "+id)
	switch f.takeFault("get") {
	case "503":
		f.log = append(f.log, "  -> 503")
		return calsync.RemoteEvent{}, &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.getEvent", Message: "service unavailable"}
	case "403":
		f.log = append(f.log, "  -> 403")
		return calsync.RemoteEvent{}, &calsync.Error{Kind: calsync.KindForbidden, Op: "graph.getEvent", Message: "access denied"}
	}
	ev, ok := f.events[id]
	if !ok {
		f.log = append(f.log, "  -> 404")
		return calsync.RemoteEvent{}, &calsync.Error{Kind: calsync.KindNotFound, Op: "graph.getEvent", Message: "not found"}
	}
	return *ev, nil
}

// FindByOroID implements calsync.Remote.
func (f *Fake) FindByOroID(ctx context.Context, oroID string) ([]calsync.RemoteEvent, error) {
	f.reads.Lock()
	defer f.reads.Unlock()
	return f.find(oroID), nil
}

// find is FindByOroID, for Apply (no read runs while it does).
func (f *Fake) find(oroID string) []calsync.RemoteEvent {
	f.request("find", "GET events?$filter=oroId eq "+oroID)
	var out []calsync.RemoteEvent
	for _, ev := range f.Events() {
		if ev.OroID == oroID {
			out = append(out, ev)
		}
	}
	return out
}

// Apply implements calsync.Remote, in batches of 20.
func (f *Fake) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	var results []calsync.WriteResult
	for b := 0; b < len(writes); b += 20 {
		batch := writes[b:min(b+20, len(writes))]
		f.request("batch", fmt.Sprintf("POST $batch (%d)", len(batch)))
		for _, w := range batch {
			results = append(results, f.write(w))
		}
	}
	return results, nil
}

func (f *Fake) write(w calsync.Write) calsync.WriteResult {
	desc := string(w.Op) + " " + w.OroID
	if w.ID != "" {
		desc += " " + w.ID
	}
	if len(w.Fields) > 0 {
		desc += " [" + strings.Join(w.Fields, ",") + "]"
	}
	fault := f.takeFault("write")
	fail := func(status string, err *calsync.Error) calsync.WriteResult {
		f.log = append(f.log, "  "+desc+" -> "+status)
		return calsync.WriteResult{Key: w.Key, Err: err}
	}
	switch fault {
	case "429":
		// graphclient retries per item after Retry-After; so does the fake
		f.log = append(f.log, "  "+desc+" -> 429 Retry-After 2")
		f.clock.Advance(2 * time.Second)
		f.counts["batch"]++
		f.log = append(f.log, "  retry POST $batch (1)")
	case "503":
		return fail("503", &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.batch", RetryAfter: 10 * time.Second, Message: "service unavailable"})
	case "reject":
		return fail("400", &calsync.Error{Kind: calsync.KindRejected, Op: "graph.batch", Message: "invalid event"})
	case "412":
		if ev, ok := f.events[w.ID]; ok {
			ev.Location += " (moved)"
			f.touch(ev)
		}
	}
	var res calsync.WriteResult
	switch w.Op {
	case calsync.WriteCreate:
		if id, ok := f.txids[w.TransactionID]; ok && f.events[id] != nil {
			ev := *f.events[id]
			f.log = append(f.log, "  "+desc+" -> 201 (transactionId seen: "+id+")")
			return calsync.WriteResult{Key: w.Key, Event: &ev}
		}
		ev := w.Event
		ev.IsOrganizer = true
		id := f.Seed("", ev)
		f.txids[w.TransactionID] = id
		f.events[id].TransactionID = w.TransactionID
		out := *f.events[id]
		res = calsync.WriteResult{Key: w.Key, Event: &out}
		desc += " -> " + id
	default:
		ev, ok := f.events[w.ID]
		if !ok {
			return fail("404", &calsync.Error{Kind: calsync.KindNotFound, Op: "graph.batch", Message: "not found"})
		}
		if w.IfMatch != "" && w.IfMatch != ev.ETag {
			return fail("412", &calsync.Error{Kind: calsync.KindConflict, Op: "graph.batch", Code: "ErrorIrresolvableConflict", Message: "change key mismatch"})
		}
		if !ev.IsOrganizer {
			return fail("403 (not organizer: the engine must never try this)", &calsync.Error{Kind: calsync.KindForbidden, Op: "graph.batch", Message: "not organizer"})
		}
		if w.Op == calsync.WriteDelete {
			f.Delete(w.ID)
			res = calsync.WriteResult{Key: w.Key}
			break
		}
		update(ev, w)
		f.touch(ev)
		out := *ev
		res = calsync.WriteResult{Key: w.Key, Event: &out}
	}
	if fault == "drop" {
		lost := fail("done, response lost", &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.batch", Message: "connection reset"})
		if w.Op == calsync.WriteCreate {
			return f.lookUp(w, lost)
		}
		return lost
	}
	f.log = append(f.log, "  "+desc+" -> ok")
	return res
}

// update writes the fields an update lists.
func update(ev *calsync.RemoteEvent, w calsync.Write) {
	for _, fl := range w.Fields {
		switch fl {
		case "subject":
			ev.Subject = w.Event.Subject
		case "body":
			ev.Body = w.Event.Body
		case "location":
			ev.Location = w.Event.Location
		case "start":
			ev.Start, ev.TimeZone = w.Event.Start, w.Event.TimeZone
		case "end":
			ev.End = w.Event.End
		case "allDay":
			ev.AllDay = w.Event.AllDay
		case "reminder":
			ev.Reminder = w.Event.Reminder
		case "recurrence":
			ev.Series = w.Event.Series
		}
	}
}

// lookUp does what the Remote contract asks of Apply for a create whose
// answer was lost (see calsync.Remote): it looks the create up by its Oro
// id before sending it again, and the event carrying its transactionId is
// its result. Found, it is never sent again; lost is the result otherwise.
func (f *Fake) lookUp(w calsync.Write, lost calsync.WriteResult) calsync.WriteResult {
	for _, ev := range f.find(w.OroID) {
		if ev.TransactionID == w.TransactionID {
			f.log = append(f.log, "  create "+w.OroID+" -> found "+ev.ID+" by its transactionId: not sent again")
			return calsync.WriteResult{Key: w.Key, Event: &ev}
		}
	}
	return lost
}

// Event returns the event with this id.
func (f *Fake) Event(id string) (calsync.RemoteEvent, bool) {
	ev, ok := f.events[id]
	if !ok {
		return calsync.RemoteEvent{}, false
	}
	return *ev, true
}
