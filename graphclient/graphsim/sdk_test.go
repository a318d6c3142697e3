package graphsim_test

// These tests drive the simulator through msgraph-sdk-go's own request
// builders (the SDK the sidecar uses): what the SDK sends must be accepted
// and what the simulator answers must deserialize.

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	abs "github.com/microsoft/kiota-abstractions-go"
	absauth "github.com/microsoft/kiota-abstractions-go/authentication"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	khttp "github.com/microsoft/kiota-http-go"
	msgraph "github.com/microsoftgraph/msgraph-sdk-go"
	msgraphcore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

const (
	upn      = "grace@contoso.com"
	propID   = "String {8ECCC264-6880-4EBE-992F-8888D2EEAA1D} Name SyncId"
	verifier = "sdk-test-verifier-sdk-test-verifier-sdk-test-verifier"
)

// staticToken returns one token and fails for hosts it does not allow
// (sdk-notes §0.3: never return "").
type staticToken struct {
	tok   string
	hosts *absauth.AllowedHostsValidator
}

func (p *staticToken) GetAuthorizationToken(_ context.Context, u *url.URL, _ map[string]any) (string, error) {
	if !p.hosts.IsUrlHostValid(u) {
		return "", fmt.Errorf("host %q not allowed", u.Hostname())
	}
	return p.tok, nil
}

func (p *staticToken) GetAllowedHostsValidator() *absauth.AllowedHostsValidator { return p.hosts }

type sdkEnv struct {
	sim     *graphsim.Sim
	srv     *httptest.Server
	client  *msgraph.GraphServiceClient
	adapter *msgraph.GraphRequestAdapter
}

