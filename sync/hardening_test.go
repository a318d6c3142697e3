package calsync_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// panicGet is the fake with a Get that panics (a nil answer of an SDK
// dereferenced, say), called from the engine's read goroutines.
type panicGet struct{ calsync.Remote }

func (panicGet) Get(context.Context, string) (calsync.RemoteEvent, error) {
	panic("nil answer dereferenced")
}

// A Remote that panics in a read the engine runs in its own goroutines (the
// Get confirming a removal) fails that run with kind internal: the process
// goes on. Before, the panic crashed the process.
func TestPanickingReadIsTheRunsError(t *testing.T) {
	w := newWorld(t)
	ids := w.seedLinked(3)
	w.fake.Delete(ids[0])
	req := w.host.Request(calsync.ModeIncremental, bothWays, calsync.Options{})
	_, err := calsync.Run(context.Background(), req, panicGet{w.fake}, calsync.RunOptions{Now: w.clock.Now})
	if k := calsync.KindOf(err); k != calsync.KindInternal {
		t.Fatalf("run answered %v (kind %q); want a %q error", err, k, calsync.KindInternal)
	}
}

// badIDs is the fake answering unusable ids: delta items whose subject
// starts with "bad" carry the id bad[subject], and the events its creates
// return carry the id created.
type badIDs struct {
	calsync.Remote
	bad     map[string]string
	created *string
}

func (r badIDs) Delta(ctx context.Context, w calsync.Window, link string) (calsync.DeltaPage, error) {
	p, err := r.Remote.Delta(ctx, w, link)
	for i := range p.Events {
		if id, ok := r.bad[p.Events[i].Subject]; ok {
			p.Events[i].ID = id
		}
	}
	return p, err
}

func (r badIDs) Apply(ctx context.Context, writes []calsync.Write) ([]calsync.WriteResult, error) {
	res, err := r.Remote.Apply(ctx, writes)
	for i := range res {
		if res[i].Event != nil && r.created != nil {
			ev := *res[i].Event
			ev.ID = *r.created
			res[i].Event = &ev
		}
	}
	return res, err
}

// An item Microsoft answers without a usable id (none, "..", one with a
// "/") never becomes an operation or a link: it is an issue of Microsoft's
// (retryable), and the rest of the run goes on. Nor does the event a create
// answers without one: its Oro event stays pending (the settle round may
// link it to its copy, read with a good id). Before, such an item
// became a create whose link had that remoteId, which broke the host's
// next call.
func TestUnusableMicrosoftIDIsNeverEmitted(t *testing.T) {
	for _, id := range []string{"", "..", "AAMk/x", "AAMk\x00"} {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			w := newWorld(t)
			s := time.Date(2026, 1, 20, 9, 0, 0, 0, time.UTC)
			w.fake.Seed("", calsync.RemoteEvent{Subject: "bad", IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
			good := w.fake.Seed("", calsync.RemoteEvent{Subject: "good", IsOrganizer: true, Start: s, End: s.Add(time.Hour)})
			w.host.Add(calsync.Event{ID: "e1", Title: "oro", Start: "2026-01-14T09:00:00Z", End: "2026-01-14T10:00:00Z"})
			w.remote = badIDs{Remote: w.fake, bad: map[string]string{"bad": id}, created: &id}
			res := w.sync(calsync.Options{})
			checkEmitted(t, res)
			if !w.hasLinked(good) {
				t.Errorf("the good item %s was not pulled", good)
			}
			if e := w.host.Events["e1"]; !e.Dirty {
				t.Errorf("e1 is synced; want it pending (its create answered no usable id)")
			}
			if !hasIssue(res, "", calsync.ReasonReadFailed) || !hasIssue(res, "e1", calsync.ReasonReadFailed) {
				t.Errorf("issues %+v; want read_failed for the item and for e1", res.Issues)
			}
		})
	}
}

func checkEmitted(t *testing.T, res calsync.Result) {
	t.Helper()
	for _, op := range res.Operations {
		if op.Op != calsync.OpLink && op.RemoteID == "" || op.Link != nil && !validID(op.Link.RemoteID) || op.RemoteID != "" && !validID(op.RemoteID) {
			t.Errorf("operation %s oro=%s remoteId=%q link=%+v: an unusable remote id handed to the host", op.Op, op.OroID, op.RemoteID, op.Link)
		}
	}
}

func validID(id string) bool {
	return id != "" && id != ".." && !strings.ContainsAny(id, "/\x00")
}

func hasIssue(res calsync.Result, oroID string, reason calsync.Reason) bool {
	for _, is := range res.Issues {
		if is.OroID == oroID && is.Reason == reason && is.Retryable {
			return true
		}
	}
	return false
}

// badLinks is the fake answering a delta link it did not make.
type badLinks struct {
	calsync.Remote
	link string
}

func (r badLinks) Delta(ctx context.Context, w calsync.Window, link string) (calsync.DeltaPage, error) {
	p, err := r.Remote.Delta(ctx, w, link)
	if p.DeltaLink != "" {
		p.DeltaLink = r.link
	}
	return p, err
}

