package calendar

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	kjson "github.com/microsoft/kiota-serialization-json-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"

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

// fromGraph maps a Graph event to the engine's RemoteEvent. A delta
// "@removed" item maps to a RemoteEvent with only ID and Removed set.
func fromGraph(ev models.Eventable) calsync.RemoteEvent {
	out := calsync.RemoteEvent{ID: str(ev.GetId())}
	add := ev.GetAdditionalData()
	if _, ok := add["@removed"]; ok {
		out.Removed = true
		return out
	}
	if etag, ok := add["@odata.etag"].(*string); ok && etag != nil {
		out.ETag = *etag
	}
	out.ChangeKey = str(ev.GetChangeKey())
	out.ICalUID = str(ev.GetICalUId())
	out.TransactionID = str(ev.GetTransactionId())
	if t := ev.GetTypeEscaped(); t != nil {
		out.Type = t.String()
	}
	out.SeriesMasterID = str(ev.GetSeriesMasterId())
	out.IsOrganizer = boolean(ev.GetIsOrganizer())
	out.HasAttendees = len(ev.GetAttendees()) > 0
	out.Attendees = attendees(ev.GetAttendees())
	if o := ev.GetOrganizer(); o != nil && o.GetEmailAddress() != nil {
		out.OrganizerEmail = str(o.GetEmailAddress().GetAddress())
		out.OrganizerName = str(o.GetEmailAddress().GetName())
	}
	out.IsCancelled = boolean(ev.GetIsCancelled())
	if lm := ev.GetLastModifiedDateTime(); lm != nil {
		out.LastModified = lm.UTC()
	}
	if c := ev.GetCreatedDateTime(); c != nil {
		out.Created = c.UTC()
	}
	out.Subject = str(ev.GetSubject())
	if b := ev.GetBody(); b != nil {
		// Exchange converts a stored HTML body to text with CRLF line
		// breaks and a trailing CRLF (facts §2): read it as it was written.
		out.Body = calsync.NormalizeText(str(b.GetContent()))
	}
	if l := ev.GetLocation(); l != nil {
		out.Location = str(l.GetDisplayName())
	}
	out.AllDay = boolean(ev.GetIsAllDay())
	out.Start = eventTime(ev.GetStart(), out.AllDay)
	out.End = eventTime(ev.GetEnd(), out.AllDay)
	out.TimeZone = str(ev.GetOriginalStartTimeZone())
	out.Reminder = calsync.ReminderOff
	if boolean(ev.GetIsReminderOn()) {
		out.Reminder = int(int32Value(ev.GetReminderMinutesBeforeStart()))
	}
	for _, p := range ev.GetSingleValueExtendedProperties() {
		if p != nil && strings.EqualFold(str(p.GetId()), OroIDPropertyID) {
			out.OroID = str(p.GetValue())
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
// (organizer) is accepted. One without an address is left out.
func attendees(in []models.Attendeeable) []calsync.Attendee {
	var out []calsync.Attendee
	for _, a := range in {
		if a == nil || a.GetEmailAddress() == nil || str(a.GetEmailAddress().GetAddress()) == "" {
			continue
		}
		at := calsync.Attendee{Email: str(a.GetEmailAddress().GetAddress()), DisplayName: str(a.GetEmailAddress().GetName()),
			Status: "none", Type: "required"}
		if t := a.GetTypeEscaped(); t != nil && *t != models.REQUIRED_ATTENDEETYPE {
			at.Type = "optional"
		}
		if st := a.GetStatus(); st != nil && st.GetResponse() != nil {
			switch *st.GetResponse() {
			case models.ACCEPTED_RESPONSETYPE, models.ORGANIZER_RESPONSETYPE:
				at.Status = "accepted"
			case models.DECLINED_RESPONSETYPE:
				at.Status = "declined"
			case models.TENTATIVELYACCEPTED_RESPONSETYPE:
				at.Status = "tentative"
			}
		}
		out = append(out, at)
	}
	return out
}

// eventTime reads a dateTimeTimeZone. All-day values are plain dates whatever
// zone they are labelled with (Graph returns them at midnight even under a
// Prefer: outlook.timezone), so only the date part counts. Timed values come
// in UTC because every request says Prefer: outlook.timezone="UTC"; an IANA
// label is honoured in case a response ignored the preference. A missing or
// unparsable value is the zero time, which the engine treats as invalid.
func eventTime(dt models.DateTimeTimeZoneable, allDay bool) time.Time {
	if dt == nil || dt.GetDateTime() == nil {
		return time.Time{}
	}
	t, err := time.Parse(parseDateTime, *dt.GetDateTime())
	if err != nil {
		return time.Time{}
	}
	if allDay {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	if tz := str(dt.GetTimeZone()); tz != "" && tz != "UTC" {
		if loc, err := time.LoadLocation(tz); err == nil {
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
		}
	}
	return t.UTC()
}

// parseEvent parses one event from a JSON body (a batch item's response).
func parseEvent(body []byte) (calsync.RemoteEvent, error) {
	n, err := kjson.NewJsonParseNode(body)
	if err != nil {
		return calsync.RemoteEvent{}, err
	}
	v, err := n.GetObjectValue(models.CreateEventFromDiscriminatorValue)
	if err != nil {
		return calsync.RemoteEvent{}, err
	}
	ev, ok := v.(models.Eventable)
	if !ok || ev == nil {
		return calsync.RemoteEvent{}, errors.New("the body is not an event")
	}
	return fromGraph(ev), nil
}

// The request body of a create or update. Only what we synchronize is ever
// sent: never attendees, so no write of ours can mail anyone.
type eventBody struct {
	Subject       *string            `json:"subject,omitempty"`
	Body          *itemBody          `json:"body,omitempty"`
	Location      *location          `json:"location,omitempty"`
	IsAllDay      *bool              `json:"isAllDay,omitempty"`
	IsReminderOn  *bool              `json:"isReminderOn,omitempty"`
	ReminderMin   *int               `json:"reminderMinutesBeforeStart,omitempty"`
	Start         *dateTimeTimeZone  `json:"start,omitempty"`
	End           *dateTimeTimeZone  `json:"end,omitempty"`
	TransactionID string             `json:"transactionId,omitempty"`
	Properties    []extendedProperty `json:"singleValueExtendedProperties,omitempty"`
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
	if has("start") || has("end") || has("allDay") {
		b.IsAllDay = &ev.AllDay
		b.Start = wireTime(ev.Start, ev.AllDay, ev.TimeZone)
		b.End = wireTime(ev.End, ev.AllDay, ev.TimeZone)
	}
	if has("reminder") && ev.Reminder != calsync.ReminderUnset {
		// off is written too: Graph turns a reminder on by default
		on := ev.Reminder != calsync.ReminderOff
		b.IsReminderOn = &on
		if on {
			b.ReminderMin = &ev.Reminder
		}
	}
	if all {
		b.TransactionID = w.TransactionID
	}
	if w.OroID != "" {
		b.Properties = []extendedProperty{{ID: OroIDPropertyID, Value: w.OroID}}
	}
	return json.Marshal(b)
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

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func boolean(p *bool) bool { return p != nil && *p }

func int32Value(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
