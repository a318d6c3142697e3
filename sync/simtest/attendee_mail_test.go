package simtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestAttendeeMail: with writeAttendees on, the attendees of an Oro event
// the user organizes are written to Microsoft 365, which mails them
// exactly as Exchange does (calendar-semantics §1.5): an invitation to each
// on create, an update to each on a change of time or place, a
// cancellation to one removed, an invitation to one added, and a
// cancellation to each on delete; a response given in Outlook comes into
// Oro and is not written back, and runs with nothing to do mail nobody.
// A meeting someone else organizes stays read-only whatever Oro changes.
// With the setting off (the default), the same run mails nobody and
// Microsoft 365 never holds Oro's attendees.
func TestAttendeeMail(t *testing.T) {
	for _, on := range []bool{false, true} {
		t.Run(fmt.Sprintf("writeAttendees=%v", on), func(t *testing.T) {
			w := newWorld(t, graphsim.Options{})
			w.dir, w.strat = calsync.DirectionBoth, calsync.ConflictOroWins
			w.host.writeAttendees = &on
			seen := 0
			// step runs a sync and checks the mail it made Microsoft 365
			// send: exactly want when the setting is on, none when off
			step := func(name string, want ...string) {
				t.Helper()
				w.mustSync(calsync.Options{})
				var got []string
				for _, m := range w.sim.OutboundMail()[seen:] {
					if m.Source == "graph" {
						got = append(got, m.Kind+":"+strings.Join(m.To, ","))
					}
				}
				seen = len(w.sim.OutboundMail())
				if !on {
					want = nil
				}
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s: mail %q, want %q", name, got, want)
				}
			}
			// attendeesOf is the Microsoft copy's attendees as
			// address:type:response, in order
			attendeesOf := func(subject string) string {
				t.Helper()
				for _, e := range w.sim.Events(upn) {
					if e["subject"] != subject {
						continue
					}
					var out []string
					as, _ := e["attendees"].([]any)
					for _, a := range as {
						am, _ := a.(map[string]any)
						ea, _ := am["emailAddress"].(map[string]any)
						st, _ := am["status"].(map[string]any)
						out = append(out, fmt.Sprintf("%v:%v:%v", ea["address"], am["type"], st["response"]))
					}
					slices.Sort(out)
					return strings.Join(out, " ")
				}
				t.Fatalf("no Microsoft event %q", subject)
				return ""
			}
			checkCopy := func(name, subject, want string) {
				t.Helper()
				if !on {
					want = ""
				}
				if got := attendeesOf(subject); got != want {
					t.Errorf("%s: Microsoft holds attendees %q, want %q", name, got, want)
				}
			}
			edit := func(id string, change func(ev *calsync.Event)) {
				ev := w.host.events[id]
				change(ev)
				ev.UpdatedAt = w.host.tick()
				w.host.dirty[id] = true
			}
			ann := calsync.Attendee{Email: "ann@fabrikam.example", DisplayName: "Ann", Type: "required", Status: "none"}
			bob := calsync.Attendee{Email: "bob@fabrikam.example", Type: "optional", Status: "none"}
			cy := calsync.Attendee{Email: "Cy@Fabrikam.example", Type: "required", Status: "none"}
			me := calsync.Attendee{Email: upn, Type: "organizer", Status: "accepted"}

			step("first sync")
			start := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
			id := w.host.create("review", start)
			edit(id, func(ev *calsync.Event) { ev.Attendees = []calsync.Attendee{me, ann, bob} })
			step("created with two attendees", "invitation:ann@fabrikam.example", "invitation:bob@fabrikam.example")
			checkCopy("created", "review", "ann@fabrikam.example:required:none bob@fabrikam.example:optional:none")
			step("nothing changed")

			edit(id, func(ev *calsync.Event) {
				ev.Start, ev.End = start.Add(time.Hour).Format(time.RFC3339), start.Add(2*time.Hour).Format(time.RFC3339)
			})
			step("moved an hour", "update:ann@fabrikam.example", "update:bob@fabrikam.example")

			edit(id, func(ev *calsync.Event) { ev.Attendees = []calsync.Attendee{me, ann} })
			step("bob removed", "cancellation:bob@fabrikam.example")
			checkCopy("bob removed", "review", "ann@fabrikam.example:required:none")

			edit(id, func(ev *calsync.Event) { ev.Location, ev.Attendees = "room 4", []calsync.Attendee{me, ann, cy} })
			step("new place, cy added", "update:ann@fabrikam.example", "invitation:cy@fabrikam.example")
			checkCopy("cy added", "review", "Cy@Fabrikam.example:required:none ann@fabrikam.example:required:none")

			// Ann accepts: her response reaches the organizer's copy
			if on {
				msID := w.host.events[id].Link.RemoteID
				if err := w.sim.UserUpdateEvent(upn, msID, map[string]any{"attendees": []any{
					map[string]any{"type": "required", "emailAddress": map[string]any{"address": ann.Email}, "status": map[string]any{"response": "accepted"}},
					map[string]any{"type": "required", "emailAddress": map[string]any{"address": cy.Email}},
				}}); err != nil {
					t.Fatal(err)
				}
				seen = len(w.sim.OutboundMail())
			}
			step("ann accepted in Outlook")
			if on {
				got := w.host.events[id].Attendees
				if i := slices.IndexFunc(got, func(a calsync.Attendee) bool { return a.Email == ann.Email }); i < 0 || got[i].Status != "accepted" {
					t.Errorf("ann accepted: Oro holds attendees %+v, want ann accepted", got)
				}
			}
			edit(id, func(ev *calsync.Event) { ev.Title = "review (final)" })
			step("renamed", "update:ann@fabrikam.example", "update:cy@fabrikam.example")
			checkCopy("renamed", "review (final)", "Cy@Fabrikam.example:required:none ann@fabrikam.example:required:accepted")

			// someone else's meeting: read-only whatever Oro changes
			inv := outlookEvent("their meeting", start.Add(24*time.Hour))
			inv["organizer"] = map[string]any{"emailAddress": map[string]any{"name": "Boss", "address": "boss@fabrikam.example"}}
			inv["attendees"] = []any{map[string]any{"type": "required", "emailAddress": map[string]any{"address": upn}}}
			if _, err := w.sim.UserCreateEvent(upn, inv); err != nil {
				t.Fatal(err)
			}
			step("invited by someone else")
			var theirs string
			for _, ev := range w.host.live() {
				if ev.Title == "their meeting" {
					theirs = ev.ID
				}
			}
			edit(theirs, func(ev *calsync.Event) { ev.Title, ev.Attendees = "my title", append(ev.Attendees, ann) })
			step("someone else's meeting edited in Oro")
			if got := w.host.events[theirs].Title; got != "their meeting" {
				t.Errorf("someone else's meeting: Oro holds %q, want Microsoft's copy back", got)
			}
			if got, want := attendeesOf("their meeting"), upn+":required:none"; got != want {
				t.Errorf("someone else's meeting: Microsoft holds attendees %q, want %q", got, want)
			}

			w.host.remove(id)
			step("deleted", "cancellation:ann@fabrikam.example", "cancellation:cy@fabrikam.example")
			step("nothing changed at the end")
		})
	}
}

