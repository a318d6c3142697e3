package graphsim_test

// Table tests for the facts of calendar-semantics.md (cited as "semantics
// §n"), driven through msgraph-sdk-go's request builders.

import (
	"context"
	"strings"
	"testing"

	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// TestRoutesCatchAll: semantics Part 4 #4 and issue 9 item 7 — every route
// is in one table; anything else is a loud 400 recorded as unimplemented,
// and a $select name that is not an event property is a 400, never dropped.
func TestRoutesCatchAll(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	me := e.client.Me()
	created, err := me.Events().Post(ctx, newEvent("s", "2025-01-07T10:00:00", "2025-01-07T11:00:00"), nil)
	if err != nil {
		t.Fatal(err)
	}
	id := *created.GetId()
	get := func(sel ...string) error {
		_, err := me.Events().ByEventId(id).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemEventsEventItemRequestBuilderGetQueryParameters{Select: sel}})
		return err
	}
	cases := []struct {
		name       string
		call       func() error
		status     int
		code       string
		unimplSeen string // "" when the request is modelled
	}{
		{"unknown segment (Part 4, catch-all)", func() error { _, err := me.MailFolders().Get(ctx, nil); return err }, 400, "BadRequest", "mailFolders"},
		{"unknown segment below events", func() error { _, err := me.Events().ByEventId(id).Attachments().Get(ctx, nil); return err }, 400, "BadRequest", "attachments"},
		{"unknown $select name (§1.2.3)", func() error { return get("subject", "noSuchProperty") }, 400, "BadRequest", ""},
		{"$select of an unmodelled property", func() error { return get("attachments") }, 400, "BadRequest", "attachments"},
		{"known $select names", func() error { return get("subject", "cancelledOccurrences", "occurrenceId") }, 0, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.sim.ResetLog()
			err := tc.call()
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if st, code := odataCode(t, err); st != tc.status || code != tc.code {
				t.Errorf("got %d %s, want %d %s", st, code, tc.status, tc.code)
			}
			u := e.sim.Unimplemented()
			switch {
			case tc.unimplSeen == "" && len(u) != 0:
				t.Errorf("recorded as unimplemented: %v", u)
			case tc.unimplSeen != "" && (len(u) != 1 || !strings.Contains(u[0], tc.unimplSeen)):
				t.Errorf("unimplemented = %v, want one naming %s", u, tc.unimplSeen)
			}
		})
	}
}
