package api

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// note is one changeNotification as Graph sends it.
func note(sub, cs, changeType, event, etag string) map[string]any {
	res := "Users/u1/Events/" + event
	return map[string]any{"subscriptionId": sub, "clientState": cs, "changeType": changeType, "resource": res, "tenantId": "t",
		"subscriptionExpirationDateTime": "2026-03-08T09:55:00.0000000Z",
		"resourceData":                   map[string]any{"@odata.type": "#Microsoft.Graph.Event", "@odata.id": res, "@odata.etag": etag, "id": event}}
}

func verifyCall(t *testing.T, body any, recent []string) (NotificationVerifyResult, error) {
	t.Helper()
	raw, ok := body.(string)
	if !ok {
		b, _ := json.Marshal(body)
		raw = string(b)
	}
	p, _ := json.Marshal(NotificationVerifyParams{Body: raw, RecentKeys: recent, Subscriptions: []NotificationSubscription{
		{ID: "s1", ClientState: "secret-1", User: "42"}, {ID: "s2", ClientState: "secret-2", User: "43"}}})
	out, err := notificationVerify(context.Background(), p)
	if err != nil {
		return NotificationVerifyResult{}, err
	}
	return out.(NotificationVerifyResult), nil
}

func TestNotificationVerify(t *testing.T) {
	body := map[string]any{"value": []any{
		note("s1", "secret-1", "updated", "e1", `W/"a"`),
		note("s1", "secret-1", "updated", "e1", `W/"a"`), // the same change again
		note("s1", "secret-1", "updated", "e2", `W/"b"`),
		note("s2", "forged", "created", "e3", `W/"c"`),
		note("s9", "secret-1", "deleted", "e4", `W/"d"`),
		map[string]any{"subscriptionId": "s2", "clientState": "secret-2", "lifecycleEvent": "missed", "subscriptionExpirationDateTime": "2026-03-08T09:55:00Z", "tenantId": "t"},
	}}
	res, err := verifyCall(t, body, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := NotificationVerifyResult{
		Sync:      []UserToSync{{User: "42", SubscriptionID: "s1", Changes: 2}},
		Lifecycle: []LifecycleAction{{User: "43", SubscriptionID: "s2", Event: "missed", Action: ActionFullSync}},
		Keys:      res.Keys,
		Ignored:   IgnoredCounts{Duplicate: 1, UnknownSubscription: 1, ClientStateMismatch: 1},
	}
	if !reflect.DeepEqual(res, want) || len(res.Keys) != 3 {
		t.Fatalf("got %+v\nwant %+v", res, want)
	}
	// the same body again, with the keys kept: a replay, nothing to do
	again, err := verifyCall(t, body, res.Keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Sync) != 0 || len(again.Lifecycle) != 0 || again.Ignored.Replayed != 4 { // the duplicate in it too
		t.Fatalf("replay: %+v", again)
	}
}

func TestNotificationVerifyRefusesOtherShapes(t *testing.T) {
	for name, body := range map[string]any{
		"not JSON":          "<xml/>",
		"no value":          map[string]any{"items": []any{}},
		"empty value":       map[string]any{"value": []any{}},
		"no subscriptionId": map[string]any{"value": []any{map[string]any{"changeType": "updated", "resource": "x"}}},
		"bad changeType":    map[string]any{"value": []any{note("s1", "secret-1", "moved", "e1", "x")}},
		"bad lifecycle":     map[string]any{"value": []any{map[string]any{"subscriptionId": "s1", "lifecycleEvent": "secret-1"}}},
		"value not array":   map[string]any{"value": "secret-1"},
	} {
		_, err := verifyCall(t, body, nil)
		e := calsync.AsError(err)
		if e == nil || e.Kind != calsync.KindInvalidInput || e.Field != "body" || e.Err != nil || strings.Contains(e.Message, "secret") ||
			e.Message != "is not a Microsoft Graph change notification" {
			t.Errorf("%s: %#v", name, e)
		}
	}
}
