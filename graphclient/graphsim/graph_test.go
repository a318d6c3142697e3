package graphsim

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestGraphErrors is one case per error fact the simulator models.
func TestGraphErrors(t *testing.T) {
	cases := []struct {
		name           string
		do             func(e *env) resp
		status         int
		code, msgStart string
	}{
		{"§9/§2 no token → 401 InvalidAuthenticationToken", func(e *env) resp {
			return e.do("GET", "/v1.0/me", nil, "Authorization", "")
		}, 401, "InvalidAuthenticationToken", ""},
		{"expired access token → 401 InvalidAuthenticationToken", func(e *env) resp {
			e.sim.Advance(61 * time.Minute)
			return e.do("GET", "/v1.0/me", nil)
		}, 401, "InvalidAuthenticationToken", "Lifetime validation failed"},
		{"withdrawn consent → 403", func(e *env) resp {
			e.sim.WithdrawConsent(testUPN)
			return e.do("GET", "/v1.0/me/events", nil)
		}, 403, "ErrorAccessDenied", ""},
		{"§1.1 calendarView without window → 400 ErrorInvalidParameter", func(e *env) resp {
			return e.do("GET", "/v1.0/me/calendarView", nil)
		}, 400, "ErrorInvalidParameter", "This request requires a time window"},
		{"§1.1 delta with empty window values → 400", func(e *env) resp {
			return e.do("GET", "/v1.0/me/calendarView/delta?endDateTime=&startDateTime=", nil)
		}, 400, "ErrorInvalidParameter", "The value '' of parameter 'StartDateTime' is invalid."},
		{"§1.3 $select on delta rejected", func(e *env) resp {
			return e.do("GET", "/v1.0/me/calendarView/delta?"+window+"&$select=subject", nil)
		}, 400, "BadRequest", ""},
		{"§1.3 $expand on delta rejected", func(e *env) resp {
			return e.do("GET", "/v1.0/me/calendarView/delta?"+window+"&$expand=singleValueExtendedProperties", nil)
		}, 400, "BadRequest", ""},
		{"§1.6 unknown delta token → 410 SyncStateNotFound", func(e *env) resp {
			return e.do("GET", "/v1.0/me/calendarView/delta?$deltatoken=nope", nil)
		}, 410, "SyncStateNotFound", "The sync state generation is not found"},
		{"§11.6 malformed id → 400 ErrorInvalidIdMalformed", func(e *env) resp {
			return e.do("GET", "/v1.0/me/events/AAMk+abc", nil)
		}, 400, "ErrorInvalidIdMalformed", "Id is malformed."},
		{"§11.6 slash in id → segment error", func(e *env) resp {
			return e.do("GET", "/v1.0/me/events/AAMk/abc", nil)
		}, 400, "BadRequest", "Resource not found for the segment"},
		{"§11.5 unknown id → 404 ErrorItemNotFound", func(e *env) resp {
			return e.do("GET", "/v1.0/me/events/"+formatID("E0123456789abcdef", false), nil)
		}, 404, "ErrorItemNotFound", "The specified object was not found in the store."},
		{"§2 ids are case-sensitive", func(e *env) resp {
			id := e.create(simpleEvent("x", "2025-01-07T10:00:00", "2025-01-07T11:00:00")).str("id")
			return e.do("GET", "/v1.0/me/events/"+strings.ToLower(id), nil)
		}, 400, "ErrorInvalidIdMalformed", ""},
		{"§2 all-day must be midnight", func(e *env) resp {
			ev := simpleEvent("x", "2025-01-07T10:00:00", "2025-01-08T00:00:00")
			ev["isAllDay"] = true
			return e.do("POST", "/v1.0/me/events", ev)
		}, 400, "ErrorPropertyValidationFailure", ""},
		{"§5 all-day at least a day", func(e *env) resp {
			ev := simpleEvent("x", "2025-01-07T00:00:00", "2025-01-07T00:00:00")
			ev["isAllDay"] = true
			return e.do("POST", "/v1.0/me/events", ev)
		}, 400, "ErrorPropertyValidationFailure", ""},
		{"§5 unknown time zone rejected", func(e *env) resp {
			ev := simpleEvent("x", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
			ev["start"] = dt("2025-01-07T10:00:00", "Mars/Olympus_Mons")
			return e.do("POST", "/v1.0/me/events", ev)
		}, 400, "TimeZoneNotSupportedException", ""},
		{"§2 recurrence startDate must equal the start date", func(e *env) resp {
			ev := simpleEvent("x", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
			ev["recurrence"] = map[string]any{"pattern": map[string]any{"type": "daily", "interval": 1},
				"range": map[string]any{"type": "noEnd", "startDate": "2025-01-08"}}
			return e.do("POST", "/v1.0/me/events", ev)
		}, 400, "ErrorPropertyValidationFailure", ""},
		{"§2 unknown property rejected", func(e *env) resp {
			ev := simpleEvent("x", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
			ev["sendInvitations"] = false // facts §10: made up, does not exist
			return e.do("POST", "/v1.0/me/events", ev)
		}, 400, "RequestBodyRead", ""},
		{"§2 If-Match mismatch → 412 ErrorIrresolvableConflict", func(e *env) resp {
			id := e.create(simpleEvent("x", "2025-01-07T10:00:00", "2025-01-07T11:00:00")).str("id")
			return e.do("PATCH", "/v1.0/me/events/"+id, map[string]any{"subject": "y"}, "If-Match", `W/"stale"`)
		}, 412, "ErrorIrresolvableConflict", "The send or update operation could not be performed"},
		{"§6 more than 20 batch items → 400", func(e *env) resp {
			var reqs []any
			for i := range 21 {
				reqs = append(reqs, map[string]any{"id": string(rune('a' + i)), "method": "GET", "url": "/me"})
			}
			return e.do("POST", "/v1.0/$batch", map[string]any{"requests": reqs})
		}, 400, "BadRequest", ""},
		{"§6 duplicate batch ids (case-insensitive) → 400", func(e *env) resp {
			return e.do("POST", "/v1.0/$batch", map[string]any{"requests": []any{
				map[string]any{"id": "a", "method": "GET", "url": "/me"}, map[string]any{"id": "A", "method": "GET", "url": "/me"}}})
		}, 400, "BadRequest", ""},
		{"unknown segment → 400, loudly", func(e *env) resp {
			return e.do("GET", "/v1.0/me/mailFolders", nil)
		}, 400, "BadRequest", "Resource not found for the segment 'mailFolders'."},
		{"unsupported query option → 400, loudly", func(e *env) resp {
			return e.do("GET", "/v1.0/me/events?$orderby=start/dateTime", nil)
		}, 400, "BadRequest", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, Options{})
			r := tc.do(e)
			if r.status != tc.status || r.code() != tc.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tc.status, tc.code)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			er := r.body["error"].(map[string]any)
			if msg, _ := er["message"].(string); !strings.HasPrefix(msg, tc.msgStart) {
				t.Errorf("message %q, want prefix %q", msg, tc.msgStart)
			}
			inner, _ := er["innerError"].(map[string]any)
			if inner["request-id"] == "" || inner["date"] == nil {
				t.Errorf("innerError %v", inner)
			}
		})
	}
}

