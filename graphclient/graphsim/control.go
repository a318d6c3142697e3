package graphsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// UserCreateEvent creates an event as the user would in Outlook, so delta
// reports it. ev is in Graph JSON shape; an "organizer" other than the user
// makes the user an attendee (isOrganizer false).
func (s *Sim) UserCreateEvent(upn string, ev map[string]any) (string, error) {
	p, aerr := parseEventBody(normalizeJSON(ev))
	if aerr == nil {
		aerr = s.checkZones(p, false)
	}
	if aerr != nil {
		return "", aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(upn)
	if err != nil {
		return "", err
	}
	e, aerr := s.createEvent(u, p, "outlook")
	if aerr != nil {
		return "", aerr
	}
	return formatID(e.key, false), nil
}

// UserUpdateEvent patches an event (or turns an occurrence into an
// exception) as the user would in Outlook.
func (s *Sim) UserUpdateEvent(upn, id string, patch map[string]any) error {
	p, aerr := parseEventBody(normalizeJSON(patch))
	if aerr == nil {
		aerr = s.checkZones(p, false)
	}
	if aerr != nil {
		return aerr
	}
	p.txid = ""
	s.mu.Lock()
	defer s.mu.Unlock()
	u, in, err := s.userInstance(upn, id)
	if err != nil {
		return err
	}
	if _, aerr := s.updateEvent(u, in, p, "outlook"); aerr != nil {
		return aerr
	}
	return nil
}

// UserDeleteEvent deletes an event, or cancels an occurrence, as the user
// would in Outlook.
func (s *Sim) UserDeleteEvent(upn, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, in, err := s.userInstance(upn, id)
	if err != nil {
		return err
	}
	s.deleteInstance(u, in, "outlook")
	return nil
}

// ErrNotFound is returned by control methods for unknown users and events.
var ErrNotFound = errors.New("graphsim: not found")

func (s *Sim) userInstance(upn, id string) (*user, instance, error) {
	u, err := s.userLocked(upn)
	if err != nil {
		return nil, instance{}, fmt.Errorf("%w: user %q", ErrNotFound, upn)
	}
	key, bad := parseID(id)
	if bad {
		return nil, instance{}, fmt.Errorf("graphsim: malformed id %q", id)
	}
	in, ok := u.mb.lookup(key)
	if !ok {
		return nil, instance{}, fmt.Errorf("%w: event %q", ErrNotFound, id)
	}
	return u, in, nil
}

// Events dumps the user's stored events (singles, masters, exceptions) in
// Graph JSON shape with REST ids, every singleValueExtendedProperty and
// transactionId, ordered by start. Nil for an unknown user.
func (s *Sim) Events(upn string) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(upn)
	if err != nil {
		return nil
	}
	var refs []instRef
	for _, e := range u.mb.events {
		if !e.deleted {
			refs = append(refs, instRef{key: e.key, start: e.start, group: e.masterKey})
		}
	}
	sortRefs(refs)
	out := make([]map[string]any, 0, len(refs))
	for _, r := range refs {
		e := u.mb.events[r.key]
		m := view{}.render(e, nil, time.Time{})
		props := []any{}
		keys := make([]string, 0, len(e.ext))
		for k := range e.ext {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			props = append(props, map[string]any{"id": e.ext[k].id, "value": e.ext[k].value})
		}
		m["singleValueExtendedProperties"] = props
		m["transactionId"] = nil
		if e.txid != "" {
			m["transactionId"] = e.txid
		}
		out = append(out, m)
	}
	return out
}

// normalizeJSON round-trips v through encoding/json so Go callers may pass
// ints, typed slices and structs.
func normalizeJSON(v map[string]any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// ---- HTTP control API (/_sim) ----

type controlFault struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"`
	Count   int         `json:"count"`
	Status  int         `json:"status"`
	Header  http.Header `json:"header"`
	Body    string      `json:"body"`
	Latency string      `json:"latency"`
	Drop    bool        `json:"drop"`
	After   bool        `json:"after"`
}

