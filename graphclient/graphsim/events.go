package graphsim

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"html"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mailbox is one user's calendar store. All fields are guarded by Sim.mu.
type mailbox struct {
	calendarKey string
	events      map[string]*event // by key; deleted events stay as tombstones
	seq         int64             // bumped by every change
	changes     []change          // append-only, ordered by seq
	txids       map[string]txRecord
	tokens      map[string]*deltaState
	deltaFIFO   []string // delta tokens in issue order, for eviction
	skipFIFO    []string // skip tokens in issue order
	generation  int
	resetNext   bool
}

type change struct {
	seq int64
	key string
}

type txRecord struct {
	key     string
	created time.Time
}

func newMailbox(s *Sim) *mailbox {
	return &mailbox{
		calendarKey: string(rune(kindCalendar)) + string(s.randBytes(16)),
		events:      map[string]*event{},
		txids:       map[string]txRecord{},
		tokens:      map[string]*deltaState{},
	}
}

// event is a stored item: a single instance, a series master or an
// exception. Occurrences are never stored; they are computed from the
// master's series.
type event struct {
	key       string
	typ       string // singleInstance, seriesMaster, exception
	masterKey string // exceptions
	origStart time.Time
	props     map[string]any // client-writable properties other than those below
	start     time.Time
	end       time.Time
	startTZ   string
	endTZ     string
	allDay    bool
	history   []*series // masters: every version, oldest first
	ext       map[string]extProp
	txid      string
	created   time.Time
	modified  time.Time
	changeKey string
	iCalUID   string
	seq       int64
	deleted   bool
	organizer map[string]any
	isOrg     bool
	// origZone is the recurrence zone of an exception's series, in which
	// its occurrenceId date is taken.
	origZone *time.Location
}

// origLoc is the zone of an exception's original date (UTC when unknown).
func (e *event) origLoc() *time.Location {
	if e == nil || e.origZone == nil {
		return time.UTC
	}
	return e.origZone
}

func (e *event) series() *series { return e.history[len(e.history)-1] }

type extProp struct{ id, value string }

func (e *event) etag() string { return `W/"` + e.changeKey + `"` }

// touch records a change of e in mb.
func (s *Sim) touch(mb *mailbox, e *event) {
	created := e.seq == 0
	mb.seq++
	e.seq = mb.seq
	e.modified = s.now()
	e.changeKey = base64.StdEncoding.EncodeToString(s.randBytes(16))
	mb.changes = append(mb.changes, change{seq: mb.seq, key: e.key})
	s.changed(mb, e, created)
}

// instance is a resolved event id: a stored event, or a computed occurrence.
type instance struct {
	ev     *event    // stored event (nil for an occurrence)
	master *event    // occurrence's master
	orig   time.Time // occurrence's original start
}

// lookup resolves key in mb; ok is false for unknown, deleted or cancelled.
func (mb *mailbox) lookup(key string) (instance, bool) {
	if e, ok := mb.events[key]; ok && !e.deleted {
		return instance{ev: e}, true
	} else if ok && e.typ != "exception" {
		return instance{}, false
	}
	// A deleted exception's id is its occurrence's again when a pattern
	// or time change reset the exception.
	mk, orig, ok := splitOccurrenceKey(key)
	if !ok {
		return instance{}, false
	}
	m, ok := mb.events[mk]
	if !ok || m.deleted || m.typ != "seriesMaster" || !m.series().hasOccurrence(orig) {
		return instance{}, false
	}
	return instance{master: m, orig: orig}, true
}

// goneStatus is what a DELETE of key answers when it names something
// already gone (semantics §1.7, Odoo's delete: "Microsoft can also return a
// 403 response when the event is already cancelled"): 410 for a deleted
// event or series, or an occurrence of one; 403 for a cancelled occurrence;
// 0 when key is live or was never an event.
func (mb *mailbox) goneStatus(key string) int {
	if _, live := mb.lookup(key); live {
		return 0
	}
	if e, ok := mb.events[key]; ok && e.typ != "exception" {
		return 410
	}
	mk, orig, isOcc := splitOccurrenceKey(key)
	m, ok := mb.events[mk]
	switch {
	case !isOcc || !ok:
		return 0
	case m.deleted:
		return 410
	case m.typ == "seriesMaster" && m.series().cancelled[orig.Unix()]:
		return 403
	}
	return 0
}

// ---- property validation ----

type apiErr struct {
	status      int
	code, msg   string
	unsupported bool // the simulator does not model it: log loudly
}

func (e *apiErr) Error() string { return e.code + ": " + e.msg }

func badRequest(code, format string, a ...any) *apiErr {
	return &apiErr{status: 400, code: code, msg: fmt.Sprintf(format, a...)}
}

var enumProps = map[string][]string{
	"showAs":                {"free", "tentative", "busy", "oof", "workingElsewhere", "unknown"},
	"sensitivity":           {"normal", "personal", "private", "confidential"},
	"importance":            {"low", "normal", "high"},
	"onlineMeetingProvider": {"unknown", "teamsForBusiness", "skypeForBusiness", "skypeForConsumer"},
}

var attendeeTypes = []string{"required", "optional", "resource"}

// canonical is v's spelling among values, matched case-insensitively: Graph
// accepts "Required" or "Busy" as Microsoft's samples send them and answers
// the enum's own spelling (semantics §1.5, Part 4 #13).
func canonical(values []string, v any) (string, bool) {
	sv, _ := v.(string)
	for _, x := range values {
		if strings.EqualFold(x, sv) {
			return x, true
		}
	}
	return "", false
}

var boolProps = map[string]bool{"isReminderOn": true, "responseRequested": true, "allowNewTimeProposals": true, "hideAttendees": true, "isOnlineMeeting": true}

// readOnlyProps are accepted in a body and ignored, as Graph does for
// computed properties a client echoes back.
var readOnlyProps = map[string]bool{
	"id": true, "createdDateTime": true, "lastModifiedDateTime": true, "changeKey": true, "iCalUId": true,
	"uid": true, "type": true, "seriesMasterId": true, "originalStart": true, "originalStartTimeZone": true,
	"originalEndTimeZone": true, "webLink": true, "isOrganizer": true, "responseStatus": true,
	"bodyPreview": true, "hasAttachments": true, "isCancelled": true, "isDraft": true, "onlineMeeting": true,
	"onlineMeetingUrl": true,
}

