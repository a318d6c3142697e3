package calsync

import (
	"context"
	"errors"
	"testing"
	"time"
)

// t0 is the fixed time of the planner tests.
var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

// pairFor builds a planner input: an Oro event and its Microsoft copy, both
// synced as "base", then changed as oro and ms say ("", "edit", "delete").
func pairFor(oro, ms string, oroAt, msAt time.Time, organizer bool) *pairInput {
	base := content{Title: "base", Start: t0, End: t0.Add(time.Hour)}
	fields, h := base.hashes()
	link := &Link{V: LinkVersion, RemoteID: "m1", ChangeKey: "ck1", ETag: "e1", Hash: h, Fields: fields, ReadOnly: !organizer}
	ev := base.event()
	ev.ID, ev.UpdatedAt, ev.Link = "e1", oroAt, link
	oc := base
	switch oro {
	case "edit":
		oc.Title = "oro"
		ev.Title = "oro"
	case "delete":
		ev.Deleted = true
	}
	p := &pairInput{oro: &ev, oroC: oc, remoteS: remoteUnknown, inWindow: true}
	switch ms {
	case "edit":
		r := base.remote("")
		r.ID, r.ChangeKey, r.ETag, r.IsOrganizer, r.LastModified = "m1", "ck2", "e2", organizer, msAt
		r.Location = "ms"
		p.remote, p.remoteS = &r, remotePresent
	case "delete":
		p.remote, p.remoteS = &RemoteEvent{ID: "m1"}, remoteGone
	}
	return p
}

// TestConflictTable checks CONFLICTS.md row by row.
func TestConflictTable(t *testing.T) {
	early, late := t0, t0.Add(time.Hour)
	tests := []struct {
		oro, ms  string
		strategy ConflictResolution
		oroAt    time.Time
		msAt     time.Time
		write    WriteOp
		pull     OpKind
		unlink   bool
		conflict winner
	}{
		{"edit", "edit", ConflictOroWins, late, late, WriteUpdate, "", false, "oro_won"},
		{"edit", "edit", ConflictMicrosoftWins, late, late, "", OpUpdate, false, "microsoft_won"},
		{"edit", "edit", ConflictMostRecent, early, late, "", OpUpdate, false, "microsoft_won"},
		{"edit", "edit", ConflictMostRecent, late, early, WriteUpdate, "", false, "oro_won"},
		{"edit", "edit", ConflictMostRecent, late, late.Add(time.Minute), WriteUpdate, "", false, "oro_won"}, // within skew
		{"edit", "edit", ConflictMerge, late, late, WriteUpdate, OpUpdate, false, "merged"},
		{"edit", "delete", ConflictOroWins, late, late, WriteCreate, "", false, "oro_won"},
		{"edit", "delete", ConflictMicrosoftWins, late, late, "", OpDelete, false, "microsoft_won"},
		{"edit", "delete", ConflictMostRecent, early, late, WriteCreate, "", false, "oro_won"},
		{"edit", "delete", ConflictMerge, late, late, WriteCreate, "", false, "oro_won"},
		{"delete", "edit", ConflictOroWins, late, late, WriteDelete, "", false, "oro_won"},
		{"delete", "edit", ConflictMicrosoftWins, late, late, "", OpCreate, false, "microsoft_won"},
		{"delete", "edit", ConflictMostRecent, early, late, "", OpCreate, false, "microsoft_won"},
		{"delete", "edit", ConflictMostRecent, late, early, WriteDelete, "", false, "oro_won"},
		{"delete", "edit", ConflictMerge, late, late, WriteDelete, "", false, "oro_won"},
		{"delete", "delete", ConflictMicrosoftWins, late, late, "", "", true, ""},
		{"edit", "", ConflictMicrosoftWins, late, late, WriteUpdate, "", false, ""},
		{"", "edit", ConflictOroWins, late, late, "", OpUpdate, false, ""},
		{"delete", "", ConflictMicrosoftWins, late, late, WriteDelete, "", false, ""},
		{"", "delete", ConflictOroWins, late, late, "", OpDelete, false, ""},
	}
	for _, tc := range tests {
		name := tc.oro + "/" + tc.ms + "/" + string(tc.strategy)
		t.Run(name, func(t *testing.T) {
			d := decide(pairFor(tc.oro, tc.ms, tc.oroAt, tc.msAt, true), planConfig{dir: DirectionBoth, strategy: tc.strategy})
			if d.write != tc.write || d.pull != tc.pull || d.unlink != tc.unlink || d.conflict != tc.conflict {
				t.Errorf("got write=%q pull=%q unlink=%v conflict=%q, want %q %q %v %q", d.write, d.pull, d.unlink, d.conflict, tc.write, tc.pull, tc.unlink, tc.conflict)
			}
		})
	}
}

