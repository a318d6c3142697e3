package calsync

import (
	"slices"
	"time"
)

// This file is the pure planner: given one Oro event and/or one Microsoft
// event, their link and the settings, decide what to write where. No I/O.

// remoteState is what the engine knows about the Microsoft copy of a pair.
type remoteState int

const (
	remoteUnknown remoteState = iota // not seen this run: assumed unchanged since the link
	remotePresent                    // seen in delta or read with Get
	remoteGone                       // deleted (confirmed)
)

// side change classification, relative to the link's base content.
type change int

const (
	unchanged change = iota
	edited
	deleted
	created // no link: new on that side
)

type planConfig struct {
	dir      Direction
	strategy ConflictResolution
	// now is the run's start: the time of a tombstone without updatedAt
	// (the deletion is at least that recent)
	now time.Time
	// writeWho: the writeAttendees setting (see attendee.go)
	writeWho bool
}

// decision is the planner's answer for one pair.
type decision struct {
	write  WriteOp  // Microsoft-side write, "" for none
	fields []string // for updates: the Write.Fields to send
	pull   OpKind   // Oro-side operation, "" for none
	// unlink: remove the stored link (the Oro event is a tombstone whose
	// Microsoft copy is gone or must be left alone).
	unlink bool
	// relink: store a fresh link for the current remote copy (content agrees).
	relink   bool
	target   content // content both sides hold afterwards
	reason   Reason
	conflict winner // how a conflict was resolved, "" when there was none
	issue    *Issue
}

// winner names how a conflict was resolved: the keys of Stats.Conflicts.
type winner string

// The conflict outcomes.
const (
	oroWon       winner = "oro_won"
	microsoftWon winner = "microsoft_won"
	merged       winner = "merged" // each field group from the side that changed it
)

func (p *pairInput) oroChange() change {
	switch {
	case p.oro == nil:
		return unchanged
	case p.oro.Deleted:
		return deleted
	case p.link() == nil && !p.ours:
		return created
	case p.link() == nil: // ours: what we created is the base
		oro, _ := p.lostEdits()
		return oro
	case p.oroDigest().matches(p.link()):
		return unchanged
	}
	return edited
}

func (p *pairInput) remoteChange() change {
	switch {
	case p.remoteS == remoteGone:
		if p.link() == nil && !p.ours {
			return unchanged // never existed as far as we know
		}
		return deleted
	case p.remoteS == remoteUnknown:
		return unchanged
	case p.ours:
		_, ms := p.lostEdits()
		return ms
	case p.link() == nil:
		return created
	case p.remoteDigest().matches(p.link()):
		return unchanged
	}
	return edited
}

// createdSettle: Microsoft 365 may stamp a new event's lastModifiedDateTime
// a moment after its createdDateTime; a copy last modified within this of
// its creation counts as unedited since.
const createdSettle = 5 * time.Second

// lostEdits classifies both sides of a pair whose Microsoft copy a run whose
// result was lost created (ours, no link). That create wrote the Oro event
// as it was then, so when the contents differ: the copy was edited in
// Microsoft 365 if it was modified after its creation, and the Oro event was
// edited if its updatedAt is later than the copy's creation by more than
// ClockSkewTolerance (Oro's updatedAt and Microsoft's createdDateTime come
// from different clocks). A copy not edited since is what we wrote: the Oro
// event changed (or its content did not survive the create unchanged), and
// it is pushed. For a tombstone (no content to compare) the copy is edited
// if it was modified after its creation, and the pair goes through
// edit-versus-delete resolution like a linked one.
func (p *pairInput) lostEdits() (oro, ms change) {
	msEdited := p.remote.LastModified.After(p.remote.Created.Add(createdSettle))
	if p.oro.Deleted {
		if msEdited {
			return deleted, edited
		}
		return deleted, unchanged
	}
	if p.oroDigest().all == p.remoteDigest().all {
		return unchanged, unchanged
	}
	switch {
	case !msEdited:
		return edited, unchanged
	case !p.oro.UpdatedAt.After(p.remote.Created.Add(ClockSkewTolerance)):
		return unchanged, edited
	}
	return edited, edited
}

