package graphsim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// gctx is one Graph request being served.
type gctx struct {
	s       *Sim
	w       http.ResponseWriter
	r       *http.Request
	body    []byte
	u       *user
	tok     *accessToken
	q       url.Values
	prefer  map[string]string
	applied []string
	base    string // scheme://host of the request, for absolute links
	// endpoint names the route that served the request ("GET
	// /v1.0/me/events/{id}"), for the request log and Counts.
	endpoint string
}

func (c *gctx) fail(status int, code, msg string) { c.s.graphError(c.w, status, code, msg) }

func (c *gctx) failErr(e *apiErr) {
	if e.unsupported {
		c.s.unimplemented(c.r, e.msg)
	}
	c.fail(e.status, e.code, e.msg)
}

func (c *gctx) ok(status int, v any) {
	if len(c.applied) > 0 {
		c.w.Header().Set("Preference-Applied", strings.Join(c.applied, ","))
	}
	writeJSON(c.w, status, v)
}

// parsePrefer reads every Prefer line, comma-joined or repeated (sdk-notes
// Appendix), into lower-cased keys and unquoted values.
func parsePrefer(h http.Header) map[string]string {
	out := map[string]string{}
	for _, line := range h.Values("Prefer") {
		for _, part := range splitOutsideQuotes(line, ',') {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			out[strings.ToLower(strings.TrimSpace(k))] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return out
}

func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	inQ, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'':
			inQ = !inQ
		case sep:
			if !inQ {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// serveGraph serves /v1.0/...; it returns the endpoint name for the log.
// service is the request's service time (Options.Latency, or
// BatchItemLatency for a batch item, plus the Latency of a fault that let it
// through), its serving included, counted from start (zero: now; a
// chained batch item starts when the item before it ended in the model). A
// request spends it holding its mailbox concurrency slot (facts §7), so a
// slow request counts as in flight for all of it; an unauthenticated or
// throttled request is answered at once. A $batch spends it before its
// items run, holding no slot: its items hold their own.
func (s *Sim) serveGraph(w http.ResponseWriter, r *http.Request, body []byte, rec *RequestRecord, service time.Duration, start time.Time) string {
	if start.IsZero() {
		start = time.Now()
	}
	rel := strings.TrimPrefix(r.URL.Path, "/v1.0")
	c := &gctx{s: s, w: w, r: r, body: body, q: r.URL.Query(), prefer: parsePrefer(r.Header), base: requestBase(r)}
	if base := r.Header.Get("X-Graphsim-Base"); base != "" && r.RemoteAddr == batchRemote {
		c.base = base
	}
	if !s.authenticate(c) {
		return r.Method + " /v1.0" + rel
	}
	rec.ClientID, rec.UPN = c.tok.clientID, c.u.UPN
	if rel == "/$batch" {
		if r.Method != http.MethodPost {
			s.methodNotAllowed(c, "/v1.0/$batch")
			return r.Method + " /v1.0/$batch"
		}
		sleepRest(start, service)
		s.serveBatch(c, rec, start.Add(service))
		return "POST /v1.0/$batch"
	}
	release, ok := s.admit(c)
	if !ok {
		return r.Method + " /v1.0" + rel
	}
	defer release()
	// The service time is the request's whole time in the mailbox: the
	// simulator's own work counts towards it and only the rest is slept,
	// so that on a busy machine its CPU time does not lengthen what the
	// latency model says a request takes (the answer is written into w
	// meanwhile, but its end leaves only when the handler returns).
	defer sleepRest(start, service)
	return s.route(c)
}

// sleepRest sleeps what is left of d since start.
func sleepRest(start time.Time, d time.Duration) {
	if rest := d - time.Since(start); rest > 0 {
		time.Sleep(rest)
	}
}

const batchRemote = "graphsim-batch"

func (s *Sim) authenticate(c *gctx) bool {
	c.w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	h := c.r.Header.Get("Authorization")
	raw, found := strings.CutPrefix(h, "Bearer ")
	if !found || raw == "" {
		c.fail(401, "InvalidAuthenticationToken", "Access token is empty.")
		return false
	}
	s.mu.Lock()
	tok, ok := s.access[raw]
	now := s.now()
	s.mu.Unlock()
	switch {
	case !ok:
		c.fail(401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed, there are no dots (.).")
		return false
	case !now.Before(tok.expires):
		c.fail(401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired.")
		return false
	}
	c.w.Header().Del("WWW-Authenticate")
	c.tok, c.u = tok, tok.user
	return true
}

// need checks a delegated scope (facts §9) and withdrawn consent.
func (c *gctx) need(anyOf ...string) bool {
	c.s.mu.Lock()
	withdrawn := c.u.consentWithdrawn
	c.s.mu.Unlock()
	if !withdrawn {
		for _, sc := range anyOf {
			if hasScope(c.tok.scopes, sc) {
				return true
			}
		}
	}
	if anyOf[0] == "User.Read" {
		c.fail(403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	} else {
		c.fail(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
	}
	return false
}

var (
	readCal  = []string{"Calendars.Read", "Calendars.ReadWrite", "Calendars.Read.Shared", "Calendars.ReadWrite.Shared"}
	writeCal = []string{"Calendars.ReadWrite", "Calendars.ReadWrite.Shared"}
)

type throttleState struct {
	inflight int
	times    []time.Time
}

// admit applies the per-app-per-mailbox limits (facts §7).
func (s *Sim) admit(c *gctx) (release func(), ok bool) {
	key := c.tok.clientID + "|" + strings.ToLower(c.u.UPN)
	s.mu.Lock()
	ts := s.throttle[key]
	if ts == nil {
		ts = &throttleState{}
		s.throttle[key] = ts
	}
	now := s.now()
	if lim := s.opts.MailboxConcurrency; lim > 0 && ts.inflight >= lim {
		s.mu.Unlock()
		c.w.Header().Set("Retry-After", "1")
		c.fail(429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit.")
		return nil, false
	}
	if lim := s.opts.MailboxRequestLimit; lim > 0 {
		cut := 0
		for cut < len(ts.times) && !ts.times[cut].After(now.Add(-s.opts.MailboxRequestWindow)) {
			cut++
		}
		ts.times = ts.times[cut:]
		if len(ts.times) >= lim {
			wait := ts.times[0].Add(s.opts.MailboxRequestWindow).Sub(now)
			s.mu.Unlock()
			c.w.Header().Set("Retry-After", strconv.FormatFloat(max(wait.Seconds(), 0.001), 'f', 3, 64))
			c.fail(429, "ApplicationThrottled", "Application is over its MailboxRequests limit.")
			return nil, false
		}
		ts.times = append(ts.times, now)
	}
	ts.inflight++
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		ts.inflight--
		s.mu.Unlock()
	}, true
}

// checkQuery rejects $-options outside allowed, as Graph does for options a
// resource does not support (facts §1.3).
func (c *gctx) checkQuery(allowed ...string) bool {
	for k := range c.q {
		if !strings.HasPrefix(k, "$") {
			continue
		}
		ok := false
		for _, a := range allowed {
			if strings.EqualFold(k, a) {
				ok = true
			}
		}
		if !ok {
			c.s.unimplemented(c.r, "query option "+k)
			c.fail(400, "BadRequest", fmt.Sprintf("The query parameter '%s' is not supported on this resource.", k))
			return false
		}
	}
	return true
}

func (s *Sim) getMe(c *gctx) {
	if !c.checkQuery("$select") || !c.need("User.Read", "User.ReadWrite", "User.ReadBasic.All", "User.Read.All") {
		return
	}
	s.mu.Lock()
	u := c.u
	var mail any
	if u.Mail != "" {
		mail = u.Mail
	}
	given, sur, _ := strings.Cut(u.DisplayName, " ")
	out := map[string]any{
		"@odata.context":    c.base + "/v1.0/$metadata#users/$entity",
		"businessPhones":    []any{},
		"displayName":       u.DisplayName,
		"givenName":         given,
		"surname":           sur,
		"jobTitle":          nil,
		"mail":              mail,
		"mobilePhone":       nil,
		"officeLocation":    nil,
		"preferredLanguage": "en-US",
		"userPrincipalName": u.UPN,
		"id":                u.id,
	}
	s.mu.Unlock()
	if sel := c.q.Get("$select"); sel != "" {
		keep := map[string]bool{"@odata.context": true, "id": true}
		for _, f := range strings.Split(sel, ",") {
			keep[strings.TrimSpace(f)] = true
		}
		for k := range out {
			if !keep[k] {
				delete(out, k)
			}
		}
	}
	c.ok(200, out)
}

func (s *Sim) calendarJSON(c *gctx) map[string]any {
	return map[string]any{
		"id":                            formatID(c.u.mb.calendarKey, false),
		"name":                          "Calendar",
		"color":                         "auto",
		"hexColor":                      "",
		"isDefaultCalendar":             true,
		"changeKey":                     "DwAAABYAAAA",
		"canShare":                      true,
		"canViewPrivateItems":           true,
		"canEdit":                       true,
		"allowedOnlineMeetingProviders": []any{"teamsForBusiness"},
		"defaultOnlineMeetingProvider":  "teamsForBusiness",
		"isTallyingResponses":           true,
		"isRemovable":                   false,
		"owner":                         map[string]any{"name": c.u.DisplayName, "address": c.u.address()},
	}
}

func (s *Sim) checkCalendar(c *gctx, id string) bool {
	key, bad := parseID(id)
	if bad {
		c.fail(400, "ErrorInvalidIdMalformed", "Id is malformed.")
		return false
	}
	s.mu.Lock()
	ok := key == c.u.mb.calendarKey
	s.mu.Unlock()
	if !ok {
		c.fail(404, "ErrorItemNotFound", "The specified object was not found in the store.")
	}
	return ok
}

func (s *Sim) getCalendar(c *gctx) {
	if !c.checkQuery("$select") || !c.need(readCal...) {
		return
	}
	s.mu.Lock()
	out := s.calendarJSON(c)
	s.mu.Unlock()
	out["@odata.context"] = c.base + "/v1.0/$metadata#users('" + url.PathEscape(c.u.UPN) + "')/calendars/$entity"
	c.ok(200, out)
}

func (s *Sim) listCalendars(c *gctx) {
	if !c.checkQuery("$select", "$top") || !c.need(readCal...) {
		return
	}
	s.mu.Lock()
	cal := s.calendarJSON(c)
	s.mu.Unlock()
	c.ok(200, map[string]any{"@odata.context": c.base + "/v1.0/$metadata#users('" + url.PathEscape(c.u.UPN) + "')/calendars", "value": []any{cal}})
}

// view builds the rendering options of a read from Prefer headers,
// $select, $expand.
func (c *gctx) view() (view, bool) { return c.viewFor(false) }

// viewFor builds the rendering options. Prefer: outlook.timezone counts on
// reads only: a write answers in UTC (semantics §1.4.2: docs#8755, docs#116),
// or, for a POST with PostAnswersInRequestZone, in the zone of the body's
// start (contrib#8645). A zone Graph does not accept fails every request
// (Part 4 #14); it answers the error itself and returns false.
func (c *gctx) viewFor(write bool) (view, bool) {
	v := view{masterETags: c.s.opts.OccurrenceETagIsMaster}
	if tz, ok := c.prefer["outlook.timezone"]; ok {
		if strings.HasPrefix(tz, "'") {
			// A single-quoted zone got a 500 with an HTML page; double
			// quotes worked (contrib#2549, as its reporter found).
			c.w.Header().Set("Content-Type", "text/html")
			c.w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(c.w, serverErrorPage)
			return v, false
		}
		// A zone Graph does not know is a 400 (jasonjoh in docs#6870), on
		// writes too, where the zone is otherwise ignored (UNCONFIRMED).
		if err := c.s.zoneError(tz, false); err != nil {
			c.failErr(err)
			return v, false
		}
		if loc, good := loadZone(tz); good && !write {
			v.loc, v.tzName = loc, tz
			c.applied = append(c.applied, `outlook.timezone="`+tz+`"`)
		}
	}
	if ct := c.prefer["outlook.body-content-type"]; strings.EqualFold(ct, "text") || strings.EqualFold(ct, "html") {
		v.bodyText = strings.EqualFold(ct, "text")
		c.applied = append(c.applied, `outlook.body-content-type="`+strings.ToLower(ct)+`"`)
	}
	if it, ok := c.prefer["idtype"]; ok && strings.EqualFold(it, "ImmutableId") {
		v.immutable = true
		c.applied = append(c.applied, `IdType="ImmutableId"`)
	}
	if sel := c.q.Get("$select"); sel != "" {
		v.sel = map[string]bool{}
		for _, f := range strings.Split(sel, ",") {
			name := strings.ToLower(strings.TrimSpace(f))
			switch {
			case selectable[name]:
				v.sel[name] = true
			case unmodelledProps[eventPropCase[name]]:
				c.failErr(&apiErr{status: 400, code: "BadRequest", msg: "graphsim does not model $select=" + f + ".", unsupported: true})
				return v, false
			default:
				// Graph answers 400 for a name that is not a property of
				// event; it never drops it silently (semantics §1.2.3, Part 4 #4).
				c.fail(400, "BadRequest", fmt.Sprintf("Could not find a property named '%s' on type 'microsoft.graph.event'.", strings.TrimSpace(f)))
				return v, false
			}
		}
	}
	if ex := c.q.Get("$expand"); ex != "" {
		for _, item := range splitOutsideParens(ex) {
			if strings.EqualFold(strings.TrimSpace(item), "exceptionOccurrences") {
				v.expandExceptions = true
				continue
			}
			keys, err := parseExpand(item)
			if err != nil {
				c.failErr(err)
				return v, false
			}
			v.expandExt = append(v.expandExt, keys...)
		}
	}
	return v, true
}

// serverErrorPage is the HTML body of the 500 a malformed Prefer zone gets.
const serverErrorPage = `<!DOCTYPE html>
<html><head><title>500 - Internal server error.</title></head>
<body><h2>500 - Internal server error.</h2>
<h3>There is a problem with the resource you are looking for, and it cannot be displayed.</h3></body></html>
`

// splitOutsideParens splits a $expand value on the commas between items.
func splitOutsideParens(s string) []string {
	var out []string
	depth, inQ, start := 0, false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			inQ = !inQ
		case '(':
			if !inQ {
				depth++
			}
		case ')':
			if !inQ {
				depth--
			}
		case ',':
			if !inQ && depth == 0 {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

var expandRe = regexp.MustCompile(`^(?i:singleValueExtendedProperties)\(\$filter=(.+)\)$`)
var idEqRe = regexp.MustCompile(`^(?i:id) eq '((?:[^']|'')*)'$`)

// parseExpand accepts singleValueExtendedProperties($filter=id eq '…' [or
// id eq '…']), the only way to read extended properties (facts §4); the
// other $expand graphsim models is exceptionOccurrences (semantics §1.2.3).
func parseExpand(ex string) ([]string, *apiErr) {
	m := expandRe.FindStringSubmatch(strings.TrimSpace(ex))
	if m == nil {
		return nil, &apiErr{status: 400, code: "BadRequest", msg: "Parsing OData Select and Expand failed: graphsim supports only singleValueExtendedProperties($filter=id eq '...') and exceptionOccurrences.", unsupported: true}
	}
	var keys []string
	for _, clause := range splitKeyword(m[1], " or ") {
		cm := idEqRe.FindStringSubmatch(strings.TrimSpace(clause))
		if cm == nil {
			return nil, &apiErr{status: 400, code: "BadRequest", msg: "Invalid $filter in $expand: " + clause, unsupported: true}
		}
		k, ok := extKey(strings.ReplaceAll(cm[1], "''", "'"))
		if !ok {
			return nil, badRequest("ErrorInvalidProperty", "The extended property id '%s' is not valid.", cm[1])
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// splitKeyword splits s on kw outside single quotes.
func splitKeyword(s, kw string) []string {
	var out []string
	inQ, start := false, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			inQ = !inQ
			continue
		}
		if !inQ && strings.HasPrefix(strings.ToLower(s[i:]), kw) {
			out = append(out, s[start:i])
			start = i + len(kw)
			i = start - 1
		}
	}
	return append(out, s[start:])
}

var anyRe = regexp.MustCompile(`^(?i:singleValueExtendedProperties/any)\((\w+):\s*(.+)\)$`)

type extFilter struct {
	key, op, value string
	hasValue       bool
}

// parseFilter accepts singleValueExtendedProperties/Any(ep: ep/id eq '…'
// [and ep/value eq|ne '…' | contains(ep/value,'…') | startswith(ep/value,'…')])
// (facts §4).
func parseFilter(f string) (*extFilter, *apiErr) {
	m := anyRe.FindStringSubmatch(strings.TrimSpace(f))
	if m == nil {
		return nil, &apiErr{status: 400, code: "ErrorInvalidUrlQueryFilter", msg: "graphsim supports only $filter=singleValueExtendedProperties/Any(...).", unsupported: true}
	}
	v := regexp.QuoteMeta(m[1])
	idRe := regexp.MustCompile(`^` + v + `/id eq '((?:[^']|'')*)'$`)
	cmpRe := regexp.MustCompile(`^` + v + `/value (eq|ne) '((?:[^']|'')*)'$`)
	fnRe := regexp.MustCompile(`^(contains|startswith)\(` + v + `/value,\s*'((?:[^']|'')*)'\)$`)
	out := &extFilter{}
	for _, cl := range splitKeyword(m[2], " and ") {
		cl = strings.TrimSpace(cl)
		unq := func(s string) string { return strings.ReplaceAll(s, "''", "'") }
		if x := idRe.FindStringSubmatch(cl); x != nil {
			k, ok := extKey(unq(x[1]))
			if !ok {
				return nil, badRequest("ErrorInvalidProperty", "The extended property id '%s' is not valid.", x[1])
			}
			out.key = k
		} else if x := cmpRe.FindStringSubmatch(cl); x != nil {
			out.op, out.value, out.hasValue = x[1], unq(x[2]), true
		} else if x := fnRe.FindStringSubmatch(cl); x != nil {
			out.op, out.value, out.hasValue = x[1], unq(x[2]), true
		} else {
			return nil, &apiErr{status: 400, code: "ErrorInvalidUrlQueryFilter", msg: "Unsupported clause in $filter: " + cl, unsupported: true}
		}
	}
	if out.key == "" {
		return nil, badRequest("ErrorInvalidUrlQueryFilter", "The Any() filter must name the property with id eq.")
	}
	return out, nil
}

// match: the name is matched case-sensitively by the key, the value
// case-insensitively (facts §4).
func (f *extFilter) match(e *event) bool {
	x, ok := e.ext[f.key]
	if !ok {
		return false
	}
	if !f.hasValue {
		return true
	}
	a, b := strings.ToLower(x.value), strings.ToLower(f.value)
	switch f.op {
	case "eq":
		return a == b
	case "ne":
		return a != b
	case "contains":
		return strings.Contains(a, b)
	default:
		return strings.HasPrefix(a, b)
	}
}

// pageSize reads $top and odata.maxpagesize.
func (c *gctx) pageSize(def int) (int, bool) {
	n := def
	if p, ok := c.prefer["odata.maxpagesize"]; ok {
		v, err := strconv.Atoi(p)
		if err != nil || v < 1 {
			c.fail(400, "BadRequest", "The value of odata.maxpagesize must be a positive integer.")
			return 0, false
		}
		n = v
		c.applied = append(c.applied, "odata.maxpagesize="+p)
	}
	if t := c.q.Get("$top"); t != "" {
		v, err := strconv.Atoi(t)
		if err != nil || v < 1 {
			c.fail(400, "BadRequest", "Invalid $top value '"+t+"'.")
			return 0, false
		}
		n = v
	}
	return min(n, c.s.opts.MaxPageSize), true
}

func (c *gctx) skip() (int, bool) {
	sk := c.q.Get("$skip")
	if sk == "" {
		return 0, true
	}
	v, err := strconv.Atoi(sk)
	if err != nil || v < 0 {
		c.fail(400, "BadRequest", "Invalid $skip value '"+sk+"'.")
		return 0, false
	}
	return v, true
}

// nextLink is an absolute URL on the request's own host (sdk-notes §1),
// with "$" left literal as Graph writes it ("?$skiptoken=…").
func (c *gctx) nextLink(path string, q url.Values) string {
	return c.base + path + "?" + strings.ReplaceAll(q.Encode(), "%24", "$")
}

func (s *Sim) listEvents(c *gctx) {
	if !c.checkQuery("$select", "$expand", "$filter", "$top", "$skip") || !c.need(readCal...) {
		return
	}
	v, ok := c.view()
	if !ok {
		return
	}
	var flt *extFilter
	if f := c.q.Get("$filter"); f != "" {
		var err *apiErr
		if flt, err = parseFilter(f); err != nil {
			c.failErr(err)
			return
		}
	}
	n, ok := c.pageSize(s.opts.DefaultPageSize)
	if !ok {
		return
	}
	skip, ok := c.skip()
	if !ok {
		return
	}
	s.mu.Lock()
	var refs []instRef
	for _, e := range c.u.mb.events {
		if e.deleted || (e.typ != "singleInstance" && e.typ != "seriesMaster") {
			continue
		}
		if flt != nil && !flt.match(e) {
			continue
		}
		refs = append(refs, instRef{key: e.key, start: e.start})
	}
	sortRefs(refs)
	page := []any{}
	for i := skip; i < len(refs) && i < skip+n; i++ {
		item, _ := v.renderRef(c.u.mb, refs[i].key, false)
		page = append(page, item)
	}
	s.mu.Unlock()
	out := map[string]any{"@odata.context": c.base + "/v1.0/$metadata#users('" + url.PathEscape(c.u.UPN) + "')/events", "value": page}
	if skip+n < len(refs) {
		q := cloneQuery(c.q)
		q.Set("$skip", strconv.Itoa(skip+n))
		out["@odata.nextLink"] = c.nextLink(c.r.URL.Path, q)
	}
	c.ok(200, out)
}

func cloneQuery(q url.Values) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// decodeObject parses a JSON object body.
func (c *gctx) decodeObject() (map[string]any, bool) {
	if ct := c.r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/json") {
		c.fail(415, "UnsupportedMediaType", "A supported MIME type could not be found that matches the content type of the request ('"+ct+"').")
		return nil, false
	}
	var m map[string]any
	if err := json.Unmarshal(c.body, &m); err != nil || m == nil {
		c.fail(400, "BadRequest", "Empty Payload. JSON content expected.")
		return nil, false
	}
	return m, true
}

// eventWrite reads what a POST or PATCH of an event carries: no query
// options, a write scope, a JSON object body and the view to answer in.
func (c *gctx) eventWrite() (view, *parsedBody, bool) {
	if !c.checkQuery() || !c.need(writeCal...) {
		return view{}, nil, false
	}
	body, ok := c.decodeObject()
	if !ok {
		return view{}, nil, false
	}
	v, ok := c.viewFor(true)
	if !ok {
		return view{}, nil, false
	}
	p, err := parseEventBody(body)
	if err == nil {
		err = c.s.checkZones(p, true)
	}
	if err != nil {
		c.failErr(err)
		return view{}, nil, false
	}
	if c.r.Method == http.MethodPost && c.s.opts.PostAnswersInRequestZone && p.start != nil {
		v.loc, v.tzName = p.start.loc, p.start.tz
	}
	return v, p, true
}

func (s *Sim) postEvent(c *gctx) {
	v, p, ok := c.eventWrite()
	if !ok {
		return
	}
	s.mu.Lock()
	mb := c.u.mb
	now := s.now()
	if p.txid != "" {
		if tr, dup := mb.txids[p.txid]; dup && now.Sub(tr.created) < s.opts.TransactionIDWindow {
			if e, live := mb.events[tr.key]; live && !e.deleted {
				if s.opts.TransactionIDConflict {
					s.mu.Unlock()
					c.fail(409, "ErrorDuplicateTransactionId", "An item with the same transactionId already exists.")
					return
				}
				out := v.render(e, nil, time.Time{})
				s.mu.Unlock()
				out["@odata.context"] = c.base + "/v1.0/$metadata#users('" + url.PathEscape(c.u.UPN) + "')/events/$entity"
				c.ok(201, out)
				return
			}
		}
	}
	e, err := s.createEvent(c.u, p, "graph")
	if err != nil {
		s.mu.Unlock()
		c.failErr(err)
		return
	}
	if p.txid != "" {
		mb.txids[p.txid] = txRecord{key: e.key, created: now}
	}
	out := v.render(e, nil, time.Time{})
	s.mu.Unlock()
	out["@odata.context"] = c.base + "/v1.0/$metadata#users('" + url.PathEscape(c.u.UPN) + "')/events/$entity"
	c.ok(201, out)
}

// resolve finds an event id in the caller's mailbox; it needs s.mu and
// answers 400/404 itself after unlocking when it fails.
func (s *Sim) resolve(c *gctx, id string) (instance, bool) {
	key, bad := parseID(id)
	if bad {
		s.mu.Unlock()
		c.fail(400, "ErrorInvalidIdMalformed", "Id is malformed.")
		return instance{}, false
	}
	in, ok := c.u.mb.lookup(key)
	if !ok {
		s.mu.Unlock()
		c.fail(404, "ErrorItemNotFound", "The specified object was not found in the store.")
		return instance{}, false
	}
	return in, true
}

// etag is the @odata.etag of a stored event or an occurrence, as GET
// answers it.
func (s *Sim) etag(in instance) string {
	if in.ev != nil {
		return in.ev.etag()
	}
	_, tag := view{masterETags: s.opts.OccurrenceETagIsMaster}.occurrenceTag(in.master, in.orig)
	return tag
}

// ifMatch honours If-Match (facts §2, UNCONFIRMED → Options.IgnoreIfMatch).
func (s *Sim) ifMatch(c *gctx, in instance) bool {
	want := c.r.Header.Get("If-Match")
	if want == "" || want == "*" || s.opts.IgnoreIfMatch {
		return true
	}
	have := s.etag(in)
	for _, w := range strings.Split(want, ",") {
		w = strings.TrimSpace(w)
		if w == have || `W/`+w == have {
			return true
		}
	}
	s.mu.Unlock()
	c.fail(412, "ErrorIrresolvableConflict", "The send or update operation could not be performed because the change key passed in the request does not match the current change key for the item.")
	return false
}

func (s *Sim) getEvent(c *gctx, id string) {
	if !c.checkQuery("$select", "$expand") || !c.need(readCal...) {
		return
	}
	v, ok := c.view()
	if !ok {
		return
	}
	s.mu.Lock()
	in, ok := s.resolve(c, id)
	if !ok {
		return
	}
	out := v.render(in.ev, in.master, in.orig)
	if in.ev != nil && in.ev.typ == "seriesMaster" {
		v.seriesProps(c.u.mb, in.ev, out)
	}
	s.mu.Unlock()
	out["@odata.context"] = c.base + "/v1.0/$metadata#users('" + url.PathEscape(c.u.UPN) + "')/events/$entity"
	c.ok(200, out)
}

func (s *Sim) patchEvent(c *gctx, id string) {
	v, p, ok := c.eventWrite()
	if !ok {
		return
	}
	p.txid = "" // transactionId cannot change after creation (facts §3)
	s.mu.Lock()
	in, ok := s.resolve(c, id)
	if !ok || !s.ifMatch(c, in) {
		return
	}
	e, err := s.updateEvent(c.u, in, p, "graph")
	if err != nil {
		s.mu.Unlock()
		c.failErr(err)
		return
	}
	out := v.render(e, nil, time.Time{})
	s.mu.Unlock()
	out["@odata.context"] = c.base + "/v1.0/$metadata#users('" + url.PathEscape(c.u.UPN) + "')/events/$entity"
	c.ok(200, out)
}

func (s *Sim) deleteEvent(c *gctx, id string) {
	if !c.checkQuery() || !c.need(writeCal...) {
		return
	}
	s.mu.Lock()
	if key, bad := parseID(id); !bad && !s.opts.DeleteGoneAnswers404 {
		switch c.u.mb.goneStatus(key) {
		case 410:
			s.mu.Unlock()
			c.fail(410, "ErrorItemNotFound", "The specified object was not found in the store.")
			return
		case 403:
			s.mu.Unlock()
			c.fail(403, "ErrorAccessDenied", "Access is denied. Check credentials and try again.")
			return
		}
	}
	in, ok := s.resolve(c, id)
	if !ok || !s.ifMatch(c, in) {
		return
	}
	s.deleteInstance(c.u, in, "graph")
	s.mu.Unlock()
	c.w.WriteHeader(http.StatusNoContent)
}

// window reads startDateTime/endDateTime (facts §1.1): required, ISO 8601,
// offset honoured, no offset means UTC; Prefer outlook.timezone is ignored.
func (c *gctx) window() (time.Time, time.Time, bool) {
	_, hasS := c.q["startDateTime"]
	_, hasE := c.q["endDateTime"]
	if !hasS || !hasE {
		c.fail(400, "ErrorInvalidParameter", "This request requires a time window specified by the query string parameters StartDateTime and EndDateTime.")
		return time.Time{}, time.Time{}, false
	}
	parse := func(name, v string) (time.Time, bool) {
		for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.9999999", "2006-01-02T15:04", "2006-01-02"} {
			if t, err := time.Parse(l, v); err == nil {
				return t.UTC(), true
			}
		}
		c.fail(400, "ErrorInvalidParameter", fmt.Sprintf("The value '%s' of parameter '%s' is invalid.", v, name))
		return time.Time{}, false
	}
	ws, ok := parse("StartDateTime", c.q.Get("startDateTime"))
	if !ok {
		return ws, ws, false
	}
	we, ok := parse("EndDateTime", c.q.Get("endDateTime"))
	if !ok {
		return ws, we, false
	}
	if we.Before(ws) {
		c.fail(400, "ErrorInvalidParameter", "The parameter 'EndDateTime' must be later than 'StartDateTime'.")
		return ws, we, false
	}
	return ws, we, true
}

func (s *Sim) calendarView(c *gctx) {
	if !c.checkQuery("$select", "$expand", "$top", "$skip") || !c.need(readCal...) {
		return
	}
	l, ok := c.listing(s.opts.DefaultPageSize)
	if !ok {
		return
	}
	s.mu.Lock()
	refs := c.u.mb.instancesInWindow(l.start, l.end, false)
	page := l.render(c.u.mb, refs)
	s.mu.Unlock()
	l.reply(c, "/calendarView", page, len(refs))
}

// listing holds what a windowed, paged list (calendarView, instances) reads
// from its query: the window, the rendering view and the page.
type listing struct {
	start, end time.Time
	v          view
	n, skip    int
}

// listing reads the window, the view and the paging options, answering the
// error itself when one is wrong.
func (c *gctx) listing(defaultPageSize int) (listing, bool) {
	var l listing
	var ok bool
	if l.start, l.end, ok = c.window(); !ok {
		return l, false
	}
	if l.v, ok = c.view(); !ok {
		return l, false
	}
	if l.n, ok = c.pageSize(defaultPageSize); !ok {
		return l, false
	}
	l.skip, ok = c.skip()
	return l, ok
}

// render renders this page of refs; the mailbox lock must be held.
func (l listing) render(mb *mailbox, refs []instRef) []any {
	page := []any{}
	for i := l.skip; i < len(refs) && i < l.skip+l.n; i++ {
		item, _ := l.v.renderRef(mb, refs[i].key, false)
		page = append(page, item)
	}
	return page
}

// reply answers the page, with a nextLink when more items follow.
func (l listing) reply(c *gctx, collection string, page []any, total int) {
	out := map[string]any{"@odata.context": c.base + "/v1.0/$metadata#users('" + url.PathEscape(c.u.UPN) + "')" + collection, "value": page}
	if l.skip+l.n < total {
		q := cloneQuery(c.q)
		q.Set("$skip", strconv.Itoa(l.skip+l.n))
		out["@odata.nextLink"] = c.nextLink(c.r.URL.Path, q)
	}
	c.ok(200, out)
}

// listInstances serves GET /events/{id}/instances: occurrences and
// exceptions of a master in a window, cancelled ones left out (facts §2).
func (s *Sim) listInstances(c *gctx, id string) {
	if !c.checkQuery("$select", "$top", "$skip") || !c.need(readCal...) {
		return
	}
	l, ok := c.listing(s.opts.DefaultPageSize)
	if !ok {
		return
	}
	s.mu.Lock()
	in, ok := s.resolve(c, id)
	if !ok {
		return
	}
	if in.ev == nil || in.ev.typ != "seriesMaster" {
		s.mu.Unlock()
		c.fail(400, "ErrorInvalidRequest", "The instances of an event can only be listed for a series master.")
		return
	}
	m := in.ev
	var refs []instRef
	for _, o := range m.series().occurrences(l.start, l.end, false) {
		refs = append(refs, instRef{key: occurrenceKey(m.key, o), start: o})
	}
	for k := range m.series().exceptions {
		if ex, ok := c.u.mb.events[occurrenceKey(m.key, time.Unix(k, 0).UTC())]; ok && !ex.deleted && overlaps(ex.start, ex.end, l.start, l.end) {
			refs = append(refs, instRef{key: ex.key, start: ex.start})
		}
	}
	sortRefs(refs)
	page := l.render(c.u.mb, refs)
	s.mu.Unlock()
	l.reply(c, "/events('"+id+"')/instances", page, len(refs))
}
