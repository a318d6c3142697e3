package calsync

import (
	"fmt"
	"strings"
)

// Validation of what the host sends: the request, its state and its events.

// Validate checks the shape of the request and names the first bad field,
// e.g. "events[3].id". The content of each event is checked by the run
// (see Event.invalid): a bad event is that event's issue, not the request's.
func (r Request) Validate() error {
	if err := r.Cascade.Validate("cascade"); err != nil {
		return err
	}
	if w := r.Window; w != nil {
		if w.Start.IsZero() {
			return Invalid("window.start", "is required")
		}
		if !w.End.After(w.Start) {
			return Invalid("window.end", "must be after window.start")
		}
	}
	switch r.Mode {
	case "", ModeIncremental, ModeFull:
	default:
		return Invalid("mode", "must be %q or %q, got %q", ModeIncremental, ModeFull, r.Mode)
	}
	if err := validTimeZone(r.TimeZone); err != nil {
		return err
	}
	if s := r.State; s != nil {
		if err := s.validate(nil); err != nil {
			return err
		}
	}
	o := r.Options
	if o.MassDeleteThreshold < 0 || o.MassDeleteThreshold > 1 {
		return Invalid("options.massDeleteThreshold", "must be between 0 and 1, got %v", o.MassDeleteThreshold)
	}
	if o.TimeBudgetSeconds < 0 || o.TimeBudgetSeconds > MaxTimeBudgetSeconds {
		return Invalid("options.timeBudgetSeconds", "must be between 1 and %d (0 or absent: the default), got %d", MaxTimeBudgetSeconds, o.TimeBudgetSeconds)
	}
	if o.OroEventCount < 0 {
		return Invalid("options.oroEventCount", "must not be negative, got %d", o.OroEventCount)
	}
	seen := make(map[string]int, len(r.Events))
	linked := make(map[string]int, len(r.Events))
	for i, e := range r.Events {
		p := fmt.Sprintf("events[%d]", i)
		if e.ID == "" {
			return Invalid(p+".id", "is required")
		}
		if j, dup := seen[e.ID]; dup {
			return Invalid(p+".id", "duplicates events[%d].id %q", j, e.ID)
		}
		seen[e.ID] = i
		if err := validateReminders(p+".reminders", e.Reminders); err != nil {
			return err
		}
		if err := e.validateSeries(p); err != nil {
			return err
		}
		if l := e.Link; l != nil {
			if l.V != LinkVersion {
				return Invalid(p+".link.v", "unsupported link version %d", l.V)
			}
			if msg := remoteIDProblem(l.RemoteID); msg != "" {
				return Invalid(p+".link.remoteId", "%s", msg)
			}
			// one Microsoft event is linked to one Oro event: the
			// operations name events by it
			if j, dup := linked[l.RemoteID]; dup {
				return Invalid(p+".link.remoteId", "duplicates events[%d].link.remoteId", j)
			}
			linked[l.RemoteID] = i
		}
	}
	return nil
}

// validate checks a state as Request.Validate does (its fields named
// "state.…"), and its links with check too when it is not nil (see
// RunOptions.CheckLink). Run checks the state it returns the same way, so
// that it is always valid as the next call's state.
func (s *State) validate(check func(field, link string) error) error {
	if s.V != StateVersion {
		return Invalid("state.v", "unsupported state version %d", s.V)
	}
	for _, c := range []struct {
		field string
		n     int
	}{{"roundOroDeletes", s.RoundOroDeletes}, {"refusedReads", s.RefusedReads}, {"oroCount", s.OroCount}, {"microsoftCount", s.MicrosoftCount}} {
		if c.n < 0 {
			return Invalid("state."+c.field, "must not be negative, got %d", c.n)
		}
	}
	if len(s.Sent) > MaxSent {
		return Invalid("state.sent", "holds %d entries, at most %d", len(s.Sent), MaxSent)
	}
	for i, m := range s.Sent {
		if m.N <= 0 || m.At.IsZero() {
			return Invalid(fmt.Sprintf("state.sent[%d]", i), "needs a minute (at) and a positive count (n)")
		}
	}
	for _, l := range []struct{ field, link string }{{"state.deltaLink", s.DeltaLink}, {"state.nextLink", s.NextLink}} {
		if l.link == "" {
			continue
		}
		if msg := linkProblem(l.link); msg != "" {
			return Invalid(l.field, "%s", msg)
		}
		if check != nil {
			if err := check(l.field, l.link); err != nil {
				return err
			}
		}
	}
	return nil
}

// MaxLinkBytes bounds a delta link (Graph's are a few hundred bytes).
const MaxLinkBytes = 16384

// linkProblem says what makes link unfit to keep in a state ("" when
// nothing): a URL as Graph writes it is printable ASCII without spaces.
func linkProblem(link string) string {
	if len(link) > MaxLinkBytes {
		return fmt.Sprintf("is longer than %d bytes", MaxLinkBytes)
	}
	for i := range len(link) {
		if c := link[i]; c <= ' ' || c >= 0x7f {
			return "holds a space, a control or a non-ASCII character"
		}
	}
	return ""
}

// remoteIDProblem says what makes id unfit as a Microsoft event id ("" when
// nothing). Graph's ids are URL-safe base64 (letters, digits, "-", "_",
// "=", graph-facts §11): an id is printable ASCII, and neither "." nor ".."
// nor one holding "/", "?", "#", "%" or "\", which would change the URL it
// is put into.
func remoteIDProblem(id string) string {
	switch {
	case id == "":
		return "is required"
	case id == "." || id == "..":
		return fmt.Sprintf("%q is not a Microsoft 365 event id", id)
	case strings.ContainsAny(id, "/?#%\\"):
		return `holds "/", "?", "#", "%" or "\", which no Microsoft 365 event id holds`
	}
	for i := range len(id) {
		if c := id[i]; c <= ' ' || c >= 0x7f {
			return "holds a space, a control or a non-ASCII character, which no Microsoft 365 event id holds"
		}
	}
	return ""
}

// invalid reports what is wrong with an event's content, naming the field;
// nil when it can be synchronized. A tombstone needs only its id and link.
func (e Event) invalid() *contentError {
	if e.Deleted {
		return nil
	}
	if e.UpdatedAt.IsZero() { // most_recent and the operations' precondition need it
		return &contentError{"updatedAt", "is required"}
	}
	_, err := parseContent(e)
	return err
}
