package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/rs/zerolog"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/rpc"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// This file holds push: subscription.ensure, subscription.remove and
// notification.verify. The host keeps the endpoint and the records; the
// sidecar talks to Graph and judges what arrived. clientState is a shared
// secret: it is never logged nor put into an error message.

// SubscriptionRecord is what the host stores per user and sends back.
type SubscriptionRecord struct {
	ID          string    `json:"id"`
	ExpiresAt   time.Time `json:"expiresAt"`
	ClientState string    `json:"clientState"`
	// RenewAt is when the host should call subscription.ensure again: a
	// day before expiry, so a failed renewal has a day of retries.
	RenewAt time.Time `json:"renewAt"`
}

// renewBefore is how long before expiry a subscription is renewed.
const renewBefore = 24 * time.Hour

// SubscriptionEnsureParams are the params of subscription.ensure.
type SubscriptionEnsureParams struct {
	App                      graphclient.App     `json:"app"`
	Tokens                   graphclient.Tokens  `json:"tokens"`
	NotificationURL          string              `json:"notificationUrl"`
	LifecycleNotificationURL string              `json:"lifecycleNotificationUrl,omitempty"`
	Subscription             *SubscriptionRecord `json:"subscription,omitempty"`
}

// SubscriptionEnsureResult is the result of subscription.ensure.
type SubscriptionEnsureResult struct {
	Subscription SubscriptionRecord `json:"subscription"`
	// Created is true when a new subscription replaced (or was the first
	// for) the record: the host should run an incremental sync, since
	// changes between the old one's end and now were not notified.
	Created bool                `json:"created"`
	Tokens  *graphclient.Tokens `json:"tokens,omitempty"`
}

func checkEndpoint(field, raw string, required bool) error {
	if raw == "" && !required {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") {
		return calsync.Invalid(field, "must be an absolute https URL that Microsoft can reach")
	}
	return nil
}

// newClientState is 32 random bytes, base64url: 43 characters, inside
// Graph's 128.
func newClientState() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

func subscriptionEnsure(env Env) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, params json.RawMessage) (any, error) {
		var p SubscriptionEnsureParams
		if err := rpc.DecodeParams(params, &p); err != nil {
			return nil, err
		}
		if err := checkEndpoint("notificationUrl", p.NotificationURL, true); err != nil {
			return nil, err
		}
		if err := checkEndpoint("lifecycleNotificationUrl", p.LifecycleNotificationURL, false); err != nil {
			return nil, err
		}
		if p.Subscription != nil && p.Subscription.ID == "" {
			return nil, calsync.Invalid("subscription.id", "is required")
		}
		s, err := graphclient.NewSession(ctx, graphConfig(ctx, env), p.App, p.Tokens)
		if err != nil {
			return nil, err
		}
		res, err := ensure(ctx, env, s, p)
		if err != nil {
			return nil, withTokens(s, err)
		}
		res.Tokens = rotatedTokens(s)
		zerolog.Ctx(ctx).Info().Str("subscription_id", res.Subscription.ID).Bool("created", res.Created).
			Time("expires_at", res.Subscription.ExpiresAt).Msg("subscription ensured")
		return res, nil
	}
}

// ensure renews the record's subscription, or creates one when there is
// none, it has expired, or Graph no longer knows it.
func ensure(ctx context.Context, env Env, s *graphclient.Session, p SubscriptionEnsureParams) (SubscriptionEnsureResult, error) {
	now := clock(env)()
	expires := graphclient.SubscriptionExpiry(now)
	if rec := p.Subscription; rec != nil && rec.ExpiresAt.After(now) {
		got, err := s.RenewSubscription(ctx, rec.ID, expires)
		switch {
		case err == nil:
			return SubscriptionEnsureResult{Subscription: record(got, rec.ClientState)}, nil
		case calsync.KindOf(err) != calsync.KindNotFound:
			return SubscriptionEnsureResult{}, err
		}
		zerolog.Ctx(ctx).Info().Str("subscription_id", rec.ID).Msg("subscription unknown to Microsoft; creating a new one")
	}
	cs := newClientState()
	got, err := s.CreateSubscription(ctx, p.NotificationURL, p.LifecycleNotificationURL, cs, expires)
	if err != nil {
		return SubscriptionEnsureResult{}, handshakeHint(err)
	}
	return SubscriptionEnsureResult{Subscription: record(got, cs), Created: true}, nil
}

// handshakeHint explains a refused create. Everything else in the request
// is the sidecar's own doing, so Graph's 400 almost always means the
// validation handshake failed; the error keeps Microsoft's code and kind.
func handshakeHint(err error) error {
	e := calsync.AsError(err)
	if e.Kind != calsync.KindRejected {
		return err
	}
	hint := *e
	hint.Message = "Microsoft refused the subscription; check that notificationUrl and lifecycleNotificationUrl are public https URLs " +
		"that answer a POST with ?validationToken= within 10 seconds with 200, Content-Type text/plain and the token as the whole body"
	return &hint
}

