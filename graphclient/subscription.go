package graphclient

import (
	"context"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
)

// Change-notification subscriptions on the signed-in user's events (facts
// §8, semantics §1.6). The session's Prefer IdType="ImmutableId" makes the
// notifications carry immutable ids, the ones sync links hold.

const (
	// SubscriptionLifetime is the longest lifetime Graph allows an Outlook
	// event subscription without resource data: 10,080 minutes.
	SubscriptionLifetime = 10080 * time.Minute
	// subscriptionSlack keeps the asked expiry inside the limit when the
	// sidecar's clock runs ahead of Microsoft's.
	subscriptionSlack = 5 * time.Minute
	// SubscriptionChangeTypes are the changes the sync needs to hear of.
	SubscriptionChangeTypes = "created,updated,deleted"
)

// SubscriptionExpiry is the expirationDateTime to ask for at now: the
// longest lifetime, less a margin for clock skew.
func SubscriptionExpiry(now time.Time) time.Time {
	return now.Add(SubscriptionLifetime - subscriptionSlack).UTC().Truncate(time.Second)
}

// CreatedSubscription is what Graph answered to a create or a renewal.
type CreatedSubscription struct {
	ID        string
	ExpiresAt time.Time
}

// CreateSubscription subscribes notificationURL (and lifecycleURL, when not
// empty) to the user's events with clientState. Graph validates the URLs
// before it answers, so the host's endpoint must already answer the
// validation handshake.
func (s *Session) CreateSubscription(ctx context.Context, notificationURL, lifecycleURL, clientState string, expires time.Time) (CreatedSubscription, error) {
	body := models.NewSubscription()
	ct, res := SubscriptionChangeTypes, "/me/events"
	body.SetChangeType(&ct)
	body.SetResource(&res)
	body.SetNotificationUrl(&notificationURL)
	if lifecycleURL != "" {
		body.SetLifecycleNotificationUrl(&lifecycleURL)
	}
	body.SetClientState(&clientState)
	body.SetExpirationDateTime(&expires)
	out, err := s.client.Subscriptions().Post(ctx, body, nil)
	if err != nil {
		return CreatedSubscription{}, withOp(ClassifyRead(err), "graph.createSubscription")
	}
	return subscriptionAnswer(out, expires, "graph.createSubscription")
}

// RenewSubscription moves the expiry of subscription id. A subscription
// Graph no longer knows answers KindNotFound.
func (s *Session) RenewSubscription(ctx context.Context, id string, expires time.Time) (CreatedSubscription, error) {
	body := models.NewSubscription()
	body.SetExpirationDateTime(&expires)
	out, err := s.client.Subscriptions().BySubscriptionId(id).Patch(ctx, body, nil)
	if err != nil {
		return CreatedSubscription{}, withOp(ClassifyRead(err), "graph.renewSubscription")
	}
	return subscriptionAnswer(out, expires, "graph.renewSubscription")
}

// DeleteSubscription deletes subscription id. A subscription Graph no
// longer knows answers KindNotFound.
func (s *Session) DeleteSubscription(ctx context.Context, id string) error {
	if err := s.client.Subscriptions().BySubscriptionId(id).Delete(ctx, nil); err != nil {
		return withOp(Classify(err), "graph.deleteSubscription")
	}
	return nil
}

// subscriptionAnswer reads Graph's answer; the expiry it states wins over
// the one asked for (Graph raises one under 45 minutes).
func subscriptionAnswer(out models.Subscriptionable, asked time.Time, op string) (CreatedSubscription, error) {
	if out == nil || deref(out.GetId()) == "" {
		return CreatedSubscription{}, EmptyAnswer(op)
	}
	c := CreatedSubscription{ID: deref(out.GetId()), ExpiresAt: asked}
	if e := out.GetExpirationDateTime(); e != nil {
		c.ExpiresAt = e.UTC()
	}
	return c, nil
}
