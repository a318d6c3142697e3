package calsync

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files of the sync scenarios")

// t0 is the fixed start of every scenario clock.
var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// hostEvent is an event in the model of the Oro host.
type hostEvent struct {
	Event
	dirty bool // changed by a user since its link was stored
}

// host models the PHP host: its events, the state it stores, and the rules
// of applying operations (see Operation).
type host struct {
	clock  *fakeClock
	events map[string]*hostEvent
	state  *State
	nextID int
}

func newHost(c *fakeClock) *host { return &host{clock: c, events: map[string]*hostEvent{}} }

func (h *host) add(ev Event) {
	ev.UpdatedAt = h.clock.Now()
	if ev.UID == "" {
		ev.UID = "uid-" + ev.ID
	}
	h.events[ev.ID] = &hostEvent{Event: ev, dirty: true}
}

func (h *host) edit(id string, fn func(*Event)) {
	e := h.events[id]
	fn(&e.Event)
	e.UpdatedAt = h.clock.Now()
	e.dirty = true
}

func (h *host) remove(id string) {
	e := h.events[id]
	if e.Link == nil {
		delete(h.events, id)
		return
	}
	e.Deleted, e.dirty, e.UpdatedAt = true, true, h.clock.Now()
}

// request builds the next sync.run request.
func (h *host) request(mode Mode, cascade Cascade, opts Options) Request {
	req := Request{Cascade: cascade, State: h.state, Mode: mode, Options: opts, Window: &Window{Start: t0.AddDate(0, 0, -30), End: t0.AddDate(0, 0, 365)}}
	for _, id := range sortedKeys(h.events) {
		e := h.events[id]
		if mode == ModeFull && !e.Deleted || e.dirty {
			req.Events = append(req.Events, e.Event)
		}
	}
	return req
}

// apply applies a result as the host does, in one transaction.
func (h *host) apply(req Request, res Result) {
	sent := map[string]time.Time{}
	for _, e := range req.Events {
		sent[e.ID] = e.UpdatedAt
	}
	findRemote := func(rid string) *hostEvent {
		for _, id := range sortedKeys(h.events) {
			if e := h.events[id]; rid != "" && e.Link != nil && e.Link.RemoteID == rid {
				return e
			}
		}
		return nil
	}
	for _, op := range res.Operations {
		target := h.events[op.OroID]
		if target == nil {
			target = findRemote(op.RemoteID)
		}
		if op.Op == OpLink {
			if target == nil {
				continue
			}
			target.Link = op.Link
			if op.Link == nil && target.Deleted {
				delete(h.events, target.ID)
			}
			continue
		}
		if target != nil {
			_, wasSent := sent[target.ID]
			switch {
			case op.ExpectedUpdatedAt != nil && !op.ExpectedUpdatedAt.Equal(target.UpdatedAt):
				continue // changed while the sync ran
			case op.ExpectedUpdatedAt == nil && !wasSent && target.dirty:
				continue
			}
		}
		switch op.Op {
		case OpDelete:
			if target != nil {
				delete(h.events, target.ID)
			}
		case OpCreate, OpUpdate:
			if target == nil {
				if op.Op == OpUpdate {
					continue
				}
				h.nextID++
				target = &hostEvent{Event: Event{ID: fmt.Sprintf("o%d", h.nextID)}}
				h.events[target.ID] = target
			}
			ev := *op.Event
			ev.ID, ev.Link, ev.UpdatedAt = target.ID, op.Link, h.clock.Now()
			if target.UID != "" {
				ev.UID = target.UID
			}
			target.Event, target.dirty = ev, false
		}
	}
	// events sent without an issue are synced, unless they changed meanwhile
	issues := map[string]bool{}
	for _, is := range res.Issues {
		issues[is.OroID] = true
	}
	for id, at := range sent {
		if e := h.events[id]; e != nil && e.UpdatedAt.Equal(at) && !issues[id] {
			e.dirty = false
			if e.Deleted {
				delete(h.events, id)
			}
		}
	}
	h.state = res.State
}

