package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Change notifications (facts §8, semantics §1.6): POST/GET/PATCH/DELETE
// /subscriptions on the caller's events, the validation handshake, and
// notifications sent to the subscriber's URL when the mailbox changes.
//
// notificationUrl must be https, as Graph requires, except for http on
// localhost and 127.0.0.1: a test's listener has no certificate, and Graph
// would refuse it, so a host must never rely on this.

// Subscription limits (facts §8).
const (
	// MaxSubscriptionLifetime is the longest lifetime of an Outlook event
	// subscription without resource data: 10,080 minutes.
	MaxSubscriptionLifetime = 10080 * time.Minute
	// MinSubscriptionLifetime: a nearer expirationDateTime is raised to it.
	MinSubscriptionLifetime = 45 * time.Minute
	// validationTimeout is how long the endpoint has to echo validationToken.
	validationTimeout = 10 * time.Second
	maxClientState    = 128
)

// Lifecycle events a subscriber's lifecycleNotificationUrl receives.
const (
	LifecycleReauthorizationRequired = "reauthorizationRequired"
	LifecycleSubscriptionRemoved     = "subscriptionRemoved"
	LifecycleMissed                  = "missed"
)

// NotificationSettings shape the notifications the simulator sends. The
// zero value sends each change once, at once.
type NotificationSettings struct {
	// Drop throws away the next Drop notification POSTs.
	Drop int `json:"drop"`
	// Delay holds every notification POST this long (real time).
	Delay time.Duration `json:"-"`
	// Duplicate sends every notification twice in its POST (same id), as a
	// retried delivery would.
	Duplicate bool `json:"duplicate"`
	// UpdatedRepeats is how many `updated` notifications one update fires
	// (facts §8: several, e.g. 3). 0 means 1.
	UpdatedRepeats int `json:"updatedRepeats"`
}

type subscription struct {
	id, clientID, clientState string
	u                         *user
	changeTypes               []string
	changeType                string
	resource                  string
	notificationURL           string
	lifecycleURL              string
	expires                   time.Time
	immutable                 bool
}

// pushState is the simulator's subscriptions; guarded by Sim.mu.
type pushState struct {
	subs     map[string]*subscription
	settings NotificationSettings
	pending  []pendingChange
	sent     int
	inFlight sync.WaitGroup // one per flush not yet posted
}

type pendingChange struct {
	mb         *mailbox
	key        string
	changeType string
	etag       string
}

// changed queues the notifications of a change of e in mb; it needs s.mu.
// An exception deleted with its occurrence is reported by the master's
// `updated` alone, as Graph does (facts §8, docs#5520).
func (s *Sim) changed(mb *mailbox, e *event, created bool) {
	if len(s.push.subs) == 0 {
		return
	}
	ct := "updated"
	switch {
	case e.deleted && e.typ == "exception":
		return
	case e.deleted:
		ct = "deleted"
	case created:
		ct = "created"
	}
	s.push.pending = append(s.push.pending, pendingChange{mb: mb, key: e.key, changeType: ct, etag: e.etag()})
	// The flush waits for s.mu, so it sees every change of the operation
	// that holds it now.
	s.push.inFlight.Add(1)
	go s.flushNotifications()
}

// notificationPost is one POST to a subscriber.
type notificationPost struct {
	url  string
	body []byte
}

func (s *Sim) flushNotifications() {
	defer s.push.inFlight.Done()
	s.mu.Lock()
	pending := s.push.pending
	s.push.pending = nil
	now := s.now()
	var posts []notificationPost
	for _, p := range pending {
		for _, sub := range s.push.subs {
			if sub.u.mb != p.mb || !now.Before(sub.expires) || !slices.Contains(sub.changeTypes, p.changeType) {
				continue
			}
			n := 1
			if p.changeType == "updated" && s.push.settings.UpdatedRepeats > 1 {
				n = s.push.settings.UpdatedRepeats
			}
			var items []any
			for range n {
				item := s.notificationItem(sub, p)
				items = append(items, item)
				if s.push.settings.Duplicate {
					items = append(items, item)
				}
			}
			b, _ := json.Marshal(map[string]any{"value": items})
			posts = append(posts, notificationPost{url: sub.notificationURL, body: b})
		}
	}
	var keep []notificationPost
	for _, p := range posts {
		if s.push.settings.Drop > 0 {
			s.push.settings.Drop--
			s.opts.Logf("graphsim: notification to %s dropped", p.url)
			continue
		}
		keep = append(keep, p)
	}
	s.push.sent += len(keep)
	delay := s.push.settings.Delay
	s.mu.Unlock()
	time.Sleep(delay)
	for _, p := range keep {
		s.post(p.url, "application/json", p.body)
	}
}