// TestAttendeeWriteKeepsRooms: with writeAttendees, an attendee added in
// Oro mails only that attendee, and the room added in Outlook (a resource,
// which Oro holds as optional) stays a resource: the incremental run reads
// the copy before writing Oro's list over it.
func TestAttendeeWriteKeepsRooms(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	on := true
	w.host.writeAttendees = &on
	w.mustSync(calsync.Options{})
	ann := calsync.Attendee{Email: "ann@fabrikam.example", Type: "required", Status: "none"}
	id := w.host.create("planning", time.Date(2025, 3, 5, 9, 0, 0, 0, time.UTC))
	w.host.events[id].Attendees = []calsync.Attendee{ann}
	w.mustSync(calsync.Options{})
	msID := w.host.events[id].Link.RemoteID
	if err := w.sim.UserUpdateEvent(upn, msID, map[string]any{"attendees": []any{
		map[string]any{"type": "required", "emailAddress": map[string]any{"address": ann.Email}},
		map[string]any{"type": "resource", "emailAddress": map[string]any{"name": "Room 4", "address": "room4@contoso.example"}},
	}}); err != nil {
		t.Fatal(err)
	}
	w.mustSync(calsync.Options{})
	if got := w.host.events[id].Attendees; len(got) != 2 {
		t.Fatalf("room added in Outlook: Oro holds %+v, want ann and the room", got)
	}
	before := len(w.sim.OutboundMail())
	oro := w.host.events[id]
	oro.Attendees = append(oro.Attendees, calsync.Attendee{Email: "bob@fabrikam.example", Type: "required", Status: "none"})
	oro.UpdatedAt = w.host.tick()
	w.host.dirty[id] = true
	w.mustSync(calsync.Options{})
	var mail []string
	for _, m := range w.sim.OutboundMail()[before:] {
		mail = append(mail, m.Kind+":"+strings.Join(m.To, ","))
	}
	if !slices.Equal(mail, []string{"invitation:bob@fabrikam.example"}) {
		t.Errorf("bob added: mail %q, want only bob's invitation", mail)
	}
	types := map[string]any{}
	for _, e := range w.sim.Events(upn) {
		if e["subject"] != "planning" {
			continue
		}
		as, _ := e["attendees"].([]any)
		for _, a := range as {
			am, _ := a.(map[string]any)
			ea, _ := am["emailAddress"].(map[string]any)
			types[fmt.Sprint(ea["address"])] = am["type"]
		}
	}
	if want := map[string]any{"ann@fabrikam.example": "required", "room4@contoso.example": "resource", "bob@fabrikam.example": "required"}; fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("bob added: Microsoft holds attendee types %v, want %v", types, want)
	}
}

// TestAttendeeInvalidAddress: with writeAttendees, an Oro event whose
// attendee has no address is not written; its issue names the attendee.
func TestAttendeeInvalidAddress(t *testing.T) {
	w := newWorld(t, graphsim.Options{})
	on := true
	w.host.writeAttendees = &on
	w.mustSync(calsync.Options{})
	id := w.host.create("lunch", time.Date(2025, 3, 6, 12, 0, 0, 0, time.UTC))
	w.host.events[id].Attendees = []calsync.Attendee{{Email: "ann@fabrikam.example", Type: "required", Status: "none"}, {Email: "Bob", Type: "required", Status: "none"}}
	res, err := w.sync(t.Context(), calsync.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Issues) != 1 || res.Issues[0].OroID != id || res.Issues[0].Reason != calsync.ReasonInvalidEvent || !strings.Contains(res.Issues[0].Message, "attendees[1].email") {
		t.Errorf("issues %+v, want one invalid_event naming attendees[1].email", res.Issues)
	}
	if got := w.msEvents(); len(got) != 0 || len(w.sim.OutboundMail()) != 0 {
		t.Errorf("Microsoft holds %v and sent %d mails, want nothing", got, len(w.sim.OutboundMail()))
	}
}