// signIn runs the authorization code flow with PKCE over plain HTTP.
func signIn(t *testing.T, base string) string {
	t.Helper()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"client_id": {"app"}, "response_type": {"code"}, "redirect_uri": {"http://localhost/cb"},
		"scope": {"offline_access User.Read Calendars.ReadWrite"}, "login_hint": {upn},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	nr := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r, err := nr.Get(base + "/organizations/oauth2/v2.0/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	loc, _ := url.Parse(r.Header.Get("Location"))
	r, err = http.PostForm(base+"/organizations/oauth2/v2.0/token", url.Values{"grant_type": {"authorization_code"},
		"client_id": {"app"}, "client_secret": {"pw"}, "code": {loc.Query().Get("code")}, "redirect_uri": {"http://localhost/cb"},
		"code_verifier": {verifier}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(r.Body).Decode(&m)
	tok, _ := m["access_token"].(string)
	if tok == "" {
		t.Fatalf("token: %v", m)
	}
	return tok
}

// newSDKEnv builds a deterministic client as sdk-notes §2.3 recommends:
// fixed middleware order with compression before retry, base URL set
// before the client, a strict token provider.
func newSDKEnv(t *testing.T, opts graphsim.Options) *sdkEnv {
	t.Helper()
	opts.AutoConsent = true
	if opts.Now == nil {
		opts.Now = func() time.Time { return time.Date(2025, 1, 6, 9, 0, 0, 0, time.UTC) }
	}
	opts.Logf = t.Logf
	sim := graphsim.New(opts)
	sim.RegisterApp(graphsim.App{ClientID: "app", ClientSecret: "pw", RedirectURIs: []string{"http://localhost/cb"}})
	sim.AddUser(graphsim.User{UPN: upn, DisplayName: "Grace Hopper", Mail: upn})
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)

	copts := msgraph.GetDefaultClientOptions()
	mw := []khttp.Middleware{
		msgraphcore.NewGraphTelemetryHandler(&copts),
		khttp.NewUrlReplaceHandler(true, msgraphcore.ReplacementPairs),
		khttp.NewCompressionHandler(), // gzip bodies, before retry
		khttp.NewRetryHandlerWithOptions(khttp.RetryHandlerOptions{MaxRetries: 2, DelaySeconds: 1,
			ShouldRetry: func(time.Duration, int, *http.Request, *http.Response) bool { return false }}),
		khttp.NewRedirectHandler(),
		khttp.NewParametersNameDecodingHandler(),
		khttp.NewUserAgentHandler(),
		khttp.NewHeadersInspectionHandler(),
	}
	hc := khttp.GetDefaultClient(mw...)
	hosts, err := absauth.NewAllowedHostsValidatorErrorCheck([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	auth := absauth.NewBaseBearerTokenAuthenticationProvider(&staticToken{tok: signIn(t, srv.URL), hosts: hosts})
	adapter, err := msgraph.NewGraphRequestAdapterWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, nil, nil, hc)
	if err != nil {
		t.Fatal(err)
	}
	adapter.SetBaseUrl(srv.URL + "/v1.0")
	return &sdkEnv{sim: sim, srv: srv, client: msgraph.NewGraphServiceClient(adapter), adapter: adapter}
}

func ptr[T any](v T) *T { return &v }

func newEvent(subject, start, end string) models.Eventable {
	ev := models.NewEvent()
	ev.SetSubject(ptr(subject))
	s, e := models.NewDateTimeTimeZone(), models.NewDateTimeTimeZone()
	s.SetDateTime(ptr(start))
	s.SetTimeZone(ptr("UTC"))
	e.SetDateTime(ptr(end))
	e.SetTimeZone(ptr("UTC"))
	ev.SetStart(s)
	ev.SetEnd(e)
	return ev
}

func odataCode(t *testing.T, err error) (int, string) {
	t.Helper()
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) {
		t.Fatalf("error %T %v is not an ODataError", err, err)
	}
	return oe.ResponseStatusCode, *oe.GetErrorEscaped().GetCode()
}

// TestSDK walks every modelled endpoint through the SDK's request builders.
func TestSDK(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	me := e.client.Me()

	u, err := me.Get(ctx, nil)
	if err != nil || *u.GetUserPrincipalName() != upn || *u.GetMail() != upn {
		t.Fatalf("me: %v %v", u, err)
	}
	cal, err := me.Calendar().Get(ctx, nil)
	if err != nil || !*cal.GetIsDefaultCalendar() {
		t.Fatalf("calendar: %v", err)
	}
	cals, err := me.Calendars().Get(ctx, nil)
	if err != nil || len(cals.GetValue()) != 1 {
		t.Fatalf("calendars: %v", err)
	}
	if _, err := me.Calendars().ByCalendarId(*cal.GetId()).Get(ctx, nil); err != nil {
		t.Fatalf("calendar by id: %v", err)
	}

	// Create with transactionId and an extended property (facts §3, §4).
	ev := newEvent("sdk", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	ev.SetTransactionId(ptr("tx-sdk"))
	p := models.NewSingleValueLegacyExtendedProperty()
	p.SetId(ptr(propID))
	p.SetValue(ptr("local-1"))
	ev.SetSingleValueExtendedProperties([]models.SingleValueLegacyExtendedPropertyable{p})
	created, err := me.Events().Post(ctx, ev, nil)
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	id := *created.GetId()
	again, err := me.Events().Post(ctx, ev, nil)
	if err != nil || *again.GetId() != id {
		t.Fatalf("transactionId dedupe: %v", err)
	}
	if _, err := me.Calendars().ByCalendarId(*cal.GetId()).Events().Post(ctx, newEvent("in cal", "2025-01-08T10:00:00", "2025-01-08T11:00:00"), nil); err != nil {
		t.Fatalf("post to calendars/{id}/events: %v", err)
	}

	got, err := me.Events().ByEventId(id).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsEventItemRequestBuilderGetQueryParameters{
			Expand: []string{"singleValueExtendedProperties($filter=id eq '" + propID + "')"}}})
	if err != nil || len(got.GetSingleValueExtendedProperties()) != 1 || *got.GetSingleValueExtendedProperties()[0].GetValue() != "local-1" {
		t.Fatalf("get with $expand: %v", err)
	}
	list, err := me.Events().Get(ctx, &users.ItemEventsRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsRequestBuilderGetQueryParameters{
			Filter: ptr("singleValueExtendedProperties/Any(ep: ep/id eq '" + propID + "' and ep/value eq 'LOCAL-1')")}})
	if err != nil || len(list.GetValue()) != 1 {
		t.Fatalf("$filter Any: %v", err)
	}

	// If-Match (facts §2): stale → 412 ErrorIrresolvableConflict.
	etag := *got.GetAdditionalData()["@odata.etag"].(*string)
	h := abs.NewRequestHeaders()
	h.Add("If-Match", etag)
	patch := models.NewEvent()
	patch.SetSubject(ptr("sdk 2"))
	if _, err := me.Events().ByEventId(id).Patch(ctx, patch, &users.ItemEventsEventItemRequestBuilderPatchRequestConfiguration{Headers: h}); err != nil {
		t.Fatalf("patch: %v", err)
	}
	_, err = me.Events().ByEventId(id).Patch(ctx, patch, &users.ItemEventsEventItemRequestBuilderPatchRequestConfiguration{Headers: h})
	if st, code := odataCode(t, err); st != 412 || code != "ErrorIrresolvableConflict" {
		t.Errorf("stale If-Match: %d %s", st, code)
	}

	// calendarView and delta (facts §1).
	win := &users.ItemCalendarViewRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-01-01T00:00:00Z"), EndDateTime: ptr("2025-02-01T00:00:00Z")}
	view, err := me.CalendarView().Get(ctx, &users.ItemCalendarViewRequestBuilderGetRequestConfiguration{QueryParameters: win})
	if err != nil || len(view.GetValue()) != 2 {
		t.Fatalf("calendarView: %v", err)
	}
	ph := abs.NewRequestHeaders()
	ph.Add("Prefer", "odata.maxpagesize=1")
	ph.Add("Prefer", `IdType="ImmutableId"`)
	dcfg := &users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{Headers: ph,
		QueryParameters: &users.ItemCalendarViewDeltaRequestBuilderGetQueryParameters{StartDateTime: win.StartDateTime, EndDateTime: win.EndDateTime}}
	page, err := me.CalendarView().Delta().GetAsDeltaGetResponse(ctx, dcfg)
	if err != nil || page.GetOdataNextLink() == nil || len(page.GetValue()) != 1 {
		t.Fatalf("delta first page: %v", err)
	}
	seen := len(page.GetValue())
	for page.GetOdataNextLink() != nil {
		page, err = me.CalendarView().Delta().WithUrl(*page.GetOdataNextLink()).GetAsDeltaGetResponse(ctx, &users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{Headers: ph})
		if err != nil {
			t.Fatalf("delta page: %v", err)
		}
		seen += len(page.GetValue())
	}
	if seen != 2 || page.GetOdataDeltaLink() == nil {
		t.Fatalf("delta round: %d items", seen)
	}
	if err := me.Events().ByEventId(id).Delete(ctx, nil); err != nil {
		t.Fatalf("delete: %v", err)
	}
	page, err = me.CalendarView().Delta().WithUrl(*page.GetOdataDeltaLink()).GetAsDeltaGetResponse(ctx, &users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{Headers: ph})
	if err != nil || len(page.GetValue()) != 1 || page.GetValue()[0].GetAdditionalData()["@removed"] == nil {
		t.Fatalf("delta @removed: %v", err)
	}
	if !strings.HasPrefix(*page.GetValue()[0].GetId(), "AAkA") {
		t.Errorf("ImmutableId not applied: %s", *page.GetValue()[0].GetId())
	}
	dl := *page.GetOdataDeltaLink()
	e.sim.ForceSyncReset(upn)
	_, err = me.CalendarView().Delta().WithUrl(dl).GetAsDeltaGetResponse(ctx, nil)
	var oe *odataerrors.ODataError
	if !errors.As(err, &oe) || oe.ResponseStatusCode != 410 || len(oe.GetResponseHeaders().Get("Location")) != 1 {
		t.Errorf("sync reset: %v", err)
	}
	_, err = me.CalendarView().Delta().GetAsDeltaGetResponse(ctx, nil)
	if st, code := odataCode(t, err); st != 400 || code != "ErrorInvalidParameter" {
		t.Errorf("delta without window: %d %s", st, code)
	}
	if u := e.sim.Unimplemented(); len(u) != 0 {
		t.Errorf("SDK reached unimplemented routes: %v", u)
	}
}