// notificationItem is one changeNotification; it needs s.mu.
func (s *Sim) notificationItem(sub *subscription, p pendingChange) map[string]any {
	id := formatID(p.key, sub.immutable)
	res := "Users/" + sub.u.id + "/Events/" + id
	return map[string]any{
		"id":                             s.guid(),
		"subscriptionId":                 sub.id,
		"subscriptionExpirationDateTime": sub.expires.Format("2006-01-02T15:04:05.0000000Z07:00"),
		"clientState":                    nullable(sub.clientState),
		"changeType":                     p.changeType,
		"resource":                       res,
		"tenantId":                       sub.u.TenantID,
		"resourceData": map[string]any{
			"@odata.type": "#Microsoft.Graph.Event",
			"@odata.id":   res,
			"@odata.etag": p.etag,
			"id":          id,
		},
	}
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// post delivers one notification; the subscriber's answer is not Graph's
// concern beyond its status, which the simulator does not retry.
func (s *Sim) post(u, contentType string, body []byte) {
	client := &http.Client{Timeout: validationTimeout}
	resp, err := client.Post(u, contentType, bytes.NewReader(body))
	if err != nil {
		s.opts.Logf("graphsim: notification to %s failed: %v", u, err)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// SetNotifications replaces the notification settings.
func (s *Sim) SetNotifications(n NotificationSettings) {
	s.mu.Lock()
	s.push.settings = n
	s.mu.Unlock()
}

// WaitNotifications returns once every notification of the changes made
// so far has been posted (and answered) or dropped, so a test can take the
// next step without guessing how long delivery takes. Changes made while
// it waits may or may not be waited for.
func (s *Sim) WaitNotifications() { s.push.inFlight.Wait() }

// NotificationsSent is how many notification POSTs were sent (not dropped).
func (s *Sim) NotificationsSent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.push.sent
}

// Lifecycle sends a lifecycle event for subscription id to its
// lifecycleNotificationUrl (or, without one, nothing). subscriptionRemoved
// also removes the subscription, as Graph has.
func (s *Sim) Lifecycle(id, event string) error {
	switch event {
	case LifecycleReauthorizationRequired, LifecycleSubscriptionRemoved, LifecycleMissed:
	default:
		return fmt.Errorf("graphsim: unknown lifecycle event %q", event)
	}
	s.mu.Lock()
	sub, ok := s.push.subs[id]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("%w: subscription %q", ErrNotFound, id)
	}
	if event == LifecycleSubscriptionRemoved {
		delete(s.push.subs, id)
	}
	b, _ := json.Marshal(map[string]any{"value": []any{map[string]any{
		"subscriptionId":                 sub.id,
		"subscriptionExpirationDateTime": sub.expires.Format("2006-01-02T15:04:05.0000000Z07:00"),
		"tenantId":                       sub.u.TenantID,
		"clientState":                    nullable(sub.clientState),
		"lifecycleEvent":                 event,
	}}})
	target := sub.lifecycleURL
	s.mu.Unlock()
	if target != "" {
		s.post(target, "application/json", b)
	}
	return nil
}

// SubscriptionInfo is a subscription as the control API lists it.
type SubscriptionInfo struct {
	ID              string    `json:"id"`
	UPN             string    `json:"upn"`
	NotificationURL string    `json:"notificationUrl"`
	LifecycleURL    string    `json:"lifecycleNotificationUrl,omitempty"`
	Expires         time.Time `json:"expirationDateTime"`
}

// Subscriptions lists the live subscriptions.
func (s *Sim) Subscriptions() []SubscriptionInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var out []SubscriptionInfo
	for _, sub := range s.push.subs {
		if now.Before(sub.expires) {
			out = append(out, SubscriptionInfo{ID: sub.id, UPN: sub.u.UPN, NotificationURL: sub.notificationURL, LifecycleURL: sub.lifecycleURL, Expires: sub.expires})
		}
	}
	slices.SortFunc(out, func(a, b SubscriptionInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// ---- Graph routes ----

func (s *Sim) subscriptionJSON(sub *subscription) map[string]any {
	return map[string]any{
		"@odata.context":            "https://graph.microsoft.com/v1.0/$metadata#subscriptions/$entity",
		"id":                        sub.id,
		"resource":                  sub.resource,
		"applicationId":             sub.clientID,
		"changeType":                sub.changeType,
		"clientState":               nullable(sub.clientState),
		"notificationUrl":           sub.notificationURL,
		"lifecycleNotificationUrl":  nullable(sub.lifecycleURL),
		"expirationDateTime":        sub.expires.Format("2006-01-02T15:04:05Z"),
		"creatorId":                 sub.u.id,
		"includeResourceData":       false,
		"latestSupportedTlsVersion": "v1_2",
		"encryptionCertificate":     nil,
		"encryptionCertificateId":   nil,
		"notificationQueryOptions":  nil,
		"notificationUrlAppId":      nil,
	}
}

// liveSubscription finds id for the caller's app; expired ones are gone.
// It needs s.mu.
func (s *Sim) liveSubscription(c *gctx, id string) (*subscription, bool) {
	sub, ok := s.push.subs[id]
	if ok && !s.now().Before(sub.expires) {
		delete(s.push.subs, id)
		ok = false
	}
	if !ok || sub.clientID != c.tok.clientID {
		return nil, false
	}
	return sub, true
}

// underSubscription runs fn under the lock on the caller's live
// subscription id; when there is none it answers 404 and reports false.
func (s *Sim) underSubscription(c *gctx, id string, fn func(*subscription)) bool {
	s.mu.Lock()
	sub, ok := s.liveSubscription(c, id)
	if ok {
		fn(sub)
	}
	s.mu.Unlock()
	if !ok {
		c.subscriptionNotFound(id)
	}
	return ok
}

func (c *gctx) subscriptionNotFound(id string) {
	c.fail(404, "ResourceNotFound", fmt.Sprintf("The object was not found. Subscription '%s' does not exist.", id))
}

// expiration parses expirationDateTime and applies the limits: in the past
// is refused, past the maximum is refused, under 45 minutes is raised.
func (s *Sim) expiration(c *gctx, v any) (time.Time, bool) {
	str, _ := v.(string)
	t, err := time.Parse(time.RFC3339Nano, str)
	if err != nil {
		c.fail(400, "InvalidRequest", "expirationDateTime is required and must be an ISO 8601 date-time.")
		return time.Time{}, false
	}
	now := s.Now()
	switch {
	case !t.After(now):
		c.fail(400, "InvalidRequest", "Subscription expiration must be in the future.")
		return time.Time{}, false
	case t.Sub(now) > MaxSubscriptionLifetime:
		c.fail(400, "InvalidRequest", fmt.Sprintf("Subscription expiration can only be %d minutes in the future.", int(MaxSubscriptionLifetime/time.Minute)))
		return time.Time{}, false
	case t.Sub(now) < MinSubscriptionLifetime:
		t = now.Add(MinSubscriptionLifetime)
	}
	return t.UTC().Truncate(time.Second), true
}

func notificationURLAllowed(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return false
	}
	host := u.Hostname()
	return u.Scheme == "https" || (u.Scheme == "http" && (host == "localhost" || host == "127.0.0.1"))
}

// validate is the handshake: Graph POSTs ?validationToken= and wants it back
// URL-decoded, as text/plain, with 200, within 10 seconds (facts §8).
func (s *Sim) validate(c *gctx, target string) bool {
	s.mu.Lock()
	token := "Validation: Testing client application reachability for subscription Request-Id: " + s.guid()
	s.mu.Unlock()
	u, _ := url.Parse(target)
	q := u.Query()
	q.Set("validationToken", token)
	u.RawQuery = q.Encode()
	client := &http.Client{Timeout: validationTimeout}
	resp, err := client.Post(u.String(), "text/plain; charset=utf-8", nil)
	if err != nil {
		if e, ok := err.(interface{ Timeout() bool }); ok && e.Timeout() {
			c.fail(400, "InvalidRequest", "Subscription validation request timed out.")
		} else {
			c.fail(400, "InvalidRequest", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.")
		}
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		c.fail(400, "InvalidRequest", "Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.")
		return false
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") || string(body) != token {
		c.fail(400, "InvalidRequest", "Subscription validation request failed. Response must exactly match validationToken query parameter.")
		return false
	}
	return true
}

// postSubscription is POST /subscriptions.
func (s *Sim) postSubscription(c *gctx) {
	if !c.need(readCal...) {
		return
	}
	body, ok := c.decodeObject()
	if !ok {
		return
	}
	str := func(k string) string { v, _ := body[k].(string); return v }
	for k := range body {
		switch {
		case strings.HasPrefix(k, "@odata."):
		case slices.Contains([]string{"changeType", "notificationUrl", "lifecycleNotificationUrl", "resource", "expirationDateTime", "clientState", "latestSupportedTlsVersion", "includeResourceData"}, k):
		default:
			c.fail(400, "InvalidRequest", fmt.Sprintf("The property '%s' does not exist on type 'microsoft.graph.subscription'.", k))
			return
		}
	}
	if inc, _ := body["includeResourceData"].(bool); inc {
		s.unimplemented(c.r, "includeResourceData")
		c.fail(400, "InvalidRequest", "includeResourceData requires an encryptionCertificate.")
		return
	}
	var types []string
	for _, t := range strings.Split(str("changeType"), ",") {
		t = strings.TrimSpace(t)
		if t != "created" && t != "updated" && t != "deleted" || slices.Contains(types, t) {
			c.fail(400, "InvalidRequest", fmt.Sprintf("Invalid 'changeType' attribute: '%s'.", str("changeType")))
			return
		}
		types = append(types, t)
	}
	res := strings.TrimPrefix(str("resource"), "/")
	s.mu.Lock()
	ownRes := strings.EqualFold(res, "me/events") || strings.EqualFold(res, "users/"+c.u.id+"/events") || strings.EqualFold(res, "users/"+c.u.UPN+"/events")
	s.mu.Unlock()
	if !ownRes {
		c.fail(400, "InvalidRequest", fmt.Sprintf("Resource '%s' is not supported.", str("resource")))
		return
	}
	if len([]rune(str("clientState"))) > maxClientState {
		c.fail(400, "InvalidRequest", "clientState must be at most 128 characters.")
		return
	}
	for _, k := range []string{"notificationUrl", "lifecycleNotificationUrl"} {
		if v := str(k); (v != "" || k == "notificationUrl") && !notificationURLAllowed(v) {
			c.fail(400, "InvalidRequest", fmt.Sprintf("Invalid %s: it must be an https URL.", k))
			return
		}
	}
	exp, ok := s.expiration(c, body["expirationDateTime"])
	if !ok {
		return
	}
	if !s.validate(c, str("notificationUrl")) {
		return
	}
	if l := str("lifecycleNotificationUrl"); l != "" && !s.validate(c, l) {
		return
	}
	s.mu.Lock()
	sub := &subscription{
		id: s.guid(), clientID: c.tok.clientID, clientState: str("clientState"), u: c.u,
		changeTypes: types, changeType: strings.Join(types, ","), resource: str("resource"),
		notificationURL: str("notificationUrl"), lifecycleURL: str("lifecycleNotificationUrl"),
		expires: exp, immutable: strings.EqualFold(c.prefer["idtype"], "ImmutableId"),
	}
	if s.push.subs == nil {
		s.push.subs = map[string]*subscription{}
	}
	s.push.subs[sub.id] = sub
	out := s.subscriptionJSON(sub)
	s.mu.Unlock()
	c.ok(201, out)
}

func (s *Sim) getSubscription(c *gctx, id string) {
	var out map[string]any
	if !s.underSubscription(c, id, func(sub *subscription) { out = s.subscriptionJSON(sub) }) {
		return
	}
	c.ok(200, out)
}

// patchSubscription renews: only expirationDateTime may change here.
func (s *Sim) patchSubscription(c *gctx, id string) {
	body, ok := c.decodeObject()
	if !ok {
		return
	}
	for k := range body {
		if k != "expirationDateTime" {
			s.unimplemented(c.r, "PATCH subscription "+k)
			c.fail(400, "InvalidRequest", fmt.Sprintf("Property '%s' cannot be updated.", k))
			return
		}
	}
	if !s.underSubscription(c, id, func(*subscription) {}) {
		return
	}
	exp, ok := s.expiration(c, body["expirationDateTime"])
	if !ok {
		return
	}
	var out map[string]any
	if !s.underSubscription(c, id, func(sub *subscription) {
		sub.expires = exp
		out = s.subscriptionJSON(sub)
	}) {
		return
	}
	c.ok(200, out)
}

func (s *Sim) deleteSubscription(c *gctx, id string) {
	if !s.underSubscription(c, id, func(*subscription) { delete(s.push.subs, id) }) {
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}
