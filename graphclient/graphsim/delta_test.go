package graphsim

import (
	"strings"
	"testing"
	"time"
)

const deltaPath = "/v1.0/me/calendarView/delta?" + window

func weekly(subject string, count int) map[string]any {
	ev := simpleEvent(subject, "2025-01-07T10:00:00", "2025-01-07T11:00:00") // a Tuesday
	ev["recurrence"] = map[string]any{
		"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []any{"Tuesday"}},
		"range":   map[string]any{"type": "numbered", "startDate": "2025-01-07", "numberOfOccurrences": count},
	}
	return ev
}

// TestDeltaPaging: §1.2 nextLink then deltaLink, absolute on the request's
// host, odata.maxpagesize honoured, preference-applied odata.track-changes.
func TestDeltaPaging(t *testing.T) {
	e := newEnv(t, Options{})
	for i := range 5 {
		e.create(simpleEvent("e", "2025-01-1"+string(rune('0'+i))+"T10:00:00", "2025-01-1"+string(rune('0'+i))+"T11:00:00"))
	}
	r := e.do("GET", deltaPath, nil, "Prefer", "odata.maxpagesize=2")
	next := r.str("@odata.nextLink")
	if len(r.items()) != 2 || !strings.HasPrefix(next, e.srv.URL+"/v1.0/me/calendarView/delta?$skiptoken=") ||
		!strings.Contains(r.header.Get("Preference-Applied"), "odata.track-changes") {
		t.Fatalf("first page: %s %v", r.raw, r.header)
	}
	items, dl := e.round(next, "Prefer", "odata.maxpagesize=2")
	if len(items) != 3 || !strings.HasPrefix(dl, e.srv.URL+"/v1.0/me/calendarView/delta?$deltatoken=") {
		t.Fatalf("rest of round: %d items, deltaLink %q", len(items), dl)
	}
	items, _ = e.round(dl)
	if len(items) != 0 {
		t.Errorf("no-change round returned %d items", len(items))
	}
}