func record(c graphclient.CreatedSubscription, clientState string) SubscriptionRecord {
	return SubscriptionRecord{ID: c.ID, ExpiresAt: c.ExpiresAt, ClientState: clientState, RenewAt: c.ExpiresAt.Add(-renewBefore)}
}

func clock(env Env) func() time.Time {
	if env.Now != nil {
		return env.Now
	}
	return time.Now
}

// SubscriptionRemoveParams are the params of subscription.remove.
type SubscriptionRemoveParams struct {
	App            graphclient.App    `json:"app"`
	Tokens         graphclient.Tokens `json:"tokens"`
	SubscriptionID string             `json:"subscriptionId"`
}

// SubscriptionRemoveResult is the result of subscription.remove.
type SubscriptionRemoveResult struct {
	// Removed is false when Microsoft no longer knew the subscription
	// (expired or removed): the outcome the host wanted all the same.
	Removed bool                `json:"removed"`
	Tokens  *graphclient.Tokens `json:"tokens,omitempty"`
}

func subscriptionRemove(env Env) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, params json.RawMessage) (any, error) {
		var p SubscriptionRemoveParams
		if err := rpc.DecodeParams(params, &p); err != nil {
			return nil, err
		}
		if p.SubscriptionID == "" {
			return nil, calsync.Invalid("subscriptionId", "is required")
		}
		s, err := graphclient.NewSession(ctx, graphConfig(ctx, env), p.App, p.Tokens)
		if err != nil {
			return nil, err
		}
		err = s.DeleteSubscription(ctx, p.SubscriptionID)
		if err != nil && calsync.KindOf(err) != calsync.KindNotFound {
			return nil, withTokens(s, err)
		}
		return SubscriptionRemoveResult{Removed: err == nil, Tokens: rotatedTokens(s)}, nil
	}
}

// NotificationSubscription is one record the host holds for an id in the
// body, with the host's own name for the user.
type NotificationSubscription struct {
	ID          string `json:"id"`
	ClientState string `json:"clientState"`
	User        string `json:"user"`
}

// NotificationVerifyParams are the params of notification.verify.
type NotificationVerifyParams struct {
	Body          string                     `json:"body"`
	Subscriptions []NotificationSubscription `json:"subscriptions"`
	// RecentKeys are the keys earlier calls returned, kept by the host for
	// as long as Graph retries a delivery (4 hours): a notification whose
	// key is among them is a replay and is ignored.
	RecentKeys []string `json:"recentKeys,omitempty"`
}

// Lifecycle actions the host takes.
const (
	ActionEnsure   = "ensure"    // reauthorizationRequired: subscription.ensure with the record
	ActionRecreate = "recreate"  // subscriptionRemoved: subscription.ensure without the record, then an incremental sync
	ActionFullSync = "full_sync" // missed: a sync.run in full mode
)

// NotificationVerifyResult is the result of notification.verify.
type NotificationVerifyResult struct {
	// Sync lists each user to sync now (an incremental sync.run), once.
	Sync      []UserToSync      `json:"sync"`
	Lifecycle []LifecycleAction `json:"lifecycle"`
	// Keys are the keys of the notifications accepted: keep them for 4
	// hours and send them back as recentKeys.
	Keys    []string      `json:"keys"`
	Ignored IgnoredCounts `json:"ignored"`
}

// UserToSync is one user whose events changed.
type UserToSync struct {
	User           string `json:"user"`
	SubscriptionID string `json:"subscriptionId"`
	Changes        int    `json:"changes"`
}

// LifecycleAction is what to do about one lifecycle notification.
type LifecycleAction struct {
	User           string `json:"user"`
	SubscriptionID string `json:"subscriptionId"`
	Event          string `json:"event"`
	Action         string `json:"action"`
}

// IgnoredCounts says how many notifications were dropped, and why.
type IgnoredCounts struct {
	Duplicate           int `json:"duplicate"`
	Replayed            int `json:"replayed"`
	UnknownSubscription int `json:"unknownSubscription"`
	ClientStateMismatch int `json:"clientStateMismatch"`
}

// graphNotification is the part of a changeNotification (or a lifecycle
// notification) the sidecar reads.
type graphNotification struct {
	ID             string `json:"id"`
	SubscriptionID string `json:"subscriptionId"`
	ClientState    string `json:"clientState"`
	ChangeType     string `json:"changeType"`
	Resource       string `json:"resource"`
	LifecycleEvent string `json:"lifecycleEvent"`
	Expiration     string `json:"subscriptionExpirationDateTime"`
	ResourceData   struct {
		ETag string `json:"@odata.etag"`
	} `json:"resourceData"`
}

