package calsync

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// meetingPair is a meeting linked as Microsoft 365 holds it: organized by
// the user (or not), with Ann (who accepted) and a room; the Oro event
// holds what was pulled, then change edits it. present: the copy was seen
// this run (unchanged).
func meetingPair(organizer, present, writeWho bool, change func(*Event)) *pairInput {
	r := RemoteEvent{ID: "m1", ChangeKey: "ck1", ETag: "e1", Subject: "meeting", Start: t0, End: t0.Add(time.Hour), Reminder: 15,
		IsOrganizer: organizer, HasAttendees: true, OrganizerEmail: "me@contoso.example",
		Attendees: []Attendee{{Email: "ann@fabrikam.example", Type: "required", Status: "accepted"}, {Email: "room@contoso.example", Type: "optional", Status: "accepted"}},
		Resources: []string{"room@contoso.example"}}
	if !organizer {
		r.OrganizerEmail = "boss@fabrikam.example"
	}
	rc := remoteContent(&r)
	link := newLink(&r, rc, t0)
	ev := rc.event()
	ev.ID, ev.UpdatedAt, ev.Link = "e1", t0, link
	ev.Reminders = []Reminder{{Method: "web_socket", Interval: ReminderInterval{Number: 15, Unit: "M"}}}
	if change != nil {
		change(&ev)
	}
	oc, _ := parseContent(ev)
	p := &pairInput{oro: &ev, oroC: oc, remoteS: remoteUnknown, inWindow: true, writeWho: writeWho}
	if present {
		p.remote, p.remoteS = &r, remotePresent
	}
	return p
}

var bob = Attendee{Email: "bob@fabrikam.example", Type: "required", Status: "none"}

// TestAttendeesDecisions: what the planner does with an Oro change of a
// meeting's attendees, with writeAttendees off and on.
func TestAttendeesDecisions(t *testing.T) {
	addBob := func(e *Event) { e.Attendees = append(e.Attendees, bob) }
	tests := []struct {
		name                         string
		organizer, present, writeWho bool
		change                       func(*Event)
		write                        WriteOp
		fields                       string // Write.Fields, joined
		reason                       Reason // of the decision or its issue
	}{
		{"off: an added attendee is no change", true, false, false, addBob, "", "", ""},
		{"off: a meeting is read-only", true, false, false, func(e *Event) { e.Title = "renamed"; addBob(e) }, "", "", ReasonHasAttendees},
		{"on: an added attendee is written", true, false, true, addBob, WriteUpdate, "attendees", ReasonOroChanged},
		{"on: with the copy read, an added attendee is written", true, true, true, addBob, WriteUpdate, "attendees", ReasonOroChanged},
		{"on: a response changed in Oro is not a change", true, false, true, func(e *Event) { e.Attendees[0].Status = "declined" }, "", "", ""},
		{"on: a rename with a response changed writes the subject only", true, false, true, func(e *Event) {
			e.Title, e.Attendees[0].Status = "renamed", "tentative"
		}, WriteUpdate, "subject", ReasonOroChanged},
		{"on: the organizer listed as an attendee is not one", true, true, true, func(e *Event) {
			e.Attendees = append(e.Attendees, Attendee{Email: "ME@contoso.example", Type: "organizer", Status: "accepted"})
		}, "", "", ""},
		{"on: an attendee's type changed is written", true, false, true, func(e *Event) { e.Attendees[0].Type = "optional" }, WriteUpdate, "attendees", ReasonOroChanged},
		{"on: an added attendee of someone else's meeting is no change", false, true, true, addBob, "", "", ""},
		{"on: someone else's meeting stays read-only", false, true, true, func(e *Event) { e.Title = "renamed"; addBob(e) }, "", "", ReasonNotOrganizer},
		{"on: a meeting deleted in Oro is deleted (Microsoft 365 mails the cancellations)", true, false, true, func(e *Event) { e.Deleted = true }, WriteDelete, "", ReasonOroDeleted},
		{"off: a meeting deleted in Oro is kept", true, false, false, func(e *Event) { e.Deleted = true }, "", "", ReasonHasAttendees},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := meetingPair(tt.organizer, tt.present, tt.writeWho, tt.change)
			d := decide(p, planConfig{dir: DirectionOroToMicrosoft, writeWho: tt.writeWho})
			reason := d.reason
			if d.issue != nil {
				reason = d.issue.Reason
			}
			if d.write != tt.write || strings.Join(d.fields, ",") != tt.fields || reason != tt.reason {
				t.Errorf("write %q fields %q reason %q (issue %+v), want %q %q %q", d.write, d.fields, reason, d.issue, tt.write, tt.fields, tt.reason)
			}
		})
	}
}