// unmodelledProps exist on event but the simulator does not model them.
var unmodelledProps = map[string]bool{
	"multiValueExtendedProperties": true, "extensions": true, "attachments": true, "calendar": true,
	"instances": true, "exceptionOccurrences": true, "cancelledOccurrences": true,
}

// selectable are the event properties $select may name (lower-cased): what
// render writes, plus the series-master properties that are returned only
// when selected (semantics §1.2.3).
var selectable = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range []string{"id", "createdDateTime", "lastModifiedDateTime", "changeKey", "categories",
		"transactionId", "originalStartTimeZone", "originalEndTimeZone", "iCalUId", "uid",
		"reminderMinutesBeforeStart", "isReminderOn", "hasAttachments", "subject", "bodyPreview", "importance",
		"sensitivity", "isAllDay", "isCancelled", "isOrganizer", "responseRequested", "seriesMasterId", "showAs",
		"type", "webLink", "onlineMeetingUrl", "isOnlineMeeting", "onlineMeetingProvider", "allowNewTimeProposals",
		"isDraft", "hideAttendees", "responseStatus", "body", "start", "end", "location", "locations",
		"recurrence", "attendees", "organizer", "onlineMeeting", "originalStart", "occurrenceId",
		"cancelledOccurrences", "exceptionOccurrences", "singleValueExtendedProperties"} {
		m[strings.ToLower(k)] = true
	}
	return m
}()

// eventPropCase maps a lower-cased name of an unmodelled property to its
// spelling, so a $select of one is reported as unimplemented.
var eventPropCase = func() map[string]string {
	m := map[string]string{}
	for k := range unmodelledProps {
		m[strings.ToLower(k)] = k
	}
	return m
}()

type dtz struct {
	wall time.Time // wall clock in loc
	tz   string
	loc  *time.Location
}

var dtLayouts = []string{"2006-01-02T15:04:05.9999999", "2006-01-02T15:04"}

func parseDTZ(name string, v any) (dtz, *apiErr) {
	obj, ok := v.(map[string]any)
	if !ok {
		return dtz{}, badRequest("RequestBodyRead", "Property '%s' must be a dateTimeTimeZone object.", name)
	}
	s, _ := obj["dateTime"].(string)
	tz, _ := obj["timeZone"].(string)
	if tz == "" {
		tz = "UTC"
	}
	loc, ok := loadZone(tz)
	if !ok {
		return dtz{}, badRequest("TimeZoneNotSupportedException", "A valid TimeZone value must be specified. The following TimeZone value is not supported: '%s'.", tz)
	}
	for _, l := range dtLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return dtz{wall: t, tz: tz, loc: loc}, nil
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return dtz{wall: t.In(loc), tz: tz, loc: loc}, nil
	}
	return dtz{}, badRequest("RequestBodyRead", "Cannot convert the literal '%s' to the expected type 'Edm.DateTime' of property '%s'.", s, name)
}

var extIDRe = regexp.MustCompile(`^(?i:(String|Integer|Boolean|Long|Double|SystemTime|Short|Float|Currency|Binary|CLSID|ApplicationTime)) (\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}) (?i:(Name|Id)) (.+)$|^(?i:(String|Integer|Boolean|Long|Double|SystemTime)) (0x[0-9A-Fa-f]{8})$`)

// extKey normalises an extended property id: type, GUID and the Name/Id
// keyword are case-insensitive; the name itself is case-sensitive (facts §4).
func extKey(id string) (string, bool) {
	m := extIDRe.FindStringSubmatch(strings.TrimSpace(id))
	if m == nil {
		return "", false
	}
	if m[1] != "" {
		return strings.ToLower(m[1]) + " " + strings.ToLower(m[2]) + " " + strings.ToLower(m[3]) + " " + m[4], true
	}
	return strings.ToLower(m[5]) + " " + strings.ToLower(m[6]), true
}

// parsedBody is a validated event body.
type parsedBody struct {
	props     map[string]any
	start     *dtz
	end       *dtz
	allDay    *bool
	rec       any // nil when absent; json null becomes jsonNull
	txid      string
	ext       []extProp
	organizer map[string]any
}

var jsonNull = struct{}{}

