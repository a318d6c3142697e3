package calendar

import (
	"context"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/oro-msync/oro-msync/graphclient"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// Options tune a Remote. The zero value is the production setting.
type Options struct {
	// PageSize is asked of calendarView/delta with Prefer: odata.maxpagesize
	// (Graph may return more or fewer). Default 200.
	PageSize int
	// BatchSize is the number of writes per $batch request, 1..20. Default 20.
	BatchSize int
	// Concurrency is the number of requests allowed to run against the
	// mailbox at once, 1..4 (Microsoft's MailboxConcurrency limit). Default 4.
	Concurrency int
	// MaxAttempts bounds how often one write is sent when Graph answers 429,
	// 503 or 504, or the batch request itself fails transiently. Default 6.
	MaxAttempts int
	// Backoff is the wait before a retry when Graph gave no Retry-After; it
	// doubles with each attempt. Default 1s.
	Backoff time.Duration
	// RequestBudget is how many requests the Remote sends to the mailbox in
	// any 10 minutes, each batch item counting as one, and a read the SDK's
	// retry handler sent again counting each time (Microsoft's limit:
	// 10,000 per 10 minutes per app per mailbox). Writes beyond it are not
	// sent and answer throttled. Default 10,000; negative: no budget.
	RequestBudget int
	// Sent is what the call's state carries of the requests earlier calls
	// sent to the mailbox (State.Sent): they count against RequestBudget
	// until they leave Microsoft's window, and SentRequests returns them
	// with the Remote's own.
	Sent []calsync.SentMinute
	// Now is the clock that dates the requests for the budget, the engine's
	// (RunOptions.Now), so that State.Sent reads on one clock; waits are
	// real time. Default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.PageSize <= 0 {
		o.PageSize = 200
	}
	if o.BatchSize <= 0 || o.BatchSize > 20 {
		o.BatchSize = 20
	}
	if o.Concurrency <= 0 || o.Concurrency > 4 {
		o.Concurrency = 4
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 6
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.RequestBudget == 0 {
		o.RequestBudget = 10000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Remote is the primary calendar of the session's user. It implements
// calsync.Remote and is safe for concurrent use; all its requests share the
// mailbox's concurrency slots.
type Remote struct {
	session *graphclient.Session
	client  *msgraph.GraphServiceClient
	adapter abs.RequestAdapter
	opts    Options
	slots   *slots

	mu     sync.Mutex
	counts map[string]int
}

var (
	_ calsync.Remote         = (*Remote)(nil)
	_ calsync.RequestCounter = (*Remote)(nil)
	_ calsync.RequestLedger  = (*Remote)(nil)
)

// New returns the Remote for the session's user.
func New(session *graphclient.Session, opts Options) *Remote {
	opts = opts.withDefaults()
	var b *budget
	if opts.RequestBudget > 0 {
		b = newBudget(opts.RequestBudget, opts.Now, opts.Sent)
	}
	return &Remote{
		session: session,
		client:  session.Client(),
		adapter: session.Adapter(),
		opts:    opts,
		slots:   newSlots(opts.Concurrency, b),
		counts:  map[string]int{},
	}
}

// The kinds of Graph requests counted by GraphRequests.
const (
	KindDelta = "delta" // a calendarView/delta page
	KindGet   = "get"   // one event by id
	KindFind  = "find"  // a page of the lookup by Oro id
	KindBatch = "batch" // a $batch request, however many items it carries
)

// GraphRequests returns how many Graph requests of each kind this Remote has
// sent (calsync.RequestCounter). A batch counts once; retries sent by Apply
// count again; retries made inside the SDK's retry middleware do not show.
func (r *Remote) GraphRequests() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.counts))
	for k, v := range r.counts {
		out[k] = v
	}
	return out
}

// SentRequests returns the requests the budget counts against the
// mailbox's limit, Options.Sent's and this Remote's, per minute
// (calsync.RequestLedger); none without a budget.
func (r *Remote) SentRequests() []calsync.SentMinute {
	if r.slots.budget == nil {
		return nil
	}
	return r.slots.budget.minutes()
}

func (r *Remote) count(kind string) {
	r.mu.Lock()
	r.counts[kind]++
	r.mu.Unlock()
}

