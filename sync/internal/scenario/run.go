package scenario

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// Remote is a calsync.Remote with the controls scenarios need. Fake
// implements it; sync/simtest wraps the Graph simulator and the real Graph
// client in it, so the same scripts run against both.
type Remote interface {
	calsync.Remote
	calsync.RequestCounter
	// Seed creates an event as a Microsoft 365 user would and returns its
	// id; ref is the script's name for it.
	Seed(ref string, ev calsync.RemoteEvent) string
	// Edit changes an event as a Microsoft 365 user would.
	Edit(id string, fn func(*calsync.RemoteEvent))
	// Delete deletes an event as a Microsoft 365 user would.
	Delete(id string)
	// Events returns every event, ordered by Name(id).
	Events() []calsync.RemoteEvent
	// Fault queues a fault of the scenario language.
	Fault(f Fault)
	// SetLatency sets the time every request takes from now on.
	SetLatency(d time.Duration)
	// TakeLog returns the requests made since the last call, one line each.
	TakeLog() []string
	// Name is how the transcript prints a string the Microsoft side made
	// up: an event id, a changeKey, a delta link ("" stays "").
	Name(s string) string
	// Ordered reports whether the ids sort in creation order. When they do
	// not (ids are random), the engine's order of operations, writes and
	// issues follows random ids, and the transcript sorts them by Name.
	Ordered() bool
}

// NewRemote returns the Remote a script runs against; every request it
// makes should advance clock by its latency.
type NewRemote func(clock *Clock) Remote

