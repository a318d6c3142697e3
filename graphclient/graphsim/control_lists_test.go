package graphsim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The control API's lists answer [] when empty, as its README shows, never
// null (a client iterating the value must not need a null check).
func TestControlListsEmptyAreArrays(t *testing.T) {
	e := newEnv(t, Options{})
	for _, path := range []string{"/_sim/mail", "/_sim/unimplemented"} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"value":[]`) {
			t.Errorf("GET %s = %s, want an empty array", path, b)
		}
	}
}

// GET /_sim/users/{upn}/events/{id}/occurrences lists a series' plain
// occurrences in order; one cancelled or turned into an exception leaves.
func TestControlOccurrences(t *testing.T) {
	e := newEnv(t, Options{})
	id, err := e.sim.UserCreateEvent(testUPN, map[string]any{"subject": "weekly",
		"start": map[string]any{"dateTime": "2025-01-06T09:00:00", "timeZone": "UTC"},
		"end":   map[string]any{"dateTime": "2025-01-06T09:30:00", "timeZone": "UTC"},
		"recurrence": map[string]any{"pattern": map[string]any{"type": "weekly", "interval": 1, "daysOfWeek": []any{"monday"}},
			"range": map[string]any{"type": "numbered", "startDate": "2025-01-06", "numberOfOccurrences": 4}}})
	if err != nil {
		t.Fatal(err)
	}
	list := func() []any {
		resp, err := http.Get(e.srv.URL + "/_sim/users/" + testUPN + "/events/" + id + "/occurrences")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Value []any }
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		return out.Value
	}
	occ := list()
	if len(occ) != 4 {
		t.Fatalf("occurrences %v, want 4", occ)
	}
	if err := e.sim.UserDeleteEvent(testUPN, occ[1].(string)); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.UserUpdateEvent(testUPN, occ[2].(string), map[string]any{"subject": "moved"}); err != nil {
		t.Fatal(err)
	}
	if got := list(); len(got) != 2 || got[0] != occ[0] || got[1] != occ[3] {
		t.Errorf("after a cancellation and an exception: %v, want %v and %v", got, occ[0], occ[3])
	}
}