// TestDeltaChanges: §1.4 changed items in full, deletions as @removed with
// reason deleted, events changed outside the window as @removed.
func TestDeltaChanges(t *testing.T) {
	e := newEnv(t, Options{})
	keep := e.create(simpleEvent("keep", "2025-01-07T10:00:00", "2025-01-07T11:00:00")).str("id")
	gone := e.create(simpleEvent("gone", "2025-01-08T10:00:00", "2025-01-08T11:00:00")).str("id")
	_, dl := e.round(deltaPath)

	e.do("PATCH", "/v1.0/me/events/"+keep, map[string]any{"subject": "kept"})
	e.do("DELETE", "/v1.0/me/events/"+gone, nil)
	out := e.create(simpleEvent("far", "2026-06-01T10:00:00", "2026-06-01T11:00:00")).str("id")
	user, err := e.sim.UserCreateEvent(testUPN, simpleEvent("by user", "2025-01-09T10:00:00", "2025-01-09T11:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	items, _ := e.round(dl)
	got := ids(items)
	cases := []struct {
		name, id string
		removed  bool
	}{
		{"§1.4 updated item in full", keep, false},
		{"§1.4 deleted item as @removed", gone, true},
		{"§1.4 new item outside the window as @removed", out, true},
		{"control: a change made as the user in Outlook", user, false},
	}
	for _, tc := range cases {
		it, ok := got[tc.id]
		if !ok {
			t.Errorf("%s: missing from %v", tc.name, items)
			continue
		}
		rm, isRemoved := it["@removed"].(map[string]any)
		if isRemoved != tc.removed || (isRemoved && rm["reason"] != "deleted") {
			t.Errorf("%s: %v", tc.name, it)
		}
		if !tc.removed && (it["subject"] == nil || it["@odata.etag"] == nil) {
			t.Errorf("%s: not a full item: %v", tc.name, it)
		}
	}
}

// TestDeltaTokens: §1.6 expired/evicted tokens → 410 SyncStateNotFound;
// a forced reset → 410 with Location holding the initial query.
func TestDeltaTokens(t *testing.T) {
	e := newEnv(t, Options{DeltaTokenCacheSize: 2})
	e.create(simpleEvent("a", "2025-01-07T10:00:00", "2025-01-07T11:00:00"))
	_, first := e.round(deltaPath)
	_, second := e.round(deltaPath)
	_, third := e.round(deltaPath)
	if r := e.do("GET", first, nil); r.status != 410 || r.code() != "SyncStateNotFound" {
		t.Errorf("evicted token: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", second, nil); r.status != 200 {
		t.Errorf("cached token: %d", r.status)
	}
	e.sim.ExpireDeltaTokens(testUPN)
	if r := e.do("GET", third, nil); r.status != 410 || r.code() != "SyncStateNotFound" {
		t.Errorf("expired token: %d %s", r.status, r.raw)
	}
	_, dl := e.round(deltaPath)
	e.sim.ForceSyncReset(testUPN)
	r := e.do("GET", dl, nil)
	loc := r.header.Get("Location")
	if r.status != 410 || !strings.HasPrefix(loc, e.srv.URL+"/v1.0/me/calendarView/delta?") || !strings.Contains(loc, "startDateTime=") {
		t.Fatalf("reset: %d %s Location=%q", r.status, r.raw, loc)
	}
	if items, _ := e.round(loc); len(items) != 1 {
		t.Errorf("following Location gave %d items, want a full snapshot of 1", len(items))
	}
}

// TestDeltaRecurrence: §1.4 occurrences carry only the minimal fields; the
// master is included (switchable); a cancelled occurrence is @removed
// only with DeltaRemovedOccurrences (semantics §1.1); an occurrence PATCHed becomes an exception with
// originalStart (§11.2); instances leave cancelled ones out (§2).
func TestDeltaRecurrence(t *testing.T) {
	for _, omit := range []bool{false, true} {
		e := newEnv(t, Options{DeltaOmitSeriesMaster: omit, DeltaRemovedOccurrences: !omit})
		master := e.create(weekly("standup", 4)).str("id")
		items, dl := e.round(deltaPath)
		var occ []map[string]any
		masters := 0
		for _, it := range items {
			switch it["type"] {
			case "occurrence":
				occ = append(occ, it)
			case "seriesMaster":
				masters++
			}
		}
		if len(occ) != 4 || masters != map[bool]int{false: 1, true: 0}[omit] {
			t.Fatalf("omit=%v: %d occurrences, %d masters", omit, len(occ), masters)
		}
		for k := range occ[0] {
			if !map[string]bool{"@odata.type": true, "@odata.etag": true, "id": true, "seriesMasterId": true, "type": true, "start": true, "end": true}[k] {
				t.Errorf("occurrence carries %q (facts §1.4: minimal fields only)", k)
			}
		}
		if occ[0]["seriesMasterId"] != master {
			t.Errorf("seriesMasterId %v", occ[0]["seriesMasterId"])
		}
		second, third := occ[1]["id"].(string), occ[2]["id"].(string)
		if r := e.do("DELETE", "/v1.0/me/events/"+second, nil); r.status != 204 {
			t.Fatalf("cancel occurrence: %d %s", r.status, r.raw)
		}
		ex := e.do("PATCH", "/v1.0/me/events/"+third, map[string]any{"subject": "special"})
		if ex.status != 200 || ex.str("type") != "exception" || ex.str("id") != third || ex.str("originalStart") == "" {
			t.Fatalf("exception: %d %s", ex.status, ex.raw)
		}
		items, _ = e.round(dl)
		got := ids(items)
		if _, ok := got[second]["@removed"]; ok == omit {
			t.Errorf("omit=%v: cancelled occurrence in delta: %v", omit, got[second])
		}
		if got[third]["type"] != "exception" || got[third]["subject"] != "special" {
			t.Errorf("exception in delta: %v", got[third])
		}
		inst := e.do("GET", "/v1.0/me/events/"+master+"/instances?"+window, nil)
		var types []string
		for _, it := range inst.items() {
			types = append(types, it["type"].(string))
			if it["id"] == second {
				t.Errorf("instances lists the cancelled occurrence")
			}
		}
		if strings.Join(types, ",") != "occurrence,exception,occurrence" {
			t.Errorf("instances types %v", types)
		}
		if r := e.do("GET", "/v1.0/me/events/"+second, nil); r.status != 404 {
			t.Errorf("GET cancelled occurrence: %d", r.status)
		}
		if r := e.do("GET", "/v1.0/me/events?$top=10", nil); len(r.items()) != 1 || r.items()[0]["type"] != "seriesMaster" {
			t.Errorf("/me/events lists singles and masters only: %s", r.raw)
		}
	}
}

// TestRecurrencePatterns checks expansion per pattern type (facts §2).
func TestRecurrencePatterns(t *testing.T) {
	cases := []struct {
		name    string
		start   string
		pattern map[string]any
		rng     map[string]any
		want    []string
	}{
		{"daily interval 2, endDate", "2025-01-06", map[string]any{"type": "daily", "interval": 2},
			map[string]any{"type": "endDate", "startDate": "2025-01-06", "endDate": "2025-01-12"}, []string{"01-06", "01-08", "01-10", "01-12"}},
		{"weekly Mon+Fri every 2 weeks", "2025-01-06", map[string]any{"type": "weekly", "interval": 2, "daysOfWeek": []any{"monday", "friday"}},
			map[string]any{"type": "numbered", "startDate": "2025-01-06", "numberOfOccurrences": 4}, []string{"01-06", "01-10", "01-20", "01-24"}},
		{"absoluteMonthly 6th", "2025-01-06", map[string]any{"type": "absoluteMonthly", "interval": 1, "dayOfMonth": 6},
			map[string]any{"type": "numbered", "startDate": "2025-01-06", "numberOfOccurrences": 2}, []string{"01-06", "02-06"}},
		{"relativeMonthly first Monday", "2025-01-06", map[string]any{"type": "relativeMonthly", "interval": 1, "daysOfWeek": []any{"monday"}, "index": "first"},
			map[string]any{"type": "numbered", "startDate": "2025-01-06", "numberOfOccurrences": 2}, []string{"01-06", "02-03"}},
		{"relativeMonthly last Friday", "2025-01-31", map[string]any{"type": "relativeMonthly", "interval": 1, "daysOfWeek": []any{"friday"}, "index": "last"},
			map[string]any{"type": "noEnd", "startDate": "2025-01-31"}, []string{"01-31", "02-28"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			ev := simpleEvent(tc.name, tc.start+"T10:00:00", tc.start+"T11:00:00")
			ev["recurrence"] = map[string]any{"pattern": tc.pattern, "range": tc.rng}
			c := e.create(ev)
			if c.str("type") != "seriesMaster" {
				t.Fatalf("type %s", c.str("type"))
			}
			r := e.do("GET", "/v1.0/me/calendarView?"+window+"&$top=50", nil)
			var got []string
			for _, it := range r.items() {
				got = append(got, it["start"].(map[string]any)["dateTime"].(string)[5:10])
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// TestDeltaSwitches: §1.2 a series is never split across pages (default),
// so pages may exceed maxpagesize; §1.5 duplicates, replays; §1.2 an empty
// first page with a nextLink.
func TestDeltaSwitches(t *testing.T) {
	e := newEnv(t, Options{})
	e.create(weekly("s", 4))
	r := e.do("GET", deltaPath, nil, "Prefer", "odata.maxpagesize=2")
	if n := len(r.items()); n != 5 {
		t.Errorf("series split: first page has %d items, want master+4", n)
	}

	e = newEnv(t, Options{DeltaEmptyFirstPage: true, DeltaDuplicates: true})
	id := e.create(simpleEvent("a", "2025-01-07T10:00:00", "2025-01-07T11:00:00")).str("id")
	r = e.do("GET", deltaPath, nil)
	if len(r.items()) != 0 || r.str("@odata.nextLink") == "" {
		t.Errorf("empty first page: %s", r.raw)
	}
	items, _ := e.round(r.str("@odata.nextLink"))
	if len(items) != 2 || items[0]["id"] != id || items[1]["id"] != id {
		t.Errorf("duplicates: %v", items)
	}

	e = newEnv(t, Options{DeltaReplay: true})
	_, dl := e.round(deltaPath)
	e.create(simpleEvent("a", "2025-01-07T10:00:00", "2025-01-07T11:00:00"))
	_, dl = e.round(dl)
	if items, _ := e.round(dl); len(items) != 1 {
		t.Errorf("replay: the next round returned %d items, want the replayed 1", len(items))
	}
}

// TestDeltaTimeZoneSwitch: §1.7 whether Prefer outlook.timezone is
// remembered in the token.
func TestDeltaTimeZoneSwitch(t *testing.T) {
	for _, remember := range []bool{false, true} {
		e := newEnv(t, Options{DeltaRemembersTimeZone: remember})
		_, dl := e.round(deltaPath, "Prefer", `outlook.timezone="Tokyo Standard Time"`)
		e.create(simpleEvent("a", "2025-01-07T10:00:00", "2025-01-07T11:00:00"))
		items, _ := e.round(dl)
		tz := items[0]["start"].(map[string]any)["timeZone"]
		if want := map[bool]string{false: "UTC", true: "Tokyo Standard Time"}[remember]; tz != want {
			t.Errorf("remember=%v: timeZone %v, want %s", remember, tz, want)
		}
	}
}

// TestConcurrentUse drives every path from many goroutines under -race.
func TestConcurrentUse(t *testing.T) {
	e := newEnv(t, Options{MailboxConcurrency: -1})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 20 {
			id, _ := e.sim.UserCreateEvent(testUPN, simpleEvent("u", "2025-01-07T10:00:00", "2025-01-07T11:00:00"))
			if i%2 == 0 {
				_ = e.sim.UserDeleteEvent(testUPN, id)
			}
			e.sim.Advance(time.Second)
			_ = e.sim.Counts()
		}
	}()
	errs := make(chan string, 100)
	for range 4 {
		go func() {
			for range 10 {
				r := e.do("POST", "/v1.0/me/events", simpleEvent("g", "2025-01-07T10:00:00", "2025-01-07T11:00:00"))
				if r.status != 201 {
					errs <- string(r.raw)
				}
				e.round(deltaPath)
			}
			errs <- ""
		}()
	}
	for range 4 {
		if s := <-errs; s != "" {
			t.Error(s)
		}
	}
	<-done
	if n := len(e.sim.Requests()); n < 40 {
		t.Errorf("%d requests logged", n)
	}
}
