package graphclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	abs "github.com/microsoft/kiota-abstractions-go"
	ktext "github.com/microsoft/kiota-serialization-text-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"golang.org/x/oauth2"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// Classify maps any failure met while talking to Microsoft onto the calsync
// taxonomy. It is the one place where identity-platform errors (AADSTS
// codes), Graph errors (ODataError, ApiError, text bodies), transport errors
// and context errors get a Kind, a human Message and, when Microsoft sent
// Retry-After, a RetryAfter. It never calls (*ODataError).Error(), which
// panics on a body without a message, and the Err it keeps holds only status,
// codes and request ids, never a response body.
func Classify(err error) *calsync.Error {
	if err == nil {
		return nil
	}
	if e := known(err); e != nil {
		return e
	}
	return &calsync.Error{Kind: calsync.KindInternal, Message: "internal error", Err: err}
}

// known classifies err, or returns nil for a failure it cannot place.
func known(err error) *calsync.Error {
	var ce *calsync.Error
	if errors.As(err, &ce) {
		return ce
	}
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		ge := &graphError{Status: oe.ResponseStatusCode}
		if m := oe.GetErrorEscaped(); m != nil {
			ge.Code = clean(deref(m.GetCode()))
			if in := m.GetInnerError(); in != nil {
				ge.RequestID = clean(deref(in.GetRequestId()))
			}
		}
		return fromGraph(ge, oe.ResponseHeaders)
	}
	var ae *abs.ApiError
	if errors.As(err, &ae) {
		return fromGraph(&graphError{Status: ae.ResponseStatusCode}, ae.ResponseHeaders)
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return fromOAuth(re)
	}
	switch {
	case errors.Is(err, context.Canceled):
		return &calsync.Error{Kind: calsync.KindCancelled, Message: "the request was cancelled", Err: err}
	case errors.Is(err, context.DeadlineExceeded):
		return &calsync.Error{Kind: calsync.KindUnavailable, Message: "Microsoft did not answer in time; try again later", Err: err}
	case errors.Is(err, ktext.NoStructuredDataError):
		// A text/plain error body: the SDK loses the status with it.
		return &calsync.Error{Kind: calsync.KindUnavailable, Message: "Microsoft Graph answered with an unexpected error; try again later", Err: err}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return fromNetwork(err, ne)
	}
	return nil
}

// The causes of a transport failure, in Error.Cause (data.cause on the
// wire): what the host can act on without reading our log.
const (
	CauseDNSNotFound       = "dns_not_found"      // the endpoint's name does not exist: a misconfigured URL
	CauseDNS               = "dns_failure"        // the name could not be resolved now
	CauseConnectionRefused = "connection_refused" // nothing listens at the endpoint's address
	CauseConnectionReset   = "connection_reset"   // the connection broke off
	CauseTimeout           = "timeout"
	CauseNetwork           = "network"  // any other transport failure (TLS, unreachable network…)
	CauseRedirect          = "redirect" // the endpoint answered with a redirect, which is not followed
)

// fromNetwork classifies a transport failure by its cause, naming the host
// (never the URL, whose query may carry a delta token or an Oro id). A name
// that does not exist is a misconfigured endpoint, not an outage: it is a
// configuration error, never retryable, so a host does not retry it
// forever. Everything else may pass.
func fromNetwork(err error, ne net.Error) *calsync.Error {
	host, cause := "Microsoft", ne.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err.Error()
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			host = clean(u.Host)
		}
	}
	e := &calsync.Error{Kind: calsync.KindUnavailable, Err: err}
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		e.Kind, e.Cause = calsync.KindConfiguration, CauseDNSNotFound
		e.Message = "the name " + clean(dns.Name) + " does not exist (DNS): check the Microsoft endpoint URLs the sidecar was started with (--authority-url, --graph-url)"
	case errors.As(err, &dns):
		e.Cause, e.Message = CauseDNS, "the name "+clean(dns.Name)+" could not be resolved (DNS); try again later"
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Cause, e.Message = CauseConnectionRefused, host+" refused the connection; try again later (check the configured endpoint if it persists)"
	case ne.Timeout():
		e.Cause, e.Message = CauseTimeout, host+" did not answer in time; try again later"
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE):
		e.Cause, e.Message = CauseConnectionReset, "the connection to "+host+" broke off; try again later"
	default:
		e.Cause, e.Message = CauseNetwork, host+" could not be reached ("+clean(cause)+"); try again later"
	}
	return e
}

// maxUpstream bounds what of an upstream string (an error code, a request
// id) is copied into our errors and messages.
const maxUpstream = 100

// clean makes an upstream string safe to show: valid UTF-8 without control
// characters, at most maxUpstream bytes.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if len(s) <= maxUpstream {
		return s
	}
	cut := maxUpstream
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// graphError is what is kept of a Graph error response.
type graphError struct {
	Status    int
	Code      string
	RequestID string
}

