package simtest

import (
	"cmp"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/graphclient/calendar"
	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	"github.com/oro-msync/oro-msync/graphclient/tzmap"
	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

var update = flag.Bool("update", false, "rewrite golden-graph.txt of the sync scenarios")

// TestScenariosGraph runs every sync/testdata/scenarios/<case>/scenario.txt
// against the Graph simulator through the real Graph client and compares
// the transcript with golden-graph.txt (-update rewrites). The transcript's
// "graph:" lines come from the simulator's request log.
func TestScenariosGraph(t *testing.T) {
	scenario.Golden(t, "../testdata/scenarios", "golden-graph.txt", *update, "go test ./sync/simtest -run TestScenariosGraph -update",
		func(t *testing.T, script string) string {
			return scenarioHeader(script) + scenario.Run(t, script, func(c *scenario.Clock) scenario.Remote { return newSimRemote(t, c, script) })
		})
}

// Settings of the client under test: small delta pages so that rounds page
// as with the fake, few attempts and short backoffs so that a final 503
// stays cheap.
const (
	scenarioPageSize = 3
	scenarioAttempts = 3
	scenarioLatency  = 100 * time.Millisecond // per Graph request, on the scenario clock (as the fake)
)

// faultNotes explains how each fault of the scripts is produced by the
// simulator; the notes of the faults a script uses head its golden file.
var faultNotes = map[string]string{
	"write 429":     "graphsim answers the write's batch item 429 (Retry-After 0.01); the client sends it again in a later batch",
	"write 503":     fmt.Sprintf("graphsim answers the write's batch item 503 %d times (every attempt the client makes): a final 503", scenarioAttempts),
	"write reject":  "graphsim answers the write's batch item 400",
	"write 412":     "a Microsoft 365 user moves the event (location += \" (moved)\") just before the write, so its If-Match fails for real",
	"write drop":    "graphsim drops the write's batch item, answering 504 without performing it (it cannot lose a response after performing a write); the client retries it, so this covers the retry, not the lookup after a create performed whose answer was lost (the fake covers that)",
	"get 403":       "graphsim answers the next GET of one event 403 (its generic Graph error body)",
	"delta 410":     "graphsim expires the user's delta tokens (ExpireDeltaTokens): the next delta request answers 410 SyncStateNotFound",
	"delta endless": "graphsim answers the next delta requests with injected pages: an empty one, then the same page under a new nextLink each time",
	"delta dupes":   "graphsim runs with DeltaEmptyFirstPage and DeltaDuplicates for the whole script (its delta quirks are options, not one-shot faults)",
	"delta replay":  "graphsim runs with DeltaReplay for the whole script (its delta quirks are options, not one-shot faults)",
	"latency":       "every Graph request advances the scenario clock by this latency (instead of 100ms)",
	"creates":       "a fault aimed at a create, in a call with other creates, is sent in a batch of its own: graphsim matches faults by method and path, and creates share theirs",
}

// scriptFaults returns the fault specs of a script, in order.
func scriptFaults(script string) []string {
	var out []string
	for _, line := range strings.Split(script, "\n") {
		if spec, ok := strings.CutPrefix(strings.TrimSpace(line), "fault "); ok {
			out = append(out, spec)
		}
	}
	return out
}

func scenarioHeader(script string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# graphsim (seed 1, clock of the script) through graphclient/calendar (page size %d, %d attempts per write)\n", scenarioPageSize, scenarioAttempts)
	seen := map[string]bool{}
	for _, f := range scriptFaults(script) {
		key := f
		if strings.HasPrefix(f, "latency ") {
			key = "latency"
		}
		if !seen[key] {
			seen[key] = true
			fmt.Fprintf(&b, "# fault %s: %s\n", f, faultNotes[key])
		}
	}
	return b.String()
}

// simRemote is scenario.Remote over the Graph simulator: the engine talks to
// a real calendar.Remote over HTTP, the script's Microsoft 365 user acts
// through the simulator's control methods, and faults become simulator
// faults.
type simRemote struct {
	*calendar.Remote
	t       testing.TB
	sim     *graphsim.Sim
	base    string
	clock   *scenario.Clock
	logFrom int

	mu      sync.Mutex
	latency time.Duration
	// names: the transcript's names for ids, changeKeys and delta links
	// (see Name); seq numbers the unnamed ones by prefix.
	names map[string]string
	used  map[string]bool
	seq   map[string]int
	// writeFaults are the script's write faults not yet aimed at a write.
	writeFaults []scenario.Fault
	// inspect is a second client over the same session, for what the
	// script's user and transcript read of series (a series' instances,
	// a master's read): its requests count apart from the engine's and
	// advance no clock (see quiet).
	inspect *calendar.Remote
}

func newSimRemote(t testing.TB, clock *scenario.Clock, script string) *simRemote {
	t.Helper()
	opts := graphsim.Options{Seed: 1, Now: clock.Now, AutoConsent: true, AccessTokenLifetime: 24 * time.Hour, Logf: func(string, ...any) {}}
	for _, f := range scriptFaults(script) {
		switch f {
		case "delta dupes":
			opts.DeltaEmptyFirstPage, opts.DeltaDuplicates = true, true
		case "delta replay":
			opts.DeltaReplay = true
		}
	}
	sim := graphsim.New(opts)
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	sim.RegisterApp(graphsim.App{ClientID: clientID, ClientSecret: secret, RedirectURIs: []string{redirect}})
	sim.AddUser(graphsim.User{UPN: upn, DisplayName: "Adele Vance", Mail: upn})
	t.Cleanup(func() {
		// no write of ours mails anyone (attendees are never written);
		// what a Microsoft 365 user's own edits send is theirs
		for _, m := range sim.OutboundMail() {
			if m.Source == "graph" {
				t.Errorf("the sync made Microsoft 365 send mail: %s %q to %v", m.Kind, m.Subject, m.To)
			}
		}
	})
	r := &simRemote{t: t, sim: sim, base: srv.URL, clock: clock, latency: scenarioLatency,
		names: map[string]string{}, used: map[string]bool{}, seq: map[string]int{}}
	cfg := graphclient.Config{Endpoints: graphclient.Endpoints{Authority: srv.URL, Graph: srv.URL + "/v1.0"}, Logger: zerolog.Nop(),
		Transport: clockTransport{r}}
	app := graphclient.App{Tenant: "common", ClientID: clientID, ClientSecret: secret, RedirectURI: redirect}
	auth, err := graphclient.NewAuthorization(cfg, app, graphclient.AuthorizationRequest{LoginHint: upn})
	if err != nil {
		t.Fatal(err)
	}
	g, err := graphclient.Exchange(context.Background(), cfg, app, authorize(t, auth.URL), auth.CodeVerifier)
	if err != nil {
		t.Fatal(err)
	}
	session, err := graphclient.NewSession(context.Background(), cfg, app, g.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	r.Remote = calendar.New(session, calendar.Options{PageSize: scenarioPageSize, MaxAttempts: scenarioAttempts, Backoff: 10 * time.Millisecond, Now: clock.Now})
	r.inspect = calendar.New(session, calendar.Options{})
	r.logFrom = len(sim.Requests())
	return r
}

// clockTransport advances the scenario clock by the latency of every Graph
// request, as the fake does, so that time budgets and nextSyncAt behave alike.
type clockTransport struct{ r *simRemote }

func (c clockTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.URL.Path, "/v1.0/") {
		c.r.mu.Lock()
		d := c.r.latency
		c.r.mu.Unlock()
		c.r.clock.Advance(d)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// immutable returns the immutable form of a simulator event id (the control
// methods answer REST ids; the client asks for immutable ones).
func immutable(id string) string {
	if rest, ok := strings.CutPrefix(id, "AAMk"); ok {
		return "AAkA" + rest
	}
	return id
}

func (r *simRemote) Seed(ref string, ev calsync.RemoteEvent) string {
	return r.create(ref, seedBody(ev))
}

// seedBody is the Graph JSON of an event a Microsoft 365 user creates.
func seedBody(ev calsync.RemoteEvent) map[string]any {
	body := graphBody(ev, nil)
	body["subject"] = ev.Subject
	if !ev.IsOrganizer {
		body["organizer"] = map[string]any{"emailAddress": map[string]any{"address": cmp.Or(ev.OrganizerEmail, "megan@fabrikam.example"), "name": "Megan Bowen"}}
	}
	return body
}

// create creates an event from its Graph JSON as a Microsoft 365 user
// would, naming it ref.
func (r *simRemote) create(ref string, body map[string]any) string {
	id, err := r.sim.UserCreateEvent(upn, body)
	if err != nil {
		r.t.Fatalf("seed %s: %v", ref, err)
	}
	id = immutable(id)
	r.setName(id, ref)
	return id
}

// graphBody is the Graph JSON of ev's synchronized fields; with before, only
// of those that differ from it.
func graphBody(ev calsync.RemoteEvent, before *calsync.RemoteEvent) map[string]any {
	m := map[string]any{}
	all := before == nil
	if all || ev.Subject != before.Subject {
		m["subject"] = ev.Subject
	}
	if all || ev.Body != before.Body {
		m["body"] = map[string]any{"contentType": "text", "content": ev.Body}
	}
	if all || ev.Location != before.Location {
		m["location"] = map[string]any{"displayName": ev.Location}
	}
	if len(ev.Attendees) > 0 && (all || !slices.Equal(ev.Attendees, before.Attendees)) {
		response := map[string]string{"none": "none", "accepted": "accepted", "declined": "declined", "tentative": "tentativelyAccepted"}
		var as []any
		for _, a := range ev.Attendees {
			as = append(as, map[string]any{"emailAddress": map[string]any{"address": a.Email}, "type": a.Type,
				"status": map[string]any{"response": response[a.Status], "time": "2026-01-05T08:00:00Z"}})
		}
		m["attendees"] = as
	}
	if ev.Reminder != calsync.ReminderUnset && (all || ev.Reminder != before.Reminder) {
		m["isReminderOn"] = ev.Reminder != calsync.ReminderOff
		if ev.Reminder != calsync.ReminderOff {
			m["reminderMinutesBeforeStart"] = ev.Reminder
		}
	}
	if all || !ev.Start.Equal(before.Start) || !ev.End.Equal(before.End) || ev.AllDay != before.AllDay || ev.TimeZone != before.TimeZone {
		f := "2006-01-02T15:04:05"
		tz := "UTC" // an all-day event's dates are written as they are, in its zone
		if ev.AllDay && ev.TimeZone != "" {
			tz = ev.TimeZone
		}
		m["isAllDay"] = ev.AllDay
		m["start"] = map[string]any{"dateTime": ev.Start.UTC().Format(f), "timeZone": tz}
		m["end"] = map[string]any{"dateTime": ev.End.UTC().Format(f), "timeZone": tz}
	}
	return m
}

func (r *simRemote) event(id string) calsync.RemoteEvent {
	for _, ev := range r.Events() {
		if ev.ID == id {
			return ev
		}
	}
	r.t.Fatalf("no event %s in the simulator", r.Name(id))
	return calsync.RemoteEvent{}
}

// Edit changes an event in Outlook; a series master's new times are
// written as wall clock in its zone, as Outlook writes them (in UTC they
// would move the series out of its recurrence's zone).
func (r *simRemote) Edit(id string, fn func(*calsync.RemoteEvent)) {
	before := r.event(id)
	after := before
	fn(&after)
	body := graphBody(after, &before)
	if _, ok := body["start"]; ok && before.Type == "seriesMaster" && !after.AllDay {
		loc := r.location(before.TimeZone)
		body["start"], body["end"] = wallClock(after.Start, loc, before.TimeZone), wallClock(after.End, loc, before.TimeZone)
	}
	if err := r.sim.UserUpdateEvent(upn, id, body); err != nil {
		r.t.Fatalf("edit %s: %v", r.Name(id), err)
	}
}

func (r *simRemote) Delete(id string) {
	if err := r.sim.UserDeleteEvent(upn, id); err != nil {
		r.t.Fatalf("delete %s: %v", r.Name(id), err)
	}
}

// Events reads the simulator's store (no Graph request), ordered by Name.
func (r *simRemote) Events() []calsync.RemoteEvent {
	var out []calsync.RemoteEvent
	for _, m := range r.sim.Events(upn) {
		b, _ := json.Marshal(m)
		var g struct {
			ID, Subject, ChangeKey, ICalUID, TransactionID string
			Type, SeriesMasterID                           string
			IsAllDay, IsOrganizer, IsReminderOn            bool
			ReminderMinutesBeforeStart                     int
			OriginalStartTimeZone                          string
			Body                                           struct{ Content string }
			Location                                       struct{ DisplayName string }
			Start, End                                     struct{ DateTime, TimeZone string }
			Props                                          []struct{ ID, Value string } `json:"singleValueExtendedProperties"`
		}
		if err := json.Unmarshal(b, &g); err != nil {
			r.t.Fatal(err)
		}
		ev := calsync.RemoteEvent{ID: immutable(g.ID), Subject: g.Subject, ChangeKey: g.ChangeKey, ICalUID: g.ICalUID,
			TransactionID: g.TransactionID, AllDay: g.IsAllDay, IsOrganizer: g.IsOrganizer, Body: g.Body.Content,
			Location: g.Location.DisplayName, Start: simTime(g.Start.DateTime, g.Start.TimeZone, g.IsAllDay),
			End: simTime(g.End.DateTime, g.End.TimeZone, g.IsAllDay), TimeZone: g.OriginalStartTimeZone, Reminder: calsync.ReminderOff,
			Type: g.Type}
		if g.SeriesMasterID != "" {
			ev.SeriesMasterID = immutable(g.SeriesMasterID)
		}
		if g.IsReminderOn {
			ev.Reminder = g.ReminderMinutesBeforeStart
		}
		for _, p := range g.Props {
			if strings.EqualFold(p.ID, calendar.OroIDPropertyID) {
				ev.OroID = p.Value
			}
		}
		out = append(out, ev)
	}
	for _, ev := range out { // name events in the store's order first, then sort by name
		r.Name(ev.ID)
	}
	slices.SortFunc(out, func(a, b calsync.RemoteEvent) int { return strings.Compare(r.Name(a.ID), r.Name(b.ID)) })
	return out
}

// simTime reads a stored dateTime: a timed one in the zone it was written
// in, an all-day one as its date.
func simTime(s, zone string, allDay bool) time.Time {
	t, _ := time.Parse("2006-01-02T15:04:05.9999999", s)
	if iana, ok := tzmap.IANA(zone); ok && !allDay {
		if loc, err := time.LoadLocation(iana); err == nil {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
		}
	}
	return t.UTC()
}

// Fault maps a scenario fault to the simulator (see faultNotes).
func (r *simRemote) Fault(f scenario.Fault) {
	switch f {
	case scenario.WriteThrottled, scenario.WriteUnavailable, scenario.WriteDrop, scenario.WriteMoved, scenario.WriteRejected:
		r.writeFaults = append(r.writeFaults, f)
	case scenario.DeltaExpired:
		if err := r.sim.ExpireDeltaTokens(upn); err != nil {
			r.t.Fatal(err)
		}
	case scenario.DeltaDupes, scenario.DeltaReplay:
		// simulator options, set for the whole script (newSimRemote)
	case scenario.GetRefused:
		r.sim.AddFault(graphsim.Fault{Method: "GET", Path: "/v1.0/me/events/*", Status: 403})
	case scenario.DeltaEndless:
		r.endless()
	default:
		r.t.Fatalf("fault %q has no simulator mapping", f)
	}
}

// SetLatency sets the time every Graph request advances the scenario clock.
func (r *simRemote) SetLatency(d time.Duration) {
	r.mu.Lock()
	r.latency = d
	r.mu.Unlock()
}

// endless queues the delta pages of a round that never ends: an empty page,
// then the same page under a new nextLink each time, more often than the
// engine's guard accepts.
func (r *simRemote) endless() {
	evs := r.sim.Events(upn)
	if len(evs) == 0 {
		r.t.Fatal("delta endless needs an event to repeat")
	}
	const path = "/v1.0/me/calendarView/delta"
	next := func(i int) string { return fmt.Sprintf("%s%s?$skiptoken=endless-%d", r.base, path, i) }
	page := func(items []map[string]any, i int) string {
		b, _ := json.Marshal(map[string]any{"value": items, "@odata.nextLink": next(i)})
		return string(b)
	}
	hdr := http.Header{"Content-Type": {"application/json"}}
	r.sim.AddFault(graphsim.Fault{Method: "GET", Path: path, Status: 200, Header: hdr, Body: page([]map[string]any{}, 0)})
	for i := 1; i <= 4; i++ {
		r.sim.AddFault(graphsim.Fault{Method: "GET", Path: path, Status: 200, Header: hdr, Body: page(evs[:1], i)})
	}
}

// Apply aims the pending write faults at the writes in order (as the fake
// takes them) and sends the writes through the real client.
func (r *simRemote) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	var first, rest []calsync.Write
	creates := 0
	for _, w := range writes {
		if w.Op == calsync.WriteCreate {
			creates++
		}
	}
	for _, w := range writes {
		if len(r.writeFaults) == 0 {
			rest = append(rest, w)
			continue
		}
		spec := r.writeFaults[0]
		r.writeFaults = r.writeFaults[1:]
		r.aim(w, spec)
		if w.Op == calsync.WriteCreate && creates > 1 && spec != scenario.WriteMoved {
			first = append(first, w)
		} else {
			rest = append(rest, w)
		}
	}
	var results []calsync.WriteResult
	for _, part := range [][]calsync.Write{first, rest} {
		if len(part) == 0 {
			continue
		}
		res, err := r.Remote.Apply(ctx, part)
		if err != nil {
			return nil, err
		}
		results = append(results, res...)
	}
	byKey := map[string]calsync.Write{}
	for _, w := range writes {
		byKey[w.Key] = w
	}
	for _, res := range results {
		if w := byKey[res.Key]; w.Op == calsync.WriteCreate && res.Event != nil {
			r.nameCopy(res.Event.ID, w.OroID)
		}
	}
	return results, nil
}

// ApplyStream hands the writes feed gives, as the engine hands them over,
// to Apply, which aims the script's write faults at them as the fake
// does; the client's own ApplyStream would pass them by.
func (r *simRemote) ApplyStream(ctx context.Context, feed func(n int) []calsync.Write, each func(calsync.WriteResult)) error {
	for ws := feed(math.MaxInt); len(ws) > 0; ws = feed(math.MaxInt) {
		res, err := r.Apply(ctx, ws)
		if err != nil {
			return err
		}
		for _, x := range res {
			each(x)
		}
	}
	return nil
}

// aim turns a script's write fault into a simulator fault for w.
func (r *simRemote) aim(w calsync.Write, spec scenario.Fault) {
	method, path := "POST", "/v1.0/me/events"
	switch w.Op {
	case calsync.WriteUpdate:
		method, path = "PATCH", "/v1.0/me/events/"+w.ID
	case calsync.WriteDelete:
		method, path = "DELETE", "/v1.0/me/events/"+w.ID
	}
	retry := http.Header{"Retry-After": {"0.01"}}
	f := graphsim.Fault{Method: method, Path: path}
	switch spec {
	case scenario.WriteThrottled:
		f.Status, f.Header = 429, retry
	case scenario.WriteUnavailable:
		f.Status, f.Header, f.Count = 503, retry, scenarioAttempts
	case scenario.WriteRejected:
		f.Status = 400
		f.Body = `{"error":{"code":"ErrorInvalidRequest","message":"Your request is invalid."}}`
	case scenario.WriteDrop:
		f.Drop = true
	case scenario.WriteMoved:
		if w.Op != calsync.WriteCreate {
			ev := r.event(w.ID)
			if err := r.sim.UserUpdateEvent(upn, w.ID, map[string]any{"location": map[string]any{"displayName": ev.Location + " (moved)"}}); err != nil {
				r.t.Fatal(err)
			}
		}
		return
	default:
		r.t.Fatalf("write fault %q has no simulator mapping", spec)
	}
	r.sim.AddFault(f)
}

func (r *simRemote) Ordered() bool { return false }

func (r *simRemote) setName(raw, name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.names[raw] = name
	r.used[name] = true
}

// nameCopy names the Microsoft copy of an Oro event "@oroId" ("@oroId#2"
// for a second copy, e.g. a re-creation).
func (r *simRemote) nameCopy(id, oroID string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.names[id]; ok {
		return n
	}
	n := "@" + oroID
	for i := 2; r.used[n]; i++ {
		n = fmt.Sprintf("@%s#%d", oroID, i)
	}
	r.names[id], r.used[n] = n, true
	return n
}

// Name prints the simulator's random strings as stable names: seeded events
// by their script ref, our copies of Oro events as "@oroId", delta links
// and changeKeys numbered in order of appearance. The strings themselves
// come from the seeded generator, but the items of a batch run concurrently
// and draw from it in any order.
func (r *simRemote) Name(s string) string {
	if s == "" {
		return ""
	}
	s = immutable(s)
	r.mu.Lock()
	n, ok := r.names[s]
	r.mu.Unlock()
	if ok {
		return n
	}
	if n, ok := r.occurrenceName(s); ok {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.names[s], r.used[n] = n, true
		return n
	}
	prefix := "ck"
	switch {
	case strings.Contains(s, "$deltatoken="):
		prefix = "delta#"
	case strings.Contains(s, "$skiptoken="):
		prefix = "next#"
	case strings.HasPrefix(s, "AAkA"):
		for _, m := range r.sim.Events(upn) {
			if id, _ := m["id"].(string); immutable(id) == s {
				for _, p := range m["singleValueExtendedProperties"].([]any) {
					if p, _ := p.(map[string]any); strings.EqualFold(fmt.Sprint(p["id"]), calendar.OroIDPropertyID) {
						return r.nameCopy(s, fmt.Sprint(p["value"]))
					}
				}
			}
		}
		prefix = "event#"
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq[prefix]++
	n = fmt.Sprintf("%s%d", prefix, r.seq[prefix])
	r.names[s], r.used[n] = n, true
	return n
}

// occurrenceName names the id of a series' occurrence by its master's name
// and its original start: the simulator's occurrence ids are its master's
// key and that start (graphsim/ids.go).
func (r *simRemote) occurrenceName(id string) (string, bool) {
	rest, ok := strings.CutPrefix(id, "AAkA")
	b, err := base64.URLEncoding.DecodeString(rest)
	if !ok || err != nil || len(b) != 25 || b[0] != 'O' {
		return "", false
	}
	master := "AAkA" + base64.URLEncoding.EncodeToString(append([]byte{'E'}, b[1:17]...))
	orig := time.Unix(int64(binary.BigEndian.Uint64(b[17:])), 0).UTC()
	return r.Name(master) + "[" + orig.Format(time.RFC3339) + "]", true
}

// TakeLog renders the simulator's request log since the last call: method,
// endpoint pattern (ids named), what a delta request continues, the status.
// Two orders follow the random ids and are sorted: the items of a batch
// (they run in any order) and a run of reads of single events (the engine
// confirms events in the order of their ids).
func (r *simRemote) TakeLog() []string {
	recs := r.sim.Requests()
	recs, r.logFrom = recs[r.logFrom:], len(recs)
	var out []string
	run := 0 // start of the current run of single-event reads in out
	for _, rec := range recs {
		if rec.Method != "GET" || !strings.HasPrefix(rec.Path, "/v1.0/me/events/") {
			slices.Sort(out[run:])
			run = len(out) + 1
		}
		out = append(out, r.logLine(rec))
		var items []string
		for _, it := range rec.BatchItems {
			items = append(items, "  "+r.logLine(it))
		}
		slices.Sort(items)
		out = append(out, items...)
		if len(items) > 0 {
			run = len(out)
		}
	}
	slices.Sort(out[min(run, len(out)):])
	return out
}

func (r *simRemote) logLine(rec graphsim.RequestRecord) string {
	line := rec.Method + " " + rec.Path
	if rest, ok := strings.CutPrefix(rec.Path, "/v1.0/me/events/"); ok {
		id, sub, _ := strings.Cut(rest, "/") // sub: instances, of a series
		if sub != "" {
			sub = "/" + sub
		}
		line = rec.Method + " /v1.0/me/events/{id}" + sub + " " + r.Name(id)
	}
	switch {
	case !strings.HasSuffix(strings.TrimSuffix(rec.Path, "()"), "/calendarView/delta"):
	case strings.Contains(rec.Query, "startDateTime="):
		line += " (new round)"
	case strings.Contains(rec.Query, "deltatoken="):
		line += " (deltaLink)"
	case strings.Contains(rec.Query, "skiptoken="):
		line += " (nextLink)"
	}
	if rec.Path == "/v1.0/me/events" && strings.Contains(rec.Query, "filter=") {
		line += " ($filter oroId)"
	}
	if rec.Fault {
		line += " [injected]"
	}
	if rec.Status == 0 {
		return line + " -> dropped"
	}
	return fmt.Sprintf("%s -> %d", line, rec.Status)
}

var _ scenario.Remote = (*simRemote)(nil)

var (
	_ scenario.SeriesRemote    = (*simRemote)(nil)
	_ calsync.OccurrenceLister = (*simRemote)(nil) // the engine writes Oro exceptions with it
)

// quiet runs read on the inspecting client with no latency on the scenario
// clock: what the script's user sees costs the engine no time.
func (r *simRemote) quiet(read func(ctx context.Context) error) {
	r.mu.Lock()
	d := r.latency
	r.latency = 0
	r.mu.Unlock()
	err := read(context.Background())
	r.mu.Lock()
	r.latency = d
	r.mu.Unlock()
	if err != nil {
		r.t.Fatal(err)
	}
}

// location loads the IANA zone of a Windows zone name.
func (r *simRemote) location(windows string) *time.Location {
	iana, ok := tzmap.IANA(windows)
	loc, err := time.LoadLocation(iana)
	if !ok || err != nil {
		r.t.Fatalf("no IANA zone for %q: %v", windows, err)
	}
	return loc
}

// wallClock is the Graph dateTimeTimeZone of t as wall clock in loc, named
// zone (its Windows name).
func wallClock(t time.Time, loc *time.Location, zone string) map[string]any {
	return map[string]any{"dateTime": t.In(loc).Format("2006-01-02T15:04:05"), "timeZone": zone}
}

// recurrenceBody is the Graph patternedRecurrence of p for a series that
// starts at start (its range's startDate is start's date).
func recurrenceBody(p scenario.Pattern, start time.Time) map[string]any {
	pat := map[string]any{"type": p.Type, "interval": p.Interval}
	if len(p.DaysOfWeek) > 0 {
		pat["daysOfWeek"] = p.DaysOfWeek
	}
	if p.DayOfMonth != 0 {
		pat["dayOfMonth"] = p.DayOfMonth
	}
	if p.Month != 0 {
		pat["month"] = p.Month
	}
	if p.Index != "" {
		pat["index"] = p.Index
	}
	if p.FirstDayOfWeek != "" {
		pat["firstDayOfWeek"] = p.FirstDayOfWeek
	}
	rng := map[string]any{"type": "noEnd", "startDate": start.Format("2006-01-02"), "recurrenceTimeZone": p.TimeZone}
	switch {
	case p.Occurrences > 0:
		rng["type"], rng["numberOfOccurrences"] = "numbered", p.Occurrences
	case p.EndDate != "":
		rng["type"], rng["endDate"] = "endDate", p.EndDate
	}
	return map[string]any{"pattern": pat, "range": rng}
}

// SeedSeries creates a series in Outlook: its times are written as wall
// clock in the pattern's zone, as Outlook writes them (an all-day series:
// its dates, at midnight in that zone).
func (r *simRemote) SeedSeries(ref string, ev calsync.RemoteEvent, p scenario.Pattern) string {
	body := seedBody(ev)
	loc := r.location(p.TimeZone)
	if ev.AllDay {
		loc = time.UTC // its dates are held as midnight UTC
	}
	body["start"], body["end"] = wallClock(ev.Start, loc, p.TimeZone), wallClock(ev.End, loc, p.TimeZone)
	body["recurrence"] = recurrenceBody(p, ev.Start.In(loc))
	return r.create(ref, body)
}

// SetPattern patches the master's recurrence, its range starting on the
// master's start date in the pattern's zone.
func (r *simRemote) SetPattern(id string, p scenario.Pattern) {
	start := r.event(id).Start.In(r.location(p.TimeZone))
	if err := r.sim.UserUpdateEvent(upn, id, map[string]any{"recurrence": recurrenceBody(p, start)}); err != nil {
		r.t.Fatalf("pattern of %s: %v", r.Name(id), err)
	}
}

func (r *simRemote) Instances(id string, from, to time.Time) []calsync.RemoteEvent {
	var out []calsync.RemoteEvent
	r.quiet(func(ctx context.Context) (err error) {
		out, err = r.inspect.Occurrences(ctx, id, from, to)
		return err
	})
	return out
}

// occurrence returns the occurrence or exception of series id at original
// start orig.
func (r *simRemote) occurrence(id string, orig time.Time) calsync.RemoteEvent {
	for _, o := range r.Instances(id, orig.Add(-48*time.Hour), orig.Add(48*time.Hour)) {
		if o.OriginalStart.Equal(orig) {
			return o
		}
	}
	r.t.Fatalf("series %s has no occurrence at %s", r.Name(id), orig)
	return calsync.RemoteEvent{}
}

func (r *simRemote) EditOccurrence(id string, orig time.Time, fn func(*calsync.RemoteEvent)) {
	before := r.occurrence(id, orig)
	after := before
	fn(&after)
	if err := r.sim.UserUpdateEvent(upn, before.ID, graphBody(after, &before)); err != nil {
		r.t.Fatalf("edit the occurrence %s of %s: %v", orig, r.Name(id), err)
	}
}

func (r *simRemote) CancelOccurrence(id string, orig time.Time) {
	if err := r.sim.UserDeleteEvent(upn, r.occurrence(id, orig).ID); err != nil {
		r.t.Fatalf("cancel the occurrence %s of %s: %v", orig, r.Name(id), err)
	}
}

// Series shows the master's recurrence as the simulator stores it, and the
// exceptions and cancellations the client reads of it.
func (r *simRemote) Series(id string) (string, *calsync.SeriesInfo) {
	var rec struct {
		Pattern struct {
			Type, Index, FirstDayOfWeek string
			Interval, DayOfMonth, Month int
			DaysOfWeek                  []string
		}
		Range struct {
			Type, StartDate, EndDate, RecurrenceTimeZone string
			NumberOfOccurrences                          int
		}
	}
	for _, m := range r.sim.Events(upn) {
		if mid, _ := m["id"].(string); immutable(mid) == id {
			b, _ := json.Marshal(m["recurrence"])
			if err := json.Unmarshal(b, &rec); err != nil {
				r.t.Fatal(err)
			}
		}
	}
	g := rec.Pattern
	p := scenario.Pattern{Type: g.Type, Interval: g.Interval, DaysOfWeek: g.DaysOfWeek, TimeZone: rec.Range.RecurrenceTimeZone}
	// what the pattern's type reads (Graph fills in the others)
	switch g.Type {
	case "weekly":
		p.FirstDayOfWeek = g.FirstDayOfWeek
	case "absoluteMonthly", "absoluteYearly":
		p.DayOfMonth, p.DaysOfWeek = g.DayOfMonth, nil
	case "relativeMonthly", "relativeYearly":
		p.Index = g.Index
	case "daily":
		p.DaysOfWeek = nil
	}
	if strings.HasSuffix(g.Type, "Yearly") {
		p.Month = g.Month
	}
	switch rec.Range.Type {
	case "numbered":
		p.Occurrences = rec.Range.NumberOfOccurrences
	case "endDate":
		p.EndDate = rec.Range.EndDate
	}
	var ev calsync.RemoteEvent
	r.quiet(func(ctx context.Context) (err error) {
		ev, err = r.inspect.Get(ctx, id)
		return err
	})
	return scenario.PatternText(p, rec.Range.StartDate), ev.Series
}