// scenario runs one script against a Remote from newRemote and returns the
// transcript that is compared with golden.txt.
func runScenario(t *testing.T, script string, newRemote func(*fakeClock) scenarioRemote) string {
	t.Helper()
	clock := &fakeClock{t: t0}
	remote := newRemote(clock)
	h := newHost(clock)
	refs := map[string]string{} // Microsoft-side names used by the script → ids
	dir, strategy := DirectionBoth, ConflictOroWins
	var out strings.Builder
	msID := func(ref string) string {
		if oro, ok := strings.CutPrefix(ref, "@"); ok { // the copy linked to an Oro event
			if e := h.events[oro]; e != nil && e.Link != nil {
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
		switch words[0] {
		case "config":
			if v := args["direction"]; v != "" {
				dir = Direction(v)
			}
			if v := args["conflict"]; v != "" {
				strategy = ConflictResolution(v)
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
				ev := Event{ID: id, Title: args["title"], Start: "2026-01-10T09:00:00Z", End: "2026-01-10T10:00:00Z"}
				setOro(&ev, args)
				h.add(ev)
			case "edit":
				h.edit(id, func(ev *Event) { setOro(ev, args) })
			case "delete":
				h.remove(id)
			default:
				fail("unknown oro action")
			}
		case "ms":
			if len(words) < 3 {
				fail("want: ms add|edit|delete REF ...")
			}
			switch words[1] {
			case "add":
				ev := RemoteEvent{Subject: args["title"], IsOrganizer: args["organizer"] != "false", ICalUID: args["uid"],
					Start: time.Date(2026, 1, 12, 14, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 12, 15, 0, 0, 0, time.UTC)}
				setRemote(&ev, args)
				refs[words[2]] = remote.Seed(ev)
			case "edit":
				remote.Edit(msID(words[2]), func(ev *RemoteEvent) { setRemote(ev, args) })
			case "delete":
				remote.Delete(msID(words[2]))
			default:
				fail("unknown ms action")
			}
		case "fault":
			remote.Fault(strings.Join(words[1:], " "))
		case "sync":
			mode := ModeIncremental
			if args["full"] != "" || h.state == nil || h.state.NeedsFull {
				mode = ModeFull
			}
			opts := Options{DryRun: args["dryRun"] != "", AllowMassDelete: args["allowMassDelete"] != ""}
			if v := args["budget"]; v != "" {
				opts.TimeBudgetSeconds, _ = strconv.Atoi(v)
			}
			cascade := Cascade{System: &ScopeSettings{Enabled: ptr(args["disabled"] == ""), Direction: &dir, ConflictResolution: &strategy}}
			req := h.request(mode, cascade, opts)
			remote.TakeLog()
			res, err := Run(context.Background(), req, remote, RunOptions{Now: clock.Now, ApplyChunk: 20})
			fmt.Fprintf(&out, "== %s (mode=%s, %d events sent)\n", line, mode, len(req.Events))
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
				for _, l := range remote.TakeLog() {
					fmt.Fprintf(&out, "  graph: %s\n", l)
				}
				continue
			}
			writeResult(&out, res, remote.TakeLog())
			if args["lose"] == "" && !opts.DryRun {
				h.apply(req, res)
			} else if args["lose"] != "" {
				out.WriteString("(result lost by the host)\n")
			}
		default:
			fail("unknown command")
		}
		clock.Advance(time.Minute)
	}
	out.WriteString("== final\noro:\n")
	for _, id := range sortedKeys(h.events) {
		e := h.events[id]
		l := "-"
		if e.Link != nil {
			l = e.Link.RemoteID
		}
		fmt.Fprintf(&out, "  %s %q %s..%s loc=%q link=%s deleted=%v dirty=%v\n", e.ID, e.Title, e.Start, e.End, e.Location, l, e.Deleted, e.dirty)
	}
	out.WriteString("microsoft:\n")
	for _, ev := range remote.Events() {
		fmt.Fprintf(&out, "  %s %q %s..%s loc=%q oroId=%s organizer=%v\n", ev.ID, ev.Subject, ev.Start.Format(time.RFC3339), ev.End.Format(time.RFC3339), ev.Location, ev.OroID, ev.IsOrganizer)
	}
	if h.state != nil {
		b, _ := json.Marshal(h.state)
		fmt.Fprintf(&out, "state: %s\n", b)
	}
	return out.String()
}

func ptr[T any](v T) *T { return &v }

func setOro(ev *Event, args map[string]string) {
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
		}
	}
}

func setRemote(ev *RemoteEvent, args map[string]string) {
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

func writeResult(out *strings.Builder, res Result, log []string) {
	fmt.Fprintf(out, "status: %s", res.Status)
	if res.Reason != "" {
		fmt.Fprintf(out, " (%s)", res.Reason)
	}
	out.WriteString("\ngraph:\n")
	for _, l := range log {
		fmt.Fprintf(out, "  %s\n", l)
	}
	for _, w := range res.Writes {
		fmt.Fprintf(out, "write: %s oro=%s ms=%s %v %s -> %s\n", w.Op, w.OroID, w.RemoteID, w.Fields, w.Reason, w.Outcome)
	}
	for _, op := range res.Operations {
		fmt.Fprintf(out, "op: %s oro=%s ms=%s reason=%s", op.Op, op.OroID, op.RemoteID, op.Reason)
		if op.Event != nil {
			fmt.Fprintf(out, " title=%q loc=%q %s..%s", op.Event.Title, op.Event.Location, op.Event.Start, op.Event.End)
		}
		if op.Link != nil {
			fmt.Fprintf(out, " link=%s@%s", op.Link.RemoteID, op.Link.ChangeKey)
		} else if op.Op == OpLink {
			out.WriteString(" unlink")
		}
		out.WriteString("\n")
	}
	for _, is := range res.Issues {
		fmt.Fprintf(out, "issue: oro=%s ms=%s kind=%s retryable=%v reason=%s: %s\n", is.OroID, is.RemoteID, is.Kind, is.Retryable, is.Reason, is.Message)
	}
	for _, g := range res.Guards {
		fmt.Fprintf(out, "guard: %s %d of %d\n", g.Side, g.Deletes, g.Total)
	}
	s := res.Stats
	fmt.Fprintf(out, "stats: calls=%v pulled=%d pushed=%d echoes=%d conflicts=%v requests=%v\n", s.Calls, s.Pulled, s.Pushed, s.Echoes, s.Conflicts, s.GraphRequests)
	fmt.Fprintf(out, "nextSyncAt: %s\n", res.NextSyncAt.Format(time.RFC3339))
}

// TestScenarios runs every sync/testdata/scenarios/<case>/scenario.txt
// against the in-memory fake and compares with golden.txt (-update rewrites).
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob("testdata/scenarios/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			script, err := os.ReadFile(filepath.Join(d, "scenario.txt"))
			if err != nil {
				t.Fatal(err)
			}
			got := runScenario(t, string(script), func(c *fakeClock) scenarioRemote { return newFakeRemote(c) })
			golden := filepath.Join(d, "golden.txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./sync -update)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (go test ./sync -run TestScenarios -update, then review the diff):\n%s", golden, got)
			}
		})
	}
}