// prefer returns fresh headers for a read (RequestHeaders must not be shared
// between requests): UTC times and text bodies, so the mapping never
// converts anything.
func prefer(extra ...string) *abs.RequestHeaders {
	h := abs.NewRequestHeaders()
	h.Add("Prefer", `outlook.timezone="UTC"`)
	h.Add("Prefer", `outlook.body-content-type="text"`)
	for _, v := range extra {
		h.Add("Prefer", v)
	}
	return h
}

// classify turns any failure into the taxonomy, naming the operation.
func classify(err error, op string) *calsync.Error {
	return named(graphclient.Classify(err), op)
}

// named returns a copy of e that names op unless e names an operation.
func named(e *calsync.Error, op string) *calsync.Error {
	c := *e
	if c.Op == "" {
		c.Op = op
	}
	return &c
}

// Delta reads one page of a calendarView delta round (see calsync.Remote).
// The first request of a round carries the window; later ones replay the
// link verbatim, with the same Prefer headers, since Graph encodes the query
// in the link but not the headers. $expand is never sent: delta rejects it,
// so events on delta pages carry no OroID.
//
// A link decides where the request goes, and the host keeps links in the
// state it sends back, so a link outside the Graph endpoint is refused
// before anything is sent (invalid_input on "state"). Graph answers a read
// of the user's own calendar 403 only when the permission is missing, so a
// 403 here is consent_required naming graphclient.RequiredScope.
func (r *Remote) Delta(ctx context.Context, window calsync.Window, link string) (_ calsync.DeltaPage, err error) {
	defer recovered(&err, "graph.delta")
	b := r.client.Me().CalendarView().Delta()
	cfg := &users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{
		Headers: prefer(fmt.Sprintf("odata.maxpagesize=%d", r.opts.PageSize)),
	}
	if link != "" {
		if err := r.session.CheckLink("state", link); err != nil {
			return calsync.DeltaPage{}, named(calsync.AsError(err), "graph.delta")
		}
		b = b.WithUrl(link)
	} else {
		if !window.Start.Before(window.End) {
			return calsync.DeltaPage{}, calsync.Invalid("window", "start must be before end")
		}
		start, end := window.Start.UTC().Format(time.RFC3339), window.End.UTC().Format(time.RFC3339)
		cfg.QueryParameters = &users.ItemCalendarViewDeltaRequestBuilderGetQueryParameters{StartDateTime: &start, EndDateTime: &end}
	}
	info, err := b.ToGetRequestInformation(ctx, cfg)
	if err != nil {
		return calsync.DeltaPage{}, classify(err, "graph.delta")
	}
	release, err := r.slots.acquire(ctx, 1)
	if err != nil {
		return calsync.DeltaPage{}, classify(err, "graph.delta")
	}
	defer release()
	r.count(KindDelta)
	var resp graphEventPage
	if err := r.read(ctx, info, &resp, "graph.delta"); err != nil {
		return calsync.DeltaPage{}, named(graphclient.ConsentOrForbidden(err, graphclient.RequiredScope), "graph.delta")
	}
	var page calsync.DeltaPage
	if len(resp.Value) > 0 {
		page.Events = make([]calsync.RemoteEvent, 0, len(resp.Value))
	}
	for _, ev := range resp.Value {
		e, err := fromGraphChecked(ev, "graph.delta")
		if err != nil {
			return calsync.DeltaPage{}, err
		}
		page.Events = append(page.Events, e)
	}
	page.NextLink = resp.NextLink
	page.DeltaLink = resp.DeltaLink
	if (page.NextLink == "") == (page.DeltaLink == "") {
		return calsync.DeltaPage{}, &calsync.Error{Kind: calsync.KindUnavailable, Op: "graph.delta",
			Message: "delta page carries neither or both of nextLink and deltaLink"}
	}
	// The engine keeps these links in the state the host stores and sends
	// back; one outside the endpoint would fail every later call as the
	// host's fault.
	if !r.session.IsGraphLink(page.NextLink + page.DeltaLink) {
		return calsync.DeltaPage{}, foreignLink("graph.delta")
	}
	return page, nil
}

