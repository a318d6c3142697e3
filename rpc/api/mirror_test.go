package api

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/schema"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// jsonFields lists the JSON member names of a struct type, following
// embedded structs the way encoding/json does.
func jsonFields(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			names = append(names, jsonFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// The wire types are Go structs mirrored by hand in schema/openrpc.json;
// every member the code sends or reads must be described there, so a new
// field cannot slip past the schema (and past hosts that read it).
func TestSchemaDescribesEveryWireField(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]json.RawMessage `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(schema.OpenRPC, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		schema string
		typ    any
	}{
		{"SyncWindow", calsync.Window{}},
		{"SyncEvent", calsync.Event{}},
		{"SyncState", calsync.State{}},
		{"SyncLink", calsync.Link{}},
		{"SyncOptions", calsync.Options{}},
		{"SyncOperation", calsync.Operation{}},
		{"Reminder", calsync.Reminder{}},
		{"Attendee", calsync.Attendee{}},
		{"Recurrence", calsync.Recurrence{}},
		{"ReminderInterval", calsync.ReminderInterval{}},
		{"ReminderChange", calsync.ReminderChange{}},
		{"SyncIssue", calsync.Issue{}},
		{"SyncStats", calsync.Stats{}},
		{"SyncRunResult", SyncRunResult{}},
		{"Tokens", graphclient.Tokens{}},
		{"App", graphclient.App{}},
		{"Account", graphclient.Account{}},
		{"Calendar", graphclient.Calendar{}},
		{"ExchangeCodeResult", ExchangeCodeResult{}},
		{"ConnectionCheckResult", CheckResult{}},
		{"ScopeSettings", calsync.ScopeSettings{}},
		{"Cascade", calsync.Cascade{}},
		{"ResolvedSettings", calsync.Resolved{}},
		{"SubscriptionRecord", SubscriptionRecord{}},
		{"SubscriptionEnsureResult", SubscriptionEnsureResult{}},
		{"SubscriptionRemoveResult", SubscriptionRemoveResult{}},
		{"NotificationSubscription", NotificationSubscription{}},
		{"NotificationVerifyResult", NotificationVerifyResult{}},
	} {
		s, ok := doc.Components.Schemas[c.schema]
		if !ok {
			t.Errorf("components.schemas has no %s", c.schema)
			continue
		}
		for _, f := range jsonFields(reflect.TypeOf(c.typ)) {
			if _, ok := s.Properties[f]; !ok {
				t.Errorf("%s: the Go type sends %q but the schema does not describe it", c.schema, f)
			}
		}
	}
}

// The reason enum a host branches on must list exactly the Reason constants
// the engine declares (sync/types.go), so a new reason cannot reach hosts
// undocumented, and a documented one cannot linger after it is gone.
func TestSchemaListsEveryReason(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "../../sync/types.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	ast.Inspect(f, func(n ast.Node) bool {
		vs, ok := n.(*ast.ValueSpec)
		if !ok || len(vs.Values) != 1 {
			return true
		}
		if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "Reason" {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				s, _ := strconv.Unquote(lit.Value)
				declared = append(declared, s)
			}
		}
		return true
	})
	sort.Strings(declared)
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]struct {
					Enum []string `json:"enum"`
				} `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(schema.OpenRPC, &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"SyncOperation", "SyncIssue"} {
		got := slices.Sorted(slices.Values(doc.Components.Schemas[s].Properties["reason"].Enum))
		if !slices.Equal(got, declared) {
			t.Errorf("%s.reason enum = %v\nsync/types.go declares %v", s, got, declared)
		}
	}
	for _, r := range doc.Components.Schemas["SyncRunResult"].Properties["reason"].Enum {
		if !slices.Contains(declared, r) {
			t.Errorf("SyncRunResult.reason lists %q, which sync/types.go does not declare", r)
		}
	}
}
