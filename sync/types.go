package calsync

import "time"

// Mode says which Oro events a request carries.
type Mode string

// The request modes.
const (
	// ModeIncremental: the Oro events created, changed or deleted since the
	// last run (plus any the last result reported an issue for). Needs the
	// state of an earlier run.
	ModeIncremental Mode = "incremental"
	// ModeFull: every Oro event in the window, plus tombstones of events
	// deleted since the last run that were linked or still unsynced. Used for
	// the first sync and for repair.
	ModeFull Mode = "full"
)

// Request is the engine's part of the sync.run params. The app and the
// tokens are handled by the RPC layer and never reach the engine.
type Request struct {
	Cascade Cascade `json:"cascade"`
	// State is the state returned by the previous run; nil the first time.
	State *State `json:"state,omitempty"`
	// Window is the sync window; absent means the state's window while it
	// is recent, else DefaultWindow (see WindowSlideDays).
	Window *Window `json:"window,omitempty"`
	// Mode is incremental or full; "" means incremental, which answers
	// partial/resync_required (state.needsFull) when the state does not
	// allow it.
	Mode Mode `json:"mode,omitempty"`
	// TimeZone is the user's IANA time zone ("Europe/Berlin"). All-day
	// events are written to Microsoft 365 in its Windows zone (as midnight
	// to the next midnight); one without a Windows name makes each all-day
	// Oro event an issue (time_zone_unmapped). Absent: all-day events are
	// written in UTC, as before the field existed; hosts should send it.
	TimeZone string  `json:"timeZone,omitempty"`
	Events   []Event `json:"events"`
	Options  Options `json:"options"`
}

