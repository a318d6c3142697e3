package calsync

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// content is the synchronized part of an event, normalized so that the Oro
// and the Microsoft copies of the same event compare equal: times are UTC
// instants, all-day dates are midnight UTC.
type content struct {
	Title, Description, Location string
	AllDay                       bool
	Start, End                   time.Time
	// Reminder is the synchronized reminder: minutes before the start,
	// ReminderOff, or ReminderUnset (see reminder.go).
	Reminder int
	// Who is the organizer and attendees of a Microsoft copy; an Oro
	// event's attendees group is only whoHash, the hash its link or copy
	// holds ("" unknown; see attendee.go).
	Who     *Who
	whoHash string
	// Recurrence is a series' pattern, normalized (see
	// Recurrence.Normalized); nil for a single event.
	Recurrence *Recurrence
	// Series is a unit's exceptions and cancellations; an Oro event's
	// series group is only seriesHash, as with whoHash.
	Series     *SeriesInfo
	seriesHash string
}

// Field groups compared and merged one by one. Start, end and the all-day
// flag form one group ("when"): merging a start from one side with an end
// from the other could produce an impossible event.
const (
	fieldTitle       = "title"
	fieldDescription = "description"
	fieldLocation    = "location"
	fieldWhen        = "when"
	fieldReminder    = "reminder"
	fieldWho         = "attendees"
	fieldSeries      = "series"
	fieldRecurrence  = "recurrence"
)

// fieldGroups are the field groups. The first legacyGroups are in every
// link; the later ones may be unset on a side, and links made before they
// were synchronized lack them (see digest.against).
var fieldGroups = [...]string{fieldTitle, fieldDescription, fieldLocation, fieldWhen, fieldReminder, fieldWho, fieldSeries, fieldRecurrence}

const legacyGroups = 4

// graphFields maps a field group to the Write.Fields names.
var graphFields = map[string][]string{
	fieldTitle:       {"subject"},
	fieldDescription: {"body"},
	fieldLocation:    {"location"},
	fieldWhen:        {"start", "end", "allDay"},
	fieldReminder:    {"reminder"},
	fieldWho:         nil, // written only with writeAttendees (see writesWho)
	fieldSeries:      nil, // pull-only: never written
	fieldRecurrence:  {"recurrence"},
}

const dateLayout = "2006-01-02"

type contentError struct{ field, msg string }

// parseContent normalizes an Oro event. Errors name the field.
func parseContent(e Event) (content, *contentError) {
	c := content{Title: e.Title, Description: e.Description, Location: e.Location, AllDay: e.AllDay, Reminder: oroReminder(e.Reminders)}
	parse := func(field, v string) (time.Time, *contentError) {
		if v == "" {
			return time.Time{}, &contentError{field, "is required"}
		}
		if e.AllDay {
			// a plain date, or midnight as Oro's REST API writes all-day
			// dates: the date as written counts, in no zone
			t, err := time.Parse(dateLayout, v)
			if err != nil {
				t, err = time.Parse(time.RFC3339, v)
			}
			if err != nil || t.Hour() != 0 || t.Minute() != 0 || t.Second() != 0 || t.Nanosecond() != 0 {
				return t, &contentError{field, "must be a plain date (YYYY-MM-DD) or a date at midnight for an all-day event, got " + strconv.Quote(v)}
			}
			return midnight(t), nil
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return t, &contentError{field, "must be an RFC 3339 date-time with an offset, got " + strconv.Quote(v)}
		}
		return t.UTC(), nil
	}
	var err *contentError
	if c.Start, err = parse("start", e.Start); err != nil {
		return c, err
	}
	if c.End, err = parse("end", e.End); err != nil {
		return c, err
	}
	if e.Recurrence != nil {
		n, first, ok := e.Recurrence.Normalized(c.Start)
		if !ok {
			return c, &contentError{"recurrence", "has no occurrence, or its timeZone has no Windows time zone name"}
		}
		// a series starts at its first occurrence, as Graph holds it
		c.Recurrence, c.Start, c.End = &n, first, first.Add(c.End.Sub(c.Start))
	}
	return c, nil
}

