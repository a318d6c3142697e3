package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// examples is what the checker tests read of the OpenRPC document: each
// method's params and the params of its examples.
type examples struct {
	Methods []struct {
		Name   string `json:"name"`
		Params []struct {
			Name     string `json:"name"`
			Required bool   `json:"required"`
		} `json:"params"`
		Examples []struct {
			Params []struct {
				Name  string          `json:"name"`
				Value json.RawMessage `json:"value"`
			} `json:"params"`
		} `json:"examples"`
	} `json:"methods"`
}

func readExamples(t *testing.T) examples {
	t.Helper()
	var doc examples
	if err := json.Unmarshal(OpenRPC, &doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

// The Validator's checker must agree with santhosh-tekuri/jsonschema on
// every method: the examples' params and many mutations of them (each value
// replaced by values of other types and out-of-range ones, members removed,
// unknown members added).
func TestCheckerAgreesWithJSONSchemaLibrary(t *testing.T) {
	doc := readExamples(t)
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	c := newCompiler(OpenRPC)
	compared := 0
	for i, m := range doc.Methods {
		props := map[string]any{}
		required := []any{}
		for j, p := range m.Params {
			props[p.Name] = map[string]any{"$ref": fmt.Sprintf("%s#/methods/%d/params/%d/schema", documentURL, i, j)}
			if p.Required {
				required = append(required, p.Name)
			}
		}
		b, _ := json.Marshal(map[string]any{"type": "object", "properties": props, "required": required, "additionalProperties": false})
		raw, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		url := "mem://params/" + m.Name
		if err := c.AddResource(url, raw); err != nil {
			t.Fatal(err)
		}
		lib, err := c.Compile(url)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		for _, ex := range m.Examples {
			params := map[string]any{}
			for _, p := range ex.Params {
				var x any
				dec := json.NewDecoder(bytes.NewReader(p.Value))
				dec.UseNumber()
				if err := dec.Decode(&x); err != nil {
					t.Fatal(err)
				}
				params[p.Name] = x
			}
			for _, inst := range mutations(params) {
				b, _ := json.Marshal(inst)
				libInst, _ := jsonschema.UnmarshalJSON(bytes.NewReader(b))
				libOK := lib.Validate(libInst) == nil
				_, err := v.Check(m.Name, b)
				if libOK != (err == nil) {
					t.Errorf("%s %s: library valid=%v, checker says %v", m.Name, b, libOK, err)
				}
				compared++
			}
		}
	}
	if compared < 100 {
		t.Fatalf("only %d instances compared", compared)
	}
}

var replacements = []any{nil, true, "x", "", json.Number("0"), json.Number("-1"), json.Number("1.5"), json.Number("2"), json.Number("1441"), json.Number("1e400"), map[string]any{}, []any{}, []any{"x"},
	"2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2028-02-29T23:59:59.5+01:00", "2026-03-05T09:00:00+0100", "2026-03-05t09:00:00z", "2026-03-05 09:00:00Z"}

// mutations returns v and, for every value inside it, copies with that value
// replaced, removed (object members) or joined by an unknown member.
func mutations(v any) []any {
	out := []any{v}
	switch v := v.(type) {
	case map[string]any:
		out = append(out, with(v, "unknownMember", json.Number("1")))
		for k, x := range v {
			out = append(out, without(v, k))
			for _, r := range replacements {
				out = append(out, with(v, k, r))
			}
			for _, mx := range mutations(x)[1:] {
				out = append(out, with(v, k, mx))
			}
		}
	case []any:
		for i, x := range v {
			for _, mx := range mutations(x)[1:] {
				c := append([]any(nil), v...)
				c[i] = mx
				out = append(out, c)
			}
		}
	}
	return out
}

func with(m map[string]any, k string, x any) map[string]any {
	c := map[string]any{}
	for kk, vv := range m {
		c[kk] = vv
	}
	c[k] = x
	return c
}

func without(m map[string]any, k string) map[string]any {
	c := with(m, k, nil)
	delete(c, k)
	return c
}

// The checker reports the failure of the first failing member in the order
// of their names, whatever the order in which it checks them, and the
// same one every time.
func TestFirstFailureInNameOrder(t *testing.T) {
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ members, field, msg string }{
		{`"events":[{"zz":1,"title":5,"aa":2,"start":7}]`, "events[0].aa", "unknown member"},
		{`"events":[{"title":5,"start":7,"location":[]}]`, "events[0].location", "got array, want string"},
		{`"events":[{"title":"t","start":7},{"id":1}]`, "events[0].start", "got number, want string"},
		{`"events":[{"id":"1"},{"id":"2","link":{"v":2,"remoteId":"/"}},{"id":3}]`, "events[1].link.remoteId", `does not match pattern "^[A-Za-z0-9_=-]+$"`},
		{`"events":[{"id":"1","link":{"remoteId":"/","zz":1}}]`, "events[0].link.v", "missing, and required"},
		{`"events":[{"id":1}],"zzz":1`, "events[0].id", "got number, want string"},
		{`"events":[{"id":1}],"app":{"tenant":"common","clientId":"6731de76-14a6-49ae-97bc-6eba6914391e","redirectUri":"https://oro.example.com/cb"}`, "app.clientSecret", "missing, and required"},
		{`"state":{"v":1,"sent":[{"at":"2026-03-01T10:00:00Z","n":1},{"at":"2026-03-01T10:00:00Z","n":0,"x":1}]}`, "state.sent[1].n", "minimum: got 0, want 1"},
	} {
		params := json.RawMessage(syncRun(c.members))
		for range 20 { // Go's map order differs from one range to the next
			_, err := v.Check("sync.run", params)
			pe, ok := err.(*ParamError)
			if !ok || pe.Field != c.field || pe.Message != c.msg {
				t.Fatalf("%s: got %v, want %s: %s", c.members, err, c.field, c.msg)
			}
		}
	}
}

// Numbers are compared as int64s when both are small plain integers and as
// rationals otherwise: the verdicts are the rationals'.
func TestCompareNumbers(t *testing.T) {
	nums := []json.Number{"0", "-0", "1", "-1", "1.0", "1.5", "-1.5", "2", "10", "1e1", "1E1", "1e+1", "10.0", "100e-1", "999", "1000", "1e400", "-1e400", "1e-400",
		"999999999999999999", "1000000000000000000", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"123456789012345678901234567890", "007", "-007"}
	for _, a := range nums {
		if got, want := hasType(a, "integer"), rat(a).IsInt(); got != want {
			t.Errorf("hasType(%s, integer) = %v, want %v", a, got, want)
		}
		for _, b := range nums {
			if got, want := compare(a, b), rat(a).Cmp(rat(b)); got != want {
				t.Errorf("compare(%s, %s) = %d, want %d", a, b, got, want)
			}
		}
	}
}

// A walk leaves its steps as it found them, failure or not: the
// alternatives of a oneOf and allOf are checked one after another from the
// same steps.
func TestWalkLeavesNoSteps(t *testing.T) {
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	doc := readExamples(t)
	failed := 0
	for _, m := range doc.Methods {
		sch, err := v.paramsSchema(m.Name, v.methods[m.Name])
		if err != nil {
			t.Fatal(err)
		}
		for _, ex := range m.Examples {
			params := map[string]any{}
			for _, p := range ex.Params {
				if params[p.Name], err = decode(p.Value); err != nil {
					t.Fatal(err)
				}
			}
			for _, inst := range mutations(params) {
				w := &walk{at: []step{{"root", -1}}}
				if w.check(sch, inst) != nil {
					failed++
				}
				if len(w.at) != 1 {
					t.Fatalf("%s: the walk ended with steps %v", m.Name, w.at)
				}
			}
		}
	}
	if failed < 100 {
		t.Fatalf("only %d failures", failed)
	}
}

// dateTimeShaped matches what the regular expression it replaced matches,
// on date-times and on every string one edit away from one.
func TestDateTimeShaped(t *testing.T) {
	re := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$`)
	seeds := []string{"2026-03-05T09:00:00Z", "2026-03-05t09:00:00z", "2026-03-05T09:00:00.5+01:00", "2026-03-05T09:00:00.123456789-12:30", "", "x", "2026-03-05"}
	var cases []string
	for _, s := range seeds {
		cases = append(cases, s)
		for i := 0; i <= len(s); i++ {
			for _, c := range "09aTtZz:.-+ é\x00" {
				cases = append(cases, s[:i]+string(c)+s[i:]) // inserted
				if i < len(s) {
					cases = append(cases, s[:i]+string(c)+s[i+1:]) // replaced
				}
			}
			if i < len(s) {
				cases = append(cases, s[:i]+s[i+1:]) // deleted
			}
		}
	}
	matched := 0
	for _, s := range cases {
		want := re.MatchString(s)
		if got := dateTimeShaped(s); got != want {
			t.Errorf("dateTimeShaped(%q) = %v, the expression says %v", s, got, want)
		}
		if want {
			matched++
		}
	}
	if matched < 100 || matched == len(cases) {
		t.Fatalf("%d of %d cases match: too few of one kind", matched, len(cases))
	}
}

// Checks may run at once, each method's first compiling its schemas while
// others check against theirs (run with -race).
func TestCheckConcurrently(t *testing.T) {
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	calls := []struct{ method, params string }{
		{"sync.run", string(syncRunEvents(50))},
		{"sync.run", syncRun(`"events":[{"id":1}]`)},
		{"settings.resolve", `{"cascade":{"user":{"direction":"both"}}}`},
		{"settings.resolve", `{"cascade":{"user":{"direction":"up"}}}`},
	}
	want := make([]string, len(calls))
	for i, c := range calls {
		_, err := v.Check(c.method, json.RawMessage(c.params))
		want[i] = fmt.Sprint(err)
	}
	v, _ = NewValidator(OpenRPC)
	var wg sync.WaitGroup
	for range 4 {
		for i, c := range calls {
			wg.Go(func() {
				if _, err := v.Check(c.method, json.RawMessage(c.params)); fmt.Sprint(err) != want[i] {
					t.Errorf("%s: got %v, want %s", c.method, err, want[i])
				}
			})
		}
	}
	wg.Wait()
}
