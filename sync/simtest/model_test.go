package simtest

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/graphclient/calendar"
	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

var (
	seeds     = flag.Int("seeds", 200, "number of seeds the randomized sync test runs")
	firstSeed = flag.Uint64("seed", 1, "first seed of the randomized sync test")
)

func TestTwoWay(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	start := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	w.host.create("from oro", start)
	msID, err := w.sim.UserCreateEvent(upn, outlookEvent("from outlook", start.Add(24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	w.mustSync(calsync.Options{})
	w.agree()
	if w.requests["batch"] != 1 {
		t.Errorf("first sync requests %v: want one batch", w.requests)
	}

	// Both sides edit; an incremental run carries the changes across.
	w.host.edit("oro-1", "from oro, edited")
	if err := w.sim.UserUpdateEvent(upn, msID, map[string]any{"subject": "from outlook, edited"}); err != nil {
		t.Fatal(err)
	}
	w.mustSync(calsync.Options{})
	w.agree()

	// Nothing changed: one delta request.
	w.mustSync(calsync.Options{})
	if fmt.Sprint(w.requests) != "map[delta:1]" {
		t.Errorf("idle incremental run made %v, want map[delta:1]", w.requests)
	}
}

func outlookEvent(subject string, start time.Time) map[string]any {
	f := "2006-01-02T15:04:05"
	return map[string]any{"subject": subject,
		"start": map[string]any{"dateTime": start.UTC().Format(f), "timeZone": "UTC"},
		"end":   map[string]any{"dateTime": start.UTC().Add(time.Hour).Format(f), "timeZone": "UTC"}}
}

// TestRandomized is the model-based test against the simulator, the
// counterpart of the in-memory TestModel in ./sync: random edits on both
// sides (events the user organizes and attendee copies the user does not;
// series: occurrences moved or cancelled in Outlook and in Oro, and Oro
// series made single events), random faults from the simulator (including writes performed whose answer
// is lost, with Graph's transactionId dedupe on or answering 409) and
// results randomly lost by the host, in one of the three directions. Every
// run is checked against the invariants of CONFLICTS.md: events the user
// does not organize are never changed in Microsoft 365, microsoft_to_oro
// never writes to Microsoft 365, oro_to_microsoft never changes Oro, and
// transient faults leave only retryable issues.
// After the faults stop, clean runs must leave both sides agreeing as the
// direction says, series with their exceptions, with no duplicate and
// nothing lost, but for events an issue excuses (see converged).
// -seeds and -seed choose the seeds; a failure names its seed.
func TestRandomized(t *testing.T) {
	n := *seeds
	if testing.Short() {
		n = min(n, 20)
	}
	for s := *firstSeed; s < *firstSeed+uint64(n); s++ {
		// Not parallel: creating a Graph client writes SDK globals that
		// parsing reads (a race in msgraph-sdk-go itself).
		t.Run(fmt.Sprintf("seed=%d", s), func(t *testing.T) { runSeed(t, s) })
	}
}

var (
	strategies = []calsync.ConflictResolution{"oro_wins", "microsoft_wins", "most_recent", "merge"}
	directions = []calsync.Direction{calsync.DirectionBoth, calsync.DirectionBoth, calsync.DirectionOroToMicrosoft, calsync.DirectionMicrosoftToOro}
)

func runSeed(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	conflict := rng.IntN(2) == 0
	w := newWorld(t, graphsim.Options{Seed: seed, TransactionIDConflict: conflict})
	w.strat = strategies[rng.IntN(len(strategies))]
	w.dir = directions[rng.IntN(len(directions))]
	label := 0
	title := func() string { label++; return fmt.Sprintf("s%d-%d", seed, label) }
	when := func() time.Time {
		return time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(60*24)) * time.Hour)
	}
	log := []string{fmt.Sprintf("direction %s, strategy %s, TransactionIDConflict %v", w.dir, w.strat, conflict)}
	defer func() {
		if t.Failed() {
			t.Logf("seed %d: rerun with -run 'TestRandomized/seed=%d$'; steps:\n%s", seed, seed, strings.Join(log, "\n"))
		}
	}()
	// attendee copies deleted in Oro, by Microsoft id: they stay in
	// Microsoft 365, unlinked
	declined := map[string]bool{}
	// run syncs once and checks the per-run invariants.
	run := func(ctx context.Context, opts calsync.Options) (calsync.Result, error) {
		since := len(w.sim.Requests())
		theirs := w.attendeeCopies()
		res, err := w.sync(ctx, opts)
		after := w.attendeeCopies()
		for id, ck := range theirs {
			if now, ok := after[id]; !ok || now != ck {
				t.Errorf("attendee copy %s changed or deleted in Microsoft 365 by a run", id)
			}
		}
		if !w.dir.Pushes() {
			for _, wr := range w.graphWrites(since) {
				t.Errorf("%s: %s written to Microsoft 365", w.dir, wr)
			}
		}
		// The faults are transient: any issue but the refusal to change an
		// event the user does not organize must be worth retrying.
		for _, is := range res.Issues {
			if !is.Retryable && is.Reason != calsync.ReasonNotOrganizer && is.Reason != calsync.ReasonRecurring {
				t.Errorf("non-retryable issue: %+v", is)
			}
		}
		if !w.dir.Pulls() && err == nil {
			for _, op := range res.Operations {
				if op.Op != calsync.OpLink {
					t.Errorf("%s: Oro operation %s oro=%s ms=%s (%s)", w.dir, op.Op, op.OroID, op.RemoteID, op.Reason)
				}
			}
		}
		return res, err
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	steps := 4 + rng.IntN(5)
	for step := range steps {
		// Edits on both sides.
		for range rng.IntN(4) {
			live := w.host.masters()
			if k := rng.IntN(10); k < 3 {
				// a series in Oro: an occurrence moved or cancelled, or the
				// series made a single event
				if msg, ok := w.host.seriesEdit(rng, title); ok {
					log = append(log, msg)
					continue
				}
			}
			switch k := rng.IntN(10); {
			case k < 4 || len(live) == 0:
				start := when()
				id := w.host.create(title(), start)
				if rng.IntN(4) == 0 { // a weekly series, in Berlin
					n := 2 + rng.IntN(5)
					w.host.events[id].Recurrence = &calsync.Recurrence{RecurrenceType: calsync.RecurrenceWeekly, Interval: 1,
						DayOfWeek: []string{strings.ToLower(start.In(berlin).Weekday().String())}, StartTime: start, Count: &n, TimeZone: "Europe/Berlin"}
					log = append(log, "oro create series "+id)
					continue
				}
				log = append(log, "oro create "+id)
			case k < 7:
				ev := live[rng.IntN(len(live))]
				w.host.edit(ev.ID, title())
				log = append(log, "oro edit "+ev.ID)
			default:
				ev := live[rng.IntN(len(live))]
				if ev.Link != nil && ev.Link.ReadOnly {
					declined[ev.Link.RemoteID] = true
				}
				w.host.remove(ev.ID)
				log = append(log, "oro delete "+ev.ID)
			}
		}
		ms := w.sim.Events(upn)
		for range rng.IntN(4) {
			switch k := rng.IntN(10); {
			case k < 2:
				// a series, in Berlin: an occurrence edited, or one
				// cancelled, or a new series
				if id, ok := w.randomOccurrence(rng); ok && rng.IntN(3) > 0 {
					if rng.IntN(2) == 0 {
						err := w.sim.UserUpdateEvent(upn, id, map[string]any{"subject": title()})
						log = append(log, fmt.Sprintf("ms edit occurrence %s: %v", id, err))
					} else {
						err := w.sim.UserDeleteEvent(upn, id)
						log = append(log, fmt.Sprintf("ms cancel occurrence %s: %v", id, err))
					}
					continue
				}
				id, err := w.sim.UserCreateEvent(upn, weeklySeries(title(), when(), 2+rng.IntN(6)))
				if err != nil {
					t.Fatal(err)
				}
				log = append(log, "ms create series "+id)
			case k < 3 || len(ms) == 0:
				if _, err := w.sim.UserCreateEvent(upn, outlookEvent(title(), when())); err != nil {
					t.Fatal(err)
				}
				log = append(log, "ms create")
			case k < 4:
				// an invitation: the attendee copy in the user's calendar
				inv := outlookEvent(title(), when())
				inv["organizer"] = map[string]any{"emailAddress": map[string]any{"name": "Organizer", "address": "organizer@fabrikam.example"}}
				id, err := w.sim.UserCreateEvent(upn, inv)
				if err != nil {
					t.Fatal(err)
				}
				log = append(log, "ms invitation "+id)
			case k < 7:
				id, _ := ms[rng.IntN(len(ms))]["id"].(string)
				if err := w.sim.UserUpdateEvent(upn, id, map[string]any{"subject": title()}); err != nil {
					log = append(log, "ms edit failed: "+err.Error())
					continue
				}
				log = append(log, "ms edit "+id)
			default:
				id, _ := ms[rng.IntN(len(ms))]["id"].(string)
				if err := w.sim.UserDeleteEvent(upn, id); err == nil {
					log = append(log, "ms delete "+id)
				}
			}
		}
		// Faults for this run.
		for range rng.IntN(3) {
			f := randomFault(rng)
			w.sim.AddFault(f)
			log = append(log, fmt.Sprintf("fault %s %s %d drop=%v after=%v", f.Method, f.Path, f.Status, f.Drop, f.After))
		}
		if rng.IntN(8) == 0 {
			if err := w.sim.ExpireDeltaTokens(upn); err != nil {
				t.Fatal(err)
			}
			log = append(log, "expire delta tokens")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		res, err := run(ctx, calsync.Options{AllowMassDelete: true, TimeBudgetSeconds: 10})
		cancel()
		w.sim.ClearFaults()
		switch {
		case err != nil:
			log = append(log, fmt.Sprintf("run %d failed: %v", step, err))
		case rng.IntN(4) == 0:
			log = append(log, fmt.Sprintf("run %d: result lost", step))
		default:
			w.host.applyWithRows(res)
			log = append(log, fmt.Sprintf("run %d: %s, %d ops, %d issues", step, res.Status, len(res.Operations), len(res.Issues)))
		}
	}
	// One-way directions leave the other side's changes alone; touching
	// every event on the source side makes the final state predictable.
	switch w.dir {
	case calsync.DirectionOroToMicrosoft:
		for _, ev := range w.host.masters() {
			w.host.edit(ev.ID, ev.Title+" (final)")
		}
		log = append(log, "oro edit every event")
	case calsync.DirectionMicrosoftToOro:
		for _, ev := range w.sim.Events(upn) {
			id, _ := ev["id"].(string)
			subject, _ := ev["subject"].(string)
			if err := w.sim.UserUpdateEvent(upn, id, map[string]any{"subject": subject + " (final)"}); err != nil {
				t.Fatal(err)
			}
		}
		log = append(log, "ms edit every event")
	}
	// Fault-free: run until a run changes nothing on either side (bounded).
	// What Graph cannot write of Oro's series (a restored occurrence, a
	// series with no occurrence left made single) is an issue that explains
	// the difference it leaves: its event is excused from agreeing.
	excused := map[string]bool{}
	for i := 0; ; i++ {
		res, err := run(context.Background(), calsync.Options{AllowMassDelete: true})
		if err != nil {
			t.Fatalf("clean run %d: %v", i, err)
		}
		w.host.applyWithRows(res)
		log = append(log, fmt.Sprintf("clean run %d: %s, %d ops, pushed %d, issues %+v", i, res.Status, len(res.Operations), res.Stats.Pushed, res.Issues))
		clear(excused)
		for _, is := range res.Issues {
			if !is.Retryable && is.Reason == calsync.ReasonRecurring && is.OroID != "" {
				excused[is.OroID] = true
			}
		}
		if res.Status == calsync.StatusCompleted && len(res.Operations) == 0 && res.Stats.Pushed == 0 && len(res.Issues) == len(excused) {
			break
		}
		if i == 4 {
			t.Fatalf("no quiescence after %d clean runs", i+1)
		}
	}
	if msg := w.converged(declined, excused); msg != "" {
		t.Error(msg)
	}
}

// masters returns the host's live events but exception rows.
func (h *host) masters() []*calsync.Event {
	return slices.DeleteFunc(h.live(), func(ev *calsync.Event) bool { return ev.RecurringEventID != "" })
}

// seriesEdit makes an Oro user's change to a random Oro series: an
// occurrence moved an hour later and renamed, or cancelled (an exception
// row, sent with its master), or the series made a single event (Oro drops
// its exceptions). false when the host holds no series.
func (h *host) seriesEdit(rng *rand.Rand, title func() string) (string, bool) {
	var series []*calsync.Event
	for _, ev := range h.masters() {
		if ev.Recurrence != nil {
			series = append(series, ev)
		}
	}
	if len(series) == 0 {
		return "", false
	}
	m := series[rng.IntN(len(series))]
	if rng.IntN(4) == 0 && m.Link != nil && m.Link.Series {
		h.dropRows(m.ID)
		m.Recurrence, m.Exceptions = nil, nil
		h.edit(m.ID, title())
		return "oro series made single " + m.ID, true
	}
	start, _ := time.Parse(time.RFC3339, m.Start)
	end, _ := time.Parse(time.RFC3339, m.End)
	taken := map[string]bool{}
	for _, x := range m.Exceptions {
		taken[x.OriginalStart] = true
	}
	for _, ev := range h.events {
		if ev.RecurringEventID == m.ID {
			taken[ev.OriginalStart] = true
		}
	}
	var free []time.Time
	for _, t := range m.Recurrence.Occurrences(start, window.Start, window.End) {
		if !taken[t.UTC().Format(time.RFC3339)] {
			free = append(free, t.UTC())
		}
	}
	if len(free) == 0 {
		return "", false
	}
	t := free[rng.IntN(len(free))]
	x := calsync.Event{Title: m.Title, OriginalStart: t.Format(time.RFC3339), IsCancelled: true,
		Start: t.Format(time.RFC3339), End: t.Add(end.Sub(start)).Format(time.RFC3339)}
	what := "cancelled"
	if rng.IntN(2) == 0 {
		x.Title, x.IsCancelled, what = title(), false, "moved"
		x.Start, x.End = t.Add(time.Hour).Format(time.RFC3339), t.Add(time.Hour+end.Sub(start)).Format(time.RFC3339)
	}
	id := h.oroException(m.ID, x)
	return fmt.Sprintf("oro occurrence %s of %s %s (%s)", x.OriginalStart, m.ID, what, id), true
}

// applyWithRows applies a result as apply does, and then keeps the
// exception rows as the host does: a master created or updated from
// Microsoft 365 holds exactly the exceptions the operation lists (its rows
// sent before are replaced), a row the result confirmed becomes one of its
// master's exceptions, a row it did not is sent again with its master, and
// the rows of a master deleted or made a single event go with it.
func (h *host) applyWithRows(res calsync.Result) {
	replaced := map[string]bool{}
	for _, op := range res.Operations {
		if ev := h.find(op); ev != nil && (op.Op == calsync.OpCreate || op.Op == calsync.OpUpdate) &&
			(op.ExpectedUpdatedAt == nil || ev.UpdatedAt.Equal(*op.ExpectedUpdatedAt)) {
			replaced[ev.ID] = true
		}
	}
	h.apply(res)
	for _, id := range slices.Sorted(maps.Keys(h.events)) {
		x := h.events[id]
		if x.RecurringEventID == "" {
			continue
		}
		m := h.events[x.RecurringEventID]
		gone := m == nil || m.Deleted || m.Recurrence == nil || replaced[m.ID]
		if !gone && h.dirty[id] {
			h.dirty[m.ID] = true // sent again, with its master
			continue
		}
		delete(h.events, id)
		if gone {
			continue
		}
		row := calsync.Event{OriginalStart: x.OriginalStart, IsCancelled: x.IsCancelled}
		if !x.IsCancelled {
			row.Title, row.Start, row.End = x.Title, x.Start, x.End
		}
		m.Exceptions = append(slices.DeleteFunc(m.Exceptions, func(e calsync.Event) bool { return e.OriginalStart == x.OriginalStart }), row)
	}
}

// dropRows deletes the exception rows of master that are not confirmed.
func (h *host) dropRows(master string) {
	for id, ev := range h.events {
		if ev.RecurringEventID == master {
			delete(h.events, id)
			delete(h.dirty, id)
			delete(h.sent, id)
		}
	}
}

// randomFault picks one of the faults a real run meets: throttling and
// unavailability (with a short Retry-After so tests stay fast), dropped
// connections, 412s on writes, 410 on delta, and writes Graph performed
// whose answer was lost (a dropped $batch, an item's 504).
func randomFault(rng *rand.Rand) graphsim.Fault {
	ra := http.Header{"Retry-After": {"0.01"}}
	count := 1 + rng.IntN(3)
	switch rng.IntN(11) {
	case 0:
		return graphsim.Fault{Method: "POST", Path: "/v1.0/me/events", Count: count, Status: 429, Header: ra}
	case 1:
		return graphsim.Fault{Method: "PATCH", Path: "/v1.0/me/events/", Count: count, Status: 503, Header: ra}
	case 2:
		return graphsim.Fault{Method: "PATCH", Path: "/v1.0/me/events/", Count: count, Status: 412,
			Body: `{"error":{"code":"ErrorIrresolvableConflict","message":"The change key passed in the request does not match the current change key for the item."}}`}
	case 3:
		return graphsim.Fault{Method: "POST", Path: "/v1.0/$batch", Count: 1, Drop: true}
	case 4:
		return graphsim.Fault{Method: "GET", Path: "/v1.0/me/calendarView/delta", Count: 1, Status: 410,
			Body: `{"error":{"code":"SyncStateNotFound","message":"The sync state generation is not found."}}`}
	case 5:
		return graphsim.Fault{Method: "GET", Path: "/v1.0/me/calendarView/delta", Count: count, Status: 503, Header: ra}
	case 6:
		return graphsim.Fault{Method: "DELETE", Path: "/v1.0/me/events/", Count: count, Status: 429, Header: ra}
	case 7:
		return graphsim.Fault{Method: "POST", Path: "/v1.0/$batch", Count: 1, Drop: true, After: true}
	case 8:
		return graphsim.Fault{Method: "POST", Path: "/v1.0/me/events", Count: count, Status: 504, After: true}
	case 9:
		return graphsim.Fault{Method: "PATCH", Path: "/v1.0/me/events/", Count: count, Status: 504, After: true}
	default:
		return graphsim.Fault{Method: "DELETE", Path: "/v1.0/me/events/", Count: count, Status: 504, After: true}
	}
}

// attendeeCopies returns the events the user does not organize, by id, with
// their changeKey.
func (w *world) attendeeCopies() map[string]string {
	out := map[string]string{}
	for _, ev := range w.sim.Events(upn) {
		if org, _ := ev["isOrganizer"].(bool); !org {
			id, _ := ev["id"].(string)
			out[id], _ = ev["changeKey"].(string)
		}
	}
	return out
}

// graphWrites lists the Graph requests after the first since in the log
// that may write (anything but GET; a $batch is one).
func (w *world) graphWrites(since int) []string {
	var out []string
	for _, rec := range w.sim.Requests()[since:] {
		if strings.HasPrefix(rec.Path, "/v1.0/") && rec.Method != http.MethodGet {
			out = append(out, rec.Method+" "+rec.Path)
		}
	}
	return out
}

// reader is a Graph client for the test's own reads, and the function that
// keeps the tokens its session rotated.
func (w *world) reader(ctx context.Context) (*calendar.Remote, func()) {
	w.t.Helper()
	session, err := graphclient.NewSession(ctx, w.cfg, w.app, w.tok)
	if err != nil {
		w.t.Fatal(err)
	}
	return calendar.New(session, calendar.Options{}), func() {
		if t, rotated := session.Tokens(); rotated {
			w.tok = t
		}
	}
}

// remoteEvents reads the Microsoft side as the engine sees it (immutable
// ids, the Oro id property): a delta round, then each event.
func (w *world) remoteEvents() map[string]calsync.RemoteEvent {
	w.t.Helper()
	ctx := context.Background()
	r, done := w.reader(ctx)
	defer done()
	out := map[string]calsync.RemoteEvent{}
	for link := ""; ; {
		p, err := r.Delta(ctx, window, link)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, ev := range p.Events {
			if ev.Removed {
				delete(out, ev.ID)
				continue
			}
			if ev.Type == "occurrence" || ev.Type == "exception" {
				ev.ID = ev.SeriesMasterID // the series is its master, read with its Series
			}
			full, err := r.Get(ctx, ev.ID)
			if err != nil {
				w.t.Fatal(err)
			}
			out[ev.ID] = full
		}
		if p.DeltaLink != "" {
			return out
		}
		link = p.NextLink
	}
}

// remoteEvent reads one event as the engine does; false when it is gone.
func (w *world) remoteEvent(id string) (calsync.RemoteEvent, bool) {
	w.t.Helper()
	ctx := context.Background()
	r, done := w.reader(ctx)
	defer done()
	ev, err := r.Get(ctx, id)
	return ev, err == nil
}

// converged checks the end state after the clean runs, as agree in
// ./sync's TestModel does for the in-memory fake:
//   - no Oro event is pending, and no two Oro events share a Microsoft copy;
//   - a linked Oro event's copy exists and has the same content, and is a
//     series when the Oro event (and its link) is one;
//   - both and oro_to_microsoft: every live Oro event is linked, and no
//     Microsoft event carries the Oro id of an event that is not linked to
//     it (no duplicate, nothing leaked);
//   - both and microsoft_to_oro: every Microsoft event has an Oro event,
//     except (both) attendee copies deleted in Oro, which stay in
//     Microsoft 365 unlinked;
//   - an Oro event (or exception row) excused by an issue that explains
//     why it differs is left pending and not compared; an excused row's
//     master is not compared with its copy's exceptions.
func (w *world) converged(declined, excused map[string]bool) string {
	ms := w.remoteEvents()
	linked := map[string]string{}
	for id, e := range w.host.events {
		if excused[id] && e.RecurringEventID != "" {
			excused[e.RecurringEventID] = true
		}
	}
	for _, id := range slices.Sorted(maps.Keys(w.host.events)) {
		e := w.host.events[id]
		if e.RecurringEventID != "" && excused[id] {
			continue
		}
		if (e.Deleted || w.host.dirty[id]) && !excused[id] {
			return fmt.Sprintf("oro %s still pending (deleted=%v dirty=%v)", id, e.Deleted, w.host.dirty[id])
		}
		if e.Link == nil {
			if w.dir.Pushes() {
				return fmt.Sprintf("oro %s %q has no link", id, e.Title)
			}
			continue // microsoft_to_oro: Oro's own events stay in Oro
		}
		if other, dup := linked[e.Link.RemoteID]; dup {
			return fmt.Sprintf("oro %s and %s both linked to %s (duplicate in Oro)", other, id, e.Link.RemoteID)
		}
		linked[e.Link.RemoteID] = id
		r, ok := ms[e.Link.RemoteID]
		if !ok && e.Link.Series {
			// a series whose occurrences all left the window (cancelled)
			// is not in the delta round, but still in Microsoft 365
			r, ok = w.remoteEvent(e.Link.RemoteID)
		}
		if !ok {
			return fmt.Sprintf("oro %s %q linked to missing %s", id, e.Title, e.Link.RemoteID)
		}
		if excused[id] {
			continue
		}
		if !sameContent(*e, r) {
			return fmt.Sprintf("oro %s %q@%s %s differs from %s %q@%s %s", id, e.Title, e.Location, e.Start, r.ID, r.Subject, r.Location, r.Start)
		}
		if (e.Recurrence != nil) != (r.Series != nil) || e.Link.Series != (r.Series != nil) { // every direction: a series made single, or not
			return fmt.Sprintf("oro %s %q: series %v (link %v), Microsoft's %s a series %v", id, e.Title, e.Recurrence != nil, e.Link.Series, r.ID, r.Series != nil)
		}
		if msg := sameSeries(*e, r); msg != "" && w.dir.Pulls() { // one way to Microsoft 365, its exceptions stay there
			return fmt.Sprintf("oro %s %q: %s", id, e.Title, msg)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(ms)) {
		r := ms[id]
		oro, ok := linked[id]
		switch {
		case ok && r.OroID != "" && r.OroID != oro:
			return fmt.Sprintf("microsoft %s carries oro id %s but is linked to %s", id, r.OroID, oro)
		case ok:
		case w.dir.Pushes() && r.OroID != "":
			return fmt.Sprintf("microsoft %s %q carries oro id %s but no Oro event is linked to it (duplicate or leaked)", id, r.Subject, r.OroID)
		case !w.dir.Pulls():
		case declined[id] && (!r.IsOrganizer || r.Series != nil) && w.dir == calsync.DirectionBoth:
		case r.Series != nil && r.Series.Problem != "": // not synchronized
		default:
			return fmt.Sprintf("microsoft %s %q has no Oro event (duplicate or lost)", id, r.Subject)
		}
	}
	return ""
}

// sameContent compares the synchronized fields of a timed Oro event and its
// Microsoft copy.
func sameContent(e calsync.Event, r calsync.RemoteEvent) bool {
	start, err1 := time.Parse(time.RFC3339, e.Start)
	end, err2 := time.Parse(time.RFC3339, e.End)
	return err1 == nil && err2 == nil && !e.AllDay && !r.AllDay &&
		e.Title == r.Subject && e.Description == r.Body && e.Location == r.Location &&
		start.Equal(r.Start) && end.Equal(r.End)
}

// weeklySeries is an Outlook-made weekly series of count occurrences on
// start's weekday, at start's wall-clock time in Berlin.
func weeklySeries(subject string, start time.Time, count int) map[string]any {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	s := start.In(berlin)
	f := "2006-01-02T15:04:05"
	return map[string]any{"subject": subject,
		"start": map[string]any{"dateTime": s.Format(f), "timeZone": "W. Europe Standard Time"},
		"end":   map[string]any{"dateTime": s.Add(time.Hour).Format(f), "timeZone": "W. Europe Standard Time"},
		"recurrence": map[string]any{
			"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []string{strings.ToLower(s.Weekday().String())}},
			"range":   map[string]any{"type": "numbered", "startDate": s.Format("2006-01-02"), "numberOfOccurrences": count},
		}}
}

// randomOccurrence picks a plain occurrence of a series in the window.
func (w *world) randomOccurrence(rng *rand.Rand) (string, bool) {
	var ids []string
	for _, e := range w.sim.Events(upn) {
		if typ, _ := e["type"].(string); typ != "seriesMaster" {
			continue
		}
		master, _ := e["id"].(string)
		ids = append(ids, w.sim.UserOccurrences(upn, master, window.Start, window.End)...)
	}
	if len(ids) == 0 {
		return "", false
	}
	slices.Sort(ids)
	return ids[rng.IntN(len(ids))], true
}

// sameSeries compares an Oro series master's recurrence and exceptions
// with its Microsoft copy's Series; "" when they agree (or neither is a
// series).
func sameSeries(e calsync.Event, r calsync.RemoteEvent) string {
	if (e.Recurrence != nil) != (r.Series != nil) {
		return fmt.Sprintf("recurrence %v, Microsoft's series %v", e.Recurrence != nil, r.Series != nil)
	}
	if r.Series == nil {
		return ""
	}
	want := map[string]string{}
	for _, x := range r.Series.Exceptions {
		want[x.OriginalStart.UTC().Format(time.RFC3339)] = x.Subject
	}
	for _, c := range r.Series.Cancelled {
		want[c.UTC().Format(time.RFC3339)] = "(cancelled)"
	}
	got := map[string]string{}
	for _, x := range e.Exceptions {
		got[x.OriginalStart] = x.Title
		if x.IsCancelled {
			got[x.OriginalStart] = "(cancelled)"
		}
	}
	if !maps.Equal(want, got) {
		return fmt.Sprintf("exceptions %v, Microsoft's %v", got, want)
	}
	return ""
}
