package graphsim

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options configures a Sim. The zero value is a faithful simulator with real
// time; each field documents its default. Fields named after an UNCONFIRMED
// fact select the less likely behaviour when set.
type Options struct {
	// AutoConsent makes authorize sign in the user named by login_hint with
	// no form (creating the user and mailbox if needed) and redirect at once.
	AutoConsent bool
	// Now is the clock; default time.Now. Advance moves an offset on top.
	Now func() time.Time
	// AccessTokenLifetime defaults to 1h.
	AccessTokenLifetime time.Duration
	// RefreshTokenLifetime is the inactivity lifetime of each refresh token
	// (facts §9: 90 days for non-SPA apps). Default 90 days.
	RefreshTokenLifetime time.Duration
	// AuthCodeLifetime defaults to 10 minutes (facts §9).
	AuthCodeLifetime time.Duration
	// InvalidateUsedRefreshTokens makes a redeemed refresh token unusable.
	// Microsoft does not revoke it on use (facts §9), so the default keeps it
	// valid until its own lifetime ends.
	InvalidateUsedRefreshTokens bool
	// Seed makes ids and tokens deterministic for a given request order.
	// Zero seeds from the clock.
	Seed uint64
	// Logf receives one line per unimplemented route and per fault fired.
	// Default: log.Printf (stderr).
	Logf func(format string, args ...any)
	// DefaultTenantID is the tenant of work accounts created without one.
	// Default "72f988bf-86f1-41af-91ab-2d7cd011db47".
	DefaultTenantID string

	// MailboxConcurrency is the per-app-per-mailbox concurrency limit
	// (facts §7: 4). Negative disables it.
	MailboxConcurrency int
	// MailboxRequestLimit requests per MailboxRequestWindow per app per
	// mailbox (facts §7: 10,000 per 10 minutes). Negative disables it.
	MailboxRequestLimit  int
	MailboxRequestWindow time.Duration
	// BatchConcurrency is how many batch items run at once (facts §6: 4).
	BatchConcurrency int

	// Latency is added to every request (not control calls) as service
	// time: a Graph request holds its mailbox concurrency slot meanwhile
	// (facts §7). On a $batch it is the envelope's own time, spent before
	// the items run and holding no slot. BatchItemLatency is the service
	// time of every batch item, during which the item holds its mailbox
	// slot; a batch runs at most BatchConcurrency items at once. A request
	// or item turned away with 429 (or 401) is answered at once. Both are
	// real time, not the simulated clock.
	Latency          time.Duration
	BatchItemLatency time.Duration

	// DefaultPageSize is the page size of lists and calendarView (facts §1.2:
	// 10). MaxPageSize caps $top and odata.maxpagesize (default 1000).
	DefaultPageSize int
	MaxPageSize     int
	// DeltaDefaultPageSize is the calendarView/delta page size without
	// odata.maxpagesize. UNCONFIRMED (facts §1.2); default 10.
	DeltaDefaultPageSize int
	// DeltaTokenCacheSize is how many delta tokens a mailbox keeps before
	// the oldest is evicted (facts §1.6: a cache, not a lifetime). Default 100.
	DeltaTokenCacheSize int

	// DeltaOmitSeriesMaster leaves series masters out of calendarView/delta.
	// UNCONFIRMED (facts §1.4); default includes them (keeper.sh #409).
	DeltaOmitSeriesMaster bool
	// DeltaRemovedOccurrences emits @removed for a cancelled occurrence and
	// for each occurrence a pattern or time change made obsolete. Every field
	// report says Graph gives no sign of either (semantics §1.1: PR 4501,
	// contrib#7345, closeio#389, dankcalendar#95), which is the default.
	DeltaRemovedOccurrences bool
	// DeltaMasterOnlyOnSeriesChange makes a changed series re-send only its
	// master, not its occurrences (semantics §1.1, the EspoCRM report).
	// UNCONFIRMED; default re-sends the master and its in-window occurrences.
	DeltaMasterOnlyOnSeriesChange bool
	// DeltaRemovedSeriesOccurrences makes a deleted series also emit
	// @removed for its in-window occurrences and exceptions. UNCONFIRMED
	// (semantics §1.1); default: only the master's @removed (nothing when
	// masters are omitted), so a client learns of it from a 404 on the master.
	DeltaRemovedSeriesOccurrences bool
	// SeriesChangeRestoresCancelled brings a series' cancelled occurrences
	// back when its pattern or times change, as Outlook (the client) does
	// (ews-managed-api #235). UNCONFIRMED for Graph (semantics §1.3, Part 4
	// #8); default keeps each cancelled date cancelled while the new pattern
	// still generates it, as EWS did. Exceptions are discarded either way
	// (Outlook: "Any exceptions … will be canceled").
	SeriesChangeRestoresCancelled bool
	// DeltaSplitSeries lets a page boundary fall inside a series. Default: a
	// series is never split, so pages may exceed maxpagesize (facts §1.2).
	DeltaSplitSeries bool
	// DeltaIgnoreExpand ignores $expand on delta; default 400 (facts §1.3).
	DeltaIgnoreExpand bool
	// DeltaRemembersTimeZone makes the first request's Prefer
	// outlook.timezone apply to the whole round and later rounds.
	// UNCONFIRMED (facts §1.7); default: each request's own header counts.
	DeltaRemembersTimeZone bool
	// DeltaReplay makes each incremental round replay the previous round's
	// changes too (facts §1.5).
	DeltaReplay bool
	// DeltaDuplicates repeats every changed item at the end of its round
	// (facts §1.5: one entity can appear more than once).
	DeltaDuplicates bool
	// DeltaEmptyFirstPage makes the first page of an initial round empty,
	// with a nextLink (facts §1.2, observed).
	DeltaEmptyFirstPage bool

	// ExactTextBodies keeps a body written as text as text, so that it is
	// read back byte for byte. By default it is stored as HTML, as Exchange
	// does (facts §2; microsoft-graph-docs #8215), and the text preference
	// converts it back with CRLF line breaks and a trailing CRLF (docs
	// user-list-messages.md, example get_messages_in_text).
	ExactTextBodies bool

	// IgnoreIfMatch disables If-Match checks. UNCONFIRMED (facts §2);
	// default honours If-Match with 412 ErrorIrresolvableConflict.
	IgnoreIfMatch bool
	// TransactionIDWindow is how long a transactionId de-duplicates creates
	// in a mailbox. UNCONFIRMED (facts §3); default 24h.
	TransactionIDWindow time.Duration
	// AcceptAnyIANAZone accepts every IANA zone name in dateTimeTimeZone and
	// Prefer: outlook.timezone. Default: only Windows names and the IANA
	// names Graph documents; others get 400 TimeZoneNotSupportedException
	// (semantics §1.4.1).
	AcceptAnyIANAZone bool
	// RejectIANAOnWrite answers 400 ErrorPropertyValidationFailure to a
	// write naming even a documented IANA zone, as reported for
	// Africa/Casablanca and America/New_York (semantics §1.4.1). UNCONFIRMED;
	// default accepts the documented list.
	RejectIANAOnWrite bool
	// PostAnswersInRequestZone makes a POST answer in the zone of the body's
	// start (contrib#8645). UNCONFIRMED (semantics §1.4.2); default: writes
	// answer in UTC whatever Prefer: outlook.timezone says, as Microsoft
	// staff said of PATCH and of POST.
	PostAnswersInRequestZone bool

	// DeleteGoneAnswers404 makes a DELETE of an event or series already
	// deleted (or an occurrence of one), or of a cancelled occurrence, answer
	// 404 like an unknown id. The default is the less helpful side Graph
	// sometimes shows (semantics §1.7, Odoo's delete; which one when, and the
	// bodies, are UNCONFIRMED): 410 ErrorItemNotFound for a deleted event or
	// series, 403 ErrorAccessDenied for a cancelled occurrence.
	DeleteGoneAnswers404 bool
	// OccurrenceETagIsMaster gives an occurrence its master's changeKey and
	// @odata.etag. UNCONFIRMED (semantics Part 4 #14); default: each
	// occurrence has its own, which changes with the master's.
	OccurrenceETagIsMaster bool
	// AllDayReminder15 gives all-day events created through Graph without
	// reminderMinutesBeforeStart 15 minutes, as timed ones get. UNCONFIRMED
	// (semantics §1.5); default 1080, as an Outlook-made all-day event
	// showed (docs#6003). Events the User* methods create get 1080 either way.
	AllDayReminder15 bool

	// TransactionIDConflict answers a duplicate create with 409
	// ErrorDuplicateTransactionId. UNCONFIRMED (facts §3); default returns
	// the existing event with 201.
	TransactionIDConflict bool
}

