package simtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/graphclient/calendar"
	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// Graph's delta items carry no Oro id property, only our transactionId:
// Outlook edits of events created in Oro, whose Oro events are not sent,
// are not creations, so a month of edits does not grow the guard's bases,
// and deleting them all in Outlook still trips the guard.
func TestGuardBasesIgnoreEditsOfOurEvents(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	start := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	for i := range 10 {
		w.host.create(fmt.Sprintf("ev%d", i), start.Add(time.Duration(i)*24*time.Hour))
	}
	w.mustSync(calsync.Options{})
	for round := range 3 {
		for _, e := range w.sim.Events(upn) {
			if err := w.sim.UserUpdateEvent(upn, e["id"].(string), map[string]any{"location": map[string]any{"displayName": fmt.Sprintf("room %d", round)}}); err != nil {
				t.Fatal(err)
			}
		}
		res := w.mustSync(calsync.Options{})
		for _, op := range res.Operations {
			// the Oro event is found by the link stored for remoteId
			if op.Op != calsync.OpUpdate || op.OroID != "" || op.RemoteID == "" || op.Reason != calsync.ReasonMicrosoftChanged {
				t.Errorf("edit round %d: %s oro=%q ms=%s (%s); want an update of the Oro event linked to ms", round, op.Op, op.OroID, op.RemoteID, op.Reason)
			}
		}
		if st := w.host.state; st.OroCount != 10 || st.MicrosoftCount != 10 {
			t.Errorf("edit round %d: oroCount %d, microsoftCount %d; want 10 and 10", round, st.OroCount, st.MicrosoftCount)
		}
	}
	for _, e := range w.sim.Events(upn) {
		if err := w.sim.UserDeleteEvent(upn, e["id"].(string)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := w.sync(t.Context(), calsync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range res.Operations {
		if op.Op == calsync.OpDelete {
			t.Errorf("Oro event %s deleted; want the guard to stop all 10 deletions", op.OroID)
		}
	}
	if res.Status != calsync.StatusPartial || res.Reason != calsync.ReasonMassDeleteGuard || len(res.Guards) != 1 || res.Guards[0].Side != "oro" {
		t.Errorf("status %s (%s), guards %+v; want partial, mass_delete_guard on the Oro side", res.Status, res.Reason, res.Guards)
	}
}

// An Outlook edit of an event created in Oro is an update of that Oro
// event (microsoft_changed) that leaves its uid alone, not a create
// carrying Graph's iCalUId.
func TestOutlookEditOfOroEventIsUpdate(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	id := w.host.create("planning", time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC))
	w.mustSync(calsync.Options{})
	msID := w.host.events[id].Link.RemoteID
	if err := w.sim.UserUpdateEvent(upn, msID, map[string]any{"subject": "planning (room 4)"}); err != nil {
		t.Fatal(err)
	}
	res := w.mustSync(calsync.Options{})
	if len(res.Operations) != 1 {
		t.Fatalf("operations %+v; want one", res.Operations)
	}
	op := res.Operations[0]
	// no oroId: the host finds the Oro event by the link stored for remoteId
	if op.Op != calsync.OpUpdate || op.OroID != "" || op.RemoteID != msID || op.Reason != calsync.ReasonMicrosoftChanged || op.Event == nil || op.Event.UID != "" {
		t.Errorf("%s oro=%q ms=%s (%s) event %+v; want an update of %s (microsoft_changed) without uid", op.Op, op.OroID, op.RemoteID, op.Reason, op.Event, id)
	}
	if ev := w.host.events[id]; len(w.host.events) != 1 || ev.Title != "planning (room 4)" || ev.UID != "uid-"+id {
		t.Errorf("Oro: %d events, %s %q uid %q", len(w.host.events), id, ev.Title, ev.UID)
	}
	if res.Stats.Pulled != 1 {
		t.Errorf("pulled %d, want 1", res.Stats.Pulled)
	}
}

// legacyRemote creates events with UUID-shaped transactionIds, as earlier
// versions did.
type legacyRemote struct{ calsync.Remote }

func (r legacyRemote) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	for i := range writes {
		if writes[i].Op == calsync.WriteCreate {
			writes[i].TransactionID = fmt.Sprintf("6f1c2a4e-9b3d-5c55-8e21-%012d", i)
		}
	}
	return r.Remote.Apply(ctx, writes)
}

// An event an earlier version created carries no Oro id in its
// transactionId: its Outlook edit, with its Oro event not sent, is an
// upsert by remoteId carrying Graph's iCalUId, which the host applies to
// the linked event keeping its uid; findByOroId still finds it.
func TestLegacyTransactionIDKeepsOroUID(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	id := w.host.create("planning", time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC))
	session, err := graphclient.NewSession(t.Context(), w.cfg, w.app, w.tok)
	if err != nil {
		t.Fatal(err)
	}
	r := calendar.New(session, calendar.Options{Backoff: 20 * time.Millisecond})
	req := w.host.request(w.dir, w.strat, calsync.Options{})
	res, err := calsync.Run(t.Context(), req, legacyRemote{r}, calsync.RunOptions{})
	if err != nil || len(res.Issues) > 0 {
		t.Fatalf("first sync: %v %+v", err, res.Issues)
	}
	if tok, rotated := session.Tokens(); rotated {
		w.tok = tok
	}
	w.host.apply(res)
	msID := w.host.events[id].Link.RemoteID
	if err := w.sim.UserUpdateEvent(upn, msID, map[string]any{"subject": "planning (room 4)"}); err != nil {
		t.Fatal(err)
	}
	res = w.mustSync(calsync.Options{})
	if len(res.Operations) != 1 {
		t.Fatalf("operations %+v; want one", res.Operations)
	}
	if op := res.Operations[0]; op.Op != calsync.OpCreate || op.RemoteID != msID || op.Reason != calsync.ReasonMicrosoftCreated {
		t.Errorf("%s oro=%q ms=%s (%s); want an upsert by remoteId %s", op.Op, op.OroID, op.RemoteID, op.Reason, msID)
	}
	if ev := w.host.events[id]; len(w.host.events) != 1 || ev.Title != "planning (room 4)" || ev.UID != "uid-"+id {
		t.Errorf("Oro: %d events, %s %q uid %q; want the edit applied, uid %q kept", len(w.host.events), id, ev.Title, ev.UID, "uid-"+id)
	}
	found, err := r.FindByOroID(t.Context(), id)
	if err != nil || len(found) != 1 || found[0].ID != msID || found[0].OroID != id {
		t.Errorf("findByOroId %s: %+v, %v", id, found, err)
	}
}