func TestUnimplementedIsRecorded(t *testing.T) {
	e := newEnv(t, Options{})
	e.do("GET", "/v1.0/me/mailFolders", nil)
	if u := e.sim.Unimplemented(); len(u) != 1 || !strings.Contains(u[0], "mailFolders") {
		t.Fatalf("Unimplemented() = %v", u)
	}
}

// TestMe: §9 mail is null for personal accounts.
func TestMe(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.do("GET", "/v1.0/me", nil)
	if r.str("mail") != testUPN || r.str("userPrincipalName") != testUPN || r.str("displayName") != "Ada Lovelace" {
		t.Errorf("work account: %s", r.raw)
	}
	e.tok = e.signIn("someone@outlook.com", fullScopes)["access_token"].(string)
	r = e.do("GET", "/v1.0/me", nil)
	if v, ok := r.body["mail"]; !ok || v != nil || r.str("userPrincipalName") != "someone@outlook.com" {
		t.Errorf("personal account: %s", r.raw)
	}
}

// TestEventCRUD: §2 create/update/delete statuses, defaults, changeKey and
// etag on every write, If-Match honoured, location/locations kept in step.
func TestEventCRUD(t *testing.T) {
	e := newEnv(t, Options{})
	c := e.create(map[string]any{"subject": "Plan", "start": dt("2025-01-07T10:00:00", "W. Europe Standard Time"),
		"end": dt("2025-01-07T11:00:00", "W. Europe Standard Time"), "location": map[string]any{"displayName": "Room 1"}})
	id, etag, ck := c.str("id"), c.str("@odata.etag"), c.str("changeKey")
	if c.str("type") != "singleInstance" || c.body["reminderMinutesBeforeStart"].(float64) != 15 || c.str("showAs") != "busy" ||
		etag != `W/"`+ck+`"` || c.body["transactionId"] != nil || c.str("originalStartTimeZone") != "W. Europe Standard Time" {
		t.Errorf("create defaults: %s", c.raw)
	}
	if st := c.body["start"].(map[string]any); st["dateTime"] != "2025-01-07T09:00:00.0000000" || st["timeZone"] != "UTC" {
		t.Errorf("start not in UTC without Prefer: %v", st)
	}
	if locs := c.body["locations"].([]any); len(locs) != 1 {
		t.Errorf("locations: %v", locs)
	}
	u := e.do("PATCH", "/v1.0/me/events/"+id, map[string]any{"subject": "Plan B"}, "If-Match", etag)
	if u.status != 200 || u.str("changeKey") == ck || u.str("@odata.etag") == etag || u.str("subject") != "Plan B" {
		t.Fatalf("update: %d %s", u.status, u.raw)
	}
	if r := e.do("DELETE", "/v1.0/me/events/"+id, nil, "If-Match", etag); r.status != 412 {
		t.Errorf("delete with stale etag: %d", r.status)
	}
	if r := e.do("DELETE", "/v1.0/me/events/"+id, nil, "If-Match", u.str("@odata.etag")); r.status != 204 {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	if r := e.do("GET", "/v1.0/me/events/"+id, nil); r.status != 404 {
		t.Errorf("get after delete: %d", r.status)
	}
	if r := e.do("POST", "/v1.0/me/calendars/"+e.do("GET", "/v1.0/me/calendar", nil).str("id")+"/events",
		simpleEvent("cal", "2025-01-07T10:00:00", "2025-01-07T11:00:00")); r.status != 201 {
		t.Errorf("create in /calendars/{id}/events: %d %s", r.status, r.raw)
	}
}

// TestTimeZones: §5 Prefer outlook.timezone converts responses and echoes
// Preference-Applied; Windows and IANA names are both accepted; all-day
// values stay midnight whatever the zone.
func TestTimeZones(t *testing.T) {
	e := newEnv(t, Options{})
	cases := []struct{ tz, wantStart string }{
		{"Pacific Standard Time", "2025-01-07T02:00:00.0000000"},
		{"America/Los_Angeles", "2025-01-07T02:00:00.0000000"},
		{"Tokyo Standard Time", "2025-01-07T19:00:00.0000000"},
		{"UTC", "2025-01-07T10:00:00.0000000"},
	}
	id := e.create(simpleEvent("tz", "2025-01-07T10:00:00", "2025-01-07T11:00:00")).str("id")
	for _, tc := range cases {
		r := e.do("GET", "/v1.0/me/events/"+id, nil, "Prefer", `outlook.timezone="`+tc.tz+`"`)
		st := r.body["start"].(map[string]any)
		if st["dateTime"] != tc.wantStart || st["timeZone"] != tc.tz || !strings.Contains(r.header.Get("Preference-Applied"), tc.tz) {
			t.Errorf("%s: %v, Preference-Applied %q", tc.tz, st, r.header.Get("Preference-Applied"))
		}
		ev := simpleEvent("in "+tc.tz, "2025-01-07T10:00:00", "2025-01-07T11:00:00")
		ev["start"], ev["end"] = dt("2025-01-07T10:00:00", tc.tz), dt("2025-01-07T11:00:00", tc.tz)
		e.create(ev)
	}
	ad := map[string]any{"subject": "holiday", "isAllDay": true, "start": dt("2025-01-08T00:00:00", "Tokyo Standard Time"), "end": dt("2025-01-09T00:00:00", "Tokyo Standard Time")}
	aid := e.create(ad).str("id")
	r := e.do("GET", "/v1.0/me/events/"+aid, nil, "Prefer", `outlook.timezone="Pacific Standard Time"`)
	if st := r.body["start"].(map[string]any); st["dateTime"] != "2025-01-08T00:00:00.0000000" {
		t.Errorf("all-day start shifted: %v", st)
	}
}

// TestImmutableID: §11.7 ids differ with Prefer IdType="ImmutableId"; both
// forms address the same event.
func TestImmutableID(t *testing.T) {
	e := newEnv(t, Options{})
	imm := e.create(simpleEvent("x", "2025-01-07T10:00:00", "2025-01-07T11:00:00"), "Prefer", `IdType="ImmutableId"`).str("id")
	rest := e.do("GET", "/v1.0/me/events/"+imm, nil).str("id")
	if imm == rest || !strings.HasPrefix(imm, immutablePrefix) || !strings.HasPrefix(rest, restPrefix) {
		t.Fatalf("immutable %q rest %q", imm, rest)
	}
	if strings.ContainsAny(imm+rest, "+/") {
		t.Errorf("ids are not URL-safe")
	}
}

// TestTransactionID: §3 a repeated transactionId returns the first event;
// Options.TransactionIDConflict answers 409; after the window a new event.
func TestTransactionID(t *testing.T) {
	for _, conflict := range []bool{false, true} {
		e := newEnv(t, Options{TransactionIDConflict: conflict, TransactionIDWindow: time.Hour})
		ev := simpleEvent("tx", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
		ev["transactionId"] = "tx-1"
		first := e.create(ev)
		again := e.do("POST", "/v1.0/me/events", ev)
		if conflict && again.status != 409 {
			t.Errorf("conflict mode: %d", again.status)
		}
		if !conflict && (again.status != 201 || again.str("id") != first.str("id") || again.str("transactionId") != "tx-1") {
			t.Errorf("dedupe: %d %s", again.status, again.raw)
		}
		e.sim.Advance(2 * time.Hour)
		e.tok = e.signIn(testUPN, fullScopes)["access_token"].(string)
		if r := e.create(ev); r.str("id") == first.str("id") {
			t.Errorf("dedupe outlived the window")
		}
		if n := len(e.sim.Events(testUPN)); n != 2 {
			t.Errorf("mailbox has %d events, want 2", n)
		}
	}
}

// TestExtendedProperties: §4 written with the event, read only through
// $expand with id eq, found with $filter Any(); name case-sensitive, value
// case-insensitive.
func TestExtendedProperties(t *testing.T) {
	e := newEnv(t, Options{})
	const pid = "String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Name SyncId"
	ev := simpleEvent("tagged", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	ev["singleValueExtendedProperties"] = []any{map[string]any{"id": pid, "value": "Local-42"}}
	id := e.create(ev).str("id")
	e.create(simpleEvent("untagged", "2025-01-07T12:00:00", "2025-01-07T13:00:00"))

	if r := e.do("GET", "/v1.0/me/events/"+id, nil); r.body["singleValueExtendedProperties"] != nil {
		t.Errorf("property returned without $expand")
	}
	r := e.do("GET", "/v1.0/me/events/"+id+"?$expand=singleValueExtendedProperties($filter=id%20eq%20'"+strings.ReplaceAll(pid, " ", "%20")+"')", nil)
	props, _ := r.body["singleValueExtendedProperties"].([]any)
	if len(props) != 1 || props[0].(map[string]any)["value"] != "Local-42" {
		t.Fatalf("expand: %d %s", r.status, r.raw)
	}
	filter := func(idPart, value string) int {
		f := "singleValueExtendedProperties/Any(ep: ep/id eq '" + idPart + "' and ep/value eq '" + value + "')"
		r := e.do("GET", "/v1.0/me/events?$filter="+strings.ReplaceAll(strings.ReplaceAll(f, " ", "%20"), "{", "%7B"), nil)
		if r.status != 200 {
			t.Fatalf("filter: %d %s", r.status, r.raw)
		}
		return len(r.items())
	}
	cases := []struct {
		name, id, value string
		want            int
	}{
		{"exact", pid, "Local-42", 1},
		{"value is case-insensitive", pid, "local-42", 1},
		{"guid is case-insensitive", strings.ToLower(pid[:47]) + pid[47:], "Local-42", 1},
		{"name is case-sensitive", strings.Replace(pid, "SyncId", "syncid", 1), "Local-42", 0},
		{"other value", pid, "Local-43", 0},
	}
	for _, tc := range cases {
		if got := filter(tc.id, tc.value); got != tc.want {
			t.Errorf("%s: %d matches, want %d", tc.name, got, tc.want)
		}
	}
	dump := e.sim.Events(testUPN)
	if p := dump[0]["singleValueExtendedProperties"].([]any); len(p) != 1 {
		t.Errorf("Events() dump lacks the property: %v", dump[0])
	}
}

// TestGzipAndDeltaParens: sdk-notes Appendix: gzip bodies and delta().
func TestGzipAndDeltaParens(t *testing.T) {
	e := newEnv(t, Options{})
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_ = json.NewEncoder(zw).Encode(simpleEvent("gz", "2025-01-07T10:00:00", "2025-01-07T11:00:00"))
	zw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/v1.0/me/events", &buf)
	req.Header.Set("Authorization", "Bearer "+e.tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Content-Encoding", "gzip")
	r, err := http.DefaultClient.Do(req)
	if err != nil || r.StatusCode != 201 {
		t.Fatalf("gzip create: %v %v", err, r.StatusCode)
	}
	r.Body.Close()
	if d := e.do("GET", "/v1.0/me/calendarView/delta%28%29?"+window, nil); d.status != 200 {
		t.Errorf("delta(): %d %s", d.status, d.raw)
	}
}

// TestOutboundMail: §10 invitations, attendee-only updates, detail updates
// and cancellations; nothing for attendee-free events.
func TestOutboundMail(t *testing.T) {
	e := newEnv(t, Options{})
	att := func(addrs ...string) []any {
		var out []any
		for _, a := range addrs {
			out = append(out, map[string]any{"emailAddress": map[string]any{"address": a}, "type": "required"})
		}
		return out
	}
	plain := e.create(simpleEvent("solo", "2025-01-07T10:00:00", "2025-01-07T11:00:00")).str("id")
	e.do("PATCH", "/v1.0/me/events/"+plain, map[string]any{"subject": "solo 2"})
	e.do("DELETE", "/v1.0/me/events/"+plain, nil)
	if m := e.sim.OutboundMail(); len(m) != 0 {
		t.Fatalf("attendee-free event mailed: %v", m)
	}
	ev := simpleEvent("meet", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	ev["attendees"] = att("a@x.com", "b@x.com")
	id := e.create(ev).str("id")
	e.do("PATCH", "/v1.0/me/events/"+id, map[string]any{"attendees": att("a@x.com", "c@x.com")})
	e.do("PATCH", "/v1.0/me/events/"+id, map[string]any{"subject": "moved"})
	e.do("DELETE", "/v1.0/me/events/"+id, nil)
	var got []string
	for _, m := range e.sim.OutboundMail() {
		got = append(got, m.Kind+":"+strings.Join(m.To, ","))
	}
	want := []string{"invitation:a@x.com", "invitation:b@x.com", "invitation:c@x.com", "cancellation:b@x.com", "update:a@x.com", "update:c@x.com", "cancellation:a@x.com", "cancellation:c@x.com"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("mail\n got %v\nwant %v", got, want)
	}
}

// TestBatch: §6 per-item status, dependsOn with 424, per-item 429 with
// Retry-After, lower-cased item headers, relative urls only.
func TestBatch(t *testing.T) {
	e := newEnv(t, Options{})
	e.sim.AddFault(Fault{Method: "GET", Path: "/v1.0/me/calendar", Status: 429, Header: http.Header{"Retry-After": {"2.5"}}})
	body := map[string]any{"requests": []any{
		map[string]any{"id": "1", "method": "POST", "url": "/me/events", "headers": map[string]any{"content-type": "application/json"},
			"body": simpleEvent("b", "2025-01-07T10:00:00", "2025-01-07T11:00:00")},
		map[string]any{"id": "2", "method": "GET", "url": "/me/events/" + formatID("E0123456789abcdef", false)},
		map[string]any{"id": "3", "method": "GET", "url": "/me", "dependsOn": []any{"2"}},
		map[string]any{"id": "4", "method": "GET", "url": "/me/calendar"},
		map[string]any{"id": "5", "method": "GET", "url": "me/calendarView?" + window, "headers": map[string]any{"prefer": `IdType="ImmutableId",outlook.timezone="UTC"`}},
	}}
	r := e.do("POST", "/v1.0/$batch", body)
	if r.status != 200 {
		t.Fatalf("batch: %d %s", r.status, r.raw)
	}
	got := map[string]float64{}
	var retry string
	for _, x := range r.body["responses"].([]any) {
		m := x.(map[string]any)
		got[m["id"].(string)] = m["status"].(float64)
		if m["id"] == "4" {
			retry = m["headers"].(map[string]any)["Retry-After"].(string)
		}
	}
	want := map[string]float64{"1": 201, "2": 404, "3": 424, "4": 429, "5": 200}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("item %s: %v, want %v", k, got[k], v)
		}
	}
	if retry != "2.5" {
		t.Errorf("item Retry-After %q", retry)
	}
	if c := e.sim.Counts()["POST /v1.0/me/events"]; c != 1 {
		t.Errorf("batch items not counted per endpoint: %v", e.sim.Counts())
	}
	abs := e.do("POST", "/v1.0/$batch", map[string]any{"requests": []any{map[string]any{"id": "1", "method": "GET", "url": "https://graph.microsoft.com/v1.0/me"}}})
	if abs.status != 400 {
		t.Errorf("absolute item url: %d", abs.status)
	}
}

// TestThrottling: §7 4 concurrent requests per app per mailbox (the fifth
// gets 429 ApplicationThrottled) and N requests per window with a
// fractional Retry-After.
func TestThrottling(t *testing.T) {
	e := newEnv(t, Options{MailboxRequestLimit: 3, MailboxRequestWindow: time.Minute})
	for range 3 {
		e.do("GET", "/v1.0/me", nil)
	}
	r := e.do("GET", "/v1.0/me", nil)
	if r.status != 429 || r.code() != "ApplicationThrottled" || !strings.Contains(r.header.Get("Retry-After"), ".") {
		t.Errorf("window limit: %d %s Retry-After=%q", r.status, r.raw, r.header.Get("Retry-After"))
	}
	e.sim.Advance(time.Minute)
	if r := e.do("GET", "/v1.0/me", nil); r.status != 200 {
		t.Errorf("after the window: %d", r.status)
	}

	e = newEnv(t, Options{Latency: 300 * time.Millisecond})
	var wg sync.WaitGroup
	statuses := make(chan int, 6)
	for range 6 {
		wg.Go(func() {
			statuses <- e.do("GET", "/v1.0/me/calendar", nil).status
		})
	}
	wg.Wait()
	close(statuses)
	n429 := 0
	for s := range statuses {
		if s == 429 {
			n429++
		}
	}
	// Options.Latency is service time: it holds the mailbox slot.
	if n429 != 2 {
		t.Errorf("%d of 6 concurrent requests throttled, want 2", n429)
	}
}

// TestFaults: status with headers, count, drop, path patterns.
func TestFaults(t *testing.T) {
	e := newEnv(t, Options{})
	e.sim.AddFault(Fault{Method: "GET", Path: "/v1.0/me", Count: 2, Status: 503, Header: http.Header{"Retry-After": {"1"}}})
	for i, want := range []int{503, 503, 200} {
		r := e.do("GET", "/v1.0/me", nil)
		if r.status != want {
			t.Errorf("request %d: %d, want %d", i, r.status, want)
		}
		if want == 503 && (r.header.Get("Retry-After") != "1" || r.code() != "ServiceNotAvailable") {
			t.Errorf("503 fault: %v %s", r.header, r.raw)
		}
	}
	e.sim.AddFault(Fault{Path: "/v1.0/me/events/*", Drop: true})
	req, _ := http.NewRequest("GET", e.srv.URL+"/v1.0/me/events/x", nil)
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}} // no silent retry on a reused conn
	if _, err := fresh.Do(req); err == nil {
		t.Errorf("dropped connection answered")
	}
	recs := e.sim.Requests()
	if !recs[len(recs)-1].Fault {
		t.Errorf("fault not logged: %+v", recs[len(recs)-1])
	}
}