func (o Options) withDefaults() Options {
	def := func(p *int, v int) {
		if *p == 0 {
			*p = v
		}
	}
	defd := func(p *time.Duration, v time.Duration) {
		if *p == 0 {
			*p = v
		}
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logf == nil {
		o.Logf = log.Printf
	}
	if o.DefaultTenantID == "" {
		o.DefaultTenantID = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	}
	defd(&o.AccessTokenLifetime, time.Hour)
	defd(&o.RefreshTokenLifetime, 90*24*time.Hour)
	defd(&o.AuthCodeLifetime, 10*time.Minute)
	defd(&o.MailboxRequestWindow, 10*time.Minute)
	defd(&o.TransactionIDWindow, 24*time.Hour)
	def(&o.MailboxConcurrency, 4)
	def(&o.MailboxRequestLimit, 10000)
	def(&o.BatchConcurrency, 4)
	def(&o.DefaultPageSize, 10)
	def(&o.MaxPageSize, 1000)
	def(&o.DeltaDefaultPageSize, 10)
	def(&o.DeltaTokenCacheSize, 100)
	return o
}

// App is a registered OAuth client (a confidential web app).
type App struct {
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	RedirectURIs []string `json:"redirectUris"`
}

// User is a directory user with a mailbox.
type User struct {
	UPN         string `json:"upn"`
	DisplayName string `json:"displayName"`
	// Mail "" means a personal account: GET /me answers "mail": null.
	Mail string `json:"mail"`
	// TenantID defaults to Options.DefaultTenantID (work) or the consumer
	// tenant (personal).
	TenantID string `json:"tenantId"`
	// ConsentScopes nil grants whatever is requested; non-nil limits the
	// grant to these (OIDC scopes are always granted).
	ConsentScopes []string `json:"consentScopes"`
}

// Fault makes the next Count requests matching Method and Path misbehave.
type Fault struct {
	Method string `json:"method"` // "" matches any method
	// Path matches the URL path and everything below it ("/v1.0/me/events"
	// matches "/v1.0/me/events/{id}" but not "/v1.0/me/eventsX"), or is a
	// path.Match pattern when it contains *, ? or [. "" matches every path.
	// Batch items are matched with their path under /v1.0.
	Path   string      `json:"path"`
	Count  int         `json:"count"` // <= 0 means 1
	Status int         `json:"status"`
	Header http.Header `json:"header"`
	Body   string      `json:"body"` // "" → a Graph error body for Status
	// Latency delays the matching request, in real time. With Status or
	// Drop (and not After) the fault answers for Graph after Latency,
	// before authentication and throttling: it never reaches the mailbox
	// and holds no concurrency slot. With After it answers Latency after
	// the request was performed. Without either the request goes through and
	// Latency is added to its service time (Options.Latency, or
	// BatchItemLatency for a batch item), so it holds its mailbox slot the
	// whole time: a slow mailbox.
	Latency time.Duration
	// Drop closes the connection without an answer (not for batch items,
	// which then answer 504).
	Drop bool `json:"drop"`
	// After, with Status or Drop, lets the request through first: the
	// mailbox performs it as usual (service time, slot, throttling,
	// validation), its answer is thrown away, and the fault answers in its
	// place after Latency. This is "performed, then the answer was lost"
	// (a gateway timeout or a dropped connection after the write happened),
	// which a client retrying a create must survive without a duplicate
	// (facts §3, §7). It works for batch items and for a whole $batch.
	After bool `json:"after"`
}

// RequestRecord is one entry of the request log.
type RequestRecord struct {
	Time     time.Time `json:"time"`
	Method   string    `json:"method"`
	Path     string    `json:"path"`
	Query    string    `json:"query"`
	Endpoint string    `json:"endpoint"` // "GET /v1.0/me/events/{id}"
	Status   int       `json:"status"`
	// ClientID and UPN identify the caller when a token was presented.
	ClientID   string          `json:"clientId,omitempty"`
	UPN        string          `json:"upn,omitempty"`
	Fault      bool            `json:"fault,omitempty"`
	BatchItems []RequestRecord `json:"batchItems,omitempty"`
}

// Mail is a message the real service would have sent to attendees.
type Mail struct {
	Time    time.Time `json:"time"`
	Kind    string    `json:"kind"` // "invitation", "update", "cancellation", or a response: "accept", "tentativelyAccept", "decline"
	From    string    `json:"from"`
	To      []string  `json:"to"`
	Subject string    `json:"subject"`
	EventID string    `json:"eventId"`
	// Source is "graph" for API calls and "outlook" for User* calls.
	Source string `json:"source"`
}

// Sim is the simulator. It is safe for concurrent use.
type Sim struct {
	opts Options

	mu        sync.Mutex
	offset    time.Duration
	rng       *rand.ChaCha8
	apps      map[string]*App
	users     map[string]*user // by lower-cased UPN
	usersByID map[string]*user
	codes     map[string]*authCode
	access    map[string]*accessToken
	refresh   map[string]*refreshToken
	faults    []*Fault
	log       []RequestRecord
	counts    map[string]int
	mail      []Mail
	unimpl    []string
	throttle  map[string]*throttleState
	reqSeq    uint64
	routes    *http.ServeMux // graphRoutes, built once
	push      pushState      // subscriptions (subscriptions.go)
}

// New returns a simulator with no apps and no users.
func New(opts Options) *Sim {
	opts = opts.withDefaults()
	seed := opts.Seed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	var key [32]byte
	for i := range 4 {
		for j := range 8 {
			key[i*8+j] = byte(seed >> (8 * j))
		}
		seed = seed*6364136223846793005 + 1442695040888963407
	}
	s := &Sim{
		opts:      opts,
		rng:       rand.NewChaCha8(key),
		apps:      map[string]*App{},
		users:     map[string]*user{},
		usersByID: map[string]*user{},
		codes:     map[string]*authCode{},
		access:    map[string]*accessToken{},
		refresh:   map[string]*refreshToken{},
		counts:    map[string]int{},
		throttle:  map[string]*throttleState{},
	}
	s.routes = s.graphRoutes()
	return s
}

// now is the simulated time; callers hold s.mu or accept a racy offset read.
func (s *Sim) now() time.Time { return s.opts.Now().Add(s.offset).UTC() }

// Now returns the simulated time.
func (s *Sim) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now()
}

