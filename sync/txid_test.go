package calsync_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

// The transactionId of our creates carries the Oro id (delta items carry
// no extended property, only the transactionId): it reads back for any Oro
// id, differs per uid and per replaced copy, stays short and plain ASCII,
// and is the same for the same create.
func TestTransactionIDCarriesOroID(t *testing.T) {
	for _, id := range []string{"0", "1", "42", "12345", "4611686018427387904", "9223372036854775807",
		"9223372036854775808", "042", "+1", "-1", "1e3", " 1", "6f1c2a4e-9b3d-4c55-8e21-7a0b9c3d2e1f", "a.b/c?d=e f", "Zürich-7", "..."} {
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
		if re2 := calsync.TransactionID(id, "uid-"+id, "AAMk2"); re2 == re {
			t.Errorf("replaced copy not part of the transactionId %q", re)
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
}

// uuidV8 matches a canonical lowercase RFC 9562 UUID, version 8.
var uuidV8 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Oro's usual ids, canonical decimal integers up to 2^63-1, get a UUIDv8
// transactionId (the shape of Graph's examples) that starts with our magic
// and ends with the Oro id; any other Oro id gets the "oro1." form. The
// pinned values guard the layout: changing it would stop recognising
// creates whose results were lost across an upgrade.
func TestTransactionIDIsUUIDForIntegerIDs(t *testing.T) {
	for _, c := range []struct{ id, uid, replaces, want string }{
		{"0", "u", "", "6f724cc6-97fa-839c-8000-000000000000"},
		{"42", "u", "", "6f72a600-09f1-849e-8000-00000000002a"},
		{"9223372036854775807", "u", "", "6f724949-f23d-8967-bfff-ffffffffffff"},
	} {
		if tx := calsync.TransactionID(c.id, c.uid, c.replaces); tx != c.want {
			t.Errorf("TransactionID(%q, %q, %q) = %q; want %q", c.id, c.uid, c.replaces, tx, c.want)
		}
	}
	for _, id := range []string{"0", "7", "42", "12345", "4611686018427387903", "4611686018427387904", "9223372036854775807"} {
		for _, replaces := range []string{"", "AAMk1"} {
			tx := calsync.TransactionID(id, "oro-"+id+"@oro.example.com", replaces)
			if !uuidV8.MatchString(tx) || !strings.HasPrefix(tx, "6f72") {
				t.Errorf("TransactionID(%q) = %q; want a UUIDv8 starting with our magic", id, tx)
			}
		}
	}
	for _, id := range []string{"", "9223372036854775808", "18446744073709551615", "042", "00", "+1", "-1", "1_000", "0x1f", "1.0", "１２", "abc"} {
		if tx := calsync.TransactionID(id, "uid", ""); !strings.HasPrefix(tx, "oro1.") {
			t.Errorf("TransactionID(%q) = %q; want the oro1. fallback", id, tx)
		}
	}
}

// Only our own transactionIds read as ours: not earlier versions' v5-style
// UUIDs, not other UUIDs (a UUIDv8 without our magic, ours with the version
// or variant changed), not malformed "oro1." ones.
func TestOroIDFromTransactionIDRejectsOthers(t *testing.T) {
	for _, tx := range []string{"",
		calsync.LegacyTransactionID("42", "uid", ""),
		"6f1c2a4e-9b3d-5c55-8e21-7a0b9c3d2e1f",          // v5-style
		"6f72a600-09f1-449e-8000-00000000002a",          // ours as version 4
		"6f72a600-09f1-849e-c000-00000000002a",          // ours with variant 110
		"6f72a600-09f1-849e-0000-00000000002a",          // ours with variant 0
		"6f73a600-09f1-849e-8000-00000000002a",          // UUIDv8, another magic
		"00000000-0000-8000-8000-00000000002a",          // UUIDv8, no magic
		"6f72a600-09f1-849e-8000-00000000002",           // short
		"6f72a600-09f1-849e-8000-00000000002a0",         // long
		"6f72a60009f1-849e-8000-00000000002a-",          // hyphens misplaced
		"6f72a600-09f1-849e-8000-0000000000g2",          // not hex
		"{6f72a600-09f1-849e-8000-00000000002a}",        // braced
		"urn:uuid:6f72a600-09f1-849e-8000-00000000002a", // URN
		"oro1.", "oro1.MTIz", "oro1..0123456789abcdef", "oro1.MTIz.0123456789abcde", "oro1.MTIz.0123456789ABCDEF",
		"oro1.M!Iz.0123456789abcdef", "oro1.MTJ.0123456789abcdef", "oro1.M.0123456789abcdef", "ORO1.MTIz.0123456789abcdef",
	} {
		if id, ok := calsync.OroIDFromTransactionID(tx); ok {
			t.Errorf("OroIDFromTransactionID(%q) = %q: not one of ours", tx, id)
		}
	}
	if id, ok := calsync.OroIDFromTransactionID("6F72A600-09F1-849E-8000-00000000002A"); !ok || id != "42" {
		t.Errorf("upper-case UUIDv8 of 42 reads %q, %v", id, ok)
	}
	// the earlier "oro1." form of an integer id, which a create of the
	// previous version carries, still reads back
	if id, ok := calsync.OroIDFromTransactionID("oro1.NDI.0123456789abcdef"); !ok || id != "42" {
		t.Errorf("oro1. form of 42 reads %q, %v", id, ok)
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