// Run runs one script against a Remote from newRemote and returns the
// transcript (the golden file's content). A malformed script fails t.
func Run(t testing.TB, script string, newRemote NewRemote) string {
	t.Helper()
	clock := NewClock(T0)
	remote := newRemote(clock)
	h := NewHost(clock)
	refs := map[string]string{} // Microsoft-side names used by the script → ids
	uids := map[string]string{} // iCalendar UIDs of the script → the ones Microsoft assigned
	dir, strategy := calsync.DirectionBoth, calsync.ConflictOroWins
	var out strings.Builder
	msID := func(ref string) string {
		if oro, ok := strings.CutPrefix(ref, "@"); ok { // the copy linked to an Oro event
			if e := h.Events[oro]; e != nil && e.Link != nil {
				return e.Link.RemoteID
			}
			for _, ev := range remote.Events() {
				if ev.OroID == oro {
					return ev.ID
				}
			}
			t.Fatalf("no Microsoft copy of %s", oro)
		}
		return refs[ref]
	}
	for n, line := range strings.Split(script, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		words := splitWords(line)
		fail := func(msg string) { t.Fatalf("scenario line %d %q: %s", n+1, line, msg) }
		args := map[string]string{}
		for _, w := range words[1:] {
			if k, v, ok := strings.Cut(w, "="); ok {
				args[k] = v
			} else {
				args[w] = "true"
			}
		}
		if u, ok := uids[args["uid"]]; ok {
			args["uid"] = u
		}
		switch words[0] {
		case "config":
			if v := args["direction"]; v != "" {
				dir = calsync.Direction(v)
			}
			if v := args["conflict"]; v != "" {
				strategy = calsync.ConflictResolution(v)
			}
		case "wait":
			d, err := time.ParseDuration(words[1])
			if err != nil {
				fail(err.Error())
			}
			clock.Advance(d)
		case "oro":
			if len(words) < 3 {
				fail("want: oro add|edit|delete ID ...")
			}
			id := words[2]
			switch words[1] {
			case "add":
				ev := calsync.Event{ID: id, Title: args["title"], Start: "2026-01-10T09:00:00Z", End: "2026-01-10T10:00:00Z"}
				setOro(&ev, args)
				if err := setRecurrence(&ev, args); err != nil {
					fail(err.Error())
				}
				h.Add(ev)
			case "edit":
				e := h.Events[id]
				if e == nil {
					fail("no Oro event " + id)
				}
				if e.Recurrence != nil && (args["recurrence"] != "" || args["start"] != "" || args["end"] != "") {
					h.clearExceptions(id) // as Oro does on a change of the pattern or the times
					if args["recurrence"] == "" {
						args["recurrence"] = recurrenceText(e.Recurrence) // its range starts at the new start
					}
				}
				h.Edit(id, func(ev *calsync.Event) { setOro(ev, args) })
				if err := setRecurrence(&e.Event, args); err != nil {
					fail(err.Error())
				}
			case "delete":
				h.Remove(id)
			case "except", "cancel":
				orig, err := time.Parse(time.RFC3339, args["orig"])
				if h.Events[id] == nil || h.Events[id].Recurrence == nil || err != nil {
					fail("want: oro except|cancel SERIES-ID orig=RFC3339 ...")
				}
				h.Except(id, orig, func(ev *calsync.Event) {
					setOro(ev, args)
					ev.IsCancelled = ev.IsCancelled || words[1] == "cancel"
				})
			default:
				fail("unknown oro action")
			}
		case "ms":
			if len(words) < 3 {
				fail("want: ms add|edit|delete REF ...")
			}
			switch words[1] {
			case "add":
				ev := calsync.RemoteEvent{Subject: args["title"], IsOrganizer: args["organizer"] != "false", ICalUID: args["uid"], Reminder: calsync.ReminderUnset,
					Start: time.Date(2026, 1, 12, 14, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 12, 15, 0, 0, 0, time.UTC)}
				setRemote(&ev, args)
				var id string
				if v := args["recurrence"]; v != "" {
					p, err := ParsePattern(v)
					sr, ok := remote.(SeriesRemote)
					if err != nil || !ok {
						fail(fmt.Sprintf("a series needs a remote that models series (sim-only) and a pattern: %v", err))
					}
					id = sr.SeedSeries(words[2], ev, p)
				} else {
					id = remote.Seed(words[2], ev)
				}
				refs[words[2]] = id
				if uid := args["uid"]; uid != "" {
					adoptUID(h, remote, id, uid, uids)
				}
			case "edit":
				if args["recurrence"] != "" {
					if err := seriesCommand(remote, "edit", msID(words[2]), args); err != nil {
						fail(err.Error())
					}
					break
				}
				remote.Edit(msID(words[2]), func(ev *calsync.RemoteEvent) { setRemote(ev, args) })
			case "delete":
				remote.Delete(msID(words[2]))
			case "cancel", "move":
				if err := seriesCommand(remote, words[1], msID(words[2]), args); err != nil {
					fail(err.Error())
				}
			default:
				fail("unknown ms action")
			}
		case "sim-only":
			// read by SimOnly: the runner against Fake skips the script
		case "show":
			from, err1 := time.Parse(dateLayout, args["from"])
			to, err2 := time.Parse(dateLayout, args["to"])
			if len(words) < 2 || err1 != nil || err2 != nil {
				fail("want: show SERIES-ID from=DATE to=DATE")
			}
			fmt.Fprintf(&out, "== %s\n", line)
			if err := showSeries(&out, h, remote, words[1], from, to); err != nil {
				fail(err.Error())
			}
		case "fault":
			spec := strings.Join(words[1:], " ")
			if d, ok, err := parseLatency(spec); ok {
				if err != nil {
					fail(err.Error())
				}
				remote.SetLatency(d)
				break
			}
			f, err := ParseFault(spec)
			if err != nil {
				fail(err.Error())
			}
			remote.Fault(f)
		case "sync":
			mode := calsync.ModeIncremental
			if args["full"] != "" || h.State == nil || h.State.NeedsFull {
				mode = calsync.ModeFull
			}
			opts := calsync.Options{DryRun: args["dryRun"] != "", AllowMassDelete: args["allowMassDelete"] != ""}
			if v := args["budget"]; v != "" {
				opts.TimeBudgetSeconds, _ = strconv.Atoi(v)
			}
			cascade := calsync.Cascade{System: &calsync.ScopeSettings{Enabled: ptr(args["disabled"] == ""), Direction: &dir, ConflictResolution: &strategy}}
			req := h.Request(mode, cascade, opts)
			req.TimeZone = args["tz"]
			remote.TakeLog()
			res, err := calsync.Run(context.Background(), req, remote, calsync.RunOptions{Now: clock.Now, ApplyChunk: 20, ReadConcurrency: 1})
			fmt.Fprintf(&out, "== %s (mode=%s, %d events sent)\n", line, mode, len(req.Events))
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
				for _, l := range remote.TakeLog() {
					fmt.Fprintf(&out, "  graph: %s\n", l)
				}
				continue
			}
			if !remote.Ordered() {
				sortResult(&res, remote.Name)
			}
			writeResult(&out, res, remote.TakeLog(), remote.Name)
			if args["lose"] == "" && !opts.DryRun {
				h.Apply(req, res)
			} else if args["lose"] != "" {
				out.WriteString("(result lost by the host)\n")
			}
		default:
			fail("unknown command")
		}
		clock.Advance(time.Minute)
	}
	name := remote.Name
	out.WriteString("== final\noro:\n")
	for _, id := range sortedKeys(h.Events) {
		e := h.Events[id]
		if m := h.Events[e.RecurringEventID]; m != nil {
			continue // shown with its master
		}
		l := "-"
		if e.Link != nil {
			l = name(e.Link.RemoteID)
		}
		rem := ""
		if e.Reminders != nil {
			rem = " rem=" + showReminders(e.Reminders)
		}
		fmt.Fprintf(&out, "  %s %q %s..%s loc=%q link=%s deleted=%v dirty=%v%s\n", e.ID, e.Title, e.Start, e.End, e.Location, l, e.Deleted, e.Dirty, rem)
		writeOroSeries(&out, h, e)
	}
	out.WriteString("microsoft:\n")
	for _, ev := range remote.Events() {
		if ev.SeriesMasterID != "" {
			continue // an exception, shown with its master
		}
		tz := "" // the zone an event was written in or is anchored in, when not UTC
		if ev.TimeZone != "" && ev.TimeZone != "UTC" {
			tz = " tz=" + strconv.Quote(ev.TimeZone)
		}
		fmt.Fprintf(&out, "  %s %q %s..%s loc=%q oroId=%s organizer=%v%s rem=%s\n", name(ev.ID), ev.Subject, ev.Start.Format(time.RFC3339), ev.End.Format(time.RFC3339), ev.Location, ev.OroID, ev.IsOrganizer, tz, reminderText(ev.Reminder))
		if ev.Type == "seriesMaster" {
			writeMicrosoftSeries(&out, remote, ev.ID)
		}
	}
	if h.State != nil {
		st := *h.State
		st.DeltaLink, st.NextLink = name(st.DeltaLink), name(st.NextLink)
		b, _ := json.Marshal(st)
		fmt.Fprintf(&out, "state: %s\n", b)
	}
	return out.String()
}