// Advance moves the simulated clock forward by d.
func (s *Sim) Advance(d time.Duration) {
	s.mu.Lock()
	s.offset += d
	s.mu.Unlock()
}

// randBytes needs s.mu.
func (s *Sim) randBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = s.rng.Read(b)
	return b
}

// token returns an opaque random string; it needs s.mu.
func (s *Sim) token(prefix string) string {
	return prefix + base64.RawURLEncoding.EncodeToString(s.randBytes(24))
}

// guid needs s.mu.
func (s *Sim) guid() string {
	b := s.randBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// RegisterApp registers (or replaces) an OAuth client.
func (s *Sim) RegisterApp(a App) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a.RedirectURIs = slices.Clone(a.RedirectURIs)
	s.apps[a.ClientID] = &a
}

// AddUser creates a user and an empty mailbox, or updates an existing user's
// profile (its mailbox is kept).
func (s *Sim) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addUserLocked(u)
}

// AddFault queues a fault rule. Rules are matched in the order added.
func (s *Sim) AddFault(f Fault) {
	if f.Count <= 0 {
		f.Count = 1
	}
	s.mu.Lock()
	s.faults = append(s.faults, &f)
	s.mu.Unlock()
}

// ClearFaults drops every queued fault rule.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.mu.Unlock()
}