// readOnly says why the Microsoft copy must never be changed by us:
// ReasonNotOrganizer, ReasonHasAttendees (any change would notify them;
// not with writeAttendees, which accepts that), or "" when it may be
// changed.
func (p *pairInput) readOnly() Reason {
	why := p.readOnlyFact()
	if why == ReasonHasAttendees && p.writeWho {
		return ""
	}
	return why
}

// readOnlyFact is readOnly whatever writeAttendees says: what a link
// records (Link.ReadOnly, Link.Meeting).
func (p *pairInput) readOnlyFact() Reason {
	organizer, attendees := true, false
	switch l := p.link(); {
	case p.remoteS == remotePresent:
		organizer, attendees = p.remote.IsOrganizer, p.remote.HasAttendees
	case l != nil:
		organizer, attendees = !l.ReadOnly || l.Meeting, l.Meeting
	}
	switch {
	case !organizer:
		return ReasonNotOrganizer
	case attendees:
		return ReasonHasAttendees
	}
	return ""
}

// remoteReadOnly: the Microsoft copy, present, must not be changed by us.
func (p *pairInput) remoteReadOnly() bool {
	return p.remoteS == remotePresent && (!p.remote.IsOrganizer || p.remote.HasAttendees)
}

// readOnlyIssue reports a write refused because of readOnly's reason,
// with the message for an event the user does not organize or for one
// with attendees.
func readOnlyIssue(reason Reason, notOrganizer, hasAttendees string) *Issue {
	msg := notOrganizer
	if reason == ReasonHasAttendees {
		msg = hasAttendees
	}
	return &Issue{Kind: KindForbidden, Reason: reason, Message: msg}
}

// decide is the planner. The cases are documented in CONFLICTS.md.
func decide(p *pairInput, cfg planConfig) decision {
	var rcont content
	if p.remoteS == remotePresent {
		rcont = remoteContent(p.remote)
	}
	if p.oro == nil {
		return decideRemoteOnly(p, cfg, rcont)
	}
	p.oroDigest() // fills in a reminder the host did not send
	if p.oro.Deleted && p.link() == nil && !p.ours {
		// A tombstone of an event never linked, and no copy of ours in
		// Microsoft 365 (a lost result's create would have been paired by
		// our Oro id or transactionId): nothing to delete anywhere.
		return decision{}
	}
	oc, rc := p.oroChange(), p.remoteChange()
	switch {
	case oc == created && rc == created: // matched by iCalendar UID: no base
		if p.remoteDigest().all == p.oroDigest().all {
			return decision{relink: true, target: rcont, reason: ReasonMatchedUID}
		}
		if !p.inWindow {
			return decision{} // only the UID matches; the Microsoft copy is outside the window
		}
		return resolveBoth(p, cfg, rcont, true)
	case oc == created:
		if !cfg.dir.Pushes() {
			return decision{}
		}
		if attendeeCopy(p.oro) {
			return decision{issue: &Issue{Kind: KindForbidden, Reason: ReasonAttendeeCopy,
				Message: "an attendee's copy of another user's event is not created in Microsoft 365: the invitation from its organizer's mailbox is its counterpart"}}
		}
		if msg := p.oroC.check(); msg != "" {
			return decision{issue: &Issue{Kind: KindRejected, Reason: ReasonInvalidEvent, Message: msg}}
		}
		return decision{write: WriteCreate, target: p.oroC, reason: ReasonOroCreated}
	case rc == created:
		// A remote event matched by UID to a tombstone without link: the
		// Oro event was never linked to it; leave it alone.
		return decision{}
	case oc == edited && rc == edited:
		if p.remoteDigest().all == p.oroDigest().all {
			return decision{relink: true, target: rcont, reason: ReasonSameContent}
		}
		return resolveBoth(p, cfg, rcont, p.link() == nil) // ours: no base fields to merge with
	case oc == edited && rc == deleted:
		if editVsDelete(cfg, p, true) == SideOro {
			return recreateRemote(p, cfg, conflictTag(cfg, true))
		}
		return decision{pull: OpDelete, reason: conflictReason(cfg, ReasonMicrosoftDeleted, false), conflict: conflictTag(cfg, false)}
	case oc == deleted && rc == edited:
		if editVsDelete(cfg, p, false) == SideOro {
			return pushDelete(p, conflictTag(cfg, true))
		}
		return decision{pull: OpCreate, target: rcont, reason: conflictReason(cfg, ReasonMicrosoftRecreated, false), conflict: conflictTag(cfg, false)}
	}
	return decideOneSide(p, cfg, oc, rc, rcont)
}

