package schema

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// decoded is what a json.Decoder with UseNumber makes of b: the values and
// error that decode must give.
func decoded(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// decodeCases are valid and invalid JSON texts, the parser's hard cases:
// escapes, unicode, invalid UTF-8, duplicate keys, nesting, numbers in
// every spelling, and texts the parser must hand to the decoder.
var decodeCases = []string{
	`{}`, `[]`, `{ }`, `[ ]`, `null`, `true`, `false`, `""`, `"x"`, `0`, `-0`, `1.0`, `1e400`, `-1E-7`, `1e+2`, `123456789012345678901234567890`,
	`{"a":1,"a":2}`, `{"a":{"b":1},"a":[1]}`, `{"":""}`, `[[[]],{},[{}]]`, `[1,"2",true,false,null,{"k":[]}]`,
	" \t\r\n{ \"a\" : [ 1 , 2 ] , \"b\" : { } } \n",
	`"\u00e9\n\t\"\\\/\b\f\r"`, `"\"x"`, `"\\"`, `["\\\"",1]`, `"\ud83d\ude00"`, `"\ud83d"`, `"\udc00x"`, `{"\u0069d":"k\u0065y"}`, `"é日本😀"`,
	"\"\xff\"", "\"a\xc3\"", "{\"k\xfe\":1}", "\"\xed\xa0\x80\"",
	`{"events":[{"id":"1","link":{"v":1,"remoteId":"AAMk"}},{"id":"2","allDay":true}]}`,
	// Not JSON, or more than one value: the decoder's verdict stands.
	``, ` `, `{`, `}`, `[`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `{1:2}`, `{"a" 1}`, `[1 2]`,
	`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `0x10`, `NaN`, `tru`, `truex`, `nul`, `[true false]`,
	`"abc`, `"\x"`, `"\u12"`, "\"a\tb\"", "\"\x00\"", `"\`, `{"a":1}x`, `{"a":1} {"b":2}`, `[] []`, `1 2`, `{"a":1}}`,
}

func TestDecodeIsTheDecoders(t *testing.T) {
	for _, c := range decodeCases {
		wantV, wantErr := decoded([]byte(c))
		gotV, gotErr := decode([]byte(c))
		if !reflect.DeepEqual(gotV, wantV) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("%q: decode gives %#v, %v; the decoder %#v, %v", c, gotV, gotErr, wantV, wantErr)
		}
	}
}

// The parser, not the decoder, decodes what the RPC layer hands over: it
// must take every valid text above (the cases are only worth anything if
// they reach it), and leave the invalid ones to the decoder.
func TestParserTakesValidJSON(t *testing.T) {
	for _, c := range append(decodeCases, string(syncRunEvents(20))) {
		if took, valid := parses([]byte(c)), json.Valid([]byte(c)); took != valid {
			t.Errorf("%q: parser took it %v, json.Valid says %v", c, took, valid)
		}
	}
}

// parses reports whether the parser, not the decoder, decodes b.
func parses(b []byte) bool {
	p := parser{s: string(b)}
	_, ok := p.value()
	p.space()
	return ok && p.i == len(p.s)
}

func FuzzDecode(f *testing.F) {
	for _, c := range decodeCases {
		f.Add([]byte(c))
	}
	f.Add(syncRunEvents(3))
	f.Fuzz(func(t *testing.T, b []byte) {
		wantV, wantErr := decoded(b)
		gotV, gotErr := decode(b)
		if !reflect.DeepEqual(gotV, wantV) || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Fatalf("%q: decode gives %#v, %v; the decoder %#v, %v", b, gotV, gotErr, wantV, wantErr)
		}
		if took, valid := parses(b), json.Valid(b); took != valid {
			t.Fatalf("%q: parser took it %v, json.Valid says %v", b, took, valid)
		}
	})
}

// Decoding the params of a large sync.run allocates about one object per
// value, not the decoder's several.
func TestDecodeAllocations(t *testing.T) {
	params := syncRunEvents(100)
	n := testing.AllocsPerRun(10, func() {
		if _, err := decode(params); err != nil {
			t.Fatal(err)
		}
	})
	values := strings.Count(string(params), ":") + strings.Count(string(params), ",")
	if n > float64(values) {
		t.Fatalf("decoding %d values allocated %v objects", values, n)
	}
}