// maxNotifications bounds one body; Graph sends far fewer.
const maxNotifications = 1000

// parseNotifications reads Graph's changeNotificationCollection. Whatever
// is wrong, the answer is the same: the body came from someone, and what
// the parser disliked is not theirs to learn.
func parseNotifications(body string) ([]graphNotification, error) {
	var c struct {
		Value []graphNotification `json:"value"`
	}
	refuse := calsync.Invalid("body", "is not a Microsoft Graph change notification")
	if err := json.Unmarshal([]byte(body), &c); err != nil || len(c.Value) == 0 || len(c.Value) > maxNotifications {
		return nil, refuse
	}
	for _, n := range c.Value {
		switch {
		case n.SubscriptionID == "":
			return nil, refuse
		case n.LifecycleEvent != "":
			if !slices.Contains([]string{"reauthorizationRequired", "subscriptionRemoved", "missed"}, n.LifecycleEvent) {
				return nil, refuse
			}
		case !slices.Contains([]string{"created", "updated", "deleted"}, n.ChangeType) || n.Resource == "":
			return nil, refuse
		}
	}
	return c.Value, nil
}

// key identifies a change, not a delivery: the several `updated` Graph
// sends for one change, and a retried delivery, share it (same resource,
// same etag), while a later change of the same event has a new etag.
func (n graphNotification) key() string {
	h := sha256.New()
	for _, part := range []string{n.SubscriptionID, n.ChangeType, n.LifecycleEvent, n.Resource, n.ResourceData.ETag, n.Expiration} {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	if n.ResourceData.ETag == "" && n.LifecycleEvent == "" {
		h.Write([]byte(n.ID))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

func notificationVerify(ctx context.Context, params json.RawMessage) (any, error) {
	var p NotificationVerifyParams
	if err := rpc.DecodeParams(params, &p); err != nil {
		return nil, err
	}
	records := map[string]NotificationSubscription{}
	for i, r := range p.Subscriptions {
		if r.ID == "" || r.ClientState == "" || r.User == "" {
			return nil, calsync.Invalid("subscriptions["+strconv.Itoa(i)+"]", "needs id, clientState and user")
		}
		records[r.ID] = r
	}
	ns, err := parseNotifications(p.Body)
	if err != nil {
		return nil, err
	}
	res := verify(ns, records, p.RecentKeys)
	ev := zerolog.Ctx(ctx).Info()
	if res.Ignored.ClientStateMismatch > 0 {
		ev = zerolog.Ctx(ctx).Warn()
	}
	ev.Int("notifications", len(ns)).Int("users", len(res.Sync)).Int("lifecycle", len(res.Lifecycle)).
		Int("duplicate", res.Ignored.Duplicate).Int("replayed", res.Ignored.Replayed).
		Int("unknown_subscription", res.Ignored.UnknownSubscription).Int("client_state_mismatch", res.Ignored.ClientStateMismatch).
		Msg("notifications verified")
	return res, nil
}

func verify(ns []graphNotification, records map[string]NotificationSubscription, recent []string) NotificationVerifyResult {
	out := NotificationVerifyResult{Sync: []UserToSync{}, Lifecycle: []LifecycleAction{}, Keys: []string{}}
	seen := map[string]bool{}
	for _, k := range recent {
		seen[k] = true
	}
	accepted := map[string]bool{}
	syncIdx := map[string]int{}
	for _, n := range ns {
		rec, ok := records[n.SubscriptionID]
		switch {
		case !ok:
			out.Ignored.UnknownSubscription++
			continue
		case subtle.ConstantTimeCompare([]byte(n.ClientState), []byte(rec.ClientState)) != 1:
			out.Ignored.ClientStateMismatch++
			continue
		}
		k := n.key()
		switch {
		case accepted[k]:
			out.Ignored.Duplicate++
			continue
		case seen[k]:
			out.Ignored.Replayed++
			continue
		}
		accepted[k] = true
		out.Keys = append(out.Keys, k)
		if n.LifecycleEvent != "" {
			action := map[string]string{"reauthorizationRequired": ActionEnsure, "subscriptionRemoved": ActionRecreate, "missed": ActionFullSync}[n.LifecycleEvent]
			out.Lifecycle = append(out.Lifecycle, LifecycleAction{User: rec.User, SubscriptionID: rec.ID, Event: n.LifecycleEvent, Action: action})
			continue
		}
		i, ok := syncIdx[rec.User]
		if !ok {
			i = len(out.Sync)
			syncIdx[rec.User] = i
			out.Sync = append(out.Sync, UserToSync{User: rec.User, SubscriptionID: rec.ID})
		}
		out.Sync[i].Changes++
	}
	return out
}