// decideRemoteOnly decides for a Microsoft copy whose Oro event was not
// in the request.
func decideRemoteOnly(p *pairInput, cfg planConfig, rcont content) decision {
	if !cfg.dir.Pulls() {
		if p.known && p.remoteS == remotePresent && p.remoteReadOnly() {
			// oro_to_microsoft pulls nothing, but the link must learn
			// that the copy became a meeting (or is not the user's):
			// later writes of a copy not seen are refused by it
			return decision{relink: true, target: rcont, reason: p.readOnlyFact()}
		}
		return decision{}
	}
	switch {
	case p.remoteS == remoteGone:
		return decision{pull: OpDelete, reason: ReasonMicrosoftDeleted}
	case !p.inWindow:
		return decision{pull: OpUpdate, target: rcont, reason: ReasonMicrosoftMoved}
	case p.known:
		return decision{pull: OpUpdate, target: rcont, reason: ReasonMicrosoftChanged}
	}
	// new in Microsoft 365, or changed there while its Oro event (one
	// that came from Microsoft 365) was not sent: the host upserts it by
	// remoteId (see OpCreate)
	return decision{pull: OpCreate, target: rcont, reason: ReasonMicrosoftCreated}
}

// decideOneSide decides a linked pair (or one of ours) where at most one
// side changed, or both deleted.
func decideOneSide(p *pairInput, cfg planConfig, oc, rc change, rcont content) decision {
	push, pull := cfg.dir.Pushes(), cfg.dir.Pulls()
	switch {
	case oc == unchanged && rc == unchanged:
		if p.oro.Deleted {
			return decision{}
		}
		if p.remoteS == remotePresent && (p.link() == nil || p.link().ChangeKey != p.remote.ChangeKey) {
			reason := ReasonSameContent
			if p.ours && p.link() == nil {
				reason = ReasonRecovered
			}
			return decision{relink: true, target: rcont, reason: reason}
		}
		return decision{}
	case oc == deleted && rc == deleted:
		return decision{unlink: true, reason: ReasonOroDeleted}
	case oc == edited && rc == unchanged:
		if push {
			return pushEdit(p, cfg, p.oroC, ReasonOroChanged, "")
		}
		return decision{} // microsoft_to_oro: Oro edits stay in Oro
	case oc == unchanged && rc == edited:
		if pull {
			return decision{pull: OpUpdate, target: rcont, reason: ReasonMicrosoftChanged}
		}
		return keepMicrosoftEdit(p, cfg)
	case oc == unchanged && rc == deleted:
		if pull {
			return decision{pull: OpDelete, reason: ReasonMicrosoftDeleted}
		}
		return decision{}
	case oc == deleted && rc == unchanged:
		if push {
			return pushDelete(p, "")
		}
		return decision{unlink: true, reason: ReasonDirectionIgnored}
	}
	return decision{}
}

