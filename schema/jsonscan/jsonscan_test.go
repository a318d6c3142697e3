package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The scanner must agree with encoding/json on every valid input: same
// members in the same order, same elements, nothing lost.
func FuzzAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, ` { "a" : 1 , "b":[1,{"c":"]}"}], "\u0069d": "x\"y" } `,
		`[1, -2.5e3, true, null, "s", {"a":[]}, [[]]]`, `{"a":{"b":{"c":{}}}}`, `"str"`, `12`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			Members(in, func(_, _ []byte) bool { return true }) // must not panic
			Elements(in, func([]byte) bool { return true })
			return
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(in, &obj) == nil {
			got := map[string][]byte{} // the last of duplicate keys wins, as in encoding/json
			ok := Members(in, func(k, v []byte) bool { got[Key(k)] = v; return true })
			if !ok || len(got) != len(obj) {
				t.Fatalf("%s: %d members scanned, %d decoded", in, len(got), len(obj))
			}
			for k, v := range obj {
				if !bytes.Equal(got[k], v) {
					t.Fatalf("%s: member %q: got %s want %s", in, k, got[k], v)
				}
			}
		}
		var arr []json.RawMessage
		if json.Unmarshal(in, &arr) == nil {
			var got [][]byte
			ok := Elements(in, func(v []byte) bool { got = append(got, v); return true })
			if !ok || len(got) != len(arr) {
				t.Fatalf("%s: %d elements scanned, %d decoded", in, len(got), len(arr))
			}
			for i := range arr {
				if !bytes.Equal(bytes.TrimSpace(arr[i]), got[i]) {
					t.Fatalf("element %d: got %s want %s", i, got[i], arr[i])
				}
			}
		}
	})
}

func TestStopsEarly(t *testing.T) {
	n := 0
	Elements([]byte(`[1,2,3,4]`), func([]byte) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("visited %d elements after fn returned false", n)
	}
	if Members([]byte(`[1]`), nil) || Elements([]byte(`{}`), nil) {
		t.Fatal("the wrong kind of value was accepted")
	}
}

// Measure counts what encoding/json reads: one value per scalar, object
// and array, at any depth (duplicate members included), and the deepest
// nesting.
func FuzzMeasure(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `[[],[[]]]`, ` { "a" : 1 , "b":[1,{"c":"]},"}], "\u0069d": "x\"y" } `, `{"a":1,"a":[2]}`,
		`[1, -2.5e3, true, null, "s", {"a":[]}, [[]]]`, `"str"`, `12`, `1E1000`, `{"a":{"b":{"c":{}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if !json.Valid(in) {
			Measure(in, 100, 10) // must not panic
			return
		}
		want := measure(in)
		if got := Measure(in, 1<<30, 1<<30); got != want {
			t.Fatalf("%s: Measure = %+v, encoding/json reads %+v", in, got, want)
		}
		if got := Measure(in, want.Values-1, 1<<30); got.Values != want.Values {
			t.Fatalf("%s: over the value limit, got %+v", in, got)
		}
		if want.Depth > 0 {
			if got := Measure(in, 1<<30, want.Depth-1); got.Depth != want.Depth {
				t.Fatalf("%s: over the depth limit, got %+v", in, got)
			}
		}
	})
}

// measure counts the values of in from encoding/json's tokens.
func measure(in []byte) Size {
	type frame struct{ object, key bool } // key: the next token is a key
	var s Size
	var open []frame
	dec := json.NewDecoder(bytes.NewReader(in))
	dec.UseNumber() // 1E1000 is a value too
	for {
		tok, err := dec.Token()
		if err != nil {
			return s
		}
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			open = open[:len(open)-1]
			continue
		}
		if n := len(open); n > 0 && open[n-1].object {
			open[n-1].key = !open[n-1].key
			if !open[n-1].key {
				continue // this token was the key
			}
		}
		s.Values++
		if d, ok := tok.(json.Delim); ok {
			open = append(open, frame{object: d == '{', key: d == '{'})
			s.Depth = max(s.Depth, len(open))
		}
	}
}