func ctlError(w http.ResponseWriter, status int, msg string) {
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": "graphsimControl", "message": msg}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func ctlJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// serveControl implements the /_sim API documented in README.md.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		ctlError(w, 400, err.Error())
		return
	}
	decode := func(v any) bool {
		if err := json.Unmarshal(body, v); err != nil {
			ctlError(w, 400, "bad JSON body: "+err.Error())
			return false
		}
		return true
	}
	segs := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, "/_sim"), "/"), "/")
	route := r.Method + " " + segs[0]
	if len(segs) >= 3 && segs[0] == "users" {
		route = r.Method + " users/*/" + segs[2]
	}
	var upn string
	if len(segs) >= 2 && segs[0] == "users" {
		upn, _ = url.PathUnescape(segs[1])
	}
	upnErr := func(err error) {
		if err != nil {
			ctlError(w, 404, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
	switch {
	case route == "POST apps":
		var a App
		if decode(&a) {
			s.RegisterApp(a)
			w.WriteHeader(http.StatusNoContent)
		}
	case route == "POST users" && len(segs) == 1:
		var u User
		if decode(&u) {
			if u.UPN == "" {
				ctlError(w, 400, "upn is required")
				return
			}
			s.AddUser(u)
			w.WriteHeader(http.StatusNoContent)
		}
	case route == "POST users/*/revokeRefreshTokens":
		upnErr(s.RevokeRefreshTokens(upn))
	case route == "POST users/*/withdrawConsent":
		upnErr(s.WithdrawConsent(upn))
	case route == "POST users/*/expireDeltaTokens":
		upnErr(s.ExpireDeltaTokens(upn))
	case route == "POST users/*/forceSyncReset":
		upnErr(s.ForceSyncReset(upn))
	case route == "GET users/*/events" && len(segs) == 3:
		ev := s.Events(upn)
		if ev == nil {
			ctlError(w, 404, "no user "+upn)
			return
		}
		ctlJSON(w, 200, map[string]any{"value": ev})
	case route == "POST users/*/events" && len(segs) == 3:
		var ev map[string]any
		if decode(&ev) {
			id, err := s.UserCreateEvent(upn, ev)
			if err != nil {
				ctlError(w, 400, err.Error())
				return
			}
			ctlJSON(w, 201, map[string]any{"id": id})
		}
	case route == "GET users/*/events" && len(segs) == 5 && segs[4] == "occurrences":
		// the series' plain occurrences, for a test to edit or cancel one
		ctlJSON(w, 200, map[string]any{"value": s.UserOccurrences(upn, segs[3], time.Time{}, s.now().AddDate(3, 0, 0))})
	case route == "PATCH users/*/events" && len(segs) == 4:
		var patch map[string]any
		if decode(&patch) {
			if err := s.UserUpdateEvent(upn, segs[3], patch); err != nil {
				ctlError(w, 400, err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	case route == "DELETE users/*/events" && len(segs) == 4:
		if err := s.UserDeleteEvent(upn, segs[3]); err != nil {
			ctlError(w, 404, err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case route == "POST faults":
		var f controlFault
		if !decode(&f) {
			return
		}
		var lat time.Duration
		if f.Latency != "" {
			if lat, err = time.ParseDuration(f.Latency); err != nil {
				ctlError(w, 400, "bad latency: "+err.Error())
				return
			}
		}
		s.AddFault(Fault{Method: f.Method, Path: f.Path, Count: f.Count, Status: f.Status, Header: f.Header, Body: f.Body, Latency: lat, Drop: f.Drop, After: f.After})
		w.WriteHeader(http.StatusNoContent)
	case route == "DELETE faults":
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case route == "GET clock":
		ctlJSON(w, 200, map[string]any{"now": s.Now().Format(time.RFC3339Nano)})
	case route == "POST clock" && len(segs) == 2 && segs[1] == "advance":
		var a struct {
			Duration string `json:"duration"`
		}
		if !decode(&a) {
			return
		}
		d, err := time.ParseDuration(a.Duration)
		if err != nil || d < 0 {
			ctlError(w, 400, "duration must be a non-negative Go duration such as \"90m\"")
			return
		}
		s.Advance(d)
		ctlJSON(w, 200, map[string]any{"now": s.Now().Format(time.RFC3339Nano)})
	case route == "GET requests":
		ctlJSON(w, 200, map[string]any{"value": nonNil(s.Requests())})
	case route == "DELETE requests":
		s.ResetLog()
		w.WriteHeader(http.StatusNoContent)
	case route == "GET counts":
		ctlJSON(w, 200, s.Counts())
	case route == "GET mail":
		ctlJSON(w, 200, map[string]any{"value": nonNil(s.OutboundMail())})
	case route == "GET subscriptions" && len(segs) == 1:
		ctlJSON(w, 200, map[string]any{"value": nonNil(s.Subscriptions())})
	case route == "POST subscriptions" && len(segs) == 3 && segs[2] == "lifecycle":
		var l struct {
			Event string `json:"lifecycleEvent"`
		}
		if decode(&l) {
			if err := s.Lifecycle(segs[1], l.Event); err != nil {
				status := 400
				if errors.Is(err, ErrNotFound) {
					status = 404
				}
				ctlError(w, status, err.Error())
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}
	case route == "POST notifications":
		var n struct {
			NotificationSettings
			Delay string `json:"delay"`
		}
		if !decode(&n) {
			return
		}
		if n.Delay != "" {
			if n.NotificationSettings.Delay, err = time.ParseDuration(n.Delay); err != nil {
				ctlError(w, 400, "bad delay: "+err.Error())
				return
			}
		}
		s.SetNotifications(n.NotificationSettings)
		w.WriteHeader(http.StatusNoContent)
	case route == "GET unimplemented":
		ctlJSON(w, 200, map[string]any{"value": nonNil(s.Unimplemented())})
	default:
		s.opts.Logf("graphsim: UNIMPLEMENTED control route %s %s", r.Method, r.URL.Path)
		ctlError(w, 404, "unknown control route "+r.Method+" "+r.URL.Path)
	}
}

// nonNil makes an empty list answer [] rather than null.
func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// UserOccurrences lists the ids of a series' occurrences between ws and we
// that are still plain occurrences (neither cancelled nor exceptions), in
// order, as a user would see them in Outlook. Nil for anything but a
// series master.
func (s *Sim) UserOccurrences(upn, masterID string, ws, we time.Time) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, in, err := s.userInstance(upn, masterID)
	if err != nil || in.ev == nil || in.ev.typ != "seriesMaster" {
		return nil
	}
	var out []string
	for _, st := range in.ev.series().occurrences(ws, we, false) {
		out = append(out, formatID(occurrenceKey(in.ev.key, st), false))
	}
	return out
}
