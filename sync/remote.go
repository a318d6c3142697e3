package calsync

import (
	"context"
	"time"
)

// Window is the sync window: events that overlap [Start, End) are synchronized.
type Window struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// RemoteEvent is an event as the Microsoft side holds it, in domain terms.
// graphclient maps Graph's event resource to and from this type; the engine
// never sees Graph JSON. Fields grow with recurrence, attendees and reminders.
type RemoteEvent struct {
	ID             string // Graph immutable id, case-sensitive
	ChangeKey      string // changes on every write
	ETag           string // @odata.etag, sent back as If-Match
	ICalUID        string // iCalUId
	TransactionID  string // set by us at creation, "" otherwise
	OroID          string // our extended property, else the Oro id in our transactionId (delta items); "" when not ours
	Type           string // singleInstance, occurrence, exception, seriesMaster
	SeriesMasterID string // the series master's id, for an occurrence or an exception
	IsOrganizer    bool   // the connected user organizes it; only such events are ever changed by us
	HasAttendees   bool   // it has attendees, whom any change would notify: never changed by us
	OrganizerEmail string // the organizer's address
	OrganizerName  string
	Attendees      []Attendee // in Oro's terms (status, type); in a write, the attendees to write (writeAttendees)
	Resources      []string   // the addresses of the attendees that are resources (rooms), which Attendees holds as optional
	LastModified   time.Time  // lastModifiedDateTime (UTC)
	Created        time.Time  // createdDateTime (UTC)

	Subject     string
	Body        string // plain text
	Location    string
	AllDay      bool
	Start, End  time.Time // timed: instants; all-day: midnight UTC of the plain dates, End exclusive
	TimeZone    string    // read: the event's original zone (Windows or IANA name); write: the Windows zone to write it in
	IsCancelled bool
	// Reminder: minutes before the start, ReminderOff; in a Write,
	// ReminderUnset leaves it out (Graph's default applies to a create).
	Reminder int

	// OriginalStart is the start (UTC) of the occurrence an exception
	// replaces.
	OriginalStart time.Time
	// Series is set on a series master read with Remote.Get: its pattern,
	// exceptions and cancelled occurrences (delta items never carry it).
	Series *SeriesInfo

	// Removed is set for a delta "@removed" item: deleted, or moved out of the
	// window. Only ID is meaningful then.
	Removed bool
}

// SeriesInfo is what a read of a series master adds: what delta does not
// show of a series.
type SeriesInfo struct {
	// Recurrence is the pattern in Oro's terms, Normalized; nil when
	// Problem says why Oro cannot hold it (a custom time zone, an interval
	// past Oro's maxima, …): the series is then not synchronized.
	Recurrence *Recurrence
	Problem    string
	// Exceptions are the occurrences changed in Microsoft 365, each with
	// its OriginalStart; Cancelled are the original starts (UTC) of the
	// cancelled ones.
	Exceptions []RemoteEvent
	Cancelled  []time.Time
}

// DeltaPage is one page of a calendarView delta round.
type DeltaPage struct {
	Events []RemoteEvent
	// Exactly one of NextLink (more pages in this round) and DeltaLink (round
	// finished; keep it for the next round) is set.
	NextLink  string
	DeltaLink string
}

// WriteOp is the kind of a Microsoft-side write.
type WriteOp string

// The write operations.
const (
	WriteCreate WriteOp = "create"
	WriteUpdate WriteOp = "update"
	WriteDelete WriteOp = "delete"
)

// Write is one Microsoft-side change planned by the engine.
type Write struct {
	Key   string // unique within one Apply call; results carry it back
	Op    WriteOp
	OroID string // the Oro event this write serves
	// ID of the event to update or delete ("" for create).
	ID string
	// IfMatch is the ETag the update/delete is conditional on ("" = unconditional).
	IfMatch string
	// TransactionID makes a create idempotent; deterministic per Oro event.
	TransactionID string
	// Event holds the content for create and update (ID, ETag etc. ignored).
	// For update only the fields listed in Fields are sent.
	Event  RemoteEvent
	Fields []string // for update: "subject", "body", "location", "start", "end", "allDay", "reminder", "recurrence", "attendees"
}

// WriteResult is the outcome of one Write.
type WriteResult struct {
	Key   string
	Event *RemoteEvent // the event as stored after create/update (nil for delete or on error)
	Err   error        // *Error; KindConflict for 412, KindNotFound for 404, KindThrottled with RetryAfter...
}

// Remote is the Microsoft 365 calendar of one connected user, as the engine
// needs it. graphclient implements it over Microsoft Graph; tests may use the
// Graph simulator behind it. Every method honours ctx (deadline, cancel).
// Errors are *Error values with a Kind. Get and FindByOroID are called from
// several goroutines at once (RunOptions.ReadConcurrency), while no other
// method runs; the implementation keeps to the mailbox's limit.
type Remote interface {
	// Delta reads one page of a calendarView delta round. link is "" to start
	// a new round over window, or a NextLink/DeltaLink from an earlier page.
	// An expired or reset delta token answers KindResyncRequired.
	Delta(ctx context.Context, window Window, link string) (DeltaPage, error)
	// Get reads one event by id (KindNotFound when it is gone); a series
	// master comes with its Series.
	Get(ctx context.Context, id string) (RemoteEvent, error)
	// FindByOroID finds events carrying our extended property with this Oro id
	// (how a repeated run finds what an unrecorded run created).
	FindByOroID(ctx context.Context, oroID string) ([]RemoteEvent, error)
	// Apply performs writes: JSON batches of up to 20, at most 4 requests in
	// flight for the mailbox. Results come back in any order, one per Write,
	// keyed by Write.Key.
	//
	// Apply is the only place a write is retried, the way a database/sql
	// driver is the only one to know when ErrBadConn is safe:
	//
	//   - Transient failures (429 and 503 with their Retry-After, 504, a
	//     network error, a $batch that failed as a whole) are retried inside
	//     Apply while ctx and its own attempt bound allow.
	//   - A create whose outcome is unknown (it was sent, then no answer, a
	//     timeout or a 5xx; or a 409, which Graph may answer for a repeated
	//     transactionId) may have been performed. Apply looks it up with
	//     FindByOroID before sending it again; an event carrying the Write's
	//     TransactionID is the create's result (Err nil). Only Apply does
	//     this lookup.
	//   - An update or delete is sent again only when repeating it is
	//     harmless: it carries If-Match, so a repeat of one already performed
	//     answers 412 or 404.
	//
	// So WriteResult.Err is final for this run: the caller never sends that
	// Write again. A retryable Kind only says a later run may succeed (for a
	// create: it may exist after all, and that run's delta round shows it by
	// its transactionId). Two answers are not failures to retry but news
	// that call for a new decision: KindConflict (412, the event moved on)
	// and KindNotFound (404, it is gone) on an update or delete; a delete of
	// an event already gone is KindNotFound whatever Graph answers it (404,
	// 410, or 403 for a cancelled occurrence), never resync_required. The
	// caller reads the event again and decides again; a write that decision
	// makes is a new Write (new If-Match), not a retry.
	//
	// Apply itself fails only when nothing could be attempted, for a reason
	// that concerns the whole run (reconnect, consent, cancellation).
	Apply(ctx context.Context, writes []Write) ([]WriteResult, error)
}

// SeriesGetter may be implemented by a Remote that reads a series master
// with its Series in one request (Get may take two); the engine reads each
// series a delta round shows with it. An event that is no longer a series
// master answers KindNotFound.
type SeriesGetter interface {
	GetSeries(ctx context.Context, id string) (RemoteEvent, error)
}