// remoteContent normalizes a Microsoft event.
func remoteContent(r *RemoteEvent) content {
	c := content{Title: r.Subject, Description: r.Body, Location: r.Location, AllDay: r.AllDay, Start: r.Start.UTC(), End: r.End.UTC(), Reminder: r.Reminder, Who: r.who()}
	if r.unit() {
		c.Series, c.Recurrence = r.Series, r.Series.Recurrence
	}
	if c.AllDay {
		c.Start = midnight(c.Start)
		c.End = midnight(c.End)
	}
	return c
}

func midnight(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// check reports what Microsoft would reject, before asking it: an end
// before the start (a timed event may last no time), or an all-day event
// shorter than a day.
func (c content) check() string {
	switch {
	case c.AllDay && !c.End.After(c.Start):
		return "end must be after start"
	case c.End.Before(c.Start):
		return "end must not be before start"
	case c.Who != nil && c.Who.problem != "":
		return c.Who.problem
	}
	return ""
}

func (c content) field(name string) string {
	switch name {
	case fieldTitle:
		return c.Title
	case fieldDescription:
		return NormalizeText(c.Description)
	case fieldLocation:
		return c.Location
	case fieldReminder:
		return reminderField(c.Reminder)
	case fieldWho:
		if c.Who == nil {
			return ""
		}
		return c.Who.canonical()
	case fieldSeries:
		if c.Series == nil {
			return ""
		}
		return c.Series.text()
	case fieldRecurrence:
		if c.Recurrence == nil {
			return ""
		}
		b, _ := json.Marshal(c.Recurrence)
		return string(b)
	}
	var b [whenLen]byte
	return string(c.appendWhen(b[:0]))
}

// appendWhen appends the when group's value: D and the dates of an all-day
// event, T and the instants of a timed one.
func (c content) appendWhen(b []byte) []byte {
	kind, layout := byte('T'), time.RFC3339
	if c.AllDay {
		kind, layout = 'D', dateLayout
	}
	b = append(b, kind)
	b = c.Start.AppendFormat(b, layout)
	b = append(b, '/')
	return c.End.AppendFormat(b, layout)
}

// whenLen is the length of a timed event's when group (with years of four
// digits): the size of the buffer on the stack it is built in.
const whenLen = len("T2006-01-02T15:04:05Z/2006-01-02T15:04:05Z")

// fieldSum is the hash of c.field(name), fed to the hash as it is (the
// description as NormalizeText leaves it) or built in a buffer on the
// stack; only a series' pattern is built by field.
func (c content) fieldSum(name string) sum64 {
	h := newFNV64()
	switch name {
	case fieldTitle:
		h.writeString(c.Title)
	case fieldDescription:
		h.writeNormalized(c.Description)
	case fieldLocation:
		h.writeString(c.Location)
	case fieldWho:
		if c.Who != nil {
			return c.Who.sum()
		}
	case fieldSeries:
		if c.Series != nil {
			return c.Series.sum()
		}
	case fieldWhen:
		var b [whenLen]byte
		h.write(c.appendWhen(b[:0]))
	default:
		h.writeString(c.field(name))
	}
	return h.sum()
}

// setField copies one field group from src.
func (c *content) setField(name string, src content) {
	switch name {
	case fieldTitle:
		c.Title = src.Title
	case fieldDescription:
		c.Description = src.Description
	case fieldLocation:
		c.Location = src.Location
	case fieldReminder:
		c.Reminder = src.Reminder
	case fieldWho:
		c.Who, c.whoHash = src.Who, src.whoHash
	case fieldSeries:
		c.Series, c.seriesHash = src.Series, src.seriesHash
	case fieldRecurrence:
		c.Recurrence = src.Recurrence
	default:
		c.AllDay, c.Start, c.End = src.AllDay, src.Start, src.End
	}
}

// digest holds a content's hashes: one per field group (in fieldGroups'
// order; the reminder's is its value, see reminderField), whether the
// group has a value (the later groups may be unset), and the overall one
// over the set groups, as Link.Fields and Link.Hash store them.
type digest struct {
	fields [len(fieldGroups)]entry
	set    [len(fieldGroups)]bool
	all    sum64
}

// entry is a field group's Link.Fields entry in a digest. One computed
// here (a hash, the reminder's value) is held in its text form in b, so
// that a digest allocates nothing and its entries are compared and hashed
// as hosts store them; one taken as it is from a link (a pull-only group's
// hash, see whoHash; a rebased link's, see rebaseSeries) is text. The zero
// entry is "".
type entry struct {
	b    [maxReminderField]byte // the longest computed entry
	n    uint8                  // of b; 0 for text
	text string
}

// sumEntry and reminderEntry are the entries of a hash and of a reminder.
func sumEntry(s sum64) entry {
	var e entry
	e.n = uint8(len(s.appendText(e.b[:0])))
	return e
}

func reminderEntry(m int) entry {
	var e entry
	e.n = uint8(len(appendReminderField(e.b[:0], m)))
	return e
}

// is reports whether the entry is s.
func (e entry) is(s string) bool {
	if e.n > 0 {
		return string(e.b[:e.n]) == s
	}
	return e.text == s
}

// equal reports whether e and o are the same entry, however each is held.
func (e entry) equal(o entry) bool {
	switch {
	case e.n > 0 && o.n > 0:
		return string(e.b[:e.n]) == string(o.b[:o.n])
	case e.n > 0:
		return e.is(o.text)
	}
	return o.is(e.text)
}

func (e entry) String() string {
	switch {
	case e.n == 0:
		return e.text
	case string(e.b[:e.n]) == emptyHash:
		return emptyHash // not built again, see emptySum
	}
	return string(e.b[:e.n])
}

// writeTo feeds the entry to h.
func (e entry) writeTo(h *fnv64) {
	if e.n > 0 {
		h.write(e.b[:e.n])
		return
	}
	h.writeString(e.text)
}

// fieldHash is the Link.Fields entry of group i; "" for an unset group.
func (c content) fieldHash(i int) entry {
	switch fieldGroups[i] {
	case fieldReminder:
		return reminderEntry(c.Reminder)
	case fieldWho:
		if c.Who == nil {
			return entry{text: c.whoHash}
		}
	case fieldSeries:
		if c.Series == nil {
			return entry{text: c.seriesHash}
		}
	}
	return sumEntry(c.fieldSum(fieldGroups[i]))
}

// isSet reports whether group i has a value.
func (c content) isSet(i int) bool {
	switch fieldGroups[i] {
	case fieldReminder:
		return c.Reminder != ReminderUnset
	case fieldWho:
		return c.Who != nil || c.whoHash != ""
	case fieldSeries:
		return c.Series != nil || c.seriesHash != ""
	case fieldRecurrence:
		return c.Recurrence != nil
	}
	return true
}

// digest computes c's hashes.
func (c content) digest() digest {
	var d digest
	for i := range fieldGroups {
		d.set[i] = c.isSet(i)
		if d.set[i] {
			d.fields[i] = c.fieldHash(i)
		}
	}
	d.all = d.over(func(i int) bool { return d.set[i] })
	return d
}

// over is the overall hash of the groups in: the hash of "group=entry;"
// for each, in fieldGroups' order (fed to it, not built).
func (d *digest) over(in func(int) bool) sum64 {
	h := newFNV64()
	for i, f := range fieldGroups {
		if !in(i) {
			continue
		}
		h.writeString(f)
		h.writeByte('=')
		d.fields[i].writeTo(&h)
		h.writeByte(';')
	}
	return h.sum()
}

// matches reports whether l's Hash is the overall hash over the groups l
// has, so that a link made before a group was synchronized compares the
// groups it knows (upgrading changes nothing by itself).
func (d *digest) matches(l *Link) bool {
	for i, f := range fieldGroups {
		if _, ok := l.Fields[f]; ok != d.set[i] {
			return d.over(func(j int) bool { _, ok := l.Fields[fieldGroups[j]]; return ok }).is(l.Hash)
		}
	}
	return d.all.is(l.Hash)
}

// hashes returns the per-field hashes (as Link.Fields) and the overall
// hash; an unset group has no entry.
func (c content) hashes() (map[string]string, string) {
	d := c.digest()
	m := make(map[string]string, len(fieldGroups))
	for i, f := range fieldGroups {
		if d.set[i] {
			m[f] = d.fields[i].String()
		}
	}
	return m, d.all.String()
}

// hash is the overall content hash, as stored in Link.Hash.
func (c content) hash() string { return c.digest().all.String() }

// event renders c as an Oro event.
func (c content) event() Event {
	e := Event{Title: c.Title, Description: c.Description, Location: c.Location, AllDay: c.AllDay}
	if c.AllDay {
		e.Start, e.End = c.Start.Format(dateLayout), c.End.Format(dateLayout)
	} else {
		e.Start, e.End = c.Start.Format(time.RFC3339), c.End.Format(time.RFC3339)
	}
	if w := c.Who; w != nil && !w.own { // Oro's own attendees: Oro holds them
		me := w.IsOrganizer
		e.IsOrganizer = &me
		e.OrganizerEmail, e.OrganizerDisplayName = w.OrganizerEmail, w.OrganizerName
		e.Attendees = w.Attendees
	}
	e.Recurrence = c.Recurrence
	if s := c.Series; s != nil {
		e.Exceptions = s.exceptions()
	}
	return e
}

// remote renders c as a Microsoft event body written in zone, the user's
// Windows zone ("" when the request names none, or one without a Windows
// name: timed events are then written in UTC, all-day ones are not written,
// see screenZone). Timed events are instants either way; the zone is what
// Outlook shows them in and what keeps a series' wall-clock time.
func (c content) remote(zone string) RemoteEvent {
	if zone == "" {
		zone = "UTC"
	}
	r := RemoteEvent{Subject: c.Title, Body: c.Description, Location: c.Location, AllDay: c.AllDay, Start: c.Start, End: c.End, TimeZone: zone, Type: "singleInstance", Reminder: c.Reminder}
	if c.Who != nil && c.Who.own {
		// Oro's attendees, written with writeAttendees (attendee.go)
		r.Attendees = c.Who.Attendees
	}
	if c.Recurrence != nil {
		// written with its pattern, in its own zone (see graphclient)
		r.Type, r.Series = "seriesMaster", &SeriesInfo{Recurrence: c.Recurrence}
	}
	return r
}

// newLink describes r, whose content both sides now hold.
func newLink(r *RemoteEvent, c content, now time.Time) *Link {
	fields, h := c.hashes()
	if r.IsOrganizer && r.HasAttendees {
		fields[fieldInvitees] = invitees(r.Attendees, r.OrganizerEmail)
	}
	return &Link{V: LinkVersion, RemoteID: r.ID, ChangeKey: r.ChangeKey, ETag: r.ETag, ICalUID: r.ICalUID,
		ReadOnly: !r.IsOrganizer || r.HasAttendees, Meeting: r.IsOrganizer && r.HasAttendees, Series: r.unit() || c.Recurrence != nil, Hash: h, Fields: fields, SyncedAt: now}
}

// TransactionID is the deterministic Graph transactionId of the create that
// serves an Oro event: a repeated create of the same event is recognised by
// Graph and by the engine. replaces is the Microsoft id of the copy being
// re-created ("" for the first create), so that a re-creation is not
// mistaken for a repeat of the first create.
//
// It carries the Oro id, recoverably (OroIDFromTransactionID): delta items
// do not carry our extended property (calendarView delta cannot $expand it)
// but do carry the transactionId, which Graph keeps from the create on.
// Graph documents no format for it, but its examples (and graph-facts §3)
// use a GUID, so for Oro's usual ids, decimal integers in canonical form
// (no sign, no leading zero) up to 2^63-1, it is an RFC 9562 UUIDv8 in
// lowercase canonical text. Its 122 free bits, in order from the most
// significant and skipping the version and variant, are a 16-bit magic
// marking it as ours, the top 43 bits of the 64-bit FNV-1a hash of the Oro
// id, uid and replaces, and the Oro id as a 63-bit unsigned integer (bits
// numbered from the most significant, as in RFC 9562):
//
//	bits    0-15  magic 0x6f72 ("or")                 octets 0-1
//	bits   16-47  hash bits 42-11                     octets 2-5
//	bits   48-51  version 8                           high nibble of octet 6
//	bits   52-62  hash bits 10-0                      octet 6 low nibble, octet 7
//	bit       63  Oro id bit 62
//	bits   64-65  variant 0b10                        top of octet 8
//	bits  66-127  Oro id bits 61-0                    octets 8-15
//
// so 42 (uid u, first create) is 6f72hhhh-hhhh-8hhh-8000-00000000002a with
// h the hash. Any other Oro id falls back to "oro1." + the Oro id in
// unpadded base64url + "." + 16 hex digits of the same hash: ASCII, no
// spaces or quotes. Earlier versions set v5-style UUID transactionIds
// (legacyTransactionID), which carry no Oro id.
func TransactionID(oroID, uid, replaces string) string {
	h := newFNV64()
	h.writeString(oroID)
	h.writeByte(0)
	h.writeString(uid)
	h.writeByte(0)
	h.writeString(replaces)
	sum := uint64(h.sum())
	n, ok := oroNumber(oroID)
	if !ok {
		// the fallback: prefix, the id in base64url, ".", the hash
		b := make([]byte, 0, len(txPrefix)+base64.RawURLEncoding.EncodedLen(len(oroID))+1+16)
		b = base64.RawURLEncoding.AppendEncode(append(b, txPrefix...), []byte(oroID))
		var be [8]byte
		binary.BigEndian.PutUint64(be[:], sum)
		b = hex.AppendEncode(append(b, '.'), be[:]) // 16 hex digits
		return string(b)
	}
	hash := sum >> (64 - txHashBits)
	hi := txMagic<<48 | hash>>11<<16 | 0x8<<12 | hash&0x7ff<<1 | n>>62
	lo := 0b10<<62 | n&(1<<62-1)
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return formatUUID(b)
}

// oroNumber reads an Oro id that is a decimal integer in canonical form
// (no sign, no leading zero) up to 2^63-1. Its digits are checked first:
// strconv's error for any other id would be built only to be dropped.
func oroNumber(id string) (uint64, bool) {
	if id == "" || id[0] == '0' && len(id) > 1 || strings.Trim(id, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseUint(id, 10, 63)
	return n, err == nil
}

const (
	// txPrefix starts the fallback transactionIds (the version of their format).
	txPrefix = "oro1."
	// txMagic marks the UUIDv8 transactionIds as ours (their top 16 bits).
	txMagic = 0x6f72
	// txHashBits is how many bits of the hash a UUIDv8 transactionId keeps.
	txHashBits = 43
)

// OroIDFromTransactionID returns the Oro id a transactionId made by
// TransactionID carries (either form; the UUID in either case); false for
// any other transactionId (none, one of an older run's v5-style UUIDs,
// another app's, a UUIDv8 without our magic).
func OroIDFromTransactionID(txid string) (string, bool) {
	if b, ok := parseUUID(txid); ok {
		hi, lo := binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
		if hi>>48 != txMagic || hi>>12&0xf != 0x8 || lo>>62 != 0b10 {
			return "", false
		}
		return strconv.FormatUint(hi&1<<62|lo&(1<<62-1), 10), true
	}
	rest, ok := strings.CutPrefix(txid, txPrefix)
	if !ok {
		return "", false
	}
	enc, sum, ok := strings.Cut(rest, ".")
	if !ok || enc == "" || len(sum) != 16 || strings.Trim(sum, "0123456789abcdef") != "" {
		return "", false
	}
	id, err := base64.RawURLEncoding.Strict().DecodeString(enc)
	if err != nil || !utf8.Valid(id) {
		return "", false
	}
	return string(id), true
}

// formatUUID is b in the canonical lowercase 8-4-4-4-12 text form.
func formatUUID(b [16]byte) string {
	out := make([]byte, 0, 36)
	for i, x := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hexDigits[x>>4], hexDigits[x&15])
	}
	return string(out)
}

const hexDigits = "0123456789abcdef"

// parseUUID reads a UUID in the canonical 8-4-4-4-12 text form (hex digits
// of either case).
func parseUUID(s string) ([16]byte, bool) {
	var b [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return b, false
	}
	_, err := hex.Decode(b[:], []byte(s[:8]+s[9:13]+s[14:18]+s[19:23]+s[24:]))
	return b, err == nil
}

// legacyTransactionID is the UUID-shaped transactionId earlier versions
// set for the same create: a create of theirs whose result was lost is
// still recognised by it.
func legacyTransactionID(oroID, uid, replaces string) string {
	h := fnv.New128a()
	h.Write([]byte(oroID + "\x00" + uid + "\x00" + replaces))
	var b [16]byte
	s := h.Sum(b[:0])
	s[6] = s[6]&0x0f | 0x50 // UUID-shaped (version 5 bits, variant)
	s[8] = s[8]&0x3f | 0x80
	return formatUUID([16]byte(s))
}
