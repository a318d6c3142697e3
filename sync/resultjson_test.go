package calsync

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// TestResultWriteJSON checks that WriteJSON writes what json.Marshal
// writes, for results with every field (at any depth) set, with none set,
// and with the extra member present or not; a field added to Result that
// WriteJSON leaves out fails it.
func TestResultWriteJSON(t *testing.T) {
	var full Result
	fill(reflect.ValueOf(&full).Elem(), 0)
	type withTokens struct {
		Result
		Tokens *Member `json:"tokens,omitempty"`
	}
	tok := &Member{Name: "a<b", Value: "c&d"}
	for name, c := range map[string]struct {
		r     Result
		extra any
	}{
		"full": {full, nil}, "full+extra": {full, tok}, "empty": {Result{}, nil},
		"empty lists": {Result{Operations: []Operation{}, Issues: []Issue{}, Guards: []GuardReport{}}, tok},
	} {
		var tokens *Member
		if c.extra != nil {
			tokens = tok
		}
		want, err := json.Marshal(withTokens{c.r, tokens})
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := c.r.WriteJSON(&got, Member{Name: "tokens", Value: c.extra}); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got.Bytes(), want)
		}
	}
}

// fill sets every field of v, at any depth (to depth 6), to a value that
// is not its zero value: strings that encoding/json escapes, two elements
// in slices, one entry in maps.
func fill(v reflect.Value, depth int) {
	if depth > 6 {
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString("<x & y>")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(depth + 1))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v.SetUint(uint64(depth + 1))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(1.5)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem(), depth+1)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fill(v.Index(i), depth+1)
		}
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		fill(k, depth+1)
		fill(e, depth+1)
		m.SetMapIndex(k, e)
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2025, 3, 1, 8, 30, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				fill(v.Field(i), depth+1)
			}
		}
	}
}
