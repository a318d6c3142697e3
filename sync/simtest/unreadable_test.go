package simtest

import (
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestUnreadableEventIsAnIssue: a stored link naming an id Graph refuses
// (400 ErrorInvalidIdMalformed: an EWS-style id with "+"; one with "/",
// which would change the URL, is refused by Request.Validate) is an issue
// of that one event, run after run (reading it, then writing it); the
// other events are synchronized.
func TestUnreadableEventIsAnIssue(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	start := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	w.host.create("good", start)
	bad := w.host.create("bad link", start.Add(time.Hour))
	w.host.events[bad].Link = &calsync.Link{V: calsync.LinkVersion, RemoteID: "AAMk+bad.id", ETag: `W/"x"`, Hash: "x"}
	for run := range 2 {
		res, err := w.sync(t.Context(), calsync.Options{})
		if err != nil {
			t.Fatalf("run %d failed: %v", run, err)
		}
		// a full run reads the linked copy, an incremental one writes it
		want := calsync.ReasonReadFailed
		if run > 0 {
			want = calsync.ReasonWriteFailed
		}
		if len(res.Issues) != 1 || res.Issues[0].OroID != bad || res.Issues[0].Kind != calsync.KindRejected ||
			res.Issues[0].Reason != want || res.Issues[0].RemoteID != "AAMk+bad.id" {
			t.Errorf("run %d: issues %+v; want one %s issue for %s", run, res.Issues, want, bad)
		}
		w.host.apply(res)
	}
	if got := w.msEvents(); len(got) != 1 || got["good"] == "" {
		t.Errorf("Microsoft 365 holds %v; want the good event", got)
	}
}