// keepMicrosoftEdit decides for a Microsoft edit that is not pulled
// (oro_to_microsoft), Oro unchanged.
func keepMicrosoftEdit(p *pairInput, cfg planConfig) decision {
	if l := p.link(); l != nil && p.remoteReadOnly() && !l.ReadOnly {
		// the link learns it became a meeting; Oro (unchanged) stays
		// the base
		return decision{relink: true, target: p.oroC, reason: p.readOnlyFact()}
	}
	if p.link() == nil {
		// a lost create's copy, edited in Outlook since
		if p.oro.UpdatedAt.After(p.remote.Created) {
			// Oro's updatedAt is after the copy's creation, within
			// ClockSkewTolerance: an Oro edit as likely as skew; Oro
			// is the master here, its content is pushed
			return pushEdit(p, cfg, p.oroC, ReasonOroChanged, "")
		}
		// linked with what the create wrote (what Oro holds) as the
		// base, so the edit is left alone like a linked pair's
		return decision{relink: true, target: p.oroC, reason: ReasonRecovered}
	}
	return decision{} // oro_to_microsoft: Microsoft edits are left alone
}

// pushEdit writes target to Microsoft: an update, or a re-creation when the
// Microsoft copy is gone. Events the user does not organize, and events
// with attendees (unless writeAttendees), are not written; when pulling,
// Microsoft's copy is pulled back instead.
func pushEdit(p *pairInput, cfg planConfig, target content, reason Reason, conflict winner) decision {
	if msg := target.check(); msg != "" {
		return decision{issue: &Issue{Kind: KindRejected, Reason: ReasonInvalidEvent, Message: msg}}
	}
	if why := p.readOnly(); why != "" {
		if cfg.dir.Pulls() && p.remoteS == remotePresent {
			return decision{pull: OpUpdate, target: remoteContent(p.remote), reason: why}
		}
		d := decision{issue: readOnlyIssue(why, "the connected user does not organize this event; it is not changed in Microsoft 365",
			"this event has attendees, whom any change would notify; it is not changed in Microsoft 365")}
		if l := p.link(); l != nil && p.remoteReadOnly() && !l.ReadOnly {
			// the link learns it became read-only, for runs that do not see it
			d.relink, d.target = true, remoteContent(p.remote)
		}
		return d
	}
	if is := p.cannotMakeSingle(target); is != nil {
		return decision{issue: is}
	}
	var cur content
	switch {
	case p.remoteS == remotePresent:
		cur = remoteContent(p.remote)
	case p.link() != nil:
		// unknown remote: the base fields tell what to send (confirm
		// reads the copy first when Oro's attendees are written)
		return decision{write: WriteUpdate, fields: append(changedFieldsVsBase(target, p.link().Fields), writesWho(target, nil)...), target: target, reason: reason, conflict: conflict}
	}
	// the pull-only groups (attendees but Oro's own, a series'
	// exceptions) are never written: Microsoft's stand, and reach Oro with
	// the same decision
	d := decision{write: WriteUpdate, target: target, reason: reason, conflict: conflict}
	pulled := false
	for _, f := range pullOnlyGroups {
		if f == fieldWho && target.Who != nil && target.Who.own || f == fieldSeries && target.Recurrence == nil {
			continue // Oro's own attendees; a single event holds no exceptions
		}
		if i := slices.Index(fieldGroups[:], f); cur.isSet(i) && !d.target.fieldHash(i).equal(cur.fieldHash(i)) {
			d.target.setField(f, cur)
			pulled = true
		}
	}
	if pulled && cfg.dir.Pulls() {
		d.pull = OpUpdate
	}
	d.fields = append(changedFields(d.target, cur, p.link()), writesWho(d.target, p.remote)...)
	if w := d.target.Who; w != nil && w.own {
		own := *w
		own.Attendees = withResources(w.Attendees, p.remote)
		d.target.Who = &own
	}
	return d
}