func (e *graphError) Error() string {
	s := "graph: status " + strconv.Itoa(e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.RequestID != "" {
		s += " (request-id " + e.RequestID + ")"
	}
	return s
}

func fromGraph(ge *graphError, h *abs.ResponseHeaders) *calsync.Error {
	if ge.RequestID == "" && h != nil {
		if v := h.Get("request-id"); len(v) > 0 {
			ge.RequestID = clean(v[0])
		}
	}
	e := &calsync.Error{Code: ge.Code, Err: ge}
	if h != nil {
		if v := h.Get("Retry-After"); len(v) > 0 {
			e.RetryAfter, _ = retryAfter(http.Header{"Retry-After": v}, time.Now())
		}
	}
	switch s := ge.Status; {
	case s == http.StatusUnauthorized:
		e.Kind, e.Message = calsync.KindReconnectRequired, "Microsoft Graph no longer accepts this connection; connect the account again"
	case s == http.StatusForbidden:
		e.Kind, e.Message = calsync.KindForbidden, "Microsoft Graph denied access to this item"
	case s == http.StatusNotFound:
		e.Kind, e.Message = calsync.KindNotFound, "the item no longer exists in Microsoft 365"
	case s == http.StatusConflict || s == http.StatusPreconditionFailed:
		e.Kind, e.Message = calsync.KindConflict, "the item changed in Microsoft 365 while it was being written"
	case s == http.StatusGone:
		e.Kind, e.Message = calsync.KindResyncRequired, "Microsoft 365 no longer knows the sync position; a full sync is needed"
	case s == http.StatusTooManyRequests:
		e.Kind, e.Message = calsync.KindThrottled, "Microsoft 365 asked to slow down; try again later"
	case s == http.StatusRequestTimeout || s >= 500:
		e.Kind, e.Message = calsync.KindUnavailable, "Microsoft 365 is unavailable; try again later"
	case s >= 400:
		e.Kind, e.Message = calsync.KindRejected, "Microsoft 365 refused the request"
	default:
		e.Kind, e.Message = calsync.KindInternal, "unexpected answer from Microsoft Graph"
	}
	if ge.Code != "" {
		e.Message += " (" + ge.Code + ")"
	}
	return e
}

// oauthError is what is kept of a token-endpoint error: never the body,
// whose description may quote what was sent.
type oauthError struct {
	Status        int
	Code          string // RFC 6749 error
	AADSTS        int    // first of error_codes, 0 when none
	CorrelationID string
}

func (e *oauthError) Error() string {
	s := "oauth: status " + strconv.Itoa(e.Status) + " " + e.Code
	if e.AADSTS != 0 {
		s += " AADSTS" + strconv.Itoa(e.AADSTS)
	}
	if e.CorrelationID != "" {
		s += " (correlation " + e.CorrelationID + ")"
	}
	return s
}

var aadstsRE = regexp.MustCompile(`AADSTS(\d+)`)

// aadInput maps AADSTS codes that point at one request field.
var aadInput = map[int]struct{ field, msg string }{
	50011:   {"app.redirectUri", "the redirect URI does not match the app registration"},
	500112:  {"app.redirectUri", "the redirect URI does not match the app registration"},
	500113:  {"app.redirectUri", "the app registration has no redirect URI"},
	700016:  {"app.clientId", "no application with this client id exists in the tenant"},
	90002:   {"app.tenant", "the tenant does not exist"},
	900023:  {"app.tenant", "the tenant identifier is not valid"},
	7000215: {"app.clientSecret", "the client secret is not valid"},
	7000222: {"app.clientSecret", "the client secret has expired"},
	50148:   {"codeVerifier", "the PKCE code verifier does not match the sign-in"},
	501481:  {"codeVerifier", "the PKCE code verifier does not match the sign-in"},
	54005:   {"code", "the authorization code was already used; start the sign-in again"},
	70011:   {"scopes", "a requested scope is not valid"},
}

var (
	// aadReconnect: the grant is gone; only a new sign-in helps.
	aadReconnect = map[int]bool{70008: true, 700082: true, 700084: true, 50173: true, 70043: true,
		50076: true, 50079: true, 50132: true, 50133: true, 50055: true, 50057: true, 50053: true, 50034: true}
	// aadConsent: a permission was never granted or was withdrawn.
	aadConsent = map[int]bool{65001: true, 65004: true, 65005: true, 90094: true, 90095: true}
)

func fromOAuth(re *oauth2.RetrieveError) *calsync.Error {
	oe := &oauthError{Code: clean(re.ErrorCode)}
	if re.Response != nil {
		oe.Status = re.Response.StatusCode
	}
	var body struct {
		ErrorCodes    []int  `json:"error_codes"`
		CorrelationID string `json:"correlation_id"`
	}
	if json.Unmarshal(re.Body, &body) == nil {
		oe.CorrelationID = clean(body.CorrelationID)
		if len(body.ErrorCodes) > 0 {
			oe.AADSTS = body.ErrorCodes[0]
		}
	}
	if oe.AADSTS == 0 {
		if m := aadstsRE.FindStringSubmatch(re.ErrorDescription); m != nil {
			oe.AADSTS, _ = strconv.Atoi(m[1])
		}
	}
	e := &calsync.Error{Op: "oauth.token", Code: oe.Code, Err: oe}
	if oe.AADSTS != 0 {
		e.Code = "AADSTS" + strconv.Itoa(oe.AADSTS)
	}
	ref := " (" + e.Code + ")"
	if f, ok := aadInput[oe.AADSTS]; ok {
		e.Kind, e.Field, e.Message = calsync.KindInvalidInput, f.field, f.msg+ref
		return e
	}
	switch {
	case aadReconnect[oe.AADSTS]:
		e.Kind, e.Message = calsync.KindReconnectRequired, "Microsoft no longer accepts this connection; connect the account again"+ref
	case aadConsent[oe.AADSTS] || oe.Code == "consent_required":
		e.Kind, e.Message = calsync.KindConsentRequired, "a permission has not been granted; sign in again and accept it, or ask an administrator to consent"+ref
	case oe.Status == http.StatusTooManyRequests:
		e.Kind, e.Message = calsync.KindThrottled, "Microsoft sign-in asked to slow down; try again later"+ref
		if re.Response != nil {
			e.RetryAfter, _ = retryAfter(re.Response.Header, time.Now())
		}
	case oe.Status >= 500 || oe.Code == "temporarily_unavailable" || oe.Code == "server_error":
		e.Kind, e.Message = calsync.KindUnavailable, "Microsoft sign-in is unavailable; try again later"+ref
		if re.Response != nil {
			e.RetryAfter, _ = retryAfter(re.Response.Header, time.Now())
		}
	case oe.Code == "invalid_client":
		e.Kind, e.Field, e.Message = calsync.KindInvalidInput, "app", "Microsoft did not accept the client id or secret"+ref
	case oe.Code == "unauthorized_client":
		e.Kind, e.Field, e.Message = calsync.KindInvalidInput, "app.clientId", "the application may not use this sign-in flow"+ref
	case oe.Code == "invalid_scope":
		e.Kind, e.Field, e.Message = calsync.KindInvalidInput, "scopes", "a requested scope is not valid"+ref
	case oe.Code == "invalid_request" || oe.Code == "unsupported_grant_type" || oe.Code == "unsupported_response_type":
		e.Kind, e.Message = calsync.KindInvalidInput, "Microsoft sign-in rejected the request"+ref
	default:
		// invalid_grant, interaction_required, login_required and anything
		// unknown: retrying cannot help, a new sign-in may.
		e.Kind, e.Message = calsync.KindReconnectRequired, "Microsoft no longer accepts this connection; connect the account again"+ref
	}
	return e
}

// ClassifyRead is Classify for an SDK call that reads from Graph. A failure
// Classify cannot place comes from the SDK reading the answer: answerGuard
// has made sure it is a JSON object, so a member of the wrong type (an id
// that is a number) is left, which is Microsoft's fault, not our bug.
func ClassifyRead(err error) *calsync.Error {
	if err == nil {
		return nil
	}
	if e := known(err); e != nil {
		return e
	}
	return &calsync.Error{Kind: calsync.KindUnavailable, Message: "Microsoft Graph sent an answer that could not be read; try again later", Err: err}
}

// MissingScope returns a consent_required error naming scope.
func MissingScope(scope string) *calsync.Error {
	return &calsync.Error{Kind: calsync.KindConsentRequired, Code: scope,
		Message: fmt.Sprintf("the permission %s has not been granted; connect again and accept it, or ask an administrator to consent", scope)}
}

// ConsentOrForbidden is Classify for a read of the signed-in user's own
// data that scope covers (the calendar's delta with Calendars.ReadWrite,
// /me with User.Read): there Graph answers 403 (ErrorAccessDenied) only
// when the token lacks the permission, so a forbidden becomes
// consent_required naming scope. Do not use it for writes to single items,
// which Graph refuses per item (an event the user does not organize) with
// every permission granted: those stay forbidden.
func ConsentOrForbidden(err error, scope string) *calsync.Error {
	e := ClassifyRead(err)
	if e == nil || e.Kind != calsync.KindForbidden {
		return e
	}
	c := MissingScope(scope)
	c.Op, c.Err = e.Op, e.Err
	return c
}

func withOp(e *calsync.Error, op string) *calsync.Error {
	if e.Op == "" {
		e.Op = op
	}
	return e
}