// Requests returns a copy of the request log.
func (s *Sim) Requests() []RequestRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// Counts returns how many requests each endpoint served, keyed like
// "GET /v1.0/me" or "POST /common/oauth2/v2.0/token". Batch items count too.
func (s *Sim) Counts() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := make(map[string]int, len(s.counts))
	for k, v := range s.counts {
		m[k] = v
	}
	return m
}

// ResetLog clears the request log, the counts and the unimplemented list.
func (s *Sim) ResetLog() {
	s.mu.Lock()
	s.log, s.counts, s.unimpl = nil, map[string]int{}, nil
	s.mu.Unlock()
}

// OutboundMail returns the mail the real service would have sent.
func (s *Sim) OutboundMail() []Mail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.mail)
}

// Unimplemented lists the requests ("METHOD path?query") the simulator could
// not serve. A test that wants to prove its client stays on the modelled
// surface asserts that this is empty.
func (s *Sim) Unimplemented() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.unimpl)
}

// ServeHTTP dispatches to the identity platform, Graph or the control API.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/_sim" || strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.serveControl(w, r)
		return
	}
	s.mu.Lock()
	s.reqSeq++
	reqID := fmt.Sprintf("%08x-0000-4000-8000-%012x", s.reqSeq, s.reqSeq)
	s.mu.Unlock()
	w.Header().Set("request-id", reqID)
	if c := r.Header.Get("client-request-id"); c != "" {
		w.Header().Set("client-request-id", c)
	}
	rec := RequestRecord{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery}
	sw := &statusWriter{ResponseWriter: w}

	body, err := readBody(r)
	if err != nil {
		if err == errUnsupportedEncoding {
			s.graphError(sw, http.StatusUnsupportedMediaType, "UnsupportedMediaType", "Content-Encoding "+r.Header.Get("Content-Encoding")+" is not supported.")
		} else {
			s.graphError(sw, http.StatusBadRequest, "BadRequest", "Unable to read the request body: "+err.Error())
		}
		s.record(rec, sw.status, "")
		return
	}

	service := s.opts.Latency
	var after *Fault // answers once the request was performed
	if f := s.takeFault(r.Method, r.URL.Path); f != nil {
		rec.Fault = true
		switch {
		case f.After && (f.Drop || f.Status != 0):
			after = f
		case f.Drop || f.Status != 0:
			// Answered for Graph, before the mailbox: no slot is held.
			time.Sleep(f.Latency)
			if f.Drop {
				s.record(rec, 0, "")
				dropConnection(w)
				return
			}
			s.writeFault(sw, f)
			s.record(rec, sw.status, "")
			return
		default:
			service += f.Latency
		}
	}
	out := http.ResponseWriter(sw)
	if after != nil {
		// The request is performed into a recorder whose answer is lost.
		lost := httptest.NewRecorder()
		for k, vs := range w.Header() {
			lost.Header()[k] = slices.Clone(vs)
		}
		out = lost
	}
	var endpoint string
	switch {
	case r.URL.Path == "/v1.0" || strings.HasPrefix(r.URL.Path, "/v1.0/"):
		endpoint = s.serveGraph(out, r, body, &rec, service, time.Time{})
	default:
		time.Sleep(service)
		endpoint = s.serveIdentity(out, r, body)
	}
	if after != nil {
		time.Sleep(after.Latency)
		if after.Drop {
			s.record(rec, 0, endpoint)
			dropConnection(w)
			return
		}
		s.writeFault(sw, after)
	}
	s.record(rec, sw.status, endpoint)
}

