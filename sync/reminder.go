package calsync

import (
	"fmt"
	"strconv"
	"strings"
)

// Reminders. Microsoft 365 holds one reminder per event (isReminderOn,
// reminderMinutesBeforeStart); an Oro event may hold several. The one
// synchronized is the Oro reminder with the smallest interval, the alert
// nearest the start (calendar-semantics §2.6 and §3.2); the others are
// never written and never removed by a change from Outlook, except those a
// change makes smaller than the synchronized one (see ReminderChange).
//
// An Oro event sent without "reminders" (a host that predates the field,
// or one that does not sync reminders) keeps whatever both sides hold:
// its reminder counts as unchanged since the link. A link made before
// reminders were synchronized has no "reminder" entry in Link.Fields; its
// Hash covers the other groups only, so upgrading changes nothing until
// the event changes for another reason (see digest.matches).

// Reminder is one Oro reminder, as Oro's REST API spells it.
type Reminder struct {
	// Method is Oro's send method ("email", "web_socket"); it is kept, not
	// synchronized.
	Method   string           `json:"method"`
	Interval ReminderInterval `json:"interval"`
}

// ReminderInterval is how long before the start a reminder fires.
type ReminderInterval struct {
	Number int `json:"number"`
	// Unit is M (minutes), H (hours), D (days) or W (weeks).
	Unit string `json:"unit"`
}

// ReminderChange is the Microsoft 365 reminder an operation gives the Oro
// event. On: the Oro reminder with the smallest interval becomes this one
// (its method kept; a "web_socket" reminder is added when there is none),
// and reminders with a smaller interval than Interval are removed, so that
// it is again the smallest. Off: the event has no reminder in Microsoft
// 365, and every Oro reminder of the event is removed (one left would be
// written back as the event's reminder).
type ReminderChange struct {
	On bool `json:"on"`
	// MinutesBeforeStart and Interval say the same when On (Interval in
	// the largest unit that divides it); both are absent when not On.
	MinutesBeforeStart int               `json:"minutesBeforeStart,omitempty"`
	Interval           *ReminderInterval `json:"interval,omitempty"`
}

// Reminder values of content.Reminder and RemoteEvent.Reminder other than
// minutes before the start.
const (
	// ReminderOff: no reminder.
	ReminderOff = -1
	// ReminderUnset: not known (an Oro event sent without reminders), or
	// not to be written (Graph's default applies to a create).
	ReminderUnset = -2
)

// MaxReminderMinutes bounds a reminder: four weeks before the start,
// Outlook's largest choice.
const MaxReminderMinutes = 4 * 7 * 24 * 60

var unitMinutes = map[string]int{"M": 1, "H": 60, "D": 24 * 60, "W": 7 * 24 * 60}

// Minutes is the interval in minutes; 0 for an unknown unit (Validate
// refuses one in a request).
func (iv ReminderInterval) Minutes() int { return iv.Number * unitMinutes[iv.Unit] }

// validateReminders checks an event's reminders, naming the field.
func validateReminders(field string, rs []Reminder) error {
	for i, r := range rs {
		p := fmt.Sprintf("%s[%d]", field, i)
		if r.Method == "" {
			return Invalid(p+".method", "is required")
		}
		u, ok := unitMinutes[r.Interval.Unit]
		if !ok {
			return Invalid(p+".interval.unit", "must be one of M, H, D, W, got %q", r.Interval.Unit)
		}
		if r.Interval.Number < 0 || r.Interval.Number*u > MaxReminderMinutes {
			return Invalid(p+".interval.number", "must be between 0 and %d minutes before the start, got %d %s", MaxReminderMinutes, r.Interval.Number, r.Interval.Unit)
		}
	}
	return nil
}

// oroReminder is the synchronized reminder of an Oro event: the smallest
// interval in minutes, ReminderOff for none, ReminderUnset when the event
// came without reminders.
func oroReminder(rs []Reminder) int {
	if rs == nil {
		return ReminderUnset
	}
	best := ReminderOff
	for _, r := range rs {
		m := r.Interval.Minutes()
		if best == ReminderOff || m < best {
			best = m
		}
	}
	return best
}

// reminderField is the reminder group's value, as compared and as stored in
// Link.Fields (the value itself, short and not secret: an Oro event sent
// without reminders takes it from there).
func reminderField(m int) string {
	var b [maxReminderField]byte
	return string(appendReminderField(b[:0], m))
}

// maxReminderField is the longest reminderField: of math.MinInt minutes.
const maxReminderField = len("M-9223372036854775808")

// appendReminderField appends reminderField(m) to b.
func appendReminderField(b []byte, m int) []byte {
	switch m {
	case ReminderUnset:
		return b
	case ReminderOff:
		return append(b, "off"...)
	}
	return strconv.AppendInt(append(b, 'M'), int64(m), 10)
}

// parseReminderField reads a Link.Fields reminder entry; ReminderUnset for
// none or an unreadable one.
func parseReminderField(s string) int {
	if s == "off" {
		return ReminderOff
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, "M"))
	if err != nil || !strings.HasPrefix(s, "M") || n < 0 {
		return ReminderUnset
	}
	return n
}

// reminderChange is the operation's instruction for a reminder of m
// minutes (or off); nil when m is unset.
func reminderChange(m int) *ReminderChange {
	switch m {
	case ReminderUnset:
		return nil
	case ReminderOff:
		return &ReminderChange{}
	}
	iv := ReminderInterval{Number: m, Unit: "M"}
	for _, u := range []string{"W", "D", "H"} {
		if n := unitMinutes[u]; m > 0 && m%n == 0 {
			iv = ReminderInterval{Number: m / n, Unit: u}
			break
		}
	}
	return &ReminderChange{On: true, MinutesBeforeStart: m, Interval: &iv}
}

// fillReminder gives an Oro event sent without reminders the reminder it is
// known to hold: the link's, else the Microsoft copy's (it counts as
// unchanged). With neither it stays unset and the group is left out.
func (p *pairInput) fillReminder() {
	if p.oro == nil || p.oro.Reminders != nil {
		return
	}
	p.oroC.Reminder = ReminderUnset
	if l := p.link(); l != nil {
		if v, ok := l.Fields[fieldReminder]; ok {
			p.oroC.Reminder = parseReminderField(v)
			return
		}
	}
	if p.remoteS == remotePresent {
		p.oroC.Reminder = p.remote.Reminder
	}
}

// syncsReminder: the link was made since reminders are synchronized; a
// link without the group compares and writes the other groups only.
func syncsReminder(l *Link) bool {
	_, ok := l.Fields[fieldReminder]
	return ok
}

// reminders are Oro reminders that hold c's reminder (as the host holds
// them after applying its ReminderChange, as far as the engine can tell).
func (c content) reminders() []Reminder {
	switch c.Reminder {
	case ReminderUnset:
		return nil
	case ReminderOff:
		return []Reminder{}
	}
	return []Reminder{{Method: "web_socket", Interval: ReminderInterval{Number: c.Reminder, Unit: "M"}}}
}