// fromGraphChecked maps an event from a Graph answer, refusing one the
// engine could not use: null, or without a valid id (it would become an
// operation the host cannot apply). That is Microsoft's fault.
func fromGraphChecked(ev *graphEvent, op string) (calsync.RemoteEvent, *calsync.Error) {
	if ev == nil {
		return calsync.RemoteEvent{}, badAnswer(op, "Microsoft Graph sent a null event")
	}
	e := fromGraph(ev)
	if !validID(e.ID) || e.SeriesMasterID != "" && !validID(e.SeriesMasterID) {
		return calsync.RemoteEvent{}, badAnswer(op, "Microsoft Graph sent an event without a valid id")
	}
	return e, nil
}

// badAnswer is the error for a Graph answer that cannot be used:
// Microsoft's fault, retryable.
func badAnswer(op, msg string) *calsync.Error {
	return &calsync.Error{Kind: calsync.KindUnavailable, Op: op, Message: msg + "; try again later"}
}

func foreignLink(op string) *calsync.Error {
	return badAnswer(op, "Microsoft Graph sent a link outside the Microsoft Graph endpoint")
}

// maxIDLen bounds an event id: Graph's are about 150 characters, an
// occurrence's about 200.
const maxIDLen = 1024

// validID reports whether id can be a Graph event id: URL-safe base64 (Graph
// REST and immutable ids, graph-facts §11.6), so that it can never change
// the path it is put into ("..", "/", "?", "#").
func validID(id string) bool {
	if id == "" || len(id) > maxIDLen {
		return false
	}
	for i := range len(id) {
		switch c := id[i]; {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '_', c == '=':
		default:
			return false
		}
	}
	return true
}

// malformedID is what Graph answers for an id that is not one (400
// ErrorInvalidIdMalformed), given without sending it.
func malformedID(op string) *calsync.Error {
	return &calsync.Error{Kind: calsync.KindRejected, Op: op, Code: "ErrorInvalidIdMalformed",
		Message: "Microsoft 365 refused the request: the event id is not a Microsoft Graph id (ErrorInvalidIdMalformed)"}
}

// recovered, deferred, turns a panic into the call's error: the engine
// calls Get and FindByOroID from goroutines of its own, and Apply its
// lookups from goroutines of ours, where a panic would end the process.
func recovered(err *error, op string) {
	if p := recover(); p != nil {
		*err = &calsync.Error{Kind: calsync.KindInternal, Op: op, Message: "internal error",
			Err: fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
	}
}

// Get reads one event with its Oro id property; a series master comes with
// its Series (a second request, see GetSeries).
func (r *Remote) Get(ctx context.Context, id string) (calsync.RemoteEvent, error) {
	e, err := r.getEvent(ctx, id)
	if err != nil || e.Type != "seriesMaster" {
		return e, err
	}
	s, err := r.GetSeries(ctx, id)
	if err != nil {
		return calsync.RemoteEvent{}, err
	}
	e.Series = s.Series
	return e, nil
}

// getEvent reads one event with its Oro id property.
func (r *Remote) getEvent(ctx context.Context, id string) (_ calsync.RemoteEvent, err error) {
	defer recovered(&err, "graph.getEvent")
	if id == "" {
		return calsync.RemoteEvent{}, calsync.Invalid("id", "is required")
	}
	if !validID(id) {
		return calsync.RemoteEvent{}, malformedID("graph.getEvent")
	}
	var ev *graphEvent
	query := &users.ItemEventsEventItemRequestBuilderGetQueryParameters{Expand: []string{expandOroID}}
	if err := r.readEvent(ctx, id, query, &ev, "graph.getEvent"); err != nil {
		return calsync.RemoteEvent{}, err
	}
	e, cerr := fromGraphChecked(ev, "graph.getEvent")
	if cerr != nil {
		return calsync.RemoteEvent{}, cerr
	}
	return e, nil
}

// readEvent sends one GET of event id with query, under one mailbox slot,
// and decodes the answer into v; its errors are named op.
func (r *Remote) readEvent(ctx context.Context, id string, query *users.ItemEventsEventItemRequestBuilderGetQueryParameters, v any, op string) error {
	info, err := r.client.Me().Events().ByEventId(id).ToGetRequestInformation(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
		Headers: prefer(), QueryParameters: query,
	})
	if err != nil {
		return classify(err, op)
	}
	return r.readOne(ctx, info, KindGet, v, op)
}