// A delta link Microsoft answers that the next call could not use (one
// that is not a URL, or one RunOptions.CheckLink refuses: outside the Graph
// endpoint) fails the run as Microsoft's fault (unavailable, retryable) and
// never reaches the state. Before, it was stored, and every later call
// failed on the host's state.
func TestUnusableDeltaLinkNeverReachesTheState(t *testing.T) {
	ours := func(field, link string) error {
		if !strings.HasPrefix(link, "delta/") && !strings.HasPrefix(link, "next/") {
			return calsync.Invalid(field, "is not a link of the fake")
		}
		return nil
	}
	for _, tc := range []struct {
		link  string
		check func(field, link string) error
	}{
		{"delta/0/1 \r\nX-Evil: 1", nil},
		{strings.Repeat("d", calsync.MaxLinkBytes+1), nil},
		{"https://evil.example/v1.0/me/calendarView/delta?$deltatoken=x", ours},
	} {
		w := newWorld(t)
		w.host.Add(calsync.Event{ID: "e1", Title: "oro", Start: "2026-01-14T09:00:00Z", End: "2026-01-14T10:00:00Z"})
		req := w.host.Request(calsync.ModeFull, bothWays, calsync.Options{})
		res, err := calsync.Run(context.Background(), req, badLinks{w.fake, tc.link}, calsync.RunOptions{Now: w.clock.Now, CheckLink: tc.check})
		if ae := calsync.AsError(err); ae == nil || ae.Kind != calsync.KindUnavailable || !ae.Kind.Retryable() {
			t.Errorf("link %.40q: run answered %v with state %+v; want an unavailable error", tc.link, err, res.State)
		}
	}
}

// The host's state is checked with RunOptions.CheckLink too, naming the field.
func TestStateLinkCheckedWithCheckLink(t *testing.T) {
	w := newWorld(t)
	w.seedLinked(1)
	req := w.host.Request(calsync.ModeIncremental, bothWays, calsync.Options{})
	refuse := errors.New("refused")
	var fields []string
	_, err := calsync.Run(context.Background(), req, w.fake, calsync.RunOptions{Now: w.clock.Now, CheckLink: func(field, link string) error {
		fields = append(fields, field)
		return calsync.Invalid(field, "%v", refuse)
	}})
	if ae := calsync.AsError(err); ae == nil || ae.Field != "state.deltaLink" || strings.Join(fields, ",") != "state.deltaLink" {
		t.Errorf("run answered %v after checking %v; want invalid_input on state.deltaLink", err, fields)
	}
}

