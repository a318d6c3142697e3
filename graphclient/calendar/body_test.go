package calendar

import (
	"context"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// Exchange keeps a body written as text as HTML and answers the text
// preference with CRLF line breaks and a trailing CRLF (facts §2; docs
// user-list-messages.md, example get_messages_in_text), as the simulator
// does by default. Every read of a body gives calsync.NormalizeText of it:
// the description that was written, whatever the conversion added.
func TestBodyReadNormalized(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	start := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	ev := calsync.RemoteEvent{Subject: "s", Body: "line 1\n\nline 2", Start: start, End: start.Add(time.Hour)}
	w := calsync.Write{Key: "k", Op: calsync.WriteCreate, OroID: "k", TransactionID: "tx-k", Event: ev}
	w.Event.Body = "line 1\r\n\r\nline 2 \n"
	res := apply(t, r, []calsync.Write{w})
	mustOK(t, res)
	created := res["k"].Event
	sameContent(t, "create answer", *created, ev)

	got, err := r.Get(context.Background(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	sameContent(t, "get", got, ev)
	found, err := r.FindByOroID(context.Background(), "k")
	if err != nil || len(found) != 1 {
		t.Fatalf("find: %+v, %v", found, err)
	}
	sameContent(t, "find", found[0], ev)
	events, _, _ := pull(t, r, "")
	sameContent(t, "delta", events[created.ID], ev)
}