// TestAttendeesWritten: the attendees a write carries are Oro's, without
// responses, the room kept a resource when the copy was read; the
// organizer and duplicates are left out.
func TestAttendeesWritten(t *testing.T) {
	p := meetingPair(true, true, true, func(e *Event) {
		e.Attendees = append(e.Attendees, bob, Attendee{Email: "BOB@fabrikam.example", Type: "optional"}, Attendee{Email: "me@contoso.example", Type: "required", Status: "accepted"})
	})
	d := decide(p, planConfig{dir: DirectionBoth, strategy: ConflictOroWins, writeWho: true})
	r := d.target.remote("")
	var got []string
	for _, a := range r.Attendees {
		got = append(got, a.Email+":"+a.Type)
	}
	if want := []string{"ann@fabrikam.example:required", "room@contoso.example:resource", "bob@fabrikam.example:required"}; !slices.Equal(got, want) {
		t.Errorf("written attendees %q, want %q", got, want)
	}
}

// TestAttendeesEcho: after a write of Oro's attendees, the copy as Graph
// answered (the new attendee not responded) is what the link records, and
// Oro's list (its own responses) is no change, nor is the copy's echo.
func TestAttendeesEcho(t *testing.T) {
	p := meetingPair(true, false, true, func(e *Event) { e.Attendees = append(e.Attendees, bob) })
	r := *meetingPair(true, true, true, nil).remote
	r.ChangeKey, r.ETag = "ck2", "e2"
	r.Attendees = append(slices.Clone(r.Attendees), bob)
	p.oro.Link = newLink(&r, remoteContent(&r), t0)
	p.oroC, _ = parseContent(*p.oro)
	p.oroD = nil
	if d := decide(p, planConfig{dir: DirectionBoth, strategy: ConflictOroWins, writeWho: true}); d.write != "" || d.pull != "" || d.issue != nil {
		t.Errorf("Oro unchanged since the write: %+v", d)
	}
	p.remote, p.remoteS, p.oroD = &r, remotePresent, nil
	if d := decide(p, planConfig{dir: DirectionBoth, strategy: ConflictOroWins, writeWho: true}); d.write != "" || d.pull != "" || d.issue != nil {
		t.Errorf("the echo of the write: %+v", d)
	}
	// Bob accepts in Outlook: pulled, not written back
	acc := r
	acc.ChangeKey, acc.Attendees = "ck3", slices.Clone(r.Attendees)
	acc.Attendees[2].Status = "accepted"
	p.remote, p.oroD, p.remoteD = &acc, nil, nil
	if d := decide(p, planConfig{dir: DirectionBoth, strategy: ConflictOroWins, writeWho: true}); d.write != "" || d.pull != OpUpdate {
		t.Errorf("a response in Outlook: write %q pull %q, want it pulled", d.write, d.pull)
	}
}

// TestAttendeesInvalid: an attendee that is not an address is reported,
// naming it, and nothing is written.
func TestAttendeesInvalid(t *testing.T) {
	p := meetingPair(true, false, true, func(e *Event) { e.Attendees = append(e.Attendees, Attendee{Email: "Bob", Type: "required"}) })
	d := decide(p, planConfig{dir: DirectionBoth, strategy: ConflictOroWins, writeWho: true})
	if d.write != "" || d.issue == nil || d.issue.Reason != ReasonInvalidEvent || !strings.Contains(d.issue.Message, "attendees[2].email") {
		t.Errorf("write %q issue %+v, want invalid_event naming attendees[2].email", d.write, d.issue)
	}
}