// SimOnly reports whether a script is marked "sim-only": it uses what only
// the Graph simulator models (series), and the runner against Fake skips it.
func SimOnly(script string) bool {
	for _, line := range strings.Split(script, "\n") {
		if strings.TrimSpace(line) == "sim-only" {
			return true
		}
	}
	return false
}

// setRecurrence makes ev a series master with the recurrence= of args
// (ParseRecurrence), its startTime ev's start: for an all-day event,
// midnight of its start date in the recurrence's zone, as Oro stores it.
func setRecurrence(ev *calsync.Event, args map[string]string) error {
	v := args["recurrence"]
	if v == "" {
		return nil
	}
	start, err := time.Parse(time.RFC3339, ev.Start)
	day, dayErr := time.Parse(dateLayout, ev.Start)
	if err != nil && dayErr != nil {
		return err
	}
	r, err := ParseRecurrence(v, start)
	if err != nil {
		return err
	}
	if dayErr == nil {
		loc, err := time.LoadLocation(r.TimeZone)
		if err != nil {
			return err
		}
		r.StartTime = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc)
	}
	ev.Recurrence = r
	return nil
}

// adoptUID lets the Oro events that share the script's UID with a seeded
// Microsoft event use the iCalUId Microsoft gave it (Graph assigns iCalUId
// itself; a script's "uid=" only says which events share one).
func adoptUID(h *Host, remote Remote, id, uid string, uids map[string]string) {
	for _, ev := range remote.Events() {
		if ev.ID != id || ev.ICalUID == uid {
			continue
		}
		uids[uid] = ev.ICalUID
		for _, e := range h.Events {
			if e.UID == uid {
				e.UID = ev.ICalUID
			}
		}
	}
}

