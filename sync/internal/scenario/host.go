package scenario

import (
	"fmt"
	"maps"
	"slices"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// HostEvent is an event in the model of the Oro host.
type HostEvent struct {
	calsync.Event
	Dirty bool // changed by a user since its link was stored
	// Sent: the event went out in a request whose result did not yet
	// confirm it; a lost result may have created it in Microsoft 365.
	Sent bool
}

// Host models the PHP host: its events, the state it stores, and the rules
// of applying operations (see calsync.Operation).
type Host struct {
	Events map[string]*HostEvent
	State  *calsync.State
	// Window is the sync window of every request.
	Window calsync.Window

	clock  *Clock
	nextID int
	nextX  int // numbers the exceptions Oro users make
}

// NewHost returns a host with no events whose window is T0-30d..T0+365d.
func NewHost(c *Clock) *Host {
	return &Host{clock: c, Events: map[string]*HostEvent{}, Window: calsync.Window{Start: T0.AddDate(0, 0, -30), End: T0.AddDate(0, 0, 365)}}
}

// Add creates an event as an Oro user would (UID "uid-ID" when empty).
func (h *Host) Add(ev calsync.Event) {
	ev.UpdatedAt = h.clock.Now()
	if ev.UID == "" {
		ev.UID = "uid-" + ev.ID
	}
	h.Events[ev.ID] = &HostEvent{Event: ev, Dirty: true}
}

// Edit changes an event as an Oro user would.
func (h *Host) Edit(id string, fn func(*calsync.Event)) {
	e := h.Events[id]
	fn(&e.Event)
	e.UpdatedAt = h.clock.Now()
	e.Dirty = true
}

// Remove deletes an event as an Oro user would: a linked event, or one sent
// and not yet confirmed synced, leaves a tombstone. A series master's
// exceptions go with it (their rows cascade).
func (h *Host) Remove(id string) {
	e := h.Events[id]
	h.clearExceptions(id)
	if e.Link == nil && !e.Sent {
		delete(h.Events, id)
		return
	}
	e.Deleted, e.Dirty, e.UpdatedAt = true, true, h.clock.Now()
}

// Except makes (or changes) the exception of series master at original
// start orig as an Oro user would: its own row, recurringEventId naming
// the master, at first a copy of the occurrence; fn changes it (cancelling
// it sets IsCancelled, as Oro's DeleteManager does).
func (h *Host) Except(master string, orig time.Time, fn func(*calsync.Event)) {
	m := h.Events[master]
	var x *HostEvent
	for _, e := range h.exceptions(master) {
		if e.orig().Equal(orig) {
			x = e
		}
	}
	if x == nil {
		h.nextX++
		start, end := m.occurrence(orig)
		x = &HostEvent{Event: calsync.Event{ID: fmt.Sprintf("%s-x%d", master, h.nextX), UID: m.UID, Title: m.Title, Description: m.Description,
			Location: m.Location, AllDay: m.AllDay, Start: start, End: end, RecurringEventID: master, OriginalStart: orig.UTC().Format(time.RFC3339)}}
		h.Events[x.ID] = x
	}
	fn(&x.Event)
	x.UpdatedAt, x.Dirty = h.clock.Now(), true
}

// occurrence returns the start and end of series master m's occurrence at
// orig: as long as the master, or as many days for an all-day series
// (its dates in the recurrence's zone).
func (m *HostEvent) occurrence(orig time.Time) (string, string) {
	if m.AllDay {
		s, _ := time.Parse(dateLayout, m.Start)
		e, _ := time.Parse(dateLayout, m.End)
		loc, _ := time.LoadLocation(m.Recurrence.TimeZone)
		d := orig.In(loc)
		day := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
		return day.Format(dateLayout), day.Add(e.Sub(s)).Format(dateLayout)
	}
	s, _ := time.Parse(time.RFC3339, m.Start)
	e, _ := time.Parse(time.RFC3339, m.End)
	return orig.UTC().Format(time.RFC3339), orig.Add(e.Sub(s)).UTC().Format(time.RFC3339)
}

// exceptions returns the exception rows of series master id, in order of
// original start.
func (h *Host) exceptions(id string) []*HostEvent {
	var out []*HostEvent
	for _, k := range sortedKeys(h.Events) {
		if e := h.Events[k]; e.RecurringEventID == id && id != "" {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b *HostEvent) int { return a.orig().Compare(b.orig()) })
	return out
}

// clearExceptions deletes the exception rows of series master id, as Oro
// does when the master goes or its pattern or times change
// (UpdateExceptionManager: "all exceptions should be cleared").
func (h *Host) clearExceptions(id string) {
	for _, x := range h.exceptions(id) {
		delete(h.Events, x.ID)
	}
}

// Request builds the next sync.run request: every live event in full mode,
// the dirty ones (tombstones included) otherwise, with the series master of
// each dirty exception (the engine writes an exception to the series its
// master's link names).
func (h *Host) Request(mode calsync.Mode, cascade calsync.Cascade, opts calsync.Options) calsync.Request {
	w := h.Window
	req := calsync.Request{Cascade: cascade, State: h.State, Mode: mode, Options: opts, Window: &w}
	masters := map[string]bool{}
	for _, e := range h.Events {
		if e.Dirty && e.RecurringEventID != "" {
			masters[e.RecurringEventID] = true
		}
	}
	for _, id := range sortedKeys(h.Events) {
		e := h.Events[id]
		if mode == calsync.ModeFull && !e.Deleted || e.Dirty || masters[id] && !e.Deleted {
			req.Events = append(req.Events, e.Event)
			e.Sent = e.Sent || e.Dirty
		}
	}
	return req
}

// Apply applies a result as the host does, in one transaction.
func (h *Host) Apply(req calsync.Request, res calsync.Result) {
	sent := map[string]time.Time{}
	for _, e := range req.Events {
		sent[e.ID] = e.UpdatedAt
	}
	findRemote := func(rid string) *HostEvent {
		for _, id := range sortedKeys(h.Events) {
			if e := h.Events[id]; rid != "" && e.Link != nil && e.Link.RemoteID == rid {
				return e
			}
		}
		return nil
	}
	for _, op := range res.Operations {
		target := h.Events[op.OroID]
		if target == nil {
			target = findRemote(op.RemoteID)
		}
		if op.Op == calsync.OpLink {
			if target == nil {
				continue
			}
			target.Link = op.Link
			if op.Link == nil && target.Deleted {
				delete(h.Events, target.ID)
			}
			continue
		}
		if target != nil {
			_, wasSent := sent[target.ID]
			switch {
			case op.ExpectedUpdatedAt != nil && !op.ExpectedUpdatedAt.Equal(target.UpdatedAt):
				continue // changed while the sync ran
			case op.ExpectedUpdatedAt == nil && !wasSent && target.Dirty:
				continue
			}
		}
		switch op.Op {
		case calsync.OpDelete:
			if target != nil {
				h.clearExceptions(target.ID)
				delete(h.Events, target.ID)
			}
		case calsync.OpCreate, calsync.OpUpdate:
			if target == nil {
				if op.Op == calsync.OpUpdate {
					continue
				}
				h.nextID++
				target = &HostEvent{Event: calsync.Event{ID: fmt.Sprintf("o%d", h.nextID)}}
				h.Events[target.ID] = target
			}
			ev := *op.Event
			ev.ID, ev.Link, ev.UpdatedAt = target.ID, op.Link, h.clock.Now()
			ev.Reminders = ApplyReminder(target.Reminders, op.Reminder)
			if target.UID != "" {
				ev.UID = target.UID
			}
			ev.Exceptions = nil
			target.Event, target.Dirty, target.Sent = ev, false, false
			h.writeExceptions(target, op.Event)
		}
	}
	// events sent without an issue are synced, unless they changed meanwhile
	issues := map[string]bool{}
	for _, is := range res.Issues {
		issues[is.OroID] = true
	}
	for id, at := range sent {
		if e := h.Events[id]; e != nil && e.UpdatedAt.Equal(at) && !issues[id] {
			e.Dirty, e.Sent = false, false
			if e.Deleted {
				delete(h.Events, id)
			}
		}
	}
	h.State = res.State
}

// writeExceptions makes the exceptions of series master m exactly those
// ev, the event of an operation, lists, matched by originalStart as the
// PHP host matches them: updated, created, and the others deleted; a
// cancelled one keeps the master's content at its original time. An event
// that is not a series has none.
func (h *Host) writeExceptions(m *HostEvent, ev *calsync.Event) {
	var xs []calsync.Event
	if ev.Recurrence != nil {
		xs = ev.Exceptions
	}
	rows := map[time.Time]*HostEvent{}
	for _, x := range h.exceptions(m.ID) {
		rows[x.orig()] = x
	}
	keep := map[string]bool{}
	for _, x := range xs {
		orig, _ := time.Parse(time.RFC3339, x.OriginalStart)
		if x.IsCancelled {
			x.Title, x.Description, x.Location, x.AllDay = m.Title, m.Description, m.Location, m.AllDay
			x.Start, x.End = m.occurrence(orig)
		}
		row := rows[orig.UTC()]
		if row == nil {
			h.nextID++
			row = &HostEvent{Event: calsync.Event{ID: fmt.Sprintf("o%d", h.nextID)}}
			h.Events[row.ID] = row
		}
		x.ID, x.UID, x.RecurringEventID, x.UpdatedAt = row.ID, m.UID, m.ID, h.clock.Now()
		x.OriginalStart = orig.UTC().Format(time.RFC3339)
		row.Event, row.Dirty, row.Sent = x, false, false
		keep[row.ID] = true
	}
	for _, x := range h.exceptions(m.ID) {
		if !keep[x.ID] {
			delete(h.Events, x.ID)
		}
	}
}

// sortedKeys returns m's keys in order (deterministic output).
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// ApplyReminder applies an operation's reminder to an event's reminders as
// calsync.ReminderChange says a host does.
func ApplyReminder(rs []calsync.Reminder, ch *calsync.ReminderChange) []calsync.Reminder {
	if ch == nil {
		return rs
	}
	out := []calsync.Reminder{}
	if !ch.On {
		return out
	}
	minutes := func(r calsync.Reminder) int { return r.Interval.Minutes() }
	smallest := -1
	for i, r := range rs {
		if smallest < 0 || minutes(r) < minutes(rs[smallest]) {
			smallest = i
		}
	}
	set := calsync.Reminder{Method: "web_socket", Interval: *ch.Interval}
	if smallest >= 0 {
		set.Method = rs[smallest].Method
	}
	out = append(out, set)
	for i, r := range rs {
		if i != smallest && minutes(r) > ch.MinutesBeforeStart {
			out = append(out, r)
		}
	}
	return out
}