func parseEventBody(body map[string]any) (*parsedBody, *apiErr) {
	p := &parsedBody{props: map[string]any{}}
	for k, v := range body {
		switch {
		case k == "@odata.type":
			if v != "#microsoft.graph.event" {
				return nil, badRequest("RequestBodyRead", "A type named '%v' could not be resolved by the model.", v)
			}
		case strings.HasPrefix(k, "@") || strings.Contains(k, "@odata."):
		case readOnlyProps[k]:
		case unmodelledProps[k]:
			e := badRequest("RequestBodyRead", "Property '%s' is not supported by graphsim.", k)
			e.unsupported = true
			return nil, e
		case k == "subject":
			if _, ok := v.(string); !ok && v != nil {
				return nil, badRequest("RequestBodyRead", "Property 'subject' must be a string.")
			}
			p.props[k] = v
		case k == "body":
			b, ok := v.(map[string]any)
			if !ok {
				return nil, badRequest("RequestBodyRead", "Property 'body' must be an itemBody object.")
			}
			ct, _ := b["contentType"].(string)
			if ct = strings.ToLower(ct); ct != "text" && ct != "html" {
				return nil, badRequest("RequestBodyRead", "The value '%v' of property 'contentType' is not valid.", b["contentType"])
			}
			c, _ := b["content"].(string)
			p.props[k] = map[string]any{"contentType": ct, "content": c}
		case k == "start" || k == "end":
			d, err := parseDTZ(k, v)
			if err != nil {
				return nil, err
			}
			if k == "start" {
				p.start = &d
			} else {
				p.end = &d
			}
		case k == "isAllDay":
			b, ok := v.(bool)
			if !ok {
				return nil, badRequest("RequestBodyRead", "Property 'isAllDay' must be a boolean.")
			}
			p.allDay = &b
		case boolProps[k]:
			if _, ok := v.(bool); !ok {
				return nil, badRequest("RequestBodyRead", "Property '%s' must be a boolean.", k)
			}
			p.props[k] = v
		case enumProps[k] != nil:
			sv, ok := canonical(enumProps[k], v)
			if !ok {
				return nil, badRequest("RequestBodyRead", "The value '%v' of property '%s' is not valid.", v, k)
			}
			p.props[k] = sv
		case k == "reminderMinutesBeforeStart":
			if _, ok := num(v); !ok {
				return nil, badRequest("RequestBodyRead", "Property 'reminderMinutesBeforeStart' must be an integer.")
			}
			p.props[k] = v
		case k == "categories":
			arr, ok := v.([]any)
			if !ok {
				return nil, badRequest("RequestBodyRead", "Property 'categories' must be an array of strings.")
			}
			for _, c := range arr {
				if _, ok := c.(string); !ok {
					return nil, badRequest("RequestBodyRead", "Property 'categories' must be an array of strings.")
				}
			}
			p.props[k] = v
		case k == "location":
			if _, ok := v.(map[string]any); !ok && v != nil {
				return nil, badRequest("RequestBodyRead", "Property 'location' must be a location object.")
			}
			p.props[k] = v
		case k == "locations":
			if _, ok := v.([]any); !ok {
				return nil, badRequest("RequestBodyRead", "Property 'locations' must be an array.")
			}
			p.props[k] = v
		case k == "attendees":
			arr, ok := v.([]any)
			if !ok {
				return nil, badRequest("RequestBodyRead", "Property 'attendees' must be an array.")
			}
			if len(arr) > 500 {
				return nil, badRequest("ErrorInvalidRecipients", "An event can have at most 500 attendees.")
			}
			for _, a := range arr {
				am, ok := a.(map[string]any)
				ea, _ := am["emailAddress"].(map[string]any)
				if !ok || ea == nil {
					return nil, badRequest("RequestBodyRead", "Each attendee requires an emailAddress.")
				}
				if t, ok := am["type"]; ok && t != nil {
					ct, good := canonical(attendeeTypes, t)
					if !good {
						return nil, badRequest("RequestBodyRead", "The value '%v' of property 'type' is not valid.", t)
					}
					am["type"] = ct
				}
			}
			p.props[k] = v
		case k == "organizer":
			o, ok := v.(map[string]any)
			if !ok {
				return nil, badRequest("RequestBodyRead", "Property 'organizer' must be a recipient object.")
			}
			p.organizer = o
		case k == "recurrence":
			if v == nil {
				p.rec = jsonNull
			} else {
				p.rec = v
			}
		case k == "transactionId":
			s, ok := v.(string)
			if !ok && v != nil {
				return nil, badRequest("RequestBodyRead", "Property 'transactionId' must be a string.")
			}
			p.txid = s
		case k == "singleValueExtendedProperties":
			arr, ok := v.([]any)
			if !ok {
				return nil, badRequest("RequestBodyRead", "Property 'singleValueExtendedProperties' must be an array.")
			}
			for _, it := range arr {
				m, _ := it.(map[string]any)
				id, _ := m["id"].(string)
				val, ok := m["value"].(string)
				if _, good := extKey(id); !good {
					return nil, badRequest("ErrorInvalidProperty", "The extended property id '%s' is not valid.", id)
				}
				if !ok {
					return nil, badRequest("ErrorInvalidProperty", "The value of extended property '%s' must be a string.", id)
				}
				p.ext = append(p.ext, extProp{id: id, value: val})
			}
		default:
			return nil, badRequest("RequestBodyRead", "The property '%s' does not exist on type 'microsoft.graph.event'. Make sure to only use property names that are defined by the type or mark the type as open type.", k)
		}
	}
	return p, nil
}