// readOne sends the request info under one mailbox slot, counted as kind,
// and decodes the answer into v; its errors are named op.
func (r *Remote) readOne(ctx context.Context, info *abs.RequestInformation, kind string, v any, op string) error {
	release, err := r.slots.acquire(ctx, 1)
	if err != nil {
		return classify(err, op)
	}
	defer release()
	r.count(kind)
	if err := r.read(ctx, info, v, op); err != nil {
		return named(graphclient.ClassifyRead(err), op)
	}
	return nil
}

// maxFindPages bounds the pages FindByOroID follows: one Oro id should match
// one event, a handful after a crash, never pages of them.
const maxFindPages = 5

// FindByOroID lists the events carrying our property with this Oro id,
// across the whole mailbox (not only the window).
func (r *Remote) FindByOroID(ctx context.Context, oroID string) (_ []calsync.RemoteEvent, err error) {
	defer recovered(&err, "graph.findEvent")
	if oroID == "" {
		return nil, calsync.Invalid("oroId", "is required")
	}
	filter := "singleValueExtendedProperties/Any(ep: ep/id eq '" + OroIDPropertyID +
		"' and ep/value eq '" + strings.ReplaceAll(oroID, "'", "''") + "')"
	b := r.client.Me().Events()
	cfg := &users.ItemEventsRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsRequestBuilderGetQueryParameters{Filter: &filter, Expand: []string{expandOroID}},
	}
	var out []calsync.RemoteEvent
	for range maxFindPages {
		cfg.Headers = prefer()
		info, err := b.ToGetRequestInformation(ctx, cfg)
		if err != nil {
			return nil, classify(err, "graph.findEvent")
		}
		// each page under a slot of its own, spending the budget
		var resp graphEventPage
		if err := r.readOne(ctx, info, KindFind, &resp, "graph.findEvent"); err != nil {
			return nil, err
		}
		for _, ev := range resp.Value {
			e, cerr := fromGraphChecked(ev, "graph.findEvent")
			if cerr != nil {
				return nil, cerr
			}
			if e.OroID == oroID || e.OroID == "" {
				// Graph matches the value case-insensitively; an event
				// returned without the property still matched the filter.
				e.OroID = oroID
				out = append(out, e)
			}
		}
		next := resp.NextLink
		if next == "" {
			return out, nil
		}
		if !r.session.IsGraphLink(next) {
			return nil, foreignLink("graph.findEvent")
		}
		b = b.WithUrl(next)
		cfg.QueryParameters = nil
	}
	return out, nil
}

// odataError is the error mapping of every generated request builder:
// a Graph error body becomes an *odataerrors.ODataError with the status
// and headers, which graphclient.Classify reads.
var odataError = abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}

// read sends a request the SDK's request builder made (same URL, query and
// headers as its Get) through the session's adapter, so its middleware
// (authentication, retry, redirects, the ImmutableId preference, the answer
// guard) and its error mapping apply as to any SDK call, and decodes the
// answer into v by encoding/json's rules (decode) instead of the SDK's models: the guard
// hands it the answer's bytes (graphclient.WithAnswer), which the SDK would
// otherwise copy again. An answer without a body (a 204, an empty 200) is graphclient.EmptyAnswer; one
// that does not decode into v (a field of the wrong type) is Microsoft's
// fault, unavailable. A failed request's error is returned as
// the SDK gave it, for the caller to classify.
func (r *Remote) read(ctx context.Context, info *abs.RequestInformation, v any, op string) error {
	ctx, answer := graphclient.WithAnswer(ctx)
	raw, err := r.adapter.SendPrimitive(ctx, info, "[]byte", odataError)
	// the caller spent one request; the SDK's retries were sent too
	r.slots.budget.record(answer.Attempts - 1)
	if err != nil {
		return err
	}
	body, _ := raw.([]byte)
	if answer.Body != nil {
		body = answer.Body
	}
	if len(body) == 0 {
		return graphclient.EmptyAnswer(op)
	}
	if err := decode(body, v); err != nil {
		e := badAnswer(op, "Microsoft Graph sent an answer that could not be read")
		e.Err = err
		return e
	}
	return nil
}
