package calsync_test

import (
	"context"
	"strings"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// The transactionId of our creates carries the Oro id (delta items carry
// no extended property, only the transactionId): it reads back for any Oro
// id, differs per uid and per replaced copy, stays short and plain ASCII,
// and nothing else reads as ours.
func TestTransactionIDCarriesOroID(t *testing.T) {
	for _, id := range []string{"1", "12345", "9223372036854775807", "6f1c2a4e-9b3d-4c55-8e21-7a0b9c3d2e1f", "a.b/c?d=e f", "Zürich-7", "..."} {
		tx := calsync.TransactionID(id, "uid-"+id, "")
		got, ok := calsync.OroIDFromTransactionID(tx)
		if !ok || got != id {
			t.Errorf("OroIDFromTransactionID(%q) = %q, %v; want %q", tx, got, ok, id)
		}
		for _, r := range tx {
			if r > '~' || r <= ' ' || strings.ContainsRune(`"'\%#&+`, r) {
				t.Errorf("transactionId %q has %q: not plain", tx, r)
			}
		}
		re := calsync.TransactionID(id, "uid-"+id, "AAMk1")
		if got, ok := calsync.OroIDFromTransactionID(re); re == tx || !ok || got != id {
			t.Errorf("re-creation %q (first %q) reads %q, %v", re, tx, got, ok)
		}
		if other := calsync.TransactionID(id, "uid-other", ""); other == tx {
			t.Errorf("uid not part of the transactionId %q", tx)
		}
		if again := calsync.TransactionID(id, "uid-"+id, ""); again != tx {
			t.Errorf("not deterministic: %q, %q", tx, again)
		}
	}
	if tx := calsync.TransactionID("12345", "oro-12345@oro.example.com", ""); len(tx) > 36 {
		t.Errorf("transactionId %q: %d characters, longer than the UUIDs of earlier versions", tx, len(tx))
	}
	for _, tx := range []string{"", "6f1c2a4e-9b3d-5c55-8e21-7a0b9c3d2e1f", "oro1.", "oro1.MTIz", "oro1..0123456789abcdef",
		"oro1.MTIz.0123456789abcde", "oro1.MTIz.0123456789ABCDEF", "oro1.M!Iz.0123456789abcdef", "oro1.MTJ.0123456789abcdef", "oro1.M.0123456789abcdef", "ORO1.MTIz.0123456789abcdef"} {
		if id, ok := calsync.OroIDFromTransactionID(tx); ok {
			t.Errorf("OroIDFromTransactionID(%q) = %q: not one of ours", tx, id)
		}
	}
}

// legacyTx is the fake whose creates get the UUID-shaped transactionIds
// earlier versions set (uid: the Oro events' uids): the events carry our
// Oro id property, but their transactionIds name no Oro event.
type legacyTx struct {
	*scenario.Fake
	uid map[string]string
}

func (r legacyTx) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	for i := range writes {
		if w := &writes[i]; w.Op == calsync.WriteCreate {
			w.TransactionID = calsync.LegacyTransactionID(w.OroID, r.uid[w.OroID], "")
			w.Event.TransactionID = w.TransactionID
		}
	}
	return r.Fake.Apply(ctx, writes)
}