// A staging installation connected to the same mailbox created an event
// for ITS Oro event with our id (our extended property, its own
// transactionId). This host's tombstone of that id, whose create failed
// and which no result linked, is looked up by Oro id and finds it: it must
// not be taken for a copy of ours, neither deleted nor linked.
func TestStagingEventFoundByOroIDNotTaken(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	w.mustSync(calsync.Options{})
	id := w.host.create("dentist", time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC))
	w.sim.AddFault(graphsim.Fault{Method: "POST", Path: "/v1.0/me/events", Status: 400})
	res, err := w.sync(context.Background(), calsync.Options{})
	if err != nil || len(res.Issues) != 1 {
		t.Fatalf("failed create: %v, issues %+v; want its rejected create", err, res.Issues)
	}
	w.host.apply(res)

	session, err := graphclient.NewSession(context.Background(), w.cfg, w.app, w.tok)
	if err != nil {
		t.Fatal(err)
	}
	s := time.Date(2025, 3, 20, 15, 0, 0, 0, time.UTC)
	staging, err := calendar.New(session, calendar.Options{}).Apply(context.Background(), []calsync.Write{{Key: "s", Op: calsync.WriteCreate, OroID: id,
		TransactionID: calsync.TransactionID(id, "uid-of-staging-"+id, ""), Event: calsync.RemoteEvent{Subject: "staging: board prep", Start: s, End: s.Add(time.Hour)}}})
	if err != nil || staging[0].Err != nil {
		t.Fatalf("staging create: %v %+v", err, staging)
	}
	if tok, rotated := session.Tokens(); rotated {
		w.tok = tok
	}
	w.host.remove(id)
	res, err = w.sync(context.Background(), calsync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w.host.apply(res)
	if w.requests[calendar.KindFind] != 1 {
		t.Errorf("lookups by Oro id %d; want the tombstone's one", w.requests[calendar.KindFind])
	}
	if _, ok := w.msEvents()["staging: board prep"]; !ok {
		t.Errorf("the staging copy's event was deleted: %v", w.msEvents())
	}
	for _, op := range res.Operations {
		if op.OroID == id && op.RemoteID == staging[0].Event.ID {
			t.Errorf("op %s names %s with the staging copy's event", op.Op, id)
		}
	}
}
