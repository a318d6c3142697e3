package schema

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/oro-msync/oro-msync/schema/jsonscan"
)

func TestDocumentIsValidOpenRPC(t *testing.T) {
	c := newCompiler(OpenRPC)
	meta, err := c.Compile(metaSchemaURL)
	if err != nil {
		t.Fatalf("compiling the OpenRPC meta-schema offline: %v", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(OpenRPC))
	if err != nil {
		t.Fatal(err)
	}
	if err := meta.Validate(doc); err != nil {
		t.Fatalf("openrpc.json does not conform to the OpenRPC meta-schema:\n%v", err)
	}

	// The check must be able to fail: a document without info is refused.
	var broken map[string]any
	if err := json.Unmarshal(OpenRPC, &broken); err != nil {
		t.Fatal(err)
	}
	delete(broken, "info")
	if err := meta.Validate(broken); err == nil {
		t.Fatal("a document without info passed the meta-schema")
	}
}

func TestNoNetwork(t *testing.T) {
	c := newCompiler(OpenRPC)
	if _, err := c.Compile("https://example.com/schema.json"); err == nil {
		t.Fatal("the compiler loaded a URL that is not embedded")
	}
}

// Every schema under components.schemas compiles, as do the params and result
// of every method, and every method example's params pass and result conforms.
func TestSchemasAndExamples(t *testing.T) {
	var doc struct {
		Methods []struct {
			Name   string `json:"name"`
			Result struct {
				Schema json.RawMessage `json:"schema"`
			} `json:"result"`
			Examples []struct {
				Name   string `json:"name"`
				Params []struct {
					Name  string          `json:"name"`
					Value json.RawMessage `json:"value"`
				} `json:"params"`
				Result *struct {
					Value json.RawMessage `json:"value"`
				} `json:"result"`
			} `json:"examples"`
		} `json:"methods"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenRPC, &doc); err != nil {
		t.Fatal(err)
	}
	c := newCompiler(OpenRPC)
	for name := range doc.Components.Schemas {
		if _, err := c.Compile(documentURL + "#/components/schemas/" + name); err != nil {
			t.Errorf("components.schemas.%s: %v", name, err)
		}
	}
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range doc.Methods {
		if len(m.Examples) == 0 {
			t.Errorf("%s has no example", m.Name)
		}
		res, err := c.Compile(documentURL + "#/methods/" + itoa(i) + "/result/schema")
		if err != nil {
			t.Errorf("%s result schema: %v", m.Name, err)
			continue
		}
		for _, ex := range m.Examples {
			params := map[string]json.RawMessage{}
			for _, p := range ex.Params {
				params[p.Name] = p.Value
			}
			b, _ := json.Marshal(params)
			if _, err := v.Check(m.Name, b); err != nil {
				t.Errorf("%s example %q: params: %v", m.Name, ex.Name, err)
			}
			if ex.Result == nil || m.Name == "rpc.discover" { // the discover example is abridged
				continue
			}
			inst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(ex.Result.Value))
			if err := res.Validate(inst); err != nil {
				t.Errorf("%s example %q: result: %v", m.Name, ex.Name, err)
			}
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestCheckParams(t *testing.T) {
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, method, params string
		field, msg           string // expected *ParamError; both empty means valid
	}{
		{"full cascade", "settings.resolve", `{"cascade":{"system":{"enabled":true,"direction":"both","conflictResolution":"merge","syncIntervalMinutes":1},"organization":null,"user":{"direction":null}}}`, "", ""},
		{"empty cascade", "settings.resolve", `{"cascade":{}}`, "", ""},
		{"positional refused when by-name", "settings.resolve", `[{}]`, "", "params must be an object (by name)"},
		{"cascade missing", "settings.resolve", `{}`, "cascade", "missing"},
		{"params missing", "settings.resolve", ``, "cascade", "missing"},
		{"bad direction", "settings.resolve", `{"cascade":{"user":{"direction":"sideways"}}}`, "cascade.user.direction", "must be one of"},
		{"bad conflict", "settings.resolve", `{"cascade":{"organization":{"conflictResolution":"coin"}}}`, "cascade.organization.conflictResolution", "must be one of"},
		{"interval too small", "settings.resolve", `{"cascade":{"user":{"syncIntervalMinutes":0}}}`, "cascade.user.syncIntervalMinutes", "minimum"},
		{"interval too big", "settings.resolve", `{"cascade":{"user":{"syncIntervalMinutes":1441}}}`, "cascade.user.syncIntervalMinutes", "maximum"},
		{"interval fractional", "settings.resolve", `{"cascade":{"user":{"syncIntervalMinutes":1.5}}}`, "cascade.user.syncIntervalMinutes", "integer"},
		{"enabled as string", "settings.resolve", `{"cascade":{"system":{"enabled":"yes"}}}`, "cascade.system.enabled", "boolean"},
		{"writeAttendees at every scope", "settings.resolve", `{"cascade":{"system":{"writeAttendees":false},"organization":{"writeAttendees":null},"user":{"writeAttendees":true}}}`, "", ""},
		{"writeAttendees as string", "settings.resolve", `{"cascade":{"user":{"writeAttendees":"true"}}}`, "cascade.user.writeAttendees", "boolean"},
		{"writeAttendees as number", "sync.run", syncRun(`"cascade":{"organization":{"writeAttendees":1}}`), "cascade.organization.writeAttendees", "boolean"},
		{"unknown scope", "settings.resolve", `{"cascade":{"tenant":{}}}`, "cascade.tenant", "unknown member"},
		{"unknown param", "settings.resolve", `{"cascade":{},"extra":1}`, "extra", "unknown member"},
		{"params a string", "settings.resolve", `"x"`, "", "params must be an object or an array"},
		{"discover without params", "rpc.discover", ``, "", ""},
		{"discover with []", "rpc.discover", `[]`, "", ""},
		{"discover with a param", "rpc.discover", `{"x":1}`, "x", "unknown member"},
		// Issue 8, finding 7: what the host sends has exact member names.
		{"state key in another case", "sync.run", syncRun(`"state":{"v":1,"ROUNDORODELETES":-1000}`), "state.ROUNDORODELETES", "unknown member"},
		{"negative state count", "sync.run", syncRun(`"state":{"v":1,"roundOroDeletes":-1}`), "state.roundOroDeletes", "minimum"},
		{"link key in another case", "sync.run", syncRun(`"events":[{"id":"1","link":{"v":1,"remoteId":"AAMk","RemoteId":"x"}}]`), "events[0].link.RemoteId", "unknown member"},
		{"option key in another case", "sync.run", syncRun(`"options":{"AllowMassDelete":true}`), "options.AllowMassDelete", "unknown member"},
		{"negative option count", "sync.run", syncRun(`"options":{"oroEventCount":-5}`), "options.oroEventCount", "minimum"},
		// Finding 8: a budget that overflows time.Duration, and remote ids
		// that are not Graph ids.
		{"time budget of a century", "sync.run", syncRun(`"options":{"timeBudgetSeconds":9223372037}`), "options.timeBudgetSeconds", "maximum"},
		{"time budget of a day", "sync.run", syncRun(`"options":{"timeBudgetSeconds":86400}`), "", ""},
		{"graph id", "sync.run", syncRun(`"events":[{"id":"1","link":{"v":1,"remoteId":"AAMkAGI2-_x="}}]`), "", ""},
		{"remote id ..", "sync.run", syncRun(`"events":[{"id":"1","link":{"v":1,"remoteId":".."}}]`), "events[0].link.remoteId", "pattern"},
		{"remote id with /", "sync.run", syncRun(`"events":[{"id":"1","link":{"v":1,"remoteId":"AAMk/../me"}}]`), "events[0].link.remoteId", "pattern"},
		{"remote id with ?", "sync.run", syncRun(`"events":[{"id":"1","link":{"v":1,"remoteId":"AAMk?$select=x"}}]`), "events[0].link.remoteId", "pattern"},
		{"remote id with #", "sync.run", syncRun(`"events":[{"id":"1","link":{"v":1,"remoteId":"AAMk#x"}}]`), "events[0].link.remoteId", "pattern"},
		{"remote id with a control character", "sync.run", syncRun(`"events":[{"id":"1","link":{"v":1,"remoteId":"AAMk\u0000"}}]`), "events[0].link.remoteId", "pattern"},
		{"remote id too long", "sync.run", syncRun(`"events":[{"id":"1","link":{"v":1,"remoteId":"` + strings.Repeat("A", 513) + `"}}]`), "events[0].link.remoteId", "maxLength"},
		// An Oro exception row deleted: its tombstone names its series and
		// occurrence (no link), beside its master.
		{"exception row tombstone", "sync.run", syncRun(`"events":[{"id":"7","title":"standup","start":"2026-01-12T09:00:00Z","end":"2026-01-12T09:15:00Z",` +
			`"updatedAt":"2026-01-20T10:00:00Z","recurrence":{"recurrenceType":"weekly","interval":1,"dayOfWeek":["monday"],"startTime":"2026-01-12T09:00:00Z","occurrences":10,"timeZone":"UTC"}},` +
			`{"id":"8","deleted":true,"updatedAt":"2026-01-20T10:05:00Z","recurringEventId":"7","originalStart":"2026-01-19T09:00:00+00:00"}]`), "", ""},
		// Finding 4: too many events are refused before they are decoded.
		{"too many events", "sync.run", syncRun(`"events":[{}` + strings.Repeat(`,{}`, 50000) + `]`), "events", "maxItems"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := v.Check(tt.method, json.RawMessage(tt.params))
			if tt.field == "" && tt.msg == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if !json.Valid(out) || out[0] != '{' {
					t.Fatalf("normalized params %q are not an object", out)
				}
				return
			}
			var pe *ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParamError", err)
			}
			if pe.Field != tt.field || !strings.Contains(pe.Message, tt.msg) {
				t.Fatalf("got field %q message %q, want field %q message containing %q", pe.Field, pe.Message, tt.field, tt.msg)
			}
		})
	}
}

// CheckNoParams, which rpc.discover uses instead of a Validator, gives the
// Validator's verdicts.
func TestCheckNoParams(t *testing.T) {
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	for _, params := range []string{``, ` null `, `{}`, `{ }`, `[]`, `[ ]`, `{"x":1}`, `[1]`, `[[]]`, `"x"`, `1`} {
		want, wantErr := v.Check("rpc.discover", json.RawMessage(params))
		got, err := CheckNoParams("rpc.discover", json.RawMessage(params))
		if !bytes.Equal(got, want) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("params %q: got %s, %v; the Validator says %s, %v", params, got, err, want, wantErr)
		}
	}
}

// syncRun is the params of a valid sync.run with members added or replaced.
func syncRun(members string) string {
	base := map[string]json.RawMessage{
		"app":     json.RawMessage(`{"tenant":"common","clientId":"6731de76-14a6-49ae-97bc-6eba6914391e","clientSecret":"s","redirectUri":"https://oro.example.com/cb"}`),
		"tokens":  json.RawMessage(`{"accessToken":"a","expiresAt":"2026-03-01T10:00:00Z"}`),
		"cascade": json.RawMessage(`{}`),
		"events":  json.RawMessage(`[]`),
	}
	var extra map[string]json.RawMessage
	if err := json.Unmarshal([]byte("{"+members+"}"), &extra); err != nil {
		panic(err)
	}
	for k, v := range extra {
		base[k] = v
	}
	b, _ := json.Marshal(base)
	return string(b)
}

// Every object the host sends is closed: unknown members, and members in
// another letter case (which Go's decoder would take), are refused
// (issue 8, finding 7). An object schema says additionalProperties: false,
// or gives the schema of its values when it is a map and lists no
// properties.
func TestHostSentObjectsAreClosed(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(OpenRPC, &doc); err != nil {
		t.Fatal(err)
	}
	resolve := func(ref string) any {
		var n any = doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			n = n.(map[string]any)[part]
		}
		return n
	}
	seen := map[string]bool{}
	var walk func(at string, s any)
	walk = func(at string, s any) {
		m, ok := s.(map[string]any)
		if !ok {
			return
		}
		if ref, ok := m["$ref"].(string); ok {
			if !seen[ref] {
				seen[ref] = true
				walk(ref, resolve(ref))
			}
			return
		}
		_, hasProps := m["properties"]
		isObject := hasProps || m["type"] == "object" || (func() bool {
			ts, _ := m["type"].([]any)
			return slices.Contains(ts, any("object"))
		})()
		if isObject {
			switch ap := m["additionalProperties"].(type) {
			case bool:
				if ap {
					t.Errorf("%s: additionalProperties is true", at)
				}
			case map[string]any:
				if hasProps {
					t.Errorf("%s: an object with properties takes other members too", at)
				}
			default:
				t.Errorf("%s: no additionalProperties: unknown and case-variant members pass", at)
			}
		}
		for k, v := range m {
			switch k {
			case "properties":
				for name, p := range v.(map[string]any) {
					walk(at+"."+name, p)
				}
			case "items", "additionalProperties":
				walk(at+"."+k, v)
			case "allOf", "oneOf":
				for i, sub := range v.([]any) {
					walk(fmt.Sprintf("%s.%s[%d]", at, k, i), sub)
				}
			}
		}
	}
	for _, m := range doc["methods"].([]any) {
		m := m.(map[string]any)
		for _, p := range m["params"].([]any) {
			p := p.(map[string]any)
			walk(fmt.Sprintf("%s(%s)", m["name"], p["name"]), p["schema"])
		}
	}
}

// Every request in examples/*.ndjson is a valid call of a described method.
func TestExampleFiles(t *testing.T) {
	files, err := filepath.Glob("../examples/*.ndjson")
	if err != nil || len(files) == 0 {
		t.Fatalf("no example files found (%v)", err)
	}
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for line := 1; sc.Scan(); line++ {
			text := bytes.TrimSpace(sc.Bytes())
			if len(text) == 0 {
				continue
			}
			var req struct {
				JSONRPC string          `json:"jsonrpc"`
				Method  string          `json:"method"`
				Params  json.RawMessage `json:"params"`
			}
			if err := json.Unmarshal(text, &req); err != nil {
				t.Errorf("%s:%d: %v", f, line, err)
				continue
			}
			if req.JSONRPC != "2.0" {
				t.Errorf("%s:%d: jsonrpc must be \"2.0\"", f, line)
			}
			if req.Method == "$/cancelRequest" {
				continue
			}
			if !v.Has(req.Method) {
				t.Errorf("%s:%d: method %q is not in openrpc.json", f, line, req.Method)
				continue
			}
			if _, err := v.Check(req.Method, req.Params); err != nil {
				t.Errorf("%s:%d: %v", f, line, err)
			}
		}
	}
}

func TestFieldPathNamesArrayItems(t *testing.T) {
	for _, c := range []struct {
		path []string
		want string
	}{
		{[]string{"cascade", "user", "direction"}, "cascade.user.direction"},
		{[]string{"events", "0", "link"}, "events[0].link"},
		{[]string{"events", "12"}, "events[12]"},
		{[]string{"a", "1", "2", "b"}, "a[1][2].b"},
		{nil, ""},
	} {
		if got := FieldPath(c.path); got != c.want {
			t.Errorf("FieldPath(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}

// A sync.run with a million empty events is refused for the cost of
// counting them: decoding them first cost gigabytes (issue 8, finding 4).
func TestTooManyItemsRefusedBeforeDecoding(t *testing.T) {
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	params := []byte(syncRun(`"events":[{}` + strings.Repeat(`,{}`, 1_000_000) + `]`))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = v.Check("sync.run", params)
	runtime.ReadMemStats(&after)
	var pe *ParamError
	if !errors.As(err, &pe) || pe.Field != "events" {
		t.Fatalf("got %v", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("refusing %d bytes of params allocated %d bytes", len(params), n)
	}
}

// One event whose title is millions of [] holds few bytes per value and
// cost gigabytes to decode into generic values: params over MaxParamValues
// values or MaxParamDepth levels are refused for the cost of a scan. The
// largest valid sync.run stays under both.
func TestTooManyValuesRefusedBeforeDecoding(t *testing.T) {
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, events, want string }{
		{"values", `[{"id":"e1","title":[[]` + strings.Repeat(`,[]`, MaxParamValues) + `]}]`, "JSON values"},
		{"depth", `[{"id":"e1","title":` + strings.Repeat(`[`, MaxParamDepth) + strings.Repeat(`]`, MaxParamDepth) + `}]`, "nest deeper"},
	} {
		t.Run(c.name, func(t *testing.T) {
			params := []byte(syncRun(`"events":` + c.events))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := v.Check("sync.run", params)
			runtime.ReadMemStats(&after)
			var pe *ParamError
			if !errors.As(err, &pe) || !strings.Contains(pe.Message, c.want) {
				t.Fatalf("got %v, want %q", err, c.want)
			}
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Fatalf("refusing %d bytes of params allocated %d bytes", len(params), n)
			}
		})
	}

	full := `{"id":"e1","uid":"u1","title":"t","description":"d","location":"l","start":"2026-03-01T10:00:00Z","end":"2026-03-01T11:00:00Z",` +
		`"allDay":false,"updatedAt":"2026-03-01T09:00:00Z","deleted":false,"link":{"v":1,"remoteId":"r","changeKey":"c","etag":"e",` +
		`"iCalUId":"i","readOnly":false,"meeting":false,"hash":"h","fields":{"title":"h1","start":"h2","end":"h3","location":"h4","description":"h5"}}}`
	largest := []byte(syncRun(`"events":[` + full + strings.Repeat(","+full, 49_999) + `]`))
	if s := jsonscan.Measure(largest, MaxParamValues, MaxParamDepth); s.Values > MaxParamValues || s.Depth > MaxParamDepth {
		t.Fatalf("the largest valid sync.run measures %+v, over the limits", s)
	}
}