func (s *Sim) record(rec RequestRecord, status int, endpoint string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec.Time = s.now()
	rec.Status = status
	if endpoint == "" {
		endpoint = rec.Method + " " + rec.Path
	}
	rec.Endpoint = endpoint
	s.log = append(s.log, rec)
	s.counts[endpoint]++
	for _, it := range rec.BatchItems {
		s.counts[it.Endpoint]++
	}
}

// unimplemented notes a request the simulator does not model; it needs s.mu
// not held.
func (s *Sim) unimplemented(r *http.Request, why string) {
	line := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		line += "?" + r.URL.RawQuery
	}
	s.mu.Lock()
	s.unimpl = append(s.unimpl, line)
	s.mu.Unlock()
	s.opts.Logf("graphsim: UNIMPLEMENTED %s: %s", line, why)
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

var errUnsupportedEncoding = fmt.Errorf("unsupported content encoding")

// readBody reads the request body, gunzipping it when the SDK's compression
// handler sent it gzip-encoded (sdk-notes §0.4). Chunked bodies are handled
// by net/http.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))) {
	case "", "identity":
		return raw, nil
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(io.LimitReader(zr, 64<<20))
	default:
		return nil, errUnsupportedEncoding
	}
}

// takeFault consumes one use of the first matching fault rule.
func (s *Sim) takeFault(method, p string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, method) {
			continue
		}
		if f.Path == "" {
			// matches everything
		} else if strings.ContainsAny(f.Path, "*?[") {
			if ok, _ := path.Match(f.Path, p); !ok {
				continue
			}
		} else if p != f.Path && !strings.HasPrefix(p, strings.TrimSuffix(f.Path, "/")+"/") {
			continue
		}
		f.Count--
		if f.Count <= 0 {
			s.faults = slices.Delete(s.faults, i, i+1)
		}
		s.opts.Logf("graphsim: fault %s %s → status=%d drop=%v after=%v latency=%v", method, p, f.Status, f.Drop, f.After, f.Latency)
		cp := *f
		return &cp
	}
	return nil
}

