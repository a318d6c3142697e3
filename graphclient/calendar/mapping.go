package calendar

import (
	"encoding/json"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oro-msync/oro-msync/graphclient/tzmap"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// OroIDPropertyID is the single-value extended property that carries the Oro
// event id on events we create (and on events we update, so that linked
// events can be found again). The GUID is ours and must never change: it
// names a MAPI property in every connected mailbox, and those are a finite
// per-mailbox quota.
const OroIDPropertyID = "String {6E1F9C52-3A7D-4B08-9E25-C41D7A80B3F6} Name OroEventId"

// expandOroID asks Graph to return our extended property with an event.
const expandOroID = "singleValueExtendedProperties($filter=id eq '" + OroIDPropertyID + "')"

// graphDateTime is Graph's dateTimeTimeZone wire format. Seven fractional
// digits, as Graph writes them; it accepts fewer.
const graphDateTime = "2006-01-02T15:04:05.0000000"

// parseDateTime accepts Graph's dateTime with 0 to 9 fractional digits.
const parseDateTime = "2006-01-02T15:04:05.999999999"

// graphEvent is what the engine reads of a Graph event, decoded by
// encoding/json's rules (decode): the SDK's models cost about five times the CPU and
// twenty-six times the allocations per event (sdk-notes §8) to carry
// fields nobody reads. A field of the wrong JSON type fails the decoding:
// the answer is unusable, Microsoft's fault. (The SDK's parser failed on a
// scalar of the wrong type too, but skipped an object or array of the wrong
// type, and an "@odata.etag" that is not a string.) null is the field's
// absence. Keys match as encoding/json matches them (case-insensitively);
// Graph sends them in one spelling.
type graphEvent struct {
	ID                    string             `json:"id"`
	ETag                  string             `json:"@odata.etag"`
	Removed               json.RawMessage    `json:"@removed"` // present (not null) on a delta item that left the view
	ChangeKey             string             `json:"changeKey"`
	ICalUID               string             `json:"iCalUId"`
	TransactionID         string             `json:"transactionId"`
	Type                  string             `json:"type"`
	SeriesMasterID        string             `json:"seriesMasterId"`
	IsOrganizer           bool               `json:"isOrganizer"`
	Attendees             []graphAttendee    `json:"attendees"`
	Organizer             graphRecipient     `json:"organizer"`
	IsCancelled           bool               `json:"isCancelled"`
	LastModified          graphTime          `json:"lastModifiedDateTime"`
	Created               graphTime          `json:"createdDateTime"`
	Subject               string             `json:"subject"`
	Body                  itemBody           `json:"body"`
	Location              location           `json:"location"`
	IsAllDay              bool               `json:"isAllDay"`
	Start                 dateTimeTimeZone   `json:"start"`
	End                   dateTimeTimeZone   `json:"end"`
	OriginalStartTimeZone string             `json:"originalStartTimeZone"`
	IsReminderOn          bool               `json:"isReminderOn"`
	ReminderMinutes       int32              `json:"reminderMinutesBeforeStart"`
	Properties            []extendedProperty `json:"singleValueExtendedProperties"`
}

type graphAttendee struct {
	Type   string `json:"type"`
	Status struct {
		Response string `json:"response"`
	} `json:"status"`
	EmailAddress graphEmailAddress `json:"emailAddress"`
}

type graphRecipient struct {
	EmailAddress graphEmailAddress `json:"emailAddress"`
}

type graphEmailAddress struct {
	Address string `json:"address"`
	Name    string `json:"name"`
}

// graphEventPage is a page of events: a calendarView/delta page or a page
// of a list of events.
type graphEventPage struct {
	Value     []*graphEvent `json:"value"`
	NextLink  string        `json:"@odata.nextLink"`
	DeltaLink string        `json:"@odata.deltaLink"`
}

// graphTime is a Graph timestamp (Edm.DateTimeOffset, RFC 3339, in UTC
// with up to seven fractional digits). One without an offset is read as
// UTC, which Graph's always are; one that cannot be read fails the
// decoding, as it did with the SDK's parser.
type graphTime struct{ time.Time }

func (t *graphTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	if v, ok := graphStamp(b); ok {
		t.Time = v
		return nil
	}
	var s string
	if plainString(b) {
		s = string(b[1 : len(b)-1])
	} else if err := decode(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && len(s) == len("2006-01-02T15:04:05") {
		v, err = time.Parse("2006-01-02T15:04:05", s)
	}
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}

// graphStamp reads the forms Graph writes its timestamps in, a JSON string
// "2006-01-02T15:04:05" with a fraction of up to nine digits and "Z", or
// without either, straight from the bytes: a decoded event carries two of
// them, and time.Parse would want each copied to a string first. It reports
// false for anything else (other offsets, escapes, a value out of range),
// which graphTime reads with time.Parse, so what is accepted is the same.
func graphStamp(b []byte) (time.Time, bool) {
	if len(b) < 21 || b[0] != '"' || b[len(b)-1] != '"' {
		return time.Time{}, false
	}
	s := b[1 : len(b)-1]
	if s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	var f [6]int
	for i, at := range [...]int{0, 5, 8, 11, 14, 17} {
		n := 2
		if i == 0 {
			n = 4
		}
		v, ok := digits(s[at : at+n])
		if !ok {
			return time.Time{}, false
		}
		f[i] = v
	}
	rest, nsec := s[19:], 0
	if len(rest) > 0 { // then a fraction and Z, or Z alone: RFC 3339
		if rest[len(rest)-1] != 'Z' {
			return time.Time{}, false
		}
		rest = rest[:len(rest)-1]
		if len(rest) > 0 {
			if len(rest) < 2 || len(rest) > 10 || rest[0] != '.' {
				return time.Time{}, false
			}
			v, ok := digits(rest[1:])
			if !ok {
				return time.Time{}, false
			}
			for range 10 - len(rest) {
				v *= 10
			}
			nsec = v
		}
	}
	t := time.Date(f[0], time.Month(f[1]), f[2], f[3], f[4], f[5], nsec, time.UTC)
	if t.Month() != time.Month(f[1]) || t.Day() != f[2] || t.Hour() != f[3] || t.Minute() != f[4] || t.Second() != f[5] {
		return time.Time{}, false // out of range: time.Date moved it on
	}
	return t, true
}

// digits is the value of a run of ASCII digits.
func digits(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// plainString reports whether b, a JSON value the decoder checked, is a
// string of ASCII without escapes, as Graph's timestamps are: its content
// is then the bytes between the quotes, read without a decoder of its own.
func plainString(b []byte) bool {
	if len(b) < 2 || b[0] != '"' {
		return false
	}
	for _, c := range b[1 : len(b)-1] {
		if c == '\\' || c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// fromGraph maps a Graph event to the engine's RemoteEvent. A delta
// "@removed" item maps to a RemoteEvent with only ID and Removed set.
func fromGraph(ev *graphEvent) calsync.RemoteEvent {
	out := calsync.RemoteEvent{ID: ev.ID}
	if ev.Removed != nil && string(ev.Removed) != "null" {
		out.Removed = true
		return out
	}
	out.ETag = ev.ETag
	out.ChangeKey = ev.ChangeKey
	out.ICalUID = ev.ICalUID
	out.TransactionID = ev.TransactionID
	switch ev.Type {
	case "singleInstance", "occurrence", "exception", "seriesMaster":
		out.Type = ev.Type // another value is none, as the SDK's enum read it
	}
	out.SeriesMasterID = ev.SeriesMasterID
	out.IsOrganizer = ev.IsOrganizer
	out.HasAttendees = len(ev.Attendees) > 0
	out.Attendees, out.Resources = attendees(ev.Attendees)
	out.OrganizerEmail = ev.Organizer.EmailAddress.Address
	out.OrganizerName = ev.Organizer.EmailAddress.Name
	out.IsCancelled = ev.IsCancelled
	if !ev.LastModified.IsZero() {
		out.LastModified = ev.LastModified.UTC()
	}
	if !ev.Created.IsZero() {
		out.Created = ev.Created.UTC()
	}
	out.Subject = ev.Subject
	// Exchange converts a stored HTML body to text with CRLF line breaks
	// and a trailing CRLF (facts §2): read it as it was written.
	out.Body = calsync.NormalizeText(ev.Body.Content)
	out.Location = ev.Location.DisplayName
	out.AllDay = ev.IsAllDay
	out.Start = eventTime(ev.Start, out.AllDay)
	out.End = eventTime(ev.End, out.AllDay)
	out.TimeZone = ev.OriginalStartTimeZone
	out.Reminder = calsync.ReminderOff
	if ev.IsReminderOn {
		out.Reminder = int(ev.ReminderMinutes)
	}
	for _, p := range ev.Properties {
		if strings.EqualFold(p.ID, OroIDPropertyID) {
			out.OroID = p.Value
		}
	}
	if out.OroID == "" {
		// delta items never carry the property (delta cannot $expand it),
		// but the transactionId of an event we created names the Oro id
		out.OroID, _ = calsync.OroIDFromTransactionID(out.TransactionID)
	}
	return out
}

// attendees maps Graph's attendees to Oro's terms (calendar-semantics
// §3.2): a resource (a room) is optional, notResponded is none,
// tentativelyAccepted is tentative, and the organizer's own response
// (organizer) is accepted. One without an address is left out; a type or
// response Graph does not define reads as none given. resources are the
// addresses of the resources, so that a write keeps them resources.
func attendees(in []graphAttendee) (out []calsync.Attendee, resources []string) {
	for _, a := range in {
		if a.EmailAddress.Address == "" {
			continue
		}
		at := calsync.Attendee{Email: a.EmailAddress.Address, DisplayName: a.EmailAddress.Name, Status: "none", Type: "required"}
		if a.Type == "optional" || a.Type == "resource" {
			at.Type = "optional"
		}
		if a.Type == "resource" {
			resources = append(resources, a.EmailAddress.Address)
		}
		switch a.Status.Response {
		case "accepted", "organizer":
			at.Status = "accepted"
		case "declined":
			at.Status = "declined"
		case "tentativelyAccepted":
			at.Status = "tentative"
		}
		out = append(out, at)
	}
	return out, resources
}

// eventTime reads a dateTimeTimeZone. All-day values are plain dates whatever
// zone they are labelled with (Graph returns them at midnight even under a
// Prefer: outlook.timezone), so only the date part counts. Timed values come
// in UTC because every request says Prefer: outlook.timezone="UTC"; an IANA
// label is honoured in case a response ignored the preference. A missing or
// unparsable value is the zero time, which the engine treats as invalid.
func eventTime(dt dateTimeTimeZone, allDay bool) time.Time {
	if dt.DateTime == "" {
		return time.Time{}
	}
	t, err := time.Parse(parseDateTime, dt.DateTime)
	if err != nil {
		return time.Time{}
	}
	if allDay {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	if tz := dt.TimeZone; tz != "" && tz != "UTC" {
		if loc, err := time.LoadLocation(tz); err == nil {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
		}
	}
	return t.UTC()
}

// parseEvent parses one event from a JSON body (a batch item's response).
func parseEvent(body []byte) (calsync.RemoteEvent, error) {
	var ev *graphEvent
	if err := decode(body, &ev); err != nil {
		return calsync.RemoteEvent{}, err
	}
	if ev == nil {
		return calsync.RemoteEvent{}, errors.New("the body is not an event")
	}
	return fromGraph(ev), nil
}

// The request body of a create or update. Only what we synchronize is ever
// sent. Attendees only when the engine writes them (the writeAttendees
// setting): otherwise no write of ours can mail anyone.
type eventBody struct {
	Subject       *string            `json:"subject,omitempty"`
	Body          *itemBody          `json:"body,omitempty"`
	Location      *location          `json:"location,omitempty"`
	IsAllDay      *bool              `json:"isAllDay,omitempty"`
	IsReminderOn  *bool              `json:"isReminderOn,omitempty"`
	ReminderMin   *int               `json:"reminderMinutesBeforeStart,omitempty"`
	Start         *dateTimeTimeZone  `json:"start,omitempty"`
	End           *dateTimeTimeZone  `json:"end,omitempty"`
	Recurrence    *recurrenceBody    `json:"recurrence,omitempty"`
	Attendees     *[]attendeeBody    `json:"attendees,omitempty"`
	TransactionID string             `json:"transactionId,omitempty"`
	Properties    []extendedProperty `json:"singleValueExtendedProperties,omitempty"`
}

// recurrenceBody is the recurrence of a request body: a pattern, or
// JSON null (g nil), which makes a series a single event. encoding/json
// leaves out a nil pointer field, so the null needs a value of its own;
// Graph's own SDKs drop it the same way (semantics §1.3).
type recurrenceBody struct{ g *graphRecurrence }

func (r recurrenceBody) MarshalJSON() ([]byte, error) { return json.Marshal(r.g) }

// attendeeBody is an attendee as written: its address, name and type
// (required, optional or resource); its response is the attendee's own.
type attendeeBody struct {
	Type         string `json:"type"`
	EmailAddress struct {
		Address string `json:"address"`
		Name    string `json:"name,omitempty"`
	} `json:"emailAddress"`
}

type itemBody struct {
	ContentType string `json:"contentType"`
	Content     string `json:"content"`
}

type location struct {
	DisplayName string `json:"displayName"`
}

type dateTimeTimeZone struct {
	DateTime string `json:"dateTime"`
	TimeZone string `json:"timeZone"`
}

type extendedProperty struct {
	ID    string `json:"id"`
	Value string `json:"value"`
}

// toGraph builds the JSON body for a create (every field) or an update (the
// fields listed in w.Fields). Start, end and isAllDay always travel together:
// Graph validates them as a unit (an all-day event needs midnight values in
// one zone). The Oro id property is written whenever the engine names one, so
// a linked event becomes findable by FindByOroID too.
func toGraph(w calsync.Write) ([]byte, error) {
	ev := w.Event
	var b eventBody
	all := w.Op == calsync.WriteCreate
	has := func(f string) bool {
		if all {
			return true
		}
		for _, x := range w.Fields {
			if x == f {
				return true
			}
		}
		return false
	}
	if has("subject") {
		b.Subject = &ev.Subject
	}
	if has("body") {
		b.Body = &itemBody{ContentType: "text", Content: ev.Body}
	}
	if has("location") {
		b.Location = &location{DisplayName: ev.Location}
	}
	series := ev.Series != nil && ev.Series.Recurrence != nil
	if has("start") || has("end") || has("allDay") || series && has("recurrence") {
		b.IsAllDay = &ev.AllDay
		b.Start = wireTime(ev.Start, ev.AllDay, ev.TimeZone)
		b.End = wireTime(ev.End, ev.AllDay, ev.TimeZone)
		if series {
			// a series' pattern, start and end travel together: the
			// range starts on the start's date, in the series' zone
			if err := seriesBody(&b, ev); err != nil {
				return nil, err
			}
		}
	}
	if !all && !series && has("recurrence") {
		// the engine makes a series a single event: Graph keeps the first
		// occurrence's time and drops the exceptions
		b.Recurrence = &recurrenceBody{}
	}
	if has("reminder") && ev.Reminder != calsync.ReminderUnset {
		// off is written too: Graph turns a reminder on by default
		on := ev.Reminder != calsync.ReminderOff
		b.IsReminderOn = &on
		if on {
			b.ReminderMin = &ev.Reminder
		}
	}
	if all && len(ev.Attendees) > 0 || !all && has("attendees") {
		// the whole list: an update replaces the copy's (an empty one
		// removes them all); Microsoft 365 mails whom it adds and removes
		as := make([]attendeeBody, len(ev.Attendees))
		for i, a := range ev.Attendees {
			as[i].Type, as[i].EmailAddress.Address, as[i].EmailAddress.Name = a.Type, a.Email, a.DisplayName
		}
		b.Attendees = &as
	}
	if all {
		b.TransactionID = w.TransactionID
	}
	if w.OroID != "" {
		b.Properties = []extendedProperty{{ID: OroIDPropertyID, Value: w.OroID}}
	}
	return json.Marshal(b)
}

// seriesBody sets the pattern of a series master's create or update, and
// its start and end at its first occurrence in the series' own zone; what
// Graph cannot hold as Oro holds it is refused (KindRejected), never
// approximated.
func seriesBody(b *eventBody, ev calsync.RemoteEvent) error {
	g, zone, first, problem := recurrenceToGraph(*ev.Series.Recurrence, ev.Start, ev.End)
	if problem != "" {
		return &calsync.Error{Kind: calsync.KindRejected, Op: "graph.batch", Code: problem,
			Message: "the recurrence cannot be written to Microsoft 365 as Oro holds it (" + problem + ")"}
	}
	b.Recurrence = &recurrenceBody{&g}
	b.Start = wireTime(first, ev.AllDay, zone)
	b.End = wireTime(first.Add(ev.End.Sub(ev.Start)), ev.AllDay, zone)
	return nil
}

// wireTime writes a timed event's instant as the wall-clock time in zone,
// the user's Windows zone the engine names (RemoteEvent.TimeZone), so that
// Outlook shows it in that zone; in UTC when it names none or one this
// process cannot load. An all-day date is written as midnight of that
// date in zone ("UTC" when it names none), as it is, not converted: an
// all-day event is a plain date in whatever zone anchors it
// (calendar-semantics §1.4.3).
func wireTime(t time.Time, allDay bool, zone string) *dateTimeTimeZone {
	t = t.UTC()
	if zone == "" {
		zone = "UTC"
	}
	if !allDay {
		loc := windowsLocation(zone)
		if loc == nil {
			return &dateTimeTimeZone{DateTime: t.Format(graphDateTime), TimeZone: "UTC"}
		}
		return &dateTimeTimeZone{DateTime: t.In(loc).Format(graphDateTime), TimeZone: zone}
	}
	t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return &dateTimeTimeZone{DateTime: t.Format(graphDateTime), TimeZone: zone}
}

// windowsLocation loads the IANA zone of a Windows zone name; nil for
// UTC, an unknown name or one the zone database lacks.
func windowsLocation(zone string) *time.Location {
	if zone == "UTC" {
		return nil
	}
	iana, ok := tzmap.IANA(zone)
	if !ok {
		return nil
	}
	loc, err := time.LoadLocation(iana)
	if err != nil {
		return nil
	}
	return loc
}