func TestPlannerDirectionsAndOrganizer(t *testing.T) {
	tests := []struct {
		name      string
		oro, ms   string
		dir       Direction
		organizer bool
		write     WriteOp
		pull      OpKind
		issue     Kind
	}{
		{"push only ignores Microsoft edits", "", "edit", DirectionOroToMicrosoft, true, "", "", ""},
		{"push only: both edited, Oro wins", "edit", "edit", DirectionOroToMicrosoft, true, WriteUpdate, "", ""},
		{"pull only ignores Oro edits", "edit", "", DirectionMicrosoftToOro, true, "", "", ""},
		{"pull only: both edited, Microsoft wins", "edit", "edit", DirectionMicrosoftToOro, true, "", OpUpdate, ""},
		{"pull only: Oro delete is not pushed", "delete", "", DirectionMicrosoftToOro, true, "", "", ""},
		{"not organizer: Oro edit pulled back", "edit", "edit", DirectionBoth, false, "", OpUpdate, ""},
		{"not organizer: push only reports", "edit", "", DirectionOroToMicrosoft, false, "", "", KindForbidden},
		{"not organizer: delete kept", "delete", "", DirectionBoth, false, "", "", KindForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := decide(pairFor(tc.oro, tc.ms, t0, t0, tc.organizer), planConfig{dir: tc.dir, strategy: ConflictOroWins})
			var kind Kind
			if d.issue != nil {
				kind = d.issue.Kind
			}
			if d.write != tc.write || d.pull != tc.pull || kind != tc.issue {
				t.Errorf("got write=%q pull=%q issue=%q, want %q %q %q", d.write, d.pull, kind, tc.write, tc.pull, tc.issue)
			}
		})
	}
}

func TestMergeTakesEachSidesFields(t *testing.T) {
	p := pairFor("edit", "edit", t0, t0, true) // Oro changed the title, Microsoft the location
	d := decide(p, planConfig{dir: DirectionBoth, strategy: ConflictMerge})
	if d.target.Title != "oro" || d.target.Location != "ms" {
		t.Fatalf("merged %+v", d.target)
	}
	if len(d.fields) != 1 || d.fields[0] != "subject" {
		t.Errorf("fields sent to Microsoft: %v, want [subject]", d.fields)
	}
}

// TestMergeNotOrganizer: a merge never half-applies to an event the user
// does not organize; Microsoft's copy is pulled whole (found by TestModel,
// seed 418: Oro kept its location while Microsoft 365 kept its own).
func TestMergeNotOrganizer(t *testing.T) {
	p := pairFor("edit", "edit", t0, t0, false)
	d := decide(p, planConfig{dir: DirectionBoth, strategy: ConflictMerge})
	if d.write != "" || d.pull != OpUpdate || d.target.hash() != remoteContent(p.remote).hash() {
		t.Fatalf("got write=%q pull=%q target=%+v, want Microsoft's copy pulled", d.write, d.pull, d.target)
	}
}

// TestUnlinkedTombstone: an Oro event deleted before any result linked it,
// with no copy of ours in Microsoft 365, deletes nothing (there is no id to
// delete).
func TestUnlinkedTombstone(t *testing.T) {
	p := &pairInput{oro: &Event{ID: "e1", Deleted: true}, remoteS: remoteUnknown}
	for _, dir := range []Direction{DirectionBoth, DirectionOroToMicrosoft, DirectionMicrosoftToOro} {
		if d := decide(p, planConfig{dir: dir, strategy: ConflictOroWins}); d.write != "" || d.pull != "" || d.issue != nil {
			t.Errorf("%s: %+v, want nothing", dir, d)
		}
	}
}

func TestValidateNamesField(t *testing.T) {
	good := Event{ID: "1", Title: "x", Start: "2026-01-01T10:00:00+01:00", End: "2026-01-01T11:00:00+01:00", UpdatedAt: t0}
	tests := []struct {
		name  string
		mut   func(*Request)
		field string
	}{
		{"duplicate id", func(r *Request) { r.Events[1].ID = "1" }, "events[1].id"},
		{"mode", func(r *Request) { r.Mode = "fast" }, "mode"},
		{"threshold", func(r *Request) { r.Options.MassDeleteThreshold = 2 }, "options.massDeleteThreshold"},
		{"window", func(r *Request) { r.Window = &Window{Start: t0, End: t0} }, "window.end"},
		{"link", func(r *Request) { r.Events[0].Link = &Link{V: LinkVersion} }, "events[0].link.remoteId"},
		{"cascade", func(r *Request) { d := Direction("up"); r.Cascade.User = &ScopeSettings{Direction: &d} }, "cascade.user.direction"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			second := good
			second.ID = "2"
			r := Request{Events: []Event{good, second}}
			if err := r.Validate(); err != nil {
				t.Fatalf("valid request rejected: %v", err)
			}
			tc.mut(&r)
			var e *Error
			if err := r.Validate(); !errors.As(err, &e) || e.Kind != KindInvalidInput || e.Field != tc.field {
				t.Fatalf("got %v, want invalid %s", err, tc.field)
			}
		})
	}
}

// TestDisabledMakesNoCall: a disabled user is skipped without touching Microsoft.
func TestDisabledMakesNoCall(t *testing.T) {
	res, err := Run(context.Background(), Request{}, nil, RunOptions{Now: func() time.Time { return t0 }})
	if err != nil || res.Status != StatusSkipped || res.Reason != ReasonDisabled {
		t.Fatalf("got %v %+v", err, res)
	}
}
