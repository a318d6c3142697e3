package calendar

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/oro-msync/oro-msync/graphclient"
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

// seriesAnswer is the part of the answer readSeries uses.
type seriesAnswer struct {
	ID                    string            `json:"id"`
	OriginalStartTimeZone string            `json:"originalStartTimeZone"`
	Recurrence            *graphRecurrence  `json:"recurrence"`
	Cancelled             []string          `json:"cancelledOccurrences"`
	Exceptions            []json.RawMessage `json:"exceptionOccurrences"`
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
	ri, err := r.client.Me().Events().ByEventId(id).ToGetRequestInformation(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
		Headers:         prefer(),
		QueryParameters: &users.ItemEventsEventItemRequestBuilderGetQueryParameters{Select: seriesSelect, Expand: []string{"exceptionOccurrences"}},
	})
	if err != nil {
		return calsync.RemoteEvent{}, &calsync.Error{Kind: calsync.KindInternal, Op: op, Message: "building the request", Err: err}
	}
	release, err := r.slots.acquire(ctx, 1)
	if err != nil {
		return calsync.RemoteEvent{}, classify(err, op)
	}
	defer release()
	r.count(KindGet)
	raw, err := r.adapter.SendPrimitive(ctx, ri, "[]byte", abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		return calsync.RemoteEvent{}, named(graphclient.ClassifyRead(err), op)
	}
	body, _ := raw.([]byte)
	if len(body) == 0 {
		return calsync.RemoteEvent{}, graphclient.EmptyAnswer(op)
	}
	m, perr := parseEvent(body)
	var a seriesAnswer
	if err := json.Unmarshal(body, &a); perr != nil || err != nil || m.ID != id || a.ID != id {
		return calsync.RemoteEvent{}, badAnswer(op, "the series master's answer is unreadable")
	}
	if m.Type != "seriesMaster" {
		return calsync.RemoteEvent{}, &calsync.Error{Kind: calsync.KindNotFound, Op: op, Message: "no longer a series master"}
	}
	m.Series, err = seriesInfo(a, m)
	if err != nil {
		return calsync.RemoteEvent{}, err
	}
	return m, nil
}

// seriesInfo maps a series answer of master m.
func seriesInfo(a seriesAnswer, m calsync.RemoteEvent) (*calsync.SeriesInfo, error) {
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
	s := &calsync.SeriesInfo{Recurrence: &rec}
	wall := m.Start.In(loc)
	for _, oid := range a.Cancelled {
		// OID.{master id}.{date in the series' zone}
		d, err := time.Parse(graphDate, oid[strings.LastIndexByte(oid, '.')+1:])
		if err != nil || !strings.HasPrefix(oid, "OID.") {
			return nil, badAnswer(op, "a cancelled occurrence's id is unreadable")
		}
		s.Cancelled = append(s.Cancelled, time.Date(d.Year(), d.Month(), d.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, loc).UTC())
	}
	for _, x := range a.Exceptions {
		ev, err := parseEvent(x)
		if err != nil || !validID(ev.ID) {
			return nil, badAnswer(op, "an exception of the series is unreadable")
		}
		var orig struct {
			OriginalStart string `json:"originalStart"`
		}
		_ = json.Unmarshal(x, &orig)
		t, err := time.Parse(time.RFC3339, orig.OriginalStart)
		if err != nil {
			return nil, badAnswer(op, "an exception of the series has no originalStart")
		}
		ev.OriginalStart = t.UTC()
		s.Exceptions = append(s.Exceptions, ev)
	}
	return s, nil
}
