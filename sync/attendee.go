package calsync

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// Attendees and organizers come from Microsoft 365 into Oro. Writing
// attendees to Graph mails every one of them an invitation, an update or a
// cancellation (calendar-semantics §1.5: there is no way to write them
// without mail), so by default Oro's attendees are never written: the field
// group "attendees" (the organizer and each attendee's address, type and
// response) is pull-only. An Oro event's value is the one its link recorded
// (or its copy's), so only a change in Microsoft 365 is a change, and it
// reaches Oro as an update carrying Event.Attendees and the organizer
// fields.
//
// With the writeAttendees setting on, the group goes both ways for the
// events the connected user organizes (pairInput.writeWho): the part of it
// Oro writes, each attendee's address and type (invitees), is compared
// with the one the link recorded, and an Oro change of it is written on
// create and update, after which Microsoft 365 mails the attendees. The
// responses, and the organizer, still come from Microsoft 365 alone: the
// link records the copy's attendees as Graph answered the write, so the
// echo of a write is no change, and a response given in Outlook is pulled.
// Events the user does not organize stay read-only in Microsoft 365.
//
// An Oro event with a parentEventId is an attendee's copy of another Oro
// user's event: its Microsoft counterpart is the invitation in that
// attendee's own mailbox (same uid), which only the organizer's mailbox can
// send. It is linked when a full run finds that invitation by uid, and
// never created in Microsoft 365 (attendee_copy), whatever writeAttendees
// says.

// Attendee is an attendee of an event, as Oro's REST API spells it.
type Attendee struct {
	Email       string `json:"email"`
	DisplayName string `json:"displayName,omitempty"`
	// Status is none, accepted, declined or tentative.
	Status string `json:"status"`
	// Type is organizer, required or optional (a room or other resource
	// in Microsoft 365 is optional). In a write to Microsoft 365 it is
	// resource for an attendee the copy holds as one.
	Type string `json:"type"`
}

// The attendee types: Oro's (organizer, required, optional) and Graph's
// resource, which Oro holds as optional.
const (
	attendeeOrganizer = "organizer"
	attendeeRequired  = "required"
	attendeeOptional  = "optional"
	attendeeResource  = "resource"
)

// maxAttendees is Graph's limit per event (calendar-semantics §1.5).
const maxAttendees = 500

// Who is an event's organizer and attendees as Microsoft 365 holds them,
// or (own) the attendees an Oro event has that are to be written.
type Who struct {
	IsOrganizer    bool
	OrganizerEmail string
	OrganizerName  string
	Attendees      []Attendee
	// own: Oro's attendees, changed in Oro, to be written to Microsoft
	// 365 (writeAttendees); never a value read from Microsoft 365.
	// problem says why they cannot be (see checkAttendees).
	own     bool
	problem string
}

// canonical is the attendees group's compared value: addresses folded to
// lower case, attendees in address order, display names left out (Exchange
// fills them in from the directory).
func (w *Who) canonical() string { return string(w.appendCanonical(nil)) }

// sum is the attendees group's hash, built on the stack for the usual
// numbers of attendees.
func (w *Who) sum() sum64 {
	var b [256]byte
	h := newFNV64()
	h.write(w.appendCanonical(b[:0]))
	return h.sum()
}

// appendCanonical appends canonical's value to b: the organizer, then
// each attendee's key (address, type, response) in order.
func (w *Who) appendCanonical(b []byte) []byte {
	if w.own {
		b = append(b, "oro:"...)
	}
	b = appendLower(b, w.OrganizerEmail)
	if w.IsOrganizer {
		b = append(b, " (me)"...)
	}
	var buf [512]byte
	var spans [16]span
	ks := keys{buf: buf[:0], spans: spans[:0]}
	for _, a := range w.Attendees {
		ks.buf = appendLower(ks.buf, a.Email)
		ks.buf = append(append(append(append(ks.buf, ' '), a.Type...), ' '), a.Status...)
		ks = ks.end()
	}
	return ks.appendSorted(b, ";")
}

// appendLower appends strings.ToLower(s), without building it when s is
// ASCII (as addresses are).
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}

// invitees is the hash of the part of an attendee list that Oro writes:
// each attendee's address, in lower case, and type (a resource counts as
// optional, as Oro holds it), in order, without responses and without the
// organizer (organizer, an Oro attendee of type organizer or with the
// organizer's address).
func invitees(as []Attendee, organizer string) string {
	var keys []string
	for _, a := range as {
		if organizes(a, organizer) {
			continue
		}
		keys = append(keys, strings.ToLower(a.Email)+" "+inviteeType(a.Type))
	}
	slices.Sort(keys)
	return shortHash(strings.Join(slices.Compact(keys), ";"))
}

