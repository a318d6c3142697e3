package rpc

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestDecodeMessage(t *testing.T) {
	type want struct {
		method string
		id     string // "" = notification
		code   int64  // protocol error code, 0 = none
		ignore bool
	}
	tests := []struct {
		in    string
		batch bool
		want  []want
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"a"}`, false, []want{{method: "a", id: "1"}}},
		{`{"jsonrpc":"2.0","method":"a","params":[1]}`, false, []want{{method: "a"}}},
		{`{"jsonrpc":"2.0","id":null,"method":"a"}`, false, []want{{method: "a", id: "null"}}},
		{`{"jsonrpc":"2.0","id":-1.5e9,"method":"a"}`, false, []want{{method: "a", id: "-1.5e9"}}},
		{`  {"jsonrpc":"2.0","id":"x","method":"a"}  `, false, []want{{method: "a", id: `"x"`}}},
		{`{"jsonrpc":"2.0","id":1,"result":1}`, false, []want{{ignore: true}}},
		{`{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}`, false, []want{{ignore: true}}},
		{`{"jsonrpc":"2.0","id":1}`, false, []want{{id: "1", code: CodeInvalidRequest}}},
		{`{"jsonrpc":"2.0","id":[1],"method":"a"}`, false, []want{{id: "null", code: CodeInvalidRequest}}},
		{`{"jsonrpc":"2.0","id":1,"method":"a","params":null}`, false, []want{{id: "1", code: CodeInvalidRequest}}},
		{`{"jsonrpc":2.0,"id":1,"method":"a"}`, false, []want{{id: "1", code: CodeInvalidRequest}}},
		{`{"method":"a"}`, false, []want{{id: "null", code: CodeInvalidRequest}}},
		{`"a"`, false, []want{{id: "null", code: CodeInvalidRequest}}},
		{`{`, false, []want{{id: "null", code: CodeParseError}}},
		{``, false, []want{{id: "null", code: CodeParseError}}},
		{`[]`, false, []want{{id: "null", code: CodeInvalidRequest}}},
		{`[1,{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":2,"method":"m"}]`, true,
			[]want{{id: "null", code: CodeInvalidRequest}, {method: "n"}, {method: "m", id: "2"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			items, batch := decodeMessage([]byte(tt.in), 3)
			if batch != tt.batch || len(items) != len(tt.want) {
				t.Fatalf("got %d items batch=%v, want %d batch=%v", len(items), batch, len(tt.want), tt.batch)
			}
			for i, w := range tt.want {
				it := items[i]
				var code int64
				if it.err != nil {
					code = it.err.code
				}
				if it.method != w.method || string(it.id) != w.id || code != w.code || it.ignore != w.ignore {
					t.Errorf("item %d = {method %q id %q code %d ignore %v}, want %+v", i, it.method, it.id, code, it.ignore, w)
				}
			}
		})
	}
}

func TestIDFromPrefix(t *testing.T) {
	tests := map[string]string{
		`{"jsonrpc":"2.0","id":42,"method":"x","params":{"pad":"xxxx`: `42`,
		`{"id":"abc","params":[1,2`:                                   `"abc"`,
		`{"jsonrpc":"2.0","params":{"pad":"xxxx`:                      `null`,
		`{"id":{"a":1}}`:                                              `null`,
		`[{"id":1}`:                                                   `null`,
		`garbage`:                                                     `null`,
	}
	for in, want := range tests {
		if got := idFromPrefix([]byte(in)); string(got) != want {
			t.Errorf("idFromPrefix(%s) = %s, want %s", in, got, want)
		}
	}
}

// FuzzDecodeMessage checks the decoder never panics and keeps its promises:
// every protocol error is answered to null or to a valid id, every request
// has a valid id or none, ids are sub-slices of valid JSON, and only a
// non-empty array is a batch.
func FuzzDecodeMessage(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"a","params":{"x":[1,2]}}`,
		`[{"jsonrpc":"2.0","id":"1","method":"a"},{"jsonrpc":"2.0","method":"b"},1,{"foo":"boo"}]`,
		`[]`, `[1]`, `{"jsonrpc":"2.0","id":null,"method":"a"}`, `{"jsonrpc":"2.0","id":1.5,"method":"a"}`,
		`{"jsonrpc":"2.0","id":1,"result":null}`, `{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]`,
		"\x00", `{"id":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		items, batch := decodeMessage(msg, 5)
		if len(items) == 0 {
			t.Fatal("no items: every message gets an answer or is a notification/response")
		}
		trimmed := bytes.TrimSpace(msg)
		if batch && (len(trimmed) == 0 || trimmed[0] != '[') {
			t.Fatal("batch for a non-array")
		}
		if !batch && len(items) != 1 {
			t.Fatal("several items outside a batch")
		}
		for _, it := range items {
			if it.id != nil && (!json.Valid(it.id) || !validID(it.id)) {
				t.Fatalf("bad id %q", it.id)
			}
			if it.err != nil && it.id == nil {
				t.Fatal("protocol error without an id to answer (not even null)")
			}
			if it.err == nil && !it.ignore && it.params != nil && !json.Valid(it.params) {
				t.Fatalf("params not valid JSON: %q", it.params)
			}
		}
		_ = idFromPrefix(msg) // must not panic on anything
	})
}