// Like Graph's delta, the fake's carries no Oro id property: an Outlook
// edit of an event an earlier version created (UUID-shaped transactionId),
// whose Oro event is not sent, is an upsert by remoteId that the host
// applies to the linked event keeping its uid; findByOroId still finds it.
func TestLegacyTransactionIDEditIsUpsert(t *testing.T) {
	w := newWorld(t)
	w.remote = legacyTx{w.fake, map[string]string{"e1": "oro-e1@oro.example.com"}}
	w.host.Add(calsync.Event{ID: "e1", UID: "oro-e1@oro.example.com", Title: "one", Start: "2026-01-20T09:00:00Z", End: "2026-01-20T10:00:00Z"})
	w.sync(calsync.Options{})
	id := w.host.Events["e1"].Link.RemoteID
	w.fake.Edit(id, func(ev *calsync.RemoteEvent) { ev.Subject = "edited in Outlook" })
	res := w.sync(calsync.Options{})
	if len(res.Operations) != 1 {
		t.Fatalf("operations %+v; want one", res.Operations)
	}
	op := res.Operations[0]
	if op.Op != calsync.OpCreate || op.OroID != "" || op.RemoteID != id || op.Reason != calsync.ReasonMicrosoftCreated {
		t.Errorf("%s oro=%q ms=%s (%s); want an upsert by remoteId %s (microsoft_created): the delta item names no Oro event", op.Op, op.OroID, op.RemoteID, op.Reason, id)
	}
	if e := w.host.Events["e1"]; len(w.host.Events) != 1 || e.Title != "edited in Outlook" || e.UID != "oro-e1@oro.example.com" {
		t.Errorf("Oro: %d events, e1 %q uid %q; want the edit applied to e1, its uid kept", len(w.host.Events), e.Title, e.UID)
	}
	if found, err := w.fake.FindByOroID(context.Background(), "e1"); err != nil || len(found) != 1 || found[0].ID != id {
		t.Errorf("findByOroId e1: %+v, %v", found, err)
	}
}

// An Outlook edit of an event we created, whose Oro event is not in the
// request, updates that Oro event and carries no uid: Microsoft's iCalUId
// is not Oro's.
func TestMicrosoftEditOfOurEventCarriesNoUID(t *testing.T) {
	w := newWorld(t)
	w.host.Add(calsync.Event{ID: "e1", UID: "oro-e1@oro.example.com", Title: "one", Start: "2026-01-20T09:00:00Z", End: "2026-01-20T10:00:00Z"})
	w.sync(calsync.Options{})
	id := w.host.Events["e1"].Link.RemoteID
	w.fake.Edit(id, func(ev *calsync.RemoteEvent) { ev.Subject = "edited in Outlook" })
	res := w.sync(calsync.Options{})
	if len(res.Operations) != 1 {
		t.Fatalf("operations %+v; want one", res.Operations)
	}
	if op := res.Operations[0]; op.Op != calsync.OpUpdate || op.OroID != "" || op.RemoteID != id || op.Event == nil || op.Event.UID != "" {
		t.Errorf("%s oro=%q ms=%s event %+v; want an update of e1 (by remoteId) without uid", op.Op, op.OroID, op.RemoteID, op.Event)
	}
	if e := w.host.Events["e1"]; e.Title != "edited in Outlook" || e.UID != "oro-e1@oro.example.com" {
		t.Errorf("e1 now %q uid %q", e.Title, e.UID)
	}
}

// A create of an earlier version whose result the host lost (the Oro event
// is sent unlinked again) is recognised by its UUID-shaped transactionId:
// linked, not created a second time.
func TestLegacyLostCreateIsRecovered(t *testing.T) {
	w := newWorld(t)
	w.host.Add(calsync.Event{ID: "e1", UID: "oro-e1@oro.example.com", Title: "one", Start: "2026-01-20T09:00:00Z", End: "2026-01-20T10:00:00Z"})
	req := w.host.Request(calsync.ModeFull, bothWays, calsync.Options{})
	lost, err := calsync.Run(context.Background(), req, legacyTx{w.fake, map[string]string{"e1": "oro-e1@oro.example.com"}}, calsync.RunOptions{Now: w.clock.Now})
	if err != nil || lost.Stats.Pushed != 1 {
		t.Fatalf("first run: %v, pushed %d", err, lost.Stats.Pushed)
	}
	w.clock.Advance(time.Minute) // its result never reaches the host
	res := w.sync(calsync.Options{})
	if res.Stats.Pushed != 0 || len(w.fake.Events()) != 1 {
		t.Errorf("pushed %d, %d events in Microsoft 365; want the lost create linked, not repeated", res.Stats.Pushed, len(w.fake.Events()))
	}
	if l := w.host.Events["e1"].Link; l == nil || l.RemoteID != w.fake.Events()[0].ID {
		t.Errorf("e1 link %+v; want the first create's copy", l)
	}
}
