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