// sortResult orders operations, writes and issues by the names of their
// events (stable: the order for one event is kept).
func sortResult(res *calsync.Result, name func(string) string) {
	slices.SortStableFunc(res.Operations, func(a, b calsync.Operation) int {
		return cmp.Or(cmp.Compare(name(a.RemoteID), name(b.RemoteID)), cmp.Compare(a.OroID, b.OroID))
	})
	slices.SortStableFunc(res.Writes, func(a, b calsync.WriteRecord) int {
		return cmp.Or(cmp.Compare(a.OroID, b.OroID), cmp.Compare(name(a.RemoteID), name(b.RemoteID)))
	})
	slices.SortStableFunc(res.Issues, func(a, b calsync.Issue) int {
		return cmp.Or(cmp.Compare(a.OroID, b.OroID), cmp.Compare(name(a.RemoteID), name(b.RemoteID)))
	})
}

func ptr[T any](v T) *T { return &v }

const dateLayout = "2006-01-02"

func setOro(ev *calsync.Event, args map[string]string) {
	for k, v := range args {
		switch k {
		case "title":
			ev.Title = v
		case "desc":
			ev.Description = v
		case "loc":
			ev.Location = v
		case "start":
			ev.Start = v
		case "end":
			ev.End = v
		case "allDay":
			ev.AllDay = v == "true"
		case "uid":
			ev.UID = v
		case "rem": // none, or reminders such as 15M,1D
			ev.Reminders = parseReminders(v)
		case "parent": // an attendee's copy of this Oro event
			ev.ParentEventID = v
		}
	}
}

// parseReminders reads "none" or a comma-separated list of NUMBER+UNIT
// (15M, 1D); each is a web_socket reminder.
func parseReminders(v string) []calsync.Reminder {
	out := []calsync.Reminder{}
	if v == "none" {
		return out
	}
	for _, r := range strings.Split(v, ",") {
		n, _ := strconv.Atoi(r[:len(r)-1])
		out = append(out, calsync.Reminder{Method: "web_socket", Interval: calsync.ReminderInterval{Number: n, Unit: r[len(r)-1:]}})
	}
	return out
}

// reminderText shows a synchronized reminder: off, or minutes.
func reminderText(m int) string {
	if m == calsync.ReminderOff {
		return "off"
	}
	return strconv.Itoa(m)
}

func setRemote(ev *calsync.RemoteEvent, args map[string]string) {
	for k, v := range args {
		switch k {
		case "title":
			ev.Subject = v
		case "desc":
			ev.Body = v
		case "loc":
			ev.Location = v
		case "start", "end":
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				t, _ = time.Parse(dateLayout, v)
			}
			if k == "start" {
				ev.Start = t
			} else {
				ev.End = t
			}
		case "allDay":
			ev.AllDay = v == "true"
		case "tz": // the Windows zone an all-day event is anchored in
			ev.TimeZone = v
		case "attendees": // EMAIL:TYPE:STATUS,… (Oro's terms)
			ev.Attendees = nil
			for _, a := range strings.Split(v, ",") {
				f := strings.Split(a, ":")
				ev.Attendees = append(ev.Attendees, calsync.Attendee{Email: f[0], Type: f[1], Status: f[2]})
			}
			ev.HasAttendees = len(ev.Attendees) > 0
		case "org": // the organizer's address
			ev.OrganizerEmail = v
		case "rem": // off, or minutes before the start
			ev.Reminder = calsync.ReminderOff
			if v != "off" {
				ev.Reminder, _ = strconv.Atoi(v)
			}
		}
	}
}