// TestSDKRecurrence: series master, occurrences, instances, exception.
func TestSDKRecurrence(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	me := e.client.Me()
	ev := newEvent("weekly", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	pat := models.NewRecurrencePattern()
	pt := models.WEEKLY_RECURRENCEPATTERNTYPE
	pat.SetTypeEscaped(&pt)
	pat.SetInterval(ptr(int32(1)))
	pat.SetDaysOfWeek([]models.DayOfWeek{models.TUESDAY_DAYOFWEEK})
	rng := models.NewRecurrenceRange()
	rt := models.NUMBERED_RECURRENCERANGETYPE
	rng.SetTypeEscaped(&rt)
	rng.SetNumberOfOccurrences(ptr(int32(3)))
	sd, err := absser.ParseDateOnly("2025-01-07")
	if err != nil {
		t.Fatal(err)
	}
	rng.SetStartDate(sd)
	rec := models.NewPatternedRecurrence()
	rec.SetPattern(pat)
	rec.SetRangeEscaped(rng)
	ev.SetRecurrence(rec)
	m, err := me.Events().Post(ctx, ev, nil)
	if err != nil || *m.GetTypeEscaped() != models.SERIESMASTER_EVENTTYPE {
		t.Fatalf("post series: %v", err)
	}
	inst, err := me.Events().ByEventId(*m.GetId()).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-01-01T00:00:00Z"), EndDateTime: ptr("2025-02-01T00:00:00Z")}})
	if err != nil || len(inst.GetValue()) != 3 {
		t.Fatalf("instances: %v", err)
	}
	occ := *inst.GetValue()[1].GetId()
	patch := models.NewEvent()
	patch.SetSubject(ptr("moved"))
	ex, err := me.Events().ByEventId(occ).Patch(ctx, patch, nil)
	if err != nil || *ex.GetTypeEscaped() != models.EXCEPTION_EVENTTYPE || ex.GetOriginalStart() == nil {
		t.Fatalf("exception: %v", err)
	}
	if err := me.Events().ByEventId(*inst.GetValue()[2].GetId()).Delete(ctx, nil); err != nil {
		t.Fatalf("cancel occurrence: %v", err)
	}
}

// TestSDKBatch: facts §6 through msgraphcore's batch helper (lower-cased
// item headers, relative urls, per-item status).
func TestSDKBatch(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	e.sim.AddFault(graphsim.Fault{Method: "DELETE", Path: "/v1.0/me/events/*", Status: 429, Header: http.Header{"Retry-After": {"3"}}})
	batch := msgraphcore.NewBatchRequest(e.adapter)
	h := abs.NewRequestHeaders()
	h.Add("Prefer", `IdType="ImmutableId"`)
	post, _ := e.client.Me().Events().ToPostRequestInformation(ctx, newEvent("b", "2025-01-07T10:00:00", "2025-01-07T11:00:00"),
		&users.ItemEventsRequestBuilderPostRequestConfiguration{Headers: h})
	pi, err := batch.AddBatchRequestStep(*post)
	if err != nil {
		t.Fatal(err)
	}
	del, _ := e.client.Me().Events().ByEventId("AAMkRTAxMjM0NTY3ODlhYmNkZWY=").ToDeleteRequestInformation(ctx, nil)
	di, _ := batch.AddBatchRequestStep(*del)
	resp, err := batch.Send(ctx, e.adapter)
	if err != nil {
		t.Fatalf("batch: %v", err)
	}
	if st := *resp.GetResponseById(*pi.GetId()).GetStatus(); st != 201 {
		t.Errorf("post item: %d", st)
	}
	dr := resp.GetResponseById(*di.GetId())
	if *dr.GetStatus() != 429 || dr.GetHeaders()["Retry-After"] != "3" {
		t.Errorf("throttled item: %d %v", *dr.GetStatus(), dr.GetHeaders())
	}
	ev, err := msgraphcore.GetBatchResponseById[models.Eventable](resp, *pi.GetId(), models.CreateEventFromDiscriminatorValue)
	if err != nil || !strings.HasPrefix(*ev.GetId(), "AAkA") {
		t.Errorf("batch item body: %v", err)
	}
}
