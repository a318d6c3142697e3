package calendar

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestReadRequests: the reads are the SDK's requests, sent through the
// session's middleware: the path and query its builders make, Accept
// JSON, the Prefer lines of the read (UTC, text bodies, the page size on
// delta) and the session's (ImmutableId), a token and the SDK's telemetry
// headers.
func TestReadRequests(t *testing.T) {
	var mu sync.Mutex
	var seen []*http.Request
	f, _ := hostileFixture(t, func(req *http.Request) bool {
		mu.Lock()
		seen = append(seen, req.Clone(context.Background()))
		mu.Unlock()
		return false
	}, nil)
	r := New(f.session, Options{PageSize: 7})
	res := apply(t, r, creates(1))
	id := res["oro-0"].Event.ID
	mu.Lock()
	seen = nil
	mu.Unlock()
	if _, err := r.Delta(context.Background(), window, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if _, err := r.FindByOroID(context.Background(), "oro-0"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 {
		t.Fatalf("%d requests, want 3", len(seen))
	}
	expand := expandOroID
	filter := "singleValueExtendedProperties/Any(ep: ep/id eq '" + OroIDPropertyID + "' and ep/value eq 'oro-0')"
	want := []struct {
		path   string
		query  url.Values
		prefer []string
	}{
		{"/v1.0/me/calendarView/delta()", url.Values{"startDateTime": {"2025-01-01T00:00:00Z"}, "endDateTime": {"2026-01-01T00:00:00Z"}},
			[]string{`outlook.timezone="UTC"`, `outlook.body-content-type="text"`, `odata.maxpagesize=7`, `IdType="ImmutableId"`}},
		{"/v1.0/me/events/" + id, url.Values{"$expand": {expand}},
			[]string{`outlook.timezone="UTC"`, `outlook.body-content-type="text"`, `IdType="ImmutableId"`}},
		{"/v1.0/me/events", url.Values{"$filter": {filter}, "$expand": {expand}},
			[]string{`outlook.timezone="UTC"`, `outlook.body-content-type="text"`, `IdType="ImmutableId"`}},
	}
	for i, w := range want {
		req := seen[i]
		if req.Method != http.MethodGet || req.URL.Path != w.path {
			t.Errorf("request %d: %s %s, want GET %s", i, req.Method, req.URL.Path, w.path)
		}
		if q := req.URL.Query(); !equalValues(q, w.query) {
			t.Errorf("request %d: query %v, want %v", i, q, w.query)
		}
		var prefer []string
		for _, v := range req.Header.Values("Prefer") {
			for p := range strings.SplitSeq(v, ",") {
				prefer = append(prefer, strings.TrimSpace(p))
			}
		}
		slices.Sort(prefer)
		slices.Sort(w.prefer)
		if !slices.Equal(prefer, w.prefer) {
			t.Errorf("request %d: Prefer %q, want %q", i, prefer, w.prefer)
		}
		if req.Header.Get("Accept") != "application/json" || !strings.HasPrefix(req.Header.Get("Authorization"), "Bearer ") ||
			req.Header.Get("client-request-id") == "" || req.Header.Get("SdkVersion") == "" {
			t.Errorf("request %d: headers %v", i, req.Header)
		}
	}
}

func equalValues(a, b url.Values) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}
