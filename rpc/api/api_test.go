package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/oro-msync/oro-msync/schema"
	calsync "github.com/oro-msync/oro-msync/sync"
)

func handler(t *testing.T, name string) func(context.Context, json.RawMessage) (any, error) {
	t.Helper()
	for _, m := range Methods(Env{}) {
		if m.Name == name {
			return m.Handler
		}
	}
	t.Fatalf("no method %s", name)
	return nil
}

func TestDiscoverReturnsTheEmbeddedDocument(t *testing.T) {
	res, err := handler(t, "rpc.discover")(context.Background(), json.RawMessage(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := res.(json.RawMessage); !ok || !bytes.Equal(b, schema.OpenRPC) {
		t.Fatal("rpc.discover does not return schema.OpenRPC")
	}
}

// The handler re-checks values with the cascade's own rules, so a schema
// that drifted from sync/settings.go cannot let a bad value through.
func TestSettingsResolve(t *testing.T) {
	h := handler(t, "settings.resolve")
	res, err := h(context.Background(), json.RawMessage(`{"cascade":{"system":{"enabled":true},"user":{"direction":"oro_to_microsoft"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	r := res.(calsync.Resolved)
	if !r.Effective.Enabled || r.Effective.Direction != calsync.DirectionOroToMicrosoft || r.Effective.ConflictResolution != nil {
		t.Fatalf("got %+v", r.Effective)
	}
	_, err = h(context.Background(), json.RawMessage(`{"cascade":{"user":{"syncIntervalMinutes":5000}}}`))
	var e *calsync.Error
	if !errors.As(err, &e) || e.Kind != calsync.KindInvalidInput || e.Field != "cascade.user.syncIntervalMinutes" {
		t.Fatalf("got %v", err)
	}
}