var faultCodes = map[int]string{
	400: "BadRequest", 401: "InvalidAuthenticationToken", 403: "ErrorAccessDenied",
	404: "ErrorItemNotFound", 409: "ErrorIrresolvableConflict", 410: "SyncStateNotFound",
	412: "ErrorIrresolvableConflict", 429: "TooManyRequests", 500: "InternalServerError",
	502: "BadGateway", 503: "ServiceNotAvailable", 504: "UnknownError",
}

func (s *Sim) writeFault(w http.ResponseWriter, f *Fault) {
	for k, vs := range f.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if f.Body != "" {
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, f.Body)
		return
	}
	code, ok := faultCodes[f.Status]
	if !ok {
		code = "UnknownError"
	}
	msg := "Injected fault."
	switch f.Status {
	case 412:
		msg = "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item."
	case 429:
		msg = "Please retry again later."
	}
	s.graphError(w, f.Status, code, msg)
}

func dropConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if c, _, err := hj.Hijack(); err == nil {
			_ = c.Close()
			return
		}
	}
	// Not hijackable (HTTP/2 or a recorder): abort the handler instead.
	panic(http.ErrAbortHandler)
}

// graphError writes Graph's error shape (facts §1.6, §7; sdk-notes Appendix:
// code and message are always present).
func (s *Sim) graphError(w http.ResponseWriter, status int, code, msg string) {
	s.mu.Lock()
	date := s.now().Format("2006-01-02T15:04:05")
	s.mu.Unlock()
	inner := map[string]any{"date": date, "request-id": w.Header().Get("request-id")}
	if c := w.Header().Get("client-request-id"); c != "" {
		inner["client-request-id"] = c
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg, "innerError": inner}})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

const odataJSON = "application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8"

// answerBufs keeps writeJSON's buffers: a delta page of 200 events is
// about 300 KB, which growing from nothing copies several times over.
var answerBufs = sync.Pool{New: func() any { return new([]byte) }}

// maxKeptAnswer is the largest buffer answerBufs keeps.
const maxKeptAnswer = 4 << 20

func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := answerBufs.Get().(*[]byte)
	b, err := appendJSON((*buf)[:0], v)
	if err != nil {
		panic(err) // our own values always marshal
	}
	w.Header().Set("Content-Type", odataJSON)
	w.WriteHeader(status)
	_, _ = w.Write(b)
	if cap(b) <= maxKeptAnswer {
		*buf = b
		answerBufs.Put(buf)
	}
}