// organizes reports an attendee that stands for the organizer (whose
// address is organizer, "" when unknown): of type organizer, or with that
// address. It is never written as an attendee.
func organizes(a Attendee, organizer string) bool {
	return inviteeType(a.Type) == attendeeOrganizer || organizer != "" && strings.EqualFold(a.Email, organizer)
}

// inviteeType is an attendee type as invitees compares it: required when
// Oro leaves it out, optional for a resource.
func inviteeType(t string) string {
	switch t {
	case "":
		return attendeeRequired
	case attendeeResource:
		return attendeeOptional
	}
	return t
}

// fieldInvitees is the Link.Fields entry holding the invitees of the copy
// of an event the user organizes and that has attendees, as the link was
// made: the base an Oro change of the attendees is compared with. It is
// not a field group (Link.Hash does not cover it).
const fieldInvitees = "invitees"

// fillWho gives an Oro event the attendees group's value it holds: the
// one its link or copy holds (pulled), unless writeAttendees is on, the
// user organizes the event and Oro's invitees differ from both the
// link's and the copy's; then Oro's own attendees, to be written.
func (p *pairInput) fillWho() {
	if p.oro == nil {
		return
	}
	p.oroC.Who = nil
	p.oroC.whoHash = p.pulledHash(fieldWho, func(r *RemoteEvent) string { return r.who().sum().String() })
	if !p.writeWho || p.readOnly() != "" {
		return
	}
	mine := invitees(p.oro.Attendees, p.oro.OrganizerEmail)
	base, ok := p.baseInvitees()
	switch {
	case ok && base == mine:
		return // unchanged since the link: a response in Outlook is pulled
	case p.remoteS == remotePresent && mine == invitees(p.remote.Attendees, p.remote.OrganizerEmail):
		// Oro holds what Microsoft 365 holds (its responses are
		// Microsoft's)
		p.oroC.whoHash = p.remote.who().sum().String()
		return
	case !ok && p.link() != nil:
		// a link made before attendees were written, which recorded no
		// base: left as Microsoft 365 holds it
		return
	}
	ws := p.oro.writtenAttendees()
	p.oroC.Who = &Who{IsOrganizer: true, Attendees: ws, own: true, problem: p.oro.checkAttendees(len(ws))}
	p.oroC.whoHash = ""
}

// baseInvitees is the invitees of the pair's link: recorded for a
// meeting, none for another event; false when the link records none for
// a meeting (made before attendees were written) or there is no link.
func (p *pairInput) baseInvitees() (string, bool) {
	l := p.link()
	if l == nil {
		return "", false
	}
	if h, ok := l.Fields[fieldInvitees]; ok {
		return h, true
	}
	if !l.Meeting {
		return invitees(nil, ""), true
	}
	return "", false
}

// writtenAttendees are the attendees of e that a write carries: not the
// organizer, each address once, the type required when Oro leaves it out.
func (e *Event) writtenAttendees() []Attendee {
	out := []Attendee{}
	for _, a := range e.Attendees {
		if organizes(a, e.OrganizerEmail) || slices.ContainsFunc(out, func(b Attendee) bool { return strings.EqualFold(a.Email, b.Email) }) {
			continue
		}
		out = append(out, Attendee{Email: a.Email, DisplayName: a.DisplayName, Type: inviteeType(a.Type), Status: "none"})
	}
	return out
}

// checkAttendees reports what Graph would refuse of an Oro event's
// attendees to write (written: how many writtenAttendees has): an address
// that is not one, a type Oro does not define, more than Graph takes. It
// names the attendee by its index in the request.
func (e *Event) checkAttendees(written int) string {
	for i, a := range e.Attendees {
		if at := strings.IndexByte(a.Email, '@'); at <= 0 || at == len(a.Email)-1 || strings.ContainsAny(a.Email, " \t\r\n<>\",;") {
			return fmt.Sprintf("attendees[%d].email must be an email address, got %q", i, a.Email)
		}
		if t := inviteeType(a.Type); t != attendeeOrganizer && t != attendeeRequired && t != attendeeOptional {
			return fmt.Sprintf("attendees[%d].type must be one of organizer, required, optional, got %q", i, a.Type)
		}
	}
	if written > maxAttendees {
		return fmt.Sprintf("attendees: at most %d can be written to Microsoft 365, got %d", maxAttendees, written)
	}
	return ""
}

// withResources gives the attendees written to the copy cur the type
// resource where cur holds them as resources (Oro holds a room as
// optional: writing it back as optional would make it a person).
func withResources(as []Attendee, cur *RemoteEvent) []Attendee {
	if cur == nil || len(cur.Resources) == 0 {
		return as
	}
	out := slices.Clone(as)
	for i, a := range out {
		if a.Type == attendeeOptional && slices.ContainsFunc(cur.Resources, func(r string) bool { return strings.EqualFold(r, a.Email) }) {
			out[i].Type = attendeeResource
		}
	}
	return out
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