// writesWho is the Write.Fields that write target's attendees: Oro's own
// (see fillWho), unless the copy cur (nil: not read) holds the same
// invitees.
func writesWho(target content, cur *RemoteEvent) []string {
	w := target.Who
	if w == nil || !w.own || cur != nil && invitees(w.Attendees, "") == invitees(cur.Attendees, cur.OrganizerEmail) {
		return nil
	}
	return []string{"attendees"}
}

// pullOnlyGroups are the field groups Microsoft 365 alone changes.
var pullOnlyGroups = [...]string{fieldWho, fieldSeries}

// changedFields are the Write.Fields of the groups a differs from b in. The
// reminder is left out when a's is unset, or when the pair's link predates
// reminders (the copy's own reminder is then pulled, not overwritten: see
// reminder.go).
func changedFields(a, b content, l *Link) []string {
	var out []string
	for i, f := range fieldGroups {
		if skipGroup(i, a, l) {
			continue
		}
		if a.field(f) != b.field(f) {
			out = append(out, graphFields[f]...)
		}
	}
	return out
}

func changedFieldsVsBase(a content, base map[string]string) []string {
	var out []string
	for i, f := range fieldGroups {
		if b, ok := base[f]; ok && !a.fieldHash(i).is(b) || !ok && i < legacyGroups {
			out = append(out, graphFields[f]...)
		}
	}
	return out
}

// skipGroup: group i is not written from a (see changedFields). A single
// event's recurrence is written (as none) only over a series linked as
// one: a series made a single event in Oro.
func skipGroup(i int, a content, l *Link) bool {
	switch fieldGroups[i] {
	case fieldReminder:
		return a.Reminder == ReminderUnset || l != nil && !syncsReminder(l)
	case fieldRecurrence:
		return a.Recurrence == nil && (l == nil || !l.Series)
	}
	return false
}

func recreateRemote(p *pairInput, cfg planConfig, conflict winner) decision {
	if why := p.readOnlyFact(); why != "" {
		// its organizer deleted a meeting: it is never re-created as the
		// user's own event, whatever Oro changed (nor, with
		// writeAttendees, invited to again)
		if cfg.dir.Pulls() {
			return decision{pull: OpDelete, reason: ReasonMicrosoftDeleted}
		}
		return decision{issue: readOnlyIssue(why, "its organizer deleted this event in Microsoft 365; the connected user does not organize it, so it is not re-created",
			"this meeting was deleted in Microsoft 365; it had attendees, so it is not re-created")}
	}
	if p.oroC.Recurrence != nil && cfg.dir.Pulls() {
		// a series deleted in Microsoft 365 is not re-created from Oro
		// when pulling: the exceptions Oro holds from Microsoft 365 are
		// not written, so the copy would differ from what Oro holds
		return decision{pull: OpDelete, reason: ReasonMicrosoftDeleted}
	}
	if msg := p.oroC.check(); msg != "" {
		return decision{issue: &Issue{Kind: KindRejected, Reason: ReasonInvalidEvent, Message: msg}}
	}
	reason := ReasonOroChanged
	if cfg.dir == DirectionBoth {
		reason = ReasonConflictOroWon
	}
	return decision{write: WriteCreate, target: p.oroC, reason: reason, conflict: conflict}
}

func pushDelete(p *pairInput, conflict winner) decision {
	if why := p.readOnly(); why != "" {
		return decision{unlink: true, reason: why, conflict: conflict,
			issue: readOnlyIssue(why, "deleted in Oro, but the connected user does not organize it: the Microsoft 365 event is kept",
				"deleted in Oro, but it has attendees, whom a deletion would notify: the Microsoft 365 event is kept")}
	}
	reason := ReasonOroDeleted
	if conflict != "" {
		reason = ReasonConflictOroWon
	}
	return decision{write: WriteDelete, reason: reason, conflict: conflict}
}

// overlaps reports whether [s, e) meets the window.
func (w Window) overlaps(s, e time.Time) bool {
	return s.Before(w.End) && e.After(w.Start)
}

// sortedKeys returns m's keys in order (deterministic output).
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
