package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// receiver plays a subscriber's endpoint: it answers the validation
// handshake (unless echo is false) and hands every notification body over.
type receiver struct {
	srv    *httptest.Server
	bodies chan map[string]any
}

func newReceiver(t *testing.T, echo bool) *receiver {
	t.Helper()
	rc := &receiver{bodies: make(chan map[string]any, 100)}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			if echo {
				_, _ = io.WriteString(w, tok)
			} else {
				_, _ = io.WriteString(w, "nope")
			}
			return
		}
		var m map[string]any
		_ = json.NewDecoder(r.Body).Decode(&m)
		rc.bodies <- m
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

// next waits for the next body; the test fails by its own deadline if none comes.
func (rc *receiver) next(t *testing.T) []map[string]any {
	t.Helper()
	b := <-rc.bodies
	var out []map[string]any
	for _, v := range b["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func (e *env) subscribe(rc *receiver, lifecycle bool, hdr ...string) resp {
	e.t.Helper()
	body := map[string]any{"changeType": "created,updated,deleted", "notificationUrl": rc.srv.URL + "/hook",
		"resource": "/me/events", "expirationDateTime": t0.Add(MaxSubscriptionLifetime).Format(time.RFC3339), "clientState": "cs-1"}
	if lifecycle {
		body["lifecycleNotificationUrl"] = rc.srv.URL + "/life"
	}
	return e.do("POST", "/v1.0/subscriptions", body, hdr...)
}

func TestSubscriptionRules(t *testing.T) {
	e := newEnv(t, Options{})
	rc := newReceiver(t, true)
	base := func() map[string]any {
		return map[string]any{"changeType": "created,updated,deleted", "notificationUrl": rc.srv.URL,
			"resource": "me/events", "expirationDateTime": t0.Add(time.Hour).Format(time.RFC3339)}
	}
	for name, tc := range map[string]struct {
		k   string
		v   any
		msg string
	}{
		"changeType":    {"changeType", "created,moved", "Invalid 'changeType'"},
		"resource":      {"resource", "/me/messages", "is not supported"},
		"too long":      {"expirationDateTime", t0.Add(MaxSubscriptionLifetime + time.Minute).Format(time.RFC3339), "10080 minutes"},
		"past":          {"expirationDateTime", t0.Add(-time.Minute).Format(time.RFC3339), "in the future"},
		"http":          {"notificationUrl", "http://example.com/hook", "https"},
		"clientState":   {"clientState", strings.Repeat("x", 129), "128"},
		"unknown field": {"colour", "red", "colour"},
	} {
		b := base()
		b[tc.k] = tc.v
		r := e.do("POST", "/v1.0/subscriptions", b)
		if r.status != 400 || !strings.Contains(string(r.raw), tc.msg) {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	// under 45 minutes is raised to 45
	b := base()
	b["expirationDateTime"] = t0.Add(time.Minute).Format(time.RFC3339)
	r := e.do("POST", "/v1.0/subscriptions", b)
	if r.status != 201 || r.str("expirationDateTime") != t0.Add(45*time.Minute).Format("2006-01-02T15:04:05Z") {
		t.Fatalf("short lifetime: %d %s", r.status, r.raw)
	}
	// the handshake must echo the token
	bad := newReceiver(t, false)
	b = base()
	b["notificationUrl"] = bad.srv.URL
	if r := e.do("POST", "/v1.0/subscriptions", b); r.status != 400 || !strings.Contains(string(r.raw), "must exactly match validationToken") {
		t.Fatalf("bad echo: %d %s", r.status, r.raw)
	}
}

func TestSubscriptionLifecycleRoutes(t *testing.T) {
	e := newEnv(t, Options{})
	rc := newReceiver(t, true)
	r := e.subscribe(rc, false)
	if r.status != 201 || r.str("clientState") != "cs-1" || r.str("changeType") != "created,updated,deleted" {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	id := r.str("id")
	if g := e.do("GET", "/v1.0/subscriptions/"+id, nil); g.status != 200 || g.str("id") != id {
		t.Fatalf("get: %d %s", g.status, g.raw)
	}
	renew := t0.Add(50 * time.Minute).Format(time.RFC3339)
	if p := e.do("PATCH", "/v1.0/subscriptions/"+id, map[string]any{"expirationDateTime": renew}); p.status != 200 || p.str("expirationDateTime") != t0.Add(50*time.Minute).Format("2006-01-02T15:04:05Z") {
		t.Fatalf("renew: %d %s", p.status, p.raw)
	}
	e.sim.Advance(50 * time.Minute)
	if g := e.do("GET", "/v1.0/subscriptions/"+id, nil); g.status != 404 {
		t.Fatalf("expired: %d %s", g.status, g.raw)
	}
	id = e.subscribe(rc, false).str("id")
	if d := e.do("DELETE", "/v1.0/subscriptions/"+id, nil); d.status != 204 {
		t.Fatalf("delete: %d %s", d.status, d.raw)
	}
	for _, m := range []string{"GET", "DELETE"} {
		if d := e.do(m, "/v1.0/subscriptions/"+id, nil); d.status != 404 {
			t.Fatalf("%s deleted: %d %s", m, d.status, d.raw)
		}
	}
	if p := e.do("PATCH", "/v1.0/subscriptions/"+id, map[string]any{"expirationDateTime": t0.Add(55 * time.Minute).Format(time.RFC3339)}); p.status != 404 {
		t.Fatalf("patch deleted: %d %s", p.status, p.raw)
	}
}

func TestNotifications(t *testing.T) {
	e := newEnv(t, Options{})
	rc := newReceiver(t, true)
	sub := e.subscribe(rc, true, "Prefer", `IdType="ImmutableId"`)
	if sub.status != 201 {
		t.Fatalf("subscribe: %d %s", sub.status, sub.raw)
	}
	id, err := e.sim.UserCreateEvent(testUPN, simpleEvent("A", "2025-01-07T10:00:00", "2025-01-07T11:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	n := rc.next(t)
	if len(n) != 1 || n[0]["changeType"] != "created" || n[0]["clientState"] != "cs-1" || n[0]["subscriptionId"] != sub.str("id") {
		t.Fatalf("created: %v", n)
	}
	rd := n[0]["resourceData"].(map[string]any)
	if rd["@odata.type"] != "#Microsoft.Graph.Event" || !strings.HasPrefix(rd["@odata.etag"].(string), `W/"`) || rd["id"] == "" ||
		!strings.HasPrefix(n[0]["resource"].(string), "Users/") || n[0]["tenantId"] == "" || n[0]["subscriptionExpirationDateTime"] == "" {
		t.Fatalf("shape: %v", n[0])
	}
	if got := e.do("GET", "/v1.0/me/events/"+rd["id"].(string), nil); got.str("@odata.etag") != rd["@odata.etag"] {
		t.Fatalf("the notification's etag %v is not the event's %s", rd["@odata.etag"], got.raw)
	}
	// several updated for one change, each duplicated
	e.sim.SetNotifications(NotificationSettings{UpdatedRepeats: 3, Duplicate: true})
	if err := e.sim.UserUpdateEvent(testUPN, id, map[string]any{"subject": "B"}); err != nil {
		t.Fatal(err)
	}
	n = rc.next(t)
	distinct := map[any]bool{}
	for _, x := range n {
		if x["changeType"] != "updated" {
			t.Fatalf("update: %v", n)
		}
		distinct[x["id"]] = true
	}
	if len(n) != 6 || len(distinct) != 3 {
		t.Fatalf("repeats and duplicates: %d items, %d distinct", len(n), len(distinct))
	}
	// deleting an occurrence: only an updated on the master
	e.sim.SetNotifications(NotificationSettings{})
	series := simpleEvent("S", "2025-01-07T08:00:00", "2025-01-07T08:30:00")
	series["recurrence"] = map[string]any{"pattern": map[string]any{"type": "daily", "interval": 1},
		"range": map[string]any{"type": "numbered", "numberOfOccurrences": 3, "startDate": "2025-01-07"}}
	master, err := e.sim.UserCreateEvent(testUPN, series)
	if err != nil {
		t.Fatal(err)
	}
	rc.next(t)
	occ := e.do("GET", "/v1.0/me/events/"+master+"/instances?startDateTime=2025-01-01T00:00:00Z&endDateTime=2025-02-01T00:00:00Z", nil).items()
	if len(occ) != 3 {
		t.Fatalf("instances: %v", occ)
	}
	if err := e.sim.UserDeleteEvent(testUPN, occ[1]["id"].(string)); err != nil {
		t.Fatal(err)
	}
	n = rc.next(t)
	if len(n) != 1 || n[0]["changeType"] != "updated" || n[0]["resourceData"].(map[string]any)["id"] != formatID(mustKey(t, master), true) {
		t.Fatalf("occurrence delete: %v (master %s)", n, master)
	}
	// dropped, then the next one arrives
	e.sim.SetNotifications(NotificationSettings{Drop: 1})
	_ = e.sim.UserDeleteEvent(testUPN, id)
	_ = e.sim.UserDeleteEvent(testUPN, master)
	n = rc.next(t)
	if len(n) != 1 || n[0]["changeType"] != "deleted" {
		t.Fatalf("after drop: %v", n)
	}
	// lifecycle
	if err := e.sim.Lifecycle(sub.str("id"), LifecycleSubscriptionRemoved); err != nil {
		t.Fatal(err)
	}
	n = rc.next(t)
	if len(n) != 1 || n[0]["lifecycleEvent"] != "subscriptionRemoved" || n[0]["clientState"] != "cs-1" {
		t.Fatalf("lifecycle: %v", n)
	}
	if g := e.do("GET", "/v1.0/subscriptions/"+sub.str("id"), nil); g.status != 404 {
		t.Fatalf("removed: %d", g.status)
	}
}

func mustKey(t *testing.T, id string) string {
	t.Helper()
	k, bad := parseID(id)
	if bad {
		t.Fatalf("bad id %s", id)
	}
	return k
}

func TestSubscriptionControlAPI(t *testing.T) {
	e := newEnv(t, Options{})
	rc := newReceiver(t, true)
	id := e.subscribe(rc, true).str("id")
	ctl := func(method, path, body string) int {
		t.Helper()
		req, _ := http.NewRequest(method, e.srv.URL+"/_sim"+path, strings.NewReader(body))
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	for _, c := range []struct {
		method, path, body string
		want               int
	}{
		{"POST", "/subscriptions/" + id + "/lifecycle", `{"lifecycleEvent":"expired"}`, 400},
		{"POST", "/subscriptions/nope/lifecycle", `{"lifecycleEvent":"missed"}`, 404},
		{"POST", "/notifications", `{"delay":"soon"}`, 400},
		{"POST", "/notifications", `{"drop":1,"delay":"1ms"}`, 204},
		{"POST", "/subscriptions/" + id + "/lifecycle", `{"lifecycleEvent":"reauthorizationRequired"}`, 204},
	} {
		if got := ctl(c.method, c.path, c.body); got != c.want {
			t.Errorf("%s %s %s: %d, want %d", c.method, c.path, c.body, got, c.want)
		}
	}
	if n := rc.next(t); n[0]["lifecycleEvent"] != "reauthorizationRequired" {
		t.Fatalf("lifecycle: %v", n)
	}
	if subs := e.sim.Subscriptions(); len(subs) != 1 || subs[0].ID != id || subs[0].UPN != testUPN {
		t.Fatalf("Subscriptions() = %+v", subs)
	}
	// the drop switch took: the first change is lost, the second arrives
	first, _ := e.sim.UserCreateEvent(testUPN, simpleEvent("A", "2025-01-07T10:00:00", "2025-01-07T11:00:00"))
	e.sim.WaitNotifications()
	if err := e.sim.UserDeleteEvent(testUPN, first); err != nil {
		t.Fatal(err)
	}
	if n := rc.next(t); n[0]["changeType"] != "deleted" {
		t.Fatalf("after the drop: %v", n)
	}
}