// splitWords splits on spaces outside double quotes and unquotes values.
func splitWords(s string) []string {
	var out []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func writeResult(out *strings.Builder, res calsync.Result, log []string, name func(string) string) {
	fmt.Fprintf(out, "status: %s", res.Status)
	if res.Reason != "" {
		fmt.Fprintf(out, " (%s)", res.Reason)
	}
	out.WriteString("\ngraph:\n")
	for _, l := range log {
		fmt.Fprintf(out, "  %s\n", l)
	}
	for _, w := range res.Writes {
		fmt.Fprintf(out, "write: %s oro=%s ms=%s %v %s -> %s\n", w.Op, w.OroID, name(w.RemoteID), w.Fields, w.Reason, w.Outcome)
	}
	for _, op := range res.Operations {
		fmt.Fprintf(out, "op: %s oro=%s ms=%s reason=%s", op.Op, op.OroID, name(op.RemoteID), op.Reason)
		if op.Event != nil {
			fmt.Fprintf(out, " title=%q loc=%q %s..%s", op.Event.Title, op.Event.Location, op.Event.Start, op.Event.End)
		}
		if e := op.Event; e != nil && (len(e.Attendees) > 0 || e.IsOrganizer != nil && !*e.IsOrganizer) {
			fmt.Fprintf(out, " organizer=%s", e.OrganizerEmail)
			for _, a := range e.Attendees {
				fmt.Fprintf(out, " %s:%s:%s", a.Email, a.Type, a.Status)
			}
		}
		if r := op.Reminder; r != nil {
			m := calsync.ReminderOff
			if r.On {
				m = r.MinutesBeforeStart
			}
			fmt.Fprintf(out, " rem=%s", reminderText(m))
		}
		if op.Link != nil {
			fmt.Fprintf(out, " link=%s@%s", name(op.Link.RemoteID), name(op.Link.ChangeKey))
		} else if op.Op == calsync.OpLink {
			out.WriteString(" unlink")
		}
		out.WriteString("\n")
		if e := op.Event; e != nil && e.Recurrence != nil {
			writeOpSeries(out, e)
		}
	}
	for _, is := range res.Issues {
		retry := ""
		if is.RetryAfterMs > 0 {
			retry = fmt.Sprintf(" retryAfterMs=%d", is.RetryAfterMs)
		}
		fmt.Fprintf(out, "issue: oro=%s ms=%s kind=%s retryable=%v%s reason=%s: %s\n", is.OroID, name(is.RemoteID), is.Kind, is.Retryable, retry, is.Reason, is.Message)
	}
	for _, g := range res.Guards {
		fmt.Fprintf(out, "guard: %s %d of %d\n", g.Side, g.Deletes, g.Total)
	}
	s := res.Stats
	fmt.Fprintf(out, "stats: calls=%v pulled=%d pushed=%d echoes=%d conflicts=%v requests=%v\n", s.Calls, s.Pulled, s.Pushed, s.Echoes, s.Conflicts, s.GraphRequests)
	fmt.Fprintf(out, "nextSyncAt: %s\n", res.NextSyncAt.Format(time.RFC3339))
}

// showReminders shows Oro reminders as rem= reads them.
func showReminders(rs []calsync.Reminder) string {
	if len(rs) == 0 {
		return "none"
	}
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = strconv.Itoa(r.Interval.Number) + r.Interval.Unit
	}
	return strings.Join(parts, ",")
}
