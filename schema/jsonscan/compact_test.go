package jsonscan

import (
	"encoding/json"
	"testing"
)

// Compact writes what json.Marshal(json.RawMessage(doc)) writes, for any
// valid JSON.
func FuzzCompact(f *testing.F) {
	f.Add([]byte("{\n  \"openrpc\": \"1.3.2\",\n  \"methods\": [\n    {\"name\": \"a <b> & c\", \"params\": []}\n  ]\n}\n"))
	f.Add([]byte(" {\"a\" : [ 1 , -2.5e3, true,null ] ,\n\t\"b\":\"<&>\u2028\u2029 \\\" \\\\\" }\r\n"))
	f.Add([]byte(`"\\" `))
	f.Add([]byte(`["\"", "\u2028", "é\t"]`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		want, err := json.Marshal(json.RawMessage(doc))
		if err != nil {
			return // not valid JSON: Compact's input must be
		}
		if got := Compact(nil, doc); string(got) != string(want) {
			t.Fatalf("Compact(%q) = %q, want %q", doc, got, want)
		}
	})
}
