package api

import (
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

// rpc.Serve builds the params validator when first needed, so it cannot
// refuse at start a method that the document lacks: this test does.
func TestMethodsAreDescribed(t *testing.T) {
	v, err := schema.NewValidator(schema.OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range Methods(Env{}) {
		if !v.Has(m.Name) {
			t.Errorf("method %s is not described in schema/openrpc.json", m.Name)
		}
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
