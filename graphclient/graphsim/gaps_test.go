package graphsim

import (
	"testing"
)

// weeklyRaw is a weekly Tuesday series of four from 2025-01-07 10:00 UTC.
func weeklyRaw() map[string]any {
	ev := simpleEvent("weekly", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	ev["recurrence"] = map[string]any{
		"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []any{"tuesday"}},
		"range":   map[string]any{"type": "numbered", "startDate": "2025-01-07", "numberOfOccurrences": 4}}
	return ev
}

// TestEnumCasing: semantics §1.5 and Part 4 #13 — attendee type, showAs,
// sensitivity and importance are accepted in any case, as Microsoft's
// samples send them ("Required", "Normal"), and answered in the enum's own
// spelling; a value that is not in the enum is still a 400.
func TestEnumCasing(t *testing.T) {
	e := newEnv(t, Options{})
	ev := simpleEvent("cased", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	ev["showAs"], ev["sensitivity"], ev["importance"] = "WorkingElsewhere", "Private", "High"
	ev["attendees"] = []any{
		map[string]any{"type": "Required", "emailAddress": map[string]any{"address": "a@contoso.com"}},
		map[string]any{"type": "OPTIONAL", "emailAddress": map[string]any{"address": "b@contoso.com"}},
	}
	r := e.create(ev)
	got := e.do("GET", "/v1.0/me/events/"+r.str("id"), nil)
	for k, want := range map[string]string{"showAs": "workingElsewhere", "sensitivity": "private", "importance": "high"} {
		if got.str(k) != want {
			t.Errorf("%s = %q, want %q", k, got.str(k), want)
		}
	}
	att, _ := got.body["attendees"].([]any)
	for i, want := range []string{"required", "optional"} {
		if a, _ := att[i].(map[string]any); a["type"] != want {
			t.Errorf("attendee %d type %v, want %s", i, a["type"], want)
		}
	}
	for k, bad := range map[string]any{"showAs": "Busyish", "importance": "urgent"} {
		ev := simpleEvent("bad", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
		ev[k] = bad
		if r := e.do("POST", "/v1.0/me/events", ev); r.status != 400 || r.code() != "RequestBodyRead" {
			t.Errorf("%s %v: %d %s, want 400 RequestBodyRead", k, bad, r.status, r.code())
		}
	}
	ev["attendees"] = []any{map[string]any{"type": "Chair", "emailAddress": map[string]any{"address": "a@contoso.com"}}}
	if r := e.do("POST", "/v1.0/me/events", ev); r.status != 400 {
		t.Errorf("attendee type Chair: %d, want 400", r.status)
	}
}

// TestOccurrenceETags: semantics Part 4 #14 (UNCONFIRMED) — by default each
// occurrence has its own changeKey and @odata.etag, the same in delta stubs
// and in GET, changing when the master changes; If-Match with the master's
// etag on an occurrence fails. OccurrenceETagIsMaster gives occurrences the
// master's.
func TestOccurrenceETags(t *testing.T) {
	for _, asMaster := range []bool{false, true} {
		e := newEnv(t, Options{OccurrenceETagIsMaster: asMaster})
		m := e.create(weeklyRaw())
		masterTag := m.str("@odata.etag")
		inst := e.do("GET", "/v1.0/me/events/"+m.str("id")+"/instances?"+window, nil).items()
		if len(inst) != 4 {
			t.Fatalf("%d instances", len(inst))
		}
		tags := map[string]bool{}
		for _, o := range inst {
			tag := o["@odata.etag"].(string)
			if (tag == masterTag) != asMaster || tag != `W/"`+o["changeKey"].(string)+`"` {
				t.Errorf("asMaster=%v: occurrence etag %s, changeKey %v, master %s", asMaster, tag, o["changeKey"], masterTag)
			}
			tags[tag] = true
		}
		if want := map[bool]int{false: 4, true: 1}[asMaster]; len(tags) != want {
			t.Errorf("asMaster=%v: %d distinct occurrence etags, want %d", asMaster, len(tags), want)
		}
		items, _ := e.round("/v1.0/me/calendarView/delta?" + window)
		for _, it := range items {
			if it["type"] == "occurrence" && it["@odata.etag"] != inst[0]["@odata.etag"] && it["id"] == inst[0]["id"] {
				t.Errorf("delta stub etag %v, GET %v", it["@odata.etag"], inst[0]["@odata.etag"])
			}
		}
		occ := inst[1]["id"].(string)
		patch := map[string]any{"subject": "moved"}
		if r := e.do("PATCH", "/v1.0/me/events/"+occ, patch, "If-Match", masterTag); (r.status == 200) != asMaster {
			t.Errorf("asMaster=%v: If-Match with the master's etag answered %d", asMaster, r.status)
		}
		if !asMaster {
			mp := e.do("PATCH", "/v1.0/me/events/"+m.str("id"), map[string]any{"subject": "renamed"})
			again := e.do("GET", "/v1.0/me/events/"+inst[2]["id"].(string), nil)
			if again.str("@odata.etag") == inst[2]["@odata.etag"] || again.str("@odata.etag") == mp.str("@odata.etag") {
				t.Errorf("after a master change the occurrence etag is %s (was %v, master %s)", again.str("@odata.etag"), inst[2]["@odata.etag"], mp.str("@odata.etag"))
			}
			if r := e.do("PATCH", "/v1.0/me/events/"+inst[2]["id"].(string), patch, "If-Match", again.str("@odata.etag")); r.status != 200 {
				t.Errorf("If-Match with the occurrence's own etag answered %d %s", r.status, r.raw)
			}
		}
	}
}
