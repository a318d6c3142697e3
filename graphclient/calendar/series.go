package calendar

import (
	"context"
	"strings"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/users"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// seriesSelect is what a read of a series master asks for: its pattern,
// its cancelled occurrences and its exceptions, which Graph returns only
// when selected (and the exceptions only when expanded too;
// calendar-semantics §1.2.3), and every property fromGraph reads of an
// exception, in case the selection applies to the expanded exceptions too.
var seriesSelect = []string{"id", "changeKey", "iCalUId", "transactionId", "type", "seriesMasterId", "isOrganizer",
	"attendees", "organizer", "isCancelled", "lastModifiedDateTime", "createdDateTime", "subject", "body", "location",
	"isAllDay", "start", "end", "originalStartTimeZone", "isReminderOn", "reminderMinutesBeforeStart", "originalStart",
	"recurrence", "cancelledOccurrences", "exceptionOccurrences"}

// seriesAnswer is a series master's answer: the event, and what a series
// adds to it.
type seriesAnswer struct {
	graphEvent
	Recurrence *graphRecurrence   `json:"recurrence"`
	Cancelled  []string           `json:"cancelledOccurrences"`
	Exceptions []*seriesException `json:"exceptionOccurrences"`
}

// seriesException is an exception as a series master's answer expands it,
// or an item of the series' instances listing (Occurrences).
type seriesException struct {
	graphEvent
	OriginalStart string `json:"originalStart"`
}

// event is x as the engine reads it, with its OriginalStart in UTC; what
// names the item in errors ("an exception of the series").
func (x *seriesException) event(op, what string) (calsync.RemoteEvent, error) {
	if x == nil {
		return calsync.RemoteEvent{}, badAnswer(op, what+" is null")
	}
	ev, err := fromGraphChecked(&x.graphEvent, op)
	if err != nil {
		return calsync.RemoteEvent{}, err
	}
	t, perr := time.Parse(time.RFC3339, x.OriginalStart)
	if perr != nil {
		return calsync.RemoteEvent{}, badAnswer(op, what+" has no originalStart")
	}
	ev.OriginalStart = t.UTC()
	return ev, nil
}

// GetSeries reads a series master with its Series in one request, however
// many occurrences the series has (calsync.SeriesGetter): the pattern in
// Oro's terms (or why Oro cannot hold it), the exceptions with their
// original starts, and the original starts of the cancelled occurrences.
// An event that is not a series master answers KindNotFound: the series it
// was is gone.
func (r *Remote) GetSeries(ctx context.Context, id string) (_ calsync.RemoteEvent, err error) {
	const op = "graph.getSeries"
	defer recovered(&err, op)
	if !validID(id) {
		return calsync.RemoteEvent{}, malformedID(op)
	}
	var a seriesAnswer
	query := &users.ItemEventsEventItemRequestBuilderGetQueryParameters{Select: seriesSelect, Expand: []string{"exceptionOccurrences"}}
	if err := r.readEvent(ctx, id, query, &a, op); err != nil {
		return calsync.RemoteEvent{}, err
	}
	m, cerr := fromGraphChecked(&a.graphEvent, op)
	if cerr != nil || m.ID != id {
		return calsync.RemoteEvent{}, badAnswer(op, "the series master's answer is not the event asked for")
	}
	if m.Type != "seriesMaster" {
		return calsync.RemoteEvent{}, &calsync.Error{Kind: calsync.KindNotFound, Op: op, Message: "no longer a series master"}
	}
	m.Series, err = seriesInfo(&a, m)
	if err != nil {
		return calsync.RemoteEvent{}, err
	}
	return m, nil
}

// seriesInfo maps a series answer of master m.
func seriesInfo(a *seriesAnswer, m calsync.RemoteEvent) (*calsync.SeriesInfo, error) {
	const op = "graph.getSeries"
	if a.Recurrence == nil {
		return &calsync.SeriesInfo{Problem: problemUnsupported}, nil
	}
	rec, problem := recurrenceFromGraph(*a.Recurrence, a.OriginalStartTimeZone)
	if problem != "" {
		return &calsync.SeriesInfo{Problem: problem}, nil
	}
	loc, err := time.LoadLocation(rec.TimeZone)
	if err != nil {
		return &calsync.SeriesInfo{Problem: problemZoneUnmapped}, nil
	}
	if n, _, ok := rec.Normalized(m.Start); ok {
		rec = n // the form the engine compares an Oro recurrence in
	}
	s := &calsync.SeriesInfo{Recurrence: &rec}
	// A cancelled occurrence is named by its date; it started at the
	// series' time of day on it, in the series' zone: midnight there for
	// an all-day series (whose start the engine holds as a date, at
	// midnight UTC).
	hour, minute, sec := m.Start.In(loc).Clock()
	if m.AllDay {
		hour, minute, sec = 0, 0, 0
	}
	for _, oid := range a.Cancelled {
		// OID.{master id}.{date in the series' zone}
		d, err := time.Parse(graphDate, oid[strings.LastIndexByte(oid, '.')+1:])
		if err != nil || !strings.HasPrefix(oid, "OID.") {
			return nil, badAnswer(op, "a cancelled occurrence's id is unreadable")
		}
		s.Cancelled = append(s.Cancelled, time.Date(d.Year(), d.Month(), d.Day(), hour, minute, sec, 0, loc).UTC())
	}
	for _, x := range a.Exceptions {
		ev, err := x.event(op, "an exception of the series")
		if err != nil {
			return nil, err
		}
		s.Exceptions = append(s.Exceptions, ev)
	}
	return s, nil
}
