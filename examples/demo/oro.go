package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"
)

// oroEvent is an event as Oro sends it to sync.run and as operations
// return it (schema: SyncEvent). The link is stored as the sidecar returned
// it and sent back unchanged.
type oroEvent struct {
	ID          string          `json:"id,omitempty"`
	UID         string          `json:"uid,omitempty"`
	Title       string          `json:"title"`
	Description string          `json:"description,omitempty"`
	Location    string          `json:"location,omitempty"`
	Start       string          `json:"start"`
	End         string          `json:"end"`
	AllDay      bool            `json:"allDay"`
	UpdatedAt   time.Time       `json:"updatedAt,omitzero"`
	Link        json.RawMessage `json:"link,omitempty"`
}

// remoteID is the Microsoft 365 id in the event's link, "" when unlinked.
func (e *oroEvent) remoteID() string {
	var l struct {
		RemoteID string `json:"remoteId"`
	}
	_ = json.Unmarshal(e.Link, &l)
	return l.RemoteID
}

// tokens are the user's OAuth tokens as the host stores them.
type tokens struct {
	AccessToken  string    `json:"accessToken"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	ExpiresAt    time.Time `json:"expiresAt"`
}

// operation is one change sync.run asks the host to make in Oro.
type operation struct {
	Op                string          `json:"op"`
	OroID             string          `json:"oroId"`
	RemoteID          string          `json:"remoteId"`
	ExpectedUpdatedAt *time.Time      `json:"expectedUpdatedAt"`
	Event             *oroEvent       `json:"event"`
	Link              json.RawMessage `json:"link"`
	Reason            string          `json:"reason"`
}

// syncResult is the part of sync.run's result the host uses.
type syncResult struct {
	Status     string          `json:"status"`
	Reason     string          `json:"reason"`
	Operations []operation     `json:"operations"`
	State      json.RawMessage `json:"state"`
	Issues     []struct {
		OroID   string `json:"oroId"`
		Reason  string `json:"reason"`
		Message string `json:"message"`
	} `json:"issues"`
	Writes []struct {
		Op      string `json:"op"`
		OroID   string `json:"oroId"`
		Reason  string `json:"reason"`
		Outcome string `json:"outcome"`
	} `json:"writes"`
	Stats struct {
		GraphRequests map[string]int `json:"graphRequests"`
		Pulled        int            `json:"pulled"`
		Pushed        int            `json:"pushed"`
		Echoes        int            `json:"echoes"`
	} `json:"stats"`
	Tokens *tokens `json:"tokens"`
}

// oroStore is the demo's Oro: events by id, whether each changed since its
// link was stored (and so goes into the next incremental request), and the
// sync state and tokens stored with them.
type oroStore struct {
	events map[string]*oroEvent
	dirty  map[string]bool
	state  json.RawMessage
	tokens tokens
	lastID int
	clock  time.Time
}

func newOroStore() *oroStore {
	return &oroStore{events: map[string]*oroEvent{}, dirty: map[string]bool{}, lastID: 100}
}

// now is Oro's updated_at clock: seconds, strictly increasing.
func (s *oroStore) now() time.Time {
	t := time.Now().UTC().Truncate(time.Second)
	if !t.After(s.clock) {
		t = s.clock.Add(time.Second)
	}
	s.clock = t
	return t
}

// add creates an event as an Oro user would and returns its id.
func (s *oroStore) add(e oroEvent) string {
	s.lastID++
	e.ID = strconv.Itoa(s.lastID)
	e.UpdatedAt = s.now()
	s.events[e.ID] = &e
	s.dirty[e.ID] = true
	return e.ID
}

// edit changes an event as an Oro user would.
func (s *oroStore) edit(id string, change func(*oroEvent)) {
	e := s.events[id]
	change(e)
	e.UpdatedAt = s.now()
	s.dirty[id] = true
}

// request returns the events of a sync.run request: all of them in full
// mode, the changed ones in incremental mode; never nil.
func (s *oroStore) request(full bool) []oroEvent {
	out := []oroEvent{}
	for _, id := range slices.Sorted(maps.Keys(s.events)) {
		if full || s.dirty[id] {
			out = append(out, *s.events[id])
		}
	}
	return out
}

// find returns the event an operation is about: by Oro id, else by the
// remoteId of its stored link.
func (s *oroStore) find(op operation) *oroEvent {
	if e := s.events[op.OroID]; e != nil {
		return e
	}
	for _, e := range s.events {
		if op.RemoteID != "" && e.remoteID() == op.RemoteID {
			return e
		}
	}
	return nil
}

// apply applies one operation as sync/CONFLICTS.md says and tells what
// happened.
func (s *oroStore) apply(op operation) string {
	e := s.find(op)
	if e != nil && op.Op != "link" {
		// Changed while the sync ran: skipped, and sent again next run.
		if op.ExpectedUpdatedAt != nil && !e.UpdatedAt.Equal(*op.ExpectedUpdatedAt) ||
			op.ExpectedUpdatedAt == nil && s.dirty[e.ID] {
			return "skipped: changed in Oro meanwhile"
		}
	}
	switch op.Op {
	case "create", "update":
		if op.Event == nil {
			return "ignored: no event content"
		}
		verb := "updated"
		if e == nil {
			if op.Op == "update" {
				return "nothing to do: no such Oro event"
			}
			s.lastID++
			e, verb = &oroEvent{ID: strconv.Itoa(s.lastID)}, "created"
			s.events[e.ID] = e
		}
		id, uid := e.ID, cmp.Or(e.UID, op.Event.UID) // an existing event keeps its uid
		*e = *op.Event
		e.ID, e.UID, e.Link, e.UpdatedAt = id, uid, op.Link, s.now()
		delete(s.dirty, id)
		return verb + " Oro event #" + id
	case "delete":
		if e == nil {
			return "nothing to do: no such Oro event"
		}
		delete(s.events, e.ID)
		delete(s.dirty, e.ID)
		return "deleted Oro event #" + e.ID
	case "link":
		if e == nil {
			return "nothing to do: no such Oro event"
		}
		if len(op.Link) == 0 || string(op.Link) == "null" {
			e.Link = nil
			return "link of #" + e.ID + " removed"
		}
		e.Link = op.Link
		return "link of #" + e.ID + " stored"
	}
	return "ignored: unknown op " + strconv.Quote(op.Op)
}

// commit ends a sync: every event sent is synced unless it changed while
// the sync ran or an issue names it; the state and the tokens are stored
// with the links.
func (s *oroStore) commit(sent []oroEvent, res syncResult) {
	retry := map[string]bool{}
	for _, is := range res.Issues {
		retry[is.OroID] = true
	}
	for _, e := range sent {
		if cur := s.events[e.ID]; cur != nil && cur.UpdatedAt.Equal(e.UpdatedAt) && !retry[e.ID] {
			delete(s.dirty, e.ID)
		}
	}
	s.state = res.State
	if res.Tokens != nil {
		s.tokens = *res.Tokens
	}
}

// slot is when an event happens, the same for both sides: UTC instants, or
// UTC midnights of plain dates when all day (end exclusive).
type slot struct {
	allDay     bool
	start, end time.Time
}

func (s slot) String() string {
	if s.allDay {
		last := s.end.AddDate(0, 0, -1)
		if !last.After(s.start) {
			return s.start.Format("2006-01-02 Mon") + ", all day"
		}
		return s.start.Format("2006-01-02 Mon") + " – " + last.Format("01-02 Mon") + ", all day"
	}
	return s.start.Format("2006-01-02 Mon 15:04") + "–" + s.end.Format("15:04") + " UTC"
}

func oroSlot(e *oroEvent) (slot, error) {
	layout := time.RFC3339
	if e.AllDay {
		layout = time.DateOnly
	}
	start, err := time.Parse(layout, e.Start)
	if err != nil {
		return slot{}, fmt.Errorf("Oro event #%s: %w", e.ID, err)
	}
	end, err := time.Parse(layout, e.End)
	if err != nil {
		return slot{}, fmt.Errorf("Oro event #%s: %w", e.ID, err)
	}
	return slot{e.AllDay, start.UTC(), end.UTC()}, nil
}

// graphSlot reads a Graph event as the simulator dumps it (times in UTC).
func graphSlot(ev map[string]any) (slot, error) {
	var s slot
	s.allDay, _ = ev["isAllDay"].(bool)
	for _, f := range []struct {
		name string
		into *time.Time
	}{{"start", &s.start}, {"end", &s.end}} {
		dt, _ := ev[f.name].(map[string]any)
		v, _ := dt["dateTime"].(string)
		if tz, _ := dt["timeZone"].(string); tz != "UTC" {
			return s, fmt.Errorf("Graph event %q: %s in zone %q, want UTC", ev["subject"], f.name, tz)
		}
		t, err := time.Parse("2006-01-02T15:04:05.9999999", v)
		if err != nil {
			return s, fmt.Errorf("Graph event %q: %w", ev["subject"], err)
		}
		*f.into = t
	}
	return s, nil
}

// describe is one event as both listings show it, so that equal events
// give equal lines (which sort by date).
func describe(title, location string, s slot) string {
	line := fmt.Sprintf("%-35s  %s", s, title)
	if location != "" {
		line += " @ " + location
	}
	return line
}
