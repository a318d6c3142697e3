package calsync

import (
	"slices"
	"strings"
)

// Attendees and organizers come from Microsoft 365 into Oro, never the
// other way: writing attendees to Graph mails every one of them an
// invitation, an update or a cancellation (calendar-semantics §1.5), so
// Oro's attendees are never written. The field group "attendees" (the
// organizer and each attendee's address, type and response) is pull-only:
// an Oro event's value is the one its link recorded (or its copy's), so
// only a change in Microsoft 365 is a change, and it reaches Oro as an
// update carrying Event.Attendees and the organizer fields.
//
// An Oro event with a parentEventId is an attendee's copy of another Oro
// user's event: its Microsoft counterpart is the invitation in that
// attendee's own mailbox (same uid), which only the organizer's mailbox can
// send. It is linked when a full run finds that invitation by uid, and
// never created in Microsoft 365 (attendee_copy).

// Attendee is an attendee of an event, as Oro's REST API spells it.
type Attendee struct {
	Email       string `json:"email"`
	DisplayName string `json:"displayName,omitempty"`
	// Status is none, accepted, declined or tentative.
	Status string `json:"status"`
	// Type is organizer, required or optional (a room or other resource
	// in Microsoft 365 is optional).
	Type string `json:"type"`
}

// Who is an event's organizer and attendees as Microsoft 365 holds them.
type Who struct {
	IsOrganizer    bool
	OrganizerEmail string
	OrganizerName  string
	Attendees      []Attendee
}

// canonical is the attendees group's compared value: addresses folded to
// lower case, attendees in address order, display names left out (Exchange
// fills them in from the directory).
func (w *Who) canonical() string {
	var b strings.Builder
	b.WriteString(strings.ToLower(w.OrganizerEmail))
	if w.IsOrganizer {
		b.WriteString(" (me)")
	}
	keys := make([]string, len(w.Attendees))
	for i, a := range w.Attendees {
		keys[i] = strings.ToLower(a.Email) + " " + a.Type + " " + a.Status
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteByte(';')
		b.WriteString(k)
	}
	return b.String()
}

// fillWho gives an Oro event the attendees group's value it is known to
// hold (pull-only: Oro's own attendees never count, see pulledHash).
func (p *pairInput) fillWho() {
	if p.oro == nil {
		return
	}
	p.oroC.Who = nil
	p.oroC.whoHash = p.pulledHash(fieldWho, func(r *RemoteEvent) string { return shortHash(r.who().canonical()) })
}

// pulledHash is the hash an Oro event holds for a pull-only group: its
// link's, else its copy's (fromCopy; "" for none), else "" (unknown: the
// group is left out).
func (p *pairInput) pulledHash(group string, fromCopy func(*RemoteEvent) string) string {
	if l := p.link(); l != nil {
		if h, ok := l.Fields[group]; ok {
			return h
		}
	}
	if p.remoteS == remotePresent {
		return fromCopy(p.remote)
	}
	return ""
}

// who is r's organizer and attendees.
func (r *RemoteEvent) who() *Who {
	return &Who{IsOrganizer: r.IsOrganizer, OrganizerEmail: r.OrganizerEmail, OrganizerName: r.OrganizerName, Attendees: r.Attendees}
}

// attendeeCopy reports an unlinked Oro event that is an attendee's copy
// (see above): it is never created in Microsoft 365.
func attendeeCopy(e *Event) bool { return e.ParentEventID != "" }