func midnight(t time.Time) bool {
	h, m, s := t.Clock()
	return h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

func civil(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// applyTimes validates start, end and isAllDay together and stores them
// (facts §2 isAllDay; semantics §1.4.3). An all-day event must run from a
// midnight to a later midnight, both named in the same zone (the name, not
// the offset: "Pacific Standard Time" and America/Los_Angeles differ), so it
// is whole days in that zone however long they are across DST. It stays
// anchored there: its instants are the midnights of that zone (Part 4 #11).
func applyTimes(e *event, start, end dtz, allDay bool) *apiErr {
	if allDay {
		if !midnight(start.wall) || !midnight(end.wall) || start.tz != end.tz {
			return badRequest("ErrorPropertyValidationFailure", "Your request can't be completed. If the event is an all-day event, the start time and end time must be midnight and in the same time zone.")
		}
		if !civil(end.wall).After(civil(start.wall)) {
			return badRequest("ErrorPropertyValidationFailure", "Your request can't be completed. An all-day event must be at least a day long.")
		}
	}
	e.start, e.end = start.wall.UTC(), end.wall.UTC()
	if e.end.Before(e.start) {
		return badRequest("ErrorInvalidRequest", "The end time of an event cannot be before its start time.")
	}
	e.startTZ, e.endTZ, e.allDay = start.tz, end.tz, allDay
	return nil
}

func (e *event) startDTZ() dtz {
	loc, _ := loadZone(e.startTZ)
	return dtz{wall: e.start.In(loc), tz: e.startTZ, loc: loc}
}

func (e *event) endDTZ() dtz {
	loc, _ := loadZone(e.endTZ)
	return dtz{wall: e.end.In(loc), tz: e.endTZ, loc: loc}
}

// seriesFor builds the master's series from its times and recurrence. A
// timed series expands in its recurrence zone; an all-day one in the zone it
// was written in, each occurrence running midnight to midnight there.
func seriesFor(e *event, rec *recurrence, seq int64) *series {
	loc, _ := loadZone(e.startTZ)
	if !e.allDay && rec.TimeZone != "" {
		if l, ok := loadZone(rec.TimeZone); ok {
			loc = l
		}
	}
	sr := &series{seq: seq, start: e.start, dur: e.end.Sub(e.start), loc: loc, rec: rec,
		cancelled: map[int64]bool{}, exceptions: map[int64]bool{}}
	if e.allDay {
		sr.days = int(civil(e.end.In(loc)).Sub(civil(e.start.In(loc))).Hours() / 24)
	}
	return sr
}

func (s *Sim) newKey(kind byte) string { return string(rune(kind)) + string(s.randBytes(16)) }

// createEvent stores a new event from a validated body. It needs s.mu.
func (s *Sim) createEvent(u *user, p *parsedBody, source string) (*event, *apiErr) {
	mb := u.mb
	if p.start == nil || p.end == nil {
		return nil, badRequest("ErrorInvalidRequest", "An event requires both start and end.")
	}
	s.storeBody(p.props)
	e := &event{key: s.newKey(kindEvent), typ: "singleInstance", props: p.props, created: s.now(), ext: map[string]extProp{}}
	allDay := p.allDay != nil && *p.allDay
	if err := applyTimes(e, *p.start, *p.end, allDay); err != nil {
		return nil, err
	}
	if p.rec != nil && p.rec != jsonNull {
		rec, err := parseRecurrence(p.rec, civil(p.start.wall), p.start.tz)
		if err != nil {
			return nil, badRequest("ErrorPropertyValidationFailure", "%s", err.Error())
		}
		e.typ = "seriesMaster"
		e.history = []*series{seriesFor(e, rec, 0)}
		if err := e.series().validate(); err != nil {
			return nil, err
		}
	}
	if _, set := e.props["reminderMinutesBeforeStart"]; !set {
		e.props["reminderMinutesBeforeStart"] = s.defaultReminder(allDay, source)
	}
	normaliseLocations(e.props, p.props)
	for _, x := range p.ext {
		k, _ := extKey(x.id)
		e.ext[k] = x
	}
	e.txid = p.txid
	e.iCalUID = "040000008200E00074C5B7101A82E00800000000" + hex.EncodeToString(s.randBytes(8)) + "0000000000000000100000" + hex.EncodeToString(s.randBytes(8))
	own := map[string]any{"emailAddress": map[string]any{"name": u.DisplayName, "address": u.address()}}
	e.organizer, e.isOrg = own, true
	if p.organizer != nil && source == "outlook" {
		if ea, _ := p.organizer["emailAddress"].(map[string]any); ea != nil && !strings.EqualFold(fmt.Sprint(ea["address"]), u.address()) {
			e.organizer, e.isOrg = p.organizer, false
		}
	}
	mb.events[e.key] = e
	s.touch(mb, e)
	if e.typ == "seriesMaster" {
		e.history[0].seq = e.seq
	}
	if e.isOrg && len(attendeeAddrs(e.props)) > 0 {
		s.sendMail(u, e, "invitation", attendeeAddrs(e.props), source)
	}
	return e, nil
}

// defaultReminder is reminderMinutesBeforeStart for an event created
// without it (semantics §1.5): 15, as the create-event examples show, and
// 1080 (18 hours) for an all-day event, as an Outlook-made one showed
// (docs#6003). Whether Graph-made all-day events get 1080 too is
// UNCONFIRMED; AllDayReminder15 gives them 15.
func (s *Sim) defaultReminder(allDay bool, source string) int {
	if allDay && (source == "outlook" || !s.opts.AllDayReminder15) {
		return 1080
	}
	return 15
}

func (u *user) address() string {
	if u.Mail != "" {
		return u.Mail
	}
	return u.UPN
}

// normaliseLocations keeps location and locations in step (facts §2: updating
// location replaces the whole locations collection).
func normaliseLocations(dst, patch map[string]any) {
	if loc, ok := patch["location"].(map[string]any); ok {
		if _, has := patch["locations"]; !has {
			dst["locations"] = []any{loc}
		}
	} else if locs, ok := patch["locations"].([]any); ok && len(locs) > 0 {
		if _, has := patch["location"]; !has {
			dst["location"] = locs[0]
		}
	}
}

func attendeeAddrs(props map[string]any) []string {
	arr, _ := props["attendees"].([]any)
	var out []string
	for _, a := range arr {
		am, _ := a.(map[string]any)
		ea, _ := am["emailAddress"].(map[string]any)
		if addr, _ := ea["address"].(string); addr != "" {
			out = append(out, strings.ToLower(addr))
		}
	}
	return out
}

// sendMail records the messages the service sends about e: one per
// recipient (semantics §1.5).
func (s *Sim) sendMail(u *user, e *event, kind string, to []string, source string) {
	subj, _ := e.props["subject"].(string)
	for _, addr := range to {
		s.mail = append(s.mail, Mail{Time: s.now(), Kind: kind, From: u.address(), To: []string{addr},
			Subject: subj, EventID: formatID(e.key, false), Source: source})
	}
}

// materialise turns an occurrence into a stored exception (facts §11.2).
func (s *Sim) materialise(mb *mailbox, in instance) *event {
	m := in.master
	sr := m.series()
	props := make(map[string]any, len(m.props))
	for k, v := range m.props {
		props[k] = v
	}
	ex := &event{key: occurrenceKey(m.key, in.orig), typ: "exception", masterKey: m.key, origStart: in.orig,
		props: props, start: in.orig, end: sr.endOf(in.orig), startTZ: m.startTZ, endTZ: m.endTZ, allDay: m.allDay,
		ext: map[string]extProp{}, txid: "", created: s.now(), iCalUID: m.iCalUID, organizer: m.organizer, isOrg: m.isOrg,
		origZone: sr.loc}
	for k, v := range m.ext {
		ex.ext[k] = v
	}
	mb.events[ex.key] = ex
	nv := sr.clone(sr.seq)
	nv.exceptions[in.orig.Unix()] = true
	m.history = append(m.history, nv)
	return ex
}

var detailProps = []string{"subject", "body", "location", "locations", "start", "end", "isAllDay", "recurrence"}

// updateEvent applies a validated patch. It needs s.mu.
func (s *Sim) updateEvent(u *user, in instance, p *parsedBody, source string) (*event, *apiErr) {
	mb := u.mb
	e := in.ev
	if e == nil {
		if p.rec != nil && p.rec != jsonNull {
			return nil, badRequest("ErrorInvalidRequest", "An occurrence cannot have a recurrence.")
		}
		if p.start != nil || p.end != nil {
			st, en := in.orig, in.master.series().endOf(in.orig)
			if p.start != nil {
				st = p.start.wall.UTC()
			}
			if p.end != nil {
				en = p.end.wall.UTC()
			}
			if err := crossesBoundary(in.master, in.orig, st, en); err != nil {
				return nil, err
			}
		}
		e = s.materialise(mb, in)
	}
	if p.rec != nil && e.typ == "exception" && p.rec != jsonNull {
		return nil, badRequest("ErrorInvalidRequest", "An exception cannot have a recurrence.")
	}
	if p.rec != nil && e.typ == "singleInstance" && p.rec != jsonNull {
		// Whether Graph makes a single event a series this way is
		// UNCONFIRMED (calendar-semantics §1.3): refused loudly rather than
		// ignored, so that no client can rely on either answer here.
		return nil, badRequest("ErrorInvalidRequest", "The simulator does not make a single event a series by a recurrence PATCH (unconfirmed on Graph).")
	}
	oldAttendees := attendeeAddrs(e.props)
	var updatedExceptions []*event // a master's, for the update mail
	if e.typ == "seriesMaster" {
		for k := range e.series().exceptions {
			if ex, ok := mb.events[occurrenceKey(e.key, time.Unix(k, 0).UTC())]; ok && !ex.deleted {
				updatedExceptions = append(updatedExceptions, ex)
			}
		}
		slices.SortFunc(updatedExceptions, func(a, b *event) int { return a.origStart.Compare(b.origStart) })
	}
	start, end := e.startDTZ(), e.endDTZ()
	if p.start != nil {
		start = *p.start
	}
	if p.end != nil {
		end = *p.end
	}
	allDay := e.allDay
	if p.allDay != nil {
		allDay = *p.allDay
	}
	trial := *e
	if p.start != nil || p.end != nil || p.allDay != nil {
		if err := applyTimes(&trial, start, end, allDay); err != nil {
			return nil, err
		}
	}
	if m, ok := mb.events[e.masterKey]; ok && e.typ == "exception" && (p.start != nil || p.end != nil) {
		if err := crossesBoundary(m, e.origStart, trial.start, trial.end); err != nil {
			return nil, err
		}
	}
	var rec *recurrence
	if e.typ == "seriesMaster" && p.rec == jsonNull {
		// recurrence: null makes the series a single event at its first
		// occurrence's time (semantics §1.3; outlook-mcp #46).
		if !s.dropRecurrence(mb, e, &trial) {
			return nil, badRequest("ErrorInvalidRequest", "The series has no occurrence left.")
		}
	} else if e.typ == "seriesMaster" {
		rec = e.series().rec
		if p.rec != nil {
			var err error
			if rec, err = parseRecurrence(p.rec, civil(start.wall), start.tz); err != nil {
				return nil, badRequest("ErrorPropertyValidationFailure", "%s", err.Error())
			}
		} else if !civil(start.wall).Equal(rec.StartDate) {
			moved := *rec
			moved.StartDate = civil(start.wall)
			rec = &moved
		}
	}
	if rec != nil {
		if err := seriesFor(&trial, rec, 0).validate(); err != nil {
			return nil, err
		}
	}
	*e = trial
	s.storeBody(p.props)
	for k, v := range p.props {
		if v == nil {
			delete(e.props, k)
		} else {
			e.props[k] = v
		}
	}
	normaliseLocations(e.props, p.props)
	for _, x := range p.ext {
		k, _ := extKey(x.id)
		e.ext[k] = x
	}
	s.touch(mb, e)
	if e.typ == "seriesMaster" && rec != nil {
		nv := seriesFor(e, rec, e.seq)
		old := e.series()
		if p.rec == nil && p.start == nil && p.end == nil && p.allDay == nil {
			nv = old.clone(e.seq)
		} else {
			// A pattern or time change discards the series' exceptions, as
			// Outlook does, and keeps its cancellations unless
			// SeriesChangeRestoresCancelled (semantics §1.3, Part 4 #8).
			if !s.opts.SeriesChangeRestoresCancelled {
				nv.keepCancelled(old)
			}
			for k := range old.exceptions {
				if ex, ok := mb.events[occurrenceKey(e.key, time.Unix(k, 0).UTC())]; ok && !ex.deleted {
					ex.deleted = true
					s.touch(mb, ex)
				}
			}
		}
		e.history = append(e.history, nv)
	}
	if e.isOrg {
		newAttendees := attendeeAddrs(e.props)
		details := false
		for _, k := range detailProps {
			if _, ok := p.props[k]; ok || (k == "start" && p.start != nil) || (k == "end" && p.end != nil) ||
				(k == "isAllDay" && p.allDay != nil) || (k == "recurrence" && p.rec != nil) {
				details = true
			}
		}
		// Attendees added hear an invitation and removed ones a
		// cancellation; with only attendees changed, nobody else hears
		// (facts §10, learn event-update). A details change mails an
		// update to the attendees who stay: one for the series and one
		// per updated instance (semantics §1.5).
		var kept, added, removed []string
		for _, a := range newAttendees {
			if slices.Contains(oldAttendees, a) {
				kept = append(kept, a)
			} else {
				added = append(added, a)
			}
		}
		for _, a := range oldAttendees {
			if !slices.Contains(newAttendees, a) {
				removed = append(removed, a)
			}
		}
		if details && len(kept) > 0 {
			s.sendMail(u, e, "update", kept, source)
			for _, ex := range updatedExceptions {
				s.sendMail(u, ex, "update", attendeeAddrs(ex.props), source)
			}
		}
		s.sendMail(u, e, "invitation", added, source)
		s.sendMail(u, e, "cancellation", removed, source)
	}
	return e, nil
}

// dropRecurrence turns master m (as trial) into a single event at the time
// of its first remaining occurrence and deletes its exceptions; false when
// the series has none. It needs s.mu.
func (s *Sim) dropRecurrence(mb *mailbox, m, trial *event) bool {
	sr := m.series()
	first, ok := sr.first()
	if !ok {
		return false
	}
	trial.typ, trial.history = "singleInstance", nil
	trial.start, trial.end = first, sr.endOf(first)
	for k := range sr.exceptions {
		if ex, ok := mb.events[occurrenceKey(m.key, time.Unix(k, 0).UTC())]; ok && !ex.deleted {
			ex.deleted = true
			s.touch(mb, ex)
		}
	}
	return true
}

// crossesBoundary applies the exception rule (semantics §1.3, learn
// event-update): an occurrence cannot move to or before the day of the
// previous occurrence, nor to or after the day of the next one, days being
// taken in the recurrence zone.
func crossesBoundary(m *event, orig, start, end time.Time) *apiErr {
	if m.deleted || m.typ != "seriesMaster" {
		return nil
	}
	sr := m.series()
	day := func(t time.Time) time.Time { return civil(t.In(sr.loc)) }
	prev, next, hasPrev, hasNext := sr.neighbours(orig)
	if hasPrev && !day(start).After(day(prev)) || hasNext && !day(end.Add(-time.Nanosecond)).Before(day(next)) {
		return badRequest("ErrorOccurrenceCrossingBoundary", "Modified occurrence is crossing or overlapping adjacent occurrence.")
	}
	return nil
}

// deleteInstance deletes an event, cancels an occurrence, or deletes a series
// with its exceptions. It needs s.mu.
func (s *Sim) deleteInstance(u *user, in instance, source string) {
	mb := u.mb
	mailTo := func(e *event) {
		if e.isOrg && len(attendeeAddrs(e.props)) > 0 {
			s.sendMail(u, e, "cancellation", attendeeAddrs(e.props), source)
		}
	}
	cancel := func(m *event, orig time.Time) {
		nv := m.series().clone(0)
		nv.cancelled[orig.Unix()] = true
		delete(nv.exceptions, orig.Unix())
		s.touch(mb, m)
		nv.seq = m.seq
		m.history = append(m.history, nv)
	}
	switch {
	case in.ev == nil:
		mailTo(in.master)
		cancel(in.master, in.orig)
	case in.ev.typ == "exception":
		in.ev.deleted = true
		s.touch(mb, in.ev)
		mailTo(in.ev)
		if m, ok := mb.events[in.ev.masterKey]; ok && !m.deleted {
			cancel(m, in.ev.origStart)
		}
	default:
		in.ev.deleted = true
		s.touch(mb, in.ev)
		mailTo(in.ev)
		if in.ev.typ == "seriesMaster" {
			for k := range in.ev.series().exceptions {
				if ex, ok := mb.events[occurrenceKey(in.ev.key, time.Unix(k, 0).UTC())]; ok && !ex.deleted {
					ex.deleted = true
					s.touch(mb, ex)
				}
			}
		}
	}
}

// ---- rendering ----

// view is how a response renders events (Prefer headers, $select, $expand).
type view struct {
	loc       *time.Location // nil → UTC
	tzName    string
	bodyText  bool
	immutable bool
	expandExt []string // extended property keys to include; nil → none
	// masterETags is Options.OccurrenceETagIsMaster.
	masterETags bool
	// expandExceptions is $expand=exceptionOccurrences.
	expandExceptions bool
	sel              map[string]bool
}

const dtFormat = "2006-01-02T15:04:05.0000000"
const stampFormat = "2006-01-02T15:04:05.0000000Z"

func (v view) dt(t time.Time) map[string]any {
	name, loc := "UTC", time.UTC
	if v.loc != nil {
		name, loc = v.tzName, v.loc
	}
	return map[string]any{"dateTime": t.In(loc).Format(dtFormat), "timeZone": name}
}

// date renders an all-day bound: the midnight of its date in zone, the
// zone it was written in, labelled with the Prefer zone or UTC whatever
// that zone is (semantics §1.4.3: midnight to midnight on every read).
func (v view) date(t time.Time, zone string) map[string]any {
	loc, _ := loadZone(zone)
	d := civil(t.In(loc))
	name := "UTC"
	if v.loc != nil {
		name = v.tzName
	}
	return map[string]any{"dateTime": d.Format(dtFormat), "timeZone": name}
}

// bounds renders start and end, as dates for an all-day event.
func (v view) bounds(start, end time.Time, allDay bool, startTZ, endTZ string) (any, any) {
	if allDay {
		return v.date(start, startTZ), v.date(end, endTZ)
	}
	return v.dt(start), v.dt(end)
}

// storeBody turns a body written as text into the HTML Exchange keeps
// (facts §2; microsoft-graph-docs #8215), unless ExactTextBodies.
func (s *Sim) storeBody(props map[string]any) {
	if b, ok := props["body"].(map[string]any); ok && b["contentType"] == "text" && !s.opts.ExactTextBodies {
		props["body"] = map[string]any{"contentType": "html", "content": textToHTML(b["content"].(string))}
	}
}

var lineBreaks = strings.NewReplacer("\r\n", "<br>\r\n", "\r", "<br>\r\n", "\n", "<br>\r\n")

// textToHTML wraps text the way the server wraps bodies (facts §2).
func textToHTML(text string) string {
	return "<html><head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; charset=utf-8\">\r\n</head>\r\n<body>\r\n" +
		lineBreaks.Replace(html.EscapeString(text)) + "\r\n</body>\r\n</html>\r\n"
}

var (
	bodyRe  = regexp.MustCompile(`(?is)<body[^>]*>(.*)</body>`)
	srcNLRe = regexp.MustCompile(`(>)\r?\n|\r?\n(<)`)
	breakRe = regexp.MustCompile(`(?i)<br\s*/?>|</(?:p|div)>`)
	tagRe   = regexp.MustCompile(`(?s)<head>.*?</head>|<[^>]*>`)
)

// htmlToText converts an HTML body as Prefer: outlook.body-content-type=
// "text" does: line breaks and block ends become CRLF, the line breaks of
// the HTML source next to a tag do not count, and non-empty text ends with a
// CRLF (docs user-list-messages.md, get_messages_in_text: "Welcome to the
// Support group!\r\n").
func htmlToText(h string) string {
	texts.Lock()
	t, ok := texts.m[h]
	texts.Unlock()
	if ok {
		return t
	}
	t = convertHTML(h)
	texts.Lock()
	if len(texts.m) >= maxTexts {
		clear(texts.m)
	}
	texts.m[h] = t
	texts.Unlock()
	return t
}

// texts keeps the text of bodies htmlToText converted: every read of an
// event in text converts its stored HTML again, with four regular
// expressions, which was a seventh of serving a delta page. It is cleared
// when it holds maxTexts bodies.
var texts = struct {
	sync.Mutex
	m map[string]string
}{m: map[string]string{}}

const maxTexts = 100_000

// convertHTML is htmlToText's conversion.
func convertHTML(h string) string {
	h = srcNLRe.ReplaceAllString(h, "$1$2")
	if m := bodyRe.FindStringSubmatch(h); m != nil {
		h = m[1]
	}
	h = breakRe.ReplaceAllString(h, "\r\n")
	text := html.UnescapeString(tagRe.ReplaceAllString(h, ""))
	if text != "" && !strings.HasSuffix(text, "\r\n") {
		text += "\r\n"
	}
	return text
}

func (v view) body(props map[string]any) (map[string]any, string) {
	b, _ := props["body"].(map[string]any)
	ct, _ := b["contentType"].(string)
	c, _ := b["content"].(string)
	text := c
	if ct == "html" {
		text = htmlToText(c)
	}
	preview := strings.TrimSpace(text)
	if r := []rune(preview); len(r) > 255 {
		preview = string(r[:255])
	}
	if v.bodyText {
		return map[string]any{"contentType": "text", "content": text}, preview
	}
	if ct != "html" {
		c = textToHTML(c)
	}
	return map[string]any{"contentType": "html", "content": c}, preview
}

var emptyLocation = map[string]any{"displayName": "", "locationType": "default", "uniqueIdType": "unknown", "address": map[string]any{}, "coordinates": map[string]any{}}

func renderLocation(l any) any {
	m, ok := l.(map[string]any)
	if !ok {
		return emptyLocation
	}
	out := map[string]any{"locationType": "default", "uniqueIdType": "private"}
	for k, v := range m {
		out[k] = v
	}
	if _, ok := out["uniqueId"]; !ok {
		out["uniqueId"] = out["displayName"]
	}
	return out
}

func renderAttendees(a any) []any {
	arr, _ := a.([]any)
	out := make([]any, 0, len(arr))
	for _, x := range arr {
		m, _ := x.(map[string]any)
		r := map[string]any{"type": "required", "status": map[string]any{"response": "none", "time": "0001-01-01T00:00:00Z"}}
		for k, v := range m {
			r[k] = v
		}
		out = append(out, r)
	}
	return out
}

func propOr(props map[string]any, k string, def any) any {
	if v, ok := props[k]; ok {
		return v
	}
	return def
}

// render is the full Graph shape of a stored event, or of the occurrence
// orig of master m when e is nil.
func (v view) render(e *event, m *event, orig time.Time) map[string]any {
	src, typ, key := e, "", ""
	var start, end time.Time
	allDay := false
	if e == nil {
		src, typ, key = m, "occurrence", occurrenceKey(m.key, orig)
		start, end, allDay = orig, m.series().endOf(orig), m.allDay
	} else {
		typ, key, start, end, allDay = e.typ, e.key, e.start, e.end, e.allDay
	}
	body, preview := v.body(src.props)
	locs, _ := src.props["locations"].([]any)
	rlocs := make([]any, 0, len(locs))
	for _, l := range locs {
		rlocs = append(rlocs, renderLocation(l))
	}
	var txid any
	if src.txid != "" && typ != "occurrence" {
		txid = src.txid
	}
	resp := map[string]any{"response": "organizer", "time": "0001-01-01T00:00:00Z"}
	if !src.isOrg {
		resp = map[string]any{"response": "notResponded", "time": "0001-01-01T00:00:00Z"}
	}
	out := map[string]any{
		"@odata.etag":                src.etag(),
		"id":                         formatID(key, v.immutable),
		"createdDateTime":            src.created.Format(stampFormat),
		"lastModifiedDateTime":       src.modified.Format(stampFormat),
		"changeKey":                  src.changeKey,
		"categories":                 propOr(src.props, "categories", []any{}),
		"transactionId":              txid,
		"originalStartTimeZone":      src.startTZ,
		"originalEndTimeZone":        src.endTZ,
		"iCalUId":                    src.iCalUID,
		"uid":                        src.iCalUID,
		"reminderMinutesBeforeStart": propOr(src.props, "reminderMinutesBeforeStart", 15),
		"isReminderOn":               propOr(src.props, "isReminderOn", true),
		"hasAttachments":             false,
		"subject":                    propOr(src.props, "subject", ""),
		"bodyPreview":                preview,
		"importance":                 propOr(src.props, "importance", "normal"),
		"sensitivity":                propOr(src.props, "sensitivity", "normal"),
		"isAllDay":                   allDay,
		"isCancelled":                false,
		"isOrganizer":                src.isOrg,
		"responseRequested":          propOr(src.props, "responseRequested", true),
		"seriesMasterId":             nil,
		"showAs":                     propOr(src.props, "showAs", "busy"),
		"type":                       typ,
		"webLink":                    "https://outlook.office365.com/owa/?itemid=" + formatID(key, false) + "&exvsurl=1&path=/calendar/item",
		"onlineMeetingUrl":           nil,
		"isOnlineMeeting":            propOr(src.props, "isOnlineMeeting", false),
		"onlineMeetingProvider":      propOr(src.props, "onlineMeetingProvider", "unknown"),
		"allowNewTimeProposals":      propOr(src.props, "allowNewTimeProposals", true),
		"isDraft":                    false,
		"hideAttendees":              propOr(src.props, "hideAttendees", false),
		"responseStatus":             resp,
		"body":                       body,
		"location":                   renderLocation(src.props["location"]),
		"locations":                  rlocs,
		"recurrence":                 nil,
		"attendees":                  renderAttendees(src.props["attendees"]),
		"organizer":                  src.organizer,
		"onlineMeeting":              nil,
	}
	out["start"], out["end"] = v.bounds(start, end, allDay, src.startTZ, src.endTZ)
	if typ == "occurrence" {
		out["changeKey"], out["@odata.etag"] = v.occurrenceTag(m, orig)
	}
	if typ == "seriesMaster" {
		out["recurrence"] = e.series().rec.render()
	}
	out["occurrenceId"] = nil
	if typ == "occurrence" || typ == "exception" {
		masterKey, loc := "", e.origLoc()
		if e == nil {
			masterKey, loc = m.key, m.series().loc
		} else {
			masterKey, orig = e.masterKey, e.origStart
		}
		day := orig.In(loc).Format("2006-01-02")
		out["seriesMasterId"] = formatID(masterKey, v.immutable)
		out["originalStart"] = orig.Format("2006-01-02T15:04:05Z")
		out["occurrenceId"] = occurrenceID(masterKey, day, v.immutable)
		// Each instance has its own iCalUId; uid is the series' (semantics
		// §1.5, learn event resource).
		out["iCalUId"] = instanceICalUID(src.iCalUID, orig.In(loc))
	}
	if !v.sel["occurrenceid"] {
		// Returned on $select only (semantics §1.2.3, event-get example 3).
		delete(out, "occurrenceId")
	}
	if v.expandExt != nil {
		var props []any
		for _, k := range v.expandExt {
			if x, ok := src.ext[k]; ok {
				props = append(props, map[string]any{"id": x.id, "value": x.value})
			}
		}
		if props != nil {
			out["singleValueExtendedProperties"] = props
		}
	}
	if v.sel != nil {
		for k := range out {
			if k != "id" && k != "@odata.etag" && k != "singleValueExtendedProperties" && !v.sel[strings.ToLower(k)] {
				delete(out, k)
			}
		}
	}
	return out
}

// occurrenceID is Graph's occurrence key, OID.{seriesMasterId}.{date}, the
// date being the original one in the recurrence zone (semantics §1.2.3).
func occurrenceID(masterKey, day string, immutable bool) string {
	return "OID." + formatID(masterKey, immutable) + "." + day
}

// instanceICalUID is the iCalUId of one instance: the series' global object
// id with the instance date in the bytes that are zero for the series, as
// Exchange builds it (MS-OXOCAL 2.2.1.27, PidLidGlobalObjectId).
func instanceICalUID(seriesUID string, orig time.Time) string {
	const dateAt = 32 // hex offset of the four date bytes after the class id
	if len(seriesUID) < dateAt+8 {
		return seriesUID
	}
	return seriesUID[:dateAt] + fmt.Sprintf("%04X%02X%02X", orig.Year(), int(orig.Month()), orig.Day()) + seriesUID[dateAt+8:]
}

// seriesProps adds what a GET of a series master by id returns on $select
// (semantics §1.2.3): cancelledOccurrences, and exceptionOccurrences when
// also expanded. It needs s.mu.
func (v view) seriesProps(mb *mailbox, m *event, out map[string]any) {
	sr := m.series()
	if v.sel["cancelledoccurrences"] {
		var days []string
		for u := range sr.cancelled {
			days = append(days, time.Unix(u, 0).In(sr.loc).Format("2006-01-02"))
		}
		slices.Sort(days)
		ids := make([]any, 0, len(days))
		for _, d := range days {
			ids = append(ids, occurrenceID(m.key, d, v.immutable))
		}
		out["cancelledOccurrences"] = ids
	}
	if v.sel["exceptionoccurrences"] && v.expandExceptions {
		var refs []instRef
		for u := range sr.exceptions {
			if ex, ok := mb.events[occurrenceKey(m.key, time.Unix(u, 0).UTC())]; ok && !ex.deleted {
				refs = append(refs, instRef{key: ex.key, start: ex.origStart})
			}
		}
		sortRefs(refs)
		exs := make([]any, 0, len(refs))
		for _, r := range refs {
			item, _ := v.renderRef(mb, r.key, false)
			exs = append(exs, item)
		}
		out["exceptionOccurrences"] = exs
	}
}

// renderMinimal is an occurrence as calendarView/delta returns it: only
// @odata.type, @odata.etag, id, seriesMasterId, type, start, end (facts §1.4).
func (v view) renderMinimal(m *event, orig time.Time) map[string]any {
	start, end := v.bounds(orig, m.series().endOf(orig), m.allDay, m.startTZ, m.endTZ)
	_, etag := v.occurrenceTag(m, orig)
	return map[string]any{
		"@odata.type":    "#microsoft.graph.event",
		"@odata.etag":    etag,
		"id":             formatID(occurrenceKey(m.key, orig), v.immutable),
		"seriesMasterId": formatID(m.key, v.immutable),
		"type":           "occurrence",
		"start":          start,
		"end":            end,
	}
}

// occurrenceTag is the changeKey and @odata.etag of the occurrence orig
// of m: the master's with OccurrenceETagIsMaster, else the occurrence's own.
func (v view) occurrenceTag(m *event, orig time.Time) (string, string) {
	ck := m.changeKey
	if !v.masterETags {
		ck = occurrenceChangeKey(m, orig)
	}
	return ck, `W/"` + ck + `"`
}

// occurrenceChangeKey is an occurrence's own changeKey (semantics Part 4
// #14, UNCONFIRMED): derived from its master's and its original start, so
// it changes whenever the master does, yet differs from the master's and
// from every other occurrence's. An If-Match with the master's etag on an
// occurrence fails.
func occurrenceChangeKey(m *event, orig time.Time) string {
	h := sha256.Sum256([]byte(m.changeKey + "/" + strconv.FormatInt(orig.Unix(), 10)))
	return base64.StdEncoding.EncodeToString(h[:16])
}

func removedItem(id string) map[string]any {
	return map[string]any{"@odata.type": "#microsoft.graph.event", "id": id, "@removed": map[string]any{"reason": "deleted"}}
}

// instRef is one item of a listing: a stored event or an occurrence.
type instRef struct {
	key   string
	start time.Time
	group string // series master key; pages never split a group
}

// instancesInWindow lists what calendarView returns for [ws, we): singles,
// exceptions and occurrences, plus masters when withMasters, sorted by start.
func (mb *mailbox) instancesInWindow(ws, we time.Time, withMasters bool) []instRef {
	var out []instRef
	for _, e := range mb.events {
		if e.deleted {
			continue
		}
		switch e.typ {
		case "singleInstance":
			if overlaps(e.start, e.end, ws, we) {
				out = append(out, instRef{key: e.key, start: e.start})
			}
		case "exception":
			if overlaps(e.start, e.end, ws, we) {
				out = append(out, instRef{key: e.key, start: e.start, group: e.masterKey})
			}
		case "seriesMaster":
			occ := e.series().occurrences(ws, we, false)
			if withMasters && (len(occ) > 0 || mb.hasExceptionIn(e, ws, we)) {
				out = append(out, instRef{key: e.key, start: e.start, group: e.key})
			}
			for _, o := range occ {
				out = append(out, instRef{key: occurrenceKey(e.key, o), start: o, group: e.key})
			}
		}
	}
	sortRefs(out)
	return out
}

func (mb *mailbox) hasExceptionIn(m *event, ws, we time.Time) bool {
	for k := range m.series().exceptions {
		if ex, ok := mb.events[occurrenceKey(m.key, time.Unix(k, 0).UTC())]; ok && !ex.deleted && overlaps(ex.start, ex.end, ws, we) {
			return true
		}
	}
	return false
}

// sortRefs orders by series (masters first), then start, then key, so a
// series stays contiguous and output is deterministic.
func sortRefs(refs []instRef) {
	groupStart := map[string]time.Time{}
	for _, r := range refs {
		g := r.group
		if g == "" {
			continue
		}
		if t, ok := groupStart[g]; !ok || r.start.Before(t) {
			groupStart[g] = r.start
		}
	}
	sortKey := func(r instRef) (time.Time, string) {
		if r.group != "" {
			return groupStart[r.group], r.group
		}
		return r.start, r.key
	}
	sort.SliceStable(refs, func(i, j int) bool {
		ti, gi := sortKey(refs[i])
		tj, gj := sortKey(refs[j])
		if !ti.Equal(tj) {
			return ti.Before(tj)
		}
		if gi != gj {
			return gi < gj
		}
		mi, mj := refs[i].key == refs[i].group, refs[j].key == refs[j].group
		if mi != mj {
			return mi
		}
		if !refs[i].start.Equal(refs[j].start) {
			return refs[i].start.Before(refs[j].start)
		}
		return refs[i].key < refs[j].key
	})
}

// renderRef renders a listing item in full; ok is false when it is gone.
func (v view) renderRef(mb *mailbox, key string, minimalOccurrences bool) (map[string]any, bool) {
	in, ok := mb.lookup(key)
	if !ok {
		return nil, false
	}
	if in.ev != nil {
		return v.render(in.ev, nil, time.Time{}), true
	}
	if minimalOccurrences {
		return v.renderMinimal(in.master, in.orig), true
	}
	return v.render(nil, in.master, in.orig), true
}