// Event is an Oro calendar event as the host sends it and as operations
// return it. Field names follow Oro's calendar REST API.
type Event struct {
	// ID is the Oro event id; empty only inside an operation that creates
	// an Oro event.
	ID string `json:"id,omitempty"`
	// UID is the iCalendar UID (Oro's uid column); for events pulled from
	// Microsoft 365 it is the event's iCalUId. In an operation it is for a
	// new Oro event only: an existing event keeps its uid.
	UID         string `json:"uid,omitempty"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Location    string `json:"location,omitempty"`
	// Start and End: plain dates ("2026-03-05", End exclusive) when AllDay,
	// RFC 3339 with an offset ("2026-03-05T09:00:00+01:00") otherwise. An
	// all-day date may come as midnight with an offset, as Oro's REST API
	// writes it ("2026-03-05T00:00:00+01:00" is 2026-03-05, in no zone).
	Start  string `json:"start"`
	End    string `json:"end"`
	AllDay bool   `json:"allDay"`
	// UpdatedAt is Oro's updated_at; used for most_recent conflicts and as
	// the precondition of operations. Required in a request (an event
	// without it is an issue), except on tombstones: a tombstone without it
	// counts as deleted when the run began.
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	// Deleted marks a tombstone: the event was deleted in Oro since its link
	// was stored.
	Deleted bool `json:"deleted,omitempty"`
	// Reminders are the Oro event's reminders (see reminder.go: the one
	// with the smallest interval is synchronized). Absent: the host does
	// not send them, and the event's reminder is left as both sides hold
	// it; [] is an event without reminders, written with none. Never set
	// in an operation (see Operation.Reminder).
	Reminders []Reminder `json:"reminders,omitempty"`
	// Recurrence makes the event a series master (Oro's recurrence);
	// RecurringEventID, OriginalStart and IsCancelled make it an exception
	// of the series whose master has that Oro id. A master is written to
	// Microsoft 365 as a series; an exception, sent with its master, is
	// written to the occurrence at OriginalStart: cancelled, it deletes it;
	// changed, it patches it (see series_write.go and CONFLICTS.md).
	Recurrence       *Recurrence `json:"recurrence,omitempty"`
	RecurringEventID string      `json:"recurringEventId,omitempty"`
	OriginalStart    string      `json:"originalStart,omitempty"`
	IsCancelled      bool        `json:"isCancelled,omitempty"`
	// Exceptions (create and update operations of a series master from
	// Microsoft 365) are the series' exceptions as Microsoft 365 holds
	// them: changed occurrences with their content and originalStart, and
	// cancelled ones (isCancelled, originalStart only). The host makes the
	// master's Oro exceptions exactly these, matched by originalStart:
	// updating, creating, and deleting the ones not listed. Never in a
	// request.
	Exceptions []Event `json:"exceptions,omitempty"`
	// ParentEventID: the event is an attendee's copy of another Oro
	// user's event (Oro's parentEventId); it is never created in Microsoft
	// 365 (see attendee.go).
	ParentEventID string `json:"parentEventId,omitempty"`
	// IsOrganizer, OrganizerEmail, OrganizerDisplayName and Attendees are
	// set in create and update operations from Microsoft 365 (Oro's
	// organizer fields are write-once: a host sets them on create). In a
	// request they are ignored, unless writeAttendees is on: then the
	// Attendees of an event the user organizes (but the one of type
	// organizer or with OrganizerEmail) are written (see attendee.go).
	IsOrganizer          *bool      `json:"isOrganizer,omitempty"`
	OrganizerEmail       string     `json:"organizerEmail,omitempty"`
	OrganizerDisplayName string     `json:"organizerDisplayName,omitempty"`
	Attendees            []Attendee `json:"attendees,omitempty"`
	// Link is what the engine returned for this event last time; nil when
	// the event was never synced.
	Link *Link `json:"link,omitempty"`
}

// Link is the per-event bookkeeping the host stores beside its event and
// sends back unchanged. Its fields are informational to the host, except
// that the host may compare Hash with an operation's event hash.
type Link struct {
	// V is the link format version.
	V         int    `json:"v"`
	RemoteID  string `json:"remoteId"`
	ChangeKey string `json:"changeKey,omitempty"`
	ETag      string `json:"etag,omitempty"`
	ICalUID   string `json:"iCalUId,omitempty"`
	// ReadOnly: the event is never changed in Microsoft 365: the connected
	// user does not organize it, or it is a Meeting (which writeAttendees
	// lets the sync change).
	ReadOnly bool `json:"readOnly,omitempty"`
	// Series: the event is a recurring series in Microsoft 365 (RemoteID
	// is its master's id).
	Series bool `json:"series,omitempty"`
	// Meeting: the connected user organizes the event and it has attendees,
	// whom any change would notify.
	Meeting bool `json:"meeting,omitempty"`
	// Hash is the content hash of the synchronized fields as both sides held
	// them at SyncedAt; Fields holds one hash per field group (the base of
	// field-level merges).
	Hash     string            `json:"hash"`
	Fields   map[string]string `json:"fields"`
	SyncedAt time.Time         `json:"syncedAt"`
}

// LinkVersion is the current Link.V.
const LinkVersion = 1

// Options are the per-call switches.
type Options struct {
	// DryRun plans and returns the operations but writes nothing to
	// Microsoft 365; the returned state is the request's state.
	DryRun bool `json:"dryRun,omitempty"`
	// MassDeleteThreshold is the share (0 < t ≤ 1) of one side's events a run
	// may delete; 0 means the default 0.5. Runs deleting fewer than
	// MassDeleteMinimum events are never stopped.
	MassDeleteThreshold float64 `json:"massDeleteThreshold,omitempty"`
	// AllowMassDelete overrides the guard for this call.
	AllowMassDelete bool `json:"allowMassDelete,omitempty"`
	// TimeBudgetSeconds bounds the run, every Microsoft request included;
	// 0 means the default of 60 seconds, at most MaxTimeBudgetSeconds. When
	// it is used up the result is partial (time_budget) and its state
	// continues.
	TimeBudgetSeconds int `json:"timeBudgetSeconds,omitempty"`
	// OroEventCount is the number of Oro events in the window, the base of
	// the guard on the Oro side in incremental mode (full mode counts the
	// request's events). 0 means unknown: the state's last count is used.
	OroEventCount int `json:"oroEventCount,omitempty"`
}

// TimeBudget is the time the run may take: TimeBudgetSeconds (at most
// MaxTimeBudgetSeconds, so that it never overflows, even before Validate
// rejects a larger one), or the default.
func (o Options) TimeBudget() time.Duration {
	if o.TimeBudgetSeconds > 0 {
		return time.Duration(min(o.TimeBudgetSeconds, MaxTimeBudgetSeconds)) * time.Second
	}
	return DefaultTimeBudget
}

// Guard and budget defaults.
const (
	// DefaultApplyChunk is RunOptions.ApplyChunk's default: 400 writes, a
	// multiple of what graphclient keeps in flight (4 chains of 20-item
	// batches), so that a Remote without ApplyStream does not drain its
	// chains every 100 writes.
	DefaultApplyChunk          = 400
	DefaultMassDeleteThreshold = 0.5
	// MassDeleteMinimum: a run deleting fewer events than this on a side is
	// never stopped, whatever the share.
	MassDeleteMinimum = 5
	DefaultTimeBudget = 60 * time.Second
	// MaxTimeBudgetSeconds is the largest options.timeBudgetSeconds: a day.
	MaxTimeBudgetSeconds = 86400
	// ClockSkewTolerance: under most_recent, changes closer together than
	// this are a tie, which Oro wins.
	ClockSkewTolerance = 2 * time.Minute
)

// State is the per-user sync state. It does not grow with the calendar: it
// holds a delta link, the window it belongs to and two counters.
type State struct {
	V      int    `json:"v"`
	Window Window `json:"window"`
	// DeltaLink continues change tracking in the next incremental run.
	DeltaLink string `json:"deltaLink,omitempty"`
	// NextLink continues a delta round a partial run did not finish.
	NextLink string `json:"nextLink,omitempty"`
	// FullRound: NextLink continues the snapshot round of a full sync, so
	// unlinked events are still matched by iCalendar UID.
	FullRound bool `json:"fullRound,omitempty"`
	// CheckedTo: NextLink continues a full round at its last page, whose
	// reading ends the round once every linked Oro event absent from it is
	// confirmed present or gone (by a read each, see CONFLICTS.md); the
	// earlier calls confirmed those whose ids sort up to this one.
	CheckedTo string `json:"checkedTo,omitempty"`
	// RoundOroDeletes counts the Oro-side deletions the earlier calls of the
	// round NextLink continues returned: the mass-delete guard judges a round
	// as a whole, however many calls the time budget splits it into.
	RoundOroDeletes int `json:"roundOroDeletes,omitempty"`
	// RefusedReads counts the consecutive calls that stopped at the page
	// this state continues from because Microsoft refused the read that
	// confirms a removal on it; after MaxRefusedReads the removal is given
	// up with an issue and the round goes on.
	RefusedReads int `json:"refusedReads,omitempty"`
	// NeedsFull: the next call must be mode full (first sync, changed
	// window, Microsoft reset its change tracking, or NextLink continues a
	// full round).
	NeedsFull bool `json:"needsFull,omitempty"`
	// OroCount and MicrosoftCount are approximate event counts in the window,
	// the base of the mass-delete guard.
	OroCount       int       `json:"oroCount"`
	MicrosoftCount int       `json:"microsoftCount"`
	LastRunAt      time.Time `json:"lastRunAt,omitzero"`
	// Sent is the requests this sidecar sent to the mailbox in the 10
	// minutes before the state was made, per minute (see RequestLedger):
	// the next call's request budget starts from it, so that calls in a
	// row keep to Microsoft's 10,000 per 10 minutes together. Absent: none.
	Sent []SentMinute `json:"sent,omitempty"`
}

// SentMinute is N requests sent to the mailbox in the minute starting At.
type SentMinute struct {
	At time.Time `json:"at"`
	N  int       `json:"n"`
}

// StateVersion is the current State.V.
const StateVersion = 1

// Status is the outcome of a run.
type Status string

// The run statuses.
const (
	StatusCompleted Status = "completed"
	// StatusPartial: call again soon with the returned state (time budget used
	// up, a full run needed, or a guard stopped part of the work).
	StatusPartial Status = "partial"
	// StatusSkipped: sync is disabled; nothing was read or written.
	StatusSkipped Status = "skipped"
)

// OpKind is what the host does with one operation.
type OpKind string

// The operation kinds. Every operation names the Oro event by OroID when the
// engine knows it, and by RemoteID always (the host finds the event whose
// stored link has that remoteId).
const (
	// OpCreate: create the Oro event from Event and store Link; if an Oro
	// event already has a link with RemoteID, update that one instead
	// (keeping its uid). An event held only as a tombstone is re-created:
	// live again with Event and Link, the tombstone gone.
	OpCreate OpKind = "create"
	// OpUpdate: overwrite the Oro event's fields with Event (except its
	// uid) and store Link.
	// No matching Oro event: do nothing.
	OpUpdate OpKind = "update"
	// OpDelete: delete the Oro event and its link. No match: do nothing.
	OpDelete OpKind = "delete"
	// OpLink: store Link (nil: remove the stored link); the Oro event's
	// content is already right. Applied even if the event changed meanwhile.
	OpLink OpKind = "link"
)

// Operation is one change for the host to apply to Oro. Applying the same
// operation twice is harmless. Create, update and delete apply only if the
// Oro event did not change while the sync ran: its updatedAt must equal
// ExpectedUpdatedAt when set, and when it is not set (the event was not in
// the request) the event must not have changed since its link was stored.
// A skipped operation is harmless: the changed event is sent next run.
type Operation struct {
	// Key is deterministic: the same decision on the same inputs gives the
	// same key, so a host can also de-duplicate by it.
	Key               string     `json:"key"`
	Op                OpKind     `json:"op"`
	OroID             string     `json:"oroId,omitempty"`
	RemoteID          string     `json:"remoteId,omitempty"`
	ExpectedUpdatedAt *time.Time `json:"expectedUpdatedAt,omitempty"`
	// Event holds the full content to write (create, update).
	Event *Event `json:"event,omitempty"`
	// Reminder (create, update) is Microsoft 365's reminder for the event,
	// to apply as ReminderChange says; absent: leave the Oro event's
	// reminders as they are.
	Reminder *ReminderChange `json:"reminder,omitempty"`
	Link     *Link           `json:"link,omitempty"`
	// Reason says why, e.g. "microsoft_changed" or "conflict_oro_won";
	// Detail explains it to a person.
	Reason Reason `json:"reason"`
	Detail string `json:"detail,omitempty"`
}

// Reason is the machine-readable why of an operation or issue.
type Reason string

// The reasons.
const (
	ReasonOroCreated         Reason = "oro_created"
	ReasonOroChanged         Reason = "oro_changed"
	ReasonOroDeleted         Reason = "oro_deleted"
	ReasonMicrosoftCreated   Reason = "microsoft_created"
	ReasonMicrosoftChanged   Reason = "microsoft_changed"
	ReasonMicrosoftDeleted   Reason = "microsoft_deleted"
	ReasonMicrosoftMoved     Reason = "microsoft_moved_out_of_window"
	ReasonSameContent        Reason = "same_content"
	ReasonMatchedUID         Reason = "matched_uid"
	ReasonRecovered          Reason = "recovered_unrecorded_create"
	ReasonConflictOroWon     Reason = "conflict_oro_won"
	ReasonConflictMSWon      Reason = "conflict_microsoft_won"
	ReasonConflictMerged     Reason = "conflict_merged"
	ReasonNotOrganizer       Reason = "not_organizer"
	ReasonHasAttendees       Reason = "has_attendees"
	ReasonRecurring          Reason = "recurring_not_supported"
	ReasonReadFailed         Reason = "read_failed"
	ReasonMassDeleteGuard    Reason = "mass_delete_guard"
	ReasonWriteFailed        Reason = "write_failed"
	ReasonInvalidEvent       Reason = "invalid_event"
	ReasonResyncRequired     Reason = "resync_required"
	ReasonTimeBudget         Reason = "time_budget"
	ReasonDisabled           Reason = "disabled"
	ReasonDirectionIgnored   Reason = "direction"
	ReasonMicrosoftRecreated Reason = "microsoft_recreated"
	// ReasonTimeZoneUnmapped: an all-day event is not synced because the
	// user's time zone (Request.TimeZone) has no Windows name.
	ReasonTimeZoneUnmapped Reason = "time_zone_unmapped"
	// ReasonAttendeeCopy: an Oro attendee's copy of another user's event
	// (parentEventId) is never created in Microsoft 365: its counterpart is
	// the invitation only the organizer's mailbox sends.
	ReasonAttendeeCopy Reason = "attendee_copy"
)

// Issue is a per-event error or skip. The rest of the run went on.
type Issue struct {
	OroID     string `json:"oroId,omitempty"`
	RemoteID  string `json:"remoteId,omitempty"`
	Kind      Kind   `json:"kind"`
	Retryable bool   `json:"retryable"`
	Reason    Reason `json:"reason"`
	Message   string `json:"message"`
	// RetryAfterMs: the event failed because Microsoft asked to back off
	// (a 429, or a 503 with Retry-After) for this long; 0 (left out)
	// otherwise. Result.NextSyncAt already waits for it.
	RetryAfterMs int64 `json:"retryAfterMs,omitempty"`
}

// Stats describe the cost and the effect of a run.
type Stats struct {
	// GraphRequests counts HTTP requests by kind, when the Remote reports
	// them (see RequestCounter); nil otherwise.
	GraphRequests map[string]int `json:"graphRequests,omitempty"`
	// Calls counts Remote method calls (delta, get, findByOroId, apply) and
	// the writes sent (writes).
	Calls     map[string]int `json:"calls"`
	Pulled    int            `json:"pulled"` // Oro operations from Microsoft-side changes
	Pushed    int            `json:"pushed"` // successful Microsoft-side writes
	Echoes    int            `json:"echoes"` // our own writes seen again (ignored, or returned as identical updates)
	Conflicts map[string]int `json:"conflicts"`
	// DurationMs is measured with the injected clock.
	DurationMs int64 `json:"durationMs"`
}

// GuardReport says a mass-delete guard stopped the deletes on one side.
type GuardReport struct {
	Side      Side    `json:"side"`
	Deletes   int     `json:"deletes"`
	Total     int     `json:"total"`
	Threshold float64 `json:"threshold"`
}

// WriteRecord describes one Microsoft-side write.
type WriteRecord struct {
	Op       WriteOp  `json:"op"`
	OroID    string   `json:"oroId"`
	RemoteID string   `json:"remoteId,omitempty"`
	Fields   []string `json:"fields,omitempty"`
	Reason   Reason   `json:"reason"`
	// Outcome is "done", "planned" (dry run), "failed" or "not_attempted"
	// (time budget).
	Outcome string `json:"outcome"`
}

// Result is the engine's part of the sync.run result (the RPC layer adds
// rotated tokens).
type Result struct {
	Status Status `json:"status"`
	// Reason explains a skipped or partial status.
	Reason     Reason        `json:"reason,omitempty"`
	Operations []Operation   `json:"operations"`
	State      *State        `json:"state,omitempty"`
	Issues     []Issue       `json:"issues"`
	Guards     []GuardReport `json:"guards,omitempty"`
	// Writes lists the Microsoft-side writes of the run (planned ones in a
	// dry run), for people; the host applies nothing from it.
	Writes []WriteRecord `json:"writes,omitempty"`
	Stats  Stats         `json:"stats"`
	// NextSyncAt is when to call again (see nextSyncAt): after the sync
	// interval, except for a partial result to continue (time_budget,
	// read_failed, resync_required): after Microsoft's Retry-After, else
	// ContinueFloor. Never before a Retry-After of the run.
	NextSyncAt time.Time `json:"nextSyncAt"`
	Settings   Resolved  `json:"settings"`
}

// RequestLedger may be implemented by a Remote that keeps to Microsoft's
// per-mailbox request limit (graph-facts §7: 10,000 requests per 10
// minutes) across calls: built with the state's Sent, it counts them with
// the requests it sends itself. Run stores what SentRequests returns at its
// end (see SentWithin) as the new state's Sent; a Remote that keeps no
// ledger leaves the state's Sent as it came (less what no longer counts).
type RequestLedger interface {
	// SentRequests returns the requests counted against the mailbox's
	// limit, carried and sent, per minute.
	SentRequests() []SentMinute
}

// RequestCounter may be implemented by a Remote that counts the HTTP
// requests it made (batches count once); the counts since the Remote was
// created go into Stats.GraphRequests.
type RequestCounter interface {
	GraphRequests() map[string]int
}

// RunOptions are the engine's dependencies, injected for tests.
type RunOptions struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// MaxDeltaPages bounds one delta round (the endless-nextLink guard);
	// 0 means 10000.
	MaxDeltaPages int
	// ApplyChunk is the number of writes per Remote.Apply call, or the most
	// a StreamApplier is handed at once, between which the time budget is
	// checked; 0 means DefaultApplyChunk.
	ApplyChunk int
	// ReadConcurrency is how many reads (Remote.Get, Remote.FindByOroID)
	// the engine runs at once while it confirms removals; 0 means 4,
	// Microsoft's limit of concurrent requests per mailbox. Tests whose
	// transcript follows the order of requests pass 1.
	ReadConcurrency int
	// CheckLink reports whether a Graph link may be followed (with the
	// access token) and kept in the state, naming field in its error, as
	// graphclient's Session.CheckLink does (a link under the Graph
	// endpoint); nil checks only what Request.Validate does. Run applies it
	// to the request's state, to every link Microsoft answers (a link it
	// refuses fails the run as Microsoft's fault) and to the state it
	// returns.
	CheckLink func(field, link string) error
}

func (o RunOptions) withDefaults() RunOptions {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxDeltaPages <= 0 {
		o.MaxDeltaPages = 10000
	}
	if o.ApplyChunk <= 0 {
		o.ApplyChunk = DefaultApplyChunk
	}
	if o.ReadConcurrency <= 0 {
		o.ReadConcurrency = 4
	}
	return o
}

// DefaultWindow is the window of a first request that has none: 30 days
// back to 365 days ahead of today (UTC).
func DefaultWindow(now time.Time) Window {
	d := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	return Window{Start: d.AddDate(0, 0, -30), End: d.AddDate(0, 0, 365)}
}

// WindowSlideDays is how far DefaultWindow(now) may move past the state's
// window before a request without a window takes the new one. A changed
// window needs a full run, so the default window slides once every 30 days
// (one full run a month), not every midnight; meanwhile it still reaches at
// least 335 days ahead and 30 back.
const WindowSlideDays = 30

// defaultWindow is the window of a request without one: the state's while
// DefaultWindow(now) has not moved more than WindowSlideDays past it,
// DefaultWindow(now) otherwise.
func defaultWindow(st *State, now time.Time) Window {
	d := DefaultWindow(now)
	if st == nil {
		return d
	}
	w, oldest := st.Window, d.Start.AddDate(0, 0, -WindowSlideDays)
	if w.Start.After(d.Start) || w.Start.Before(oldest) || w.End.Before(d.End.AddDate(0, 0, -WindowSlideDays)) {
		return d
	}
	return w
}
