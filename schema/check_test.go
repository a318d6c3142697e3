package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The Validator's checker must agree with santhosh-tekuri/jsonschema on
// every method: the examples' params and many mutations of them (each value
// replaced by values of other types and out-of-range ones, members removed,
// unknown members added).
func TestCheckerAgreesWithJSONSchemaLibrary(t *testing.T) {
	var doc struct {
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
	if err := json.Unmarshal(OpenRPC, &doc); err != nil {
		t.Fatal(err)
	}
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