// Counts the host sends back must not be negative (a negative one would
// let deletions past the mass-delete guard), nor the time budget out of
// range (seconds*time.Second overflowed: every call did nothing); a remote
// id must be one Graph could have given, and no two events may be linked
// to the same Microsoft event. Each is refused naming the field.
func TestValidateRejectsBadRequests(t *testing.T) {
	link := func(id string) *calsync.Link { return &calsync.Link{V: calsync.LinkVersion, RemoteID: id} }
	ev := func(id string, l *calsync.Link) calsync.Event { return calsync.Event{ID: id, Link: l} }
	st := func(f func(*calsync.State)) *calsync.State {
		s := &calsync.State{V: calsync.StateVersion}
		f(s)
		return s
	}
	for _, tc := range []struct {
		field string
		req   calsync.Request
	}{
		{"state.roundOroDeletes", calsync.Request{State: st(func(s *calsync.State) { s.RoundOroDeletes = -1000 })}},
		{"state.oroCount", calsync.Request{State: st(func(s *calsync.State) { s.OroCount = -1 })}},
		{"state.microsoftCount", calsync.Request{State: st(func(s *calsync.State) { s.MicrosoftCount = -1 })}},
		{"state.refusedReads", calsync.Request{State: st(func(s *calsync.State) { s.RefusedReads = -1 })}},
		{"state.deltaLink", calsync.Request{State: st(func(s *calsync.State) { s.DeltaLink = "delta/0/1\n" })}},
		{"state.nextLink", calsync.Request{State: st(func(s *calsync.State) { s.NextLink = "next link" })}},
		{"state.sent[1]", calsync.Request{State: st(func(s *calsync.State) { s.Sent = []calsync.SentMinute{{At: t0, N: 1}, {At: t0, N: -5}} })}},
		{"state.sent[0]", calsync.Request{State: st(func(s *calsync.State) { s.Sent = []calsync.SentMinute{{N: 3}} })}},
		{"state.sent", calsync.Request{State: st(func(s *calsync.State) { s.Sent = make([]calsync.SentMinute, calsync.MaxSent+1) })}},
		{"options.oroEventCount", calsync.Request{Options: calsync.Options{OroEventCount: -1}}},
		{"options.timeBudgetSeconds", calsync.Request{Options: calsync.Options{TimeBudgetSeconds: 9223372037}}},
		{"options.timeBudgetSeconds", calsync.Request{Options: calsync.Options{TimeBudgetSeconds: calsync.MaxTimeBudgetSeconds + 1}}},
		{"options.timeBudgetSeconds", calsync.Request{Options: calsync.Options{TimeBudgetSeconds: -1}}},
		{"events[1].link.remoteId", calsync.Request{Events: []calsync.Event{ev("a", link("AAMk1")), ev("b", link("AAMk1"))}}},
		{"events[2].link.remoteId", calsync.Request{Events: []calsync.Event{ev("a", link("AAMk1")), ev("b", nil), ev("c", link("AAMk1"))}}},
		{"events[0].link.remoteId", calsync.Request{Events: []calsync.Event{ev("a", link(".."))}}},
		{"events[0].link.remoteId", calsync.Request{Events: []calsync.Event{ev("a", link("."))}}},
		{"events[0].link.remoteId", calsync.Request{Events: []calsync.Event{ev("a", link("AAMk/.."))}}},
		{"events[0].link.remoteId", calsync.Request{Events: []calsync.Event{ev("a", link("AAMk?x=1"))}}},
		{"events[0].link.remoteId", calsync.Request{Events: []calsync.Event{ev("a", link("AAMk#x"))}}},
		{"events[0].link.remoteId", calsync.Request{Events: []calsync.Event{ev("a", link("AAMk\x01"))}}},
		{"events[0].link.remoteId", calsync.Request{Events: []calsync.Event{ev("a", link("AAMk x"))}}},
		{"events[0].link.remoteId", calsync.Request{Events: []calsync.Event{ev("a", link(""))}}},
	} {
		err := tc.req.Validate()
		if ae := calsync.AsError(err); ae == nil || ae.Kind != calsync.KindInvalidInput || ae.Field != tc.field {
			t.Errorf("%s: Validate answered %v; want invalid_input naming %s", tc.field, err, tc.field)
		}
	}
	ok := calsync.Request{
		State: st(func(s *calsync.State) {
			s.DeltaLink = "https://graph.microsoft.com/v1.0/me/calendarView/delta?$deltatoken=a-b_c%3D"
		}),
		Options: calsync.Options{TimeBudgetSeconds: calsync.MaxTimeBudgetSeconds},
		Events: []calsync.Event{
			ev("a", link("AAMkAGI2TG93AAA=")),
			ev("b", link("AAMkADk0-_Zm=ABGAAAAAACaQ==")),
			ev("c", link("aaMk.AAA")),
		},
	}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate refused a good request: %v", err)
	}
}

// The time budget never overflows: seconds past any sane range give the
// largest budget, not a negative one (with which every call did nothing).
func TestTimeBudgetDoesNotOverflow(t *testing.T) {
	for _, s := range []int{calsync.MaxTimeBudgetSeconds, calsync.MaxTimeBudgetSeconds + 1, 9223372037, 1 << 62} {
		if got := (calsync.Options{TimeBudgetSeconds: s}).TimeBudget(); got != calsync.MaxTimeBudgetSeconds*time.Second {
			t.Errorf("TimeBudget(%d s) = %v; want %v", s, got, calsync.MaxTimeBudgetSeconds*time.Second)
		}
	}
}

// An unlinked Oro event is never paired with a Microsoft item whose
// transactionId carries its Oro id but not its hash: a staging copy
// connected to the same mailbox creates such items for its own e5. The
// item is left alone, and e5 gets its own copy. Before, e5 was linked to
// the staging copy's event and its content written over it.
func TestForeignTransactionIDDoesNotPairUnlinkedEvent(t *testing.T) {
	w := newWorld(t)
	w.seedLinked(1)
	s := time.Date(2026, 1, 20, 15, 0, 0, 0, time.UTC)
	foreign := w.fake.Seed("", calsync.RemoteEvent{Subject: "staging: board prep", IsOrganizer: true, Start: s, End: s.Add(time.Hour),
		TransactionID: calsync.TransactionID("e5", "uid-of-staging-e5", "")})
	w.host.Add(calsync.Event{ID: "e5", UID: "uid-e5", Title: "dentist", Start: "2026-01-14T09:00:00Z", End: "2026-01-14T10:00:00Z"})
	res := w.sync(calsync.Options{})
	for _, op := range res.Operations {
		if op.OroID == "e5" && op.RemoteID == foreign {
			t.Errorf("op %s (%s) pairs e5 with the staging copy's event %s", op.Op, op.Reason, foreign)
		}
	}
	e := w.host.Events["e5"]
	if e.Link == nil || e.Link.RemoteID == foreign {
		t.Fatalf("e5 linked to %+v; want its own copy, not %s", e.Link, foreign)
	}
	if got, _ := w.fake.Get(t.Context(), foreign); got.Subject != "staging: board prep" {
		t.Errorf("the staging copy's event is now %q; want it left alone", got.Subject)
	}
	if got, _ := w.fake.Get(t.Context(), e.Link.RemoteID); got.Subject != "dentist" {
		t.Errorf("e5's copy is %q; want dentist", got.Subject)
	}
}
