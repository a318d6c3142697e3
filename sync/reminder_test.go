package calsync

import (
	"slices"
	"testing"
	"time"
)

// legacyPair is a linked pair whose link was made before reminders were
// synchronized (no reminder entry, Hash over the other groups), the Oro
// event now carrying reminders (none) and the copy Graph's default.
func legacyPair(t *testing.T) *pairInput {
	t.Helper()
	base := content{Title: "base", Start: t0, End: t0.Add(time.Hour), Reminder: ReminderUnset}
	fields, h := base.hashes()
	if _, ok := fields[fieldReminder]; ok {
		t.Fatal("an unset reminder has a Link.Fields entry")
	}
	link := &Link{V: LinkVersion, RemoteID: "m1", ChangeKey: "ck1", ETag: "e1", Hash: h, Fields: fields}
	ev := base.event()
	ev.ID, ev.UpdatedAt, ev.Link, ev.Reminders = "e1", t0, link, []Reminder{}
	oc, _ := parseContent(ev)
	r := base.remote("")
	r.ID, r.ChangeKey, r.ETag, r.IsOrganizer, r.LastModified, r.Reminder = "m1", "ck1", "e1", true, t0, 15
	return &pairInput{oro: &ev, oroC: oc, remote: &r, remoteS: remotePresent, inWindow: true}
}

// TestLegacyLinkReminder: upgrading to reminder sync changes nothing on its
// own; an Oro edit of another field writes that field only (the copy's
// reminder is not overwritten by a value Oro never synchronized).
func TestLegacyLinkReminder(t *testing.T) {
	cfg := planConfig{dir: DirectionBoth, strategy: ConflictOroWins}
	if d := decide(legacyPair(t), cfg); d.write != "" || d.pull != "" || d.issue != nil {
		t.Errorf("unchanged legacy pair: write %q pull %q issue %+v; want nothing", d.write, d.pull, d.issue)
	}
	p := legacyPair(t)
	p.oro.Title, p.oroC.Title = "edited", "edited"
	d := decide(p, cfg)
	if d.write != WriteUpdate || !slices.Equal(d.fields, []string{"subject"}) {
		t.Errorf("Oro title edit: write %q fields %v; want update [subject]", d.write, d.fields)
	}
	p = legacyPair(t)
	p.remote.Subject = "outlook"
	p.remote.ChangeKey = "ck2"
	d = decide(p, cfg)
	if d.pull != OpUpdate || d.target.Reminder != 15 {
		t.Errorf("Outlook edit: pull %q reminder %d; want update carrying the copy's 15", d.pull, d.target.Reminder)
	}
	p = legacyPair(t)
	p.remote.Location, p.remote.ChangeKey = "room", "ck2"
	p.oro.Title, p.oroC.Title = "edited", "edited"
	d = decide(p, planConfig{dir: DirectionBoth, strategy: ConflictMerge})
	if d.target.Reminder != 15 || slices.Contains(d.fields, "reminder") {
		t.Errorf("merge: reminder %d fields %v; want the copy's 15, not written", d.target.Reminder, d.fields)
	}
}

// TestOroReminder: the smallest interval is the synchronized one, in
// minutes; none is off; not sent is unset.
func TestOroReminder(t *testing.T) {
	r := func(n int, u string) Reminder {
		return Reminder{Method: "email", Interval: ReminderInterval{Number: n, Unit: u}}
	}
	for _, c := range []struct {
		rs   []Reminder
		want int
	}{
		{nil, ReminderUnset},
		{[]Reminder{}, ReminderOff},
		{[]Reminder{r(1, "D"), r(2, "H"), r(1, "W")}, 120},
		{[]Reminder{r(0, "M"), r(1, "H")}, 0},
		{[]Reminder{r(1, "W")}, 10080},
	} {
		if got := oroReminder(c.rs); got != c.want {
			t.Errorf("%v: %d, want %d", c.rs, got, c.want)
		}
	}
	for m, want := range map[int]ReminderInterval{90: {90, "M"}, 120: {2, "H"}, 2880: {2, "D"}, 20160: {2, "W"}, 0: {0, "M"}} {
		if ch := reminderChange(m); !ch.On || ch.MinutesBeforeStart != m || *ch.Interval != want {
			t.Errorf("reminderChange(%d) = %+v, want on with %v", m, ch, want)
		}
	}
	if ch := reminderChange(ReminderOff); ch.On || ch.Interval != nil {
		t.Errorf("reminderChange(off) = %+v", ch)
	}
	for _, v := range []int{ReminderOff, 0, 15, 10080} {
		if got := parseReminderField(reminderField(v)); got != v {
			t.Errorf("reminder field %q reads back %d, want %d", reminderField(v), got, v)
		}
	}
}

// TestValidateReminders names the bad field.
func TestValidateReminders(t *testing.T) {
	for _, c := range []struct {
		r     Reminder
		field string
	}{
		{Reminder{Interval: ReminderInterval{15, "M"}}, "events[0].reminders[0].method"},
		{Reminder{Method: "email", Interval: ReminderInterval{15, "m"}}, "events[0].reminders[0].interval.unit"},
		{Reminder{Method: "email", Interval: ReminderInterval{-1, "M"}}, "events[0].reminders[0].interval.number"},
		{Reminder{Method: "email", Interval: ReminderInterval{5, "W"}}, "events[0].reminders[0].interval.number"},
	} {
		err := validateReminders("events[0].reminders", []Reminder{c.r})
		if e, ok := err.(*Error); !ok || e.Field != c.field {
			t.Errorf("%+v: %v, want an error naming %s", c.r, err, c.field)
		}
	}
	if err := validateReminders("r", []Reminder{{Method: "web_socket", Interval: ReminderInterval{4, "W"}}}); err != nil {
		t.Errorf("4 weeks: %v", err)
	}
}
