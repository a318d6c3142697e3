package graphsim

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"
)

// randomValue builds a value of the kinds the simulator's answers hold,
// with strings that need every kind of escape.
func randomValue(r *rand.Rand, depth int) any {
	k := r.IntN(11)
	if depth > 3 {
		k = r.IntN(5)
	}
	switch k {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return randomString(r)
	case 3:
		return []float64{0, -0.5, 1e-7, 1e21, 123456789, 1.5e300, 3e-300, r.NormFloat64() * 1e6, float64(r.IntN(1000))}[r.IntN(9)]
	case 4:
		return r.IntN(1<<20) - 1<<19
	case 5, 6, 7:
		m := map[string]any{}
		for range r.IntN(6) {
			m[randomString(r)] = randomValue(r, depth+1)
		}
		return m
	case 8:
		var s []any
		for range r.IntN(4) {
			s = append(s, randomValue(r, depth+1))
		}
		return s
	case 9:
		if r.IntN(2) == 0 {
			m := map[string]string{}
			for range r.IntN(4) {
				m[randomString(r)] = randomString(r)
			}
			return m
		}
		// what a batch item's body is: JSON as some encoder wrote it,
		// spaced or not
		b, _ := json.Marshal(randomValue(r, depth+1))
		if r.IntN(2) == 0 {
			var spaced bytes.Buffer
			_ = json.Indent(&spaced, b, " ", "\t")
			b = spaced.Bytes()
		}
		b = bytes.ReplaceAll(b, []byte(`\u003c`), []byte("<"))
		b = bytes.ReplaceAll(b, []byte(`\u2028`), []byte("\u2028"))
		return json.RawMessage(b)
	default:
		return []string{"a", "<b>"} // not one of appendJSON's kinds
	}
}

func randomString(r *rand.Rand) string {
	pieces := []string{"a", "Z", "é", "日本", "\"", "\\", "<", ">", "&", "\u2028", "\u2029", "\x00", "\x1f", "\b", "\f", "\n", "\r", "\t", "\x7f", "\xff", "\xe2\x80", "😀", " ", "@odata.etag"}
	var b bytes.Buffer
	for range r.IntN(6) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

// TestAppendJSONAsEncodingJSON: appendJSON's bytes are encoding/json's,
// for random values and for rendered events.
func TestAppendJSONAsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []any{math.MaxInt64, int64(-3), 1e20, 1e-6, 0.000001234, -1e21, []any(nil), map[string]any{},
		map[string]any(nil), map[string]string(nil), map[string]any{"a": map[string]string(nil)}, json.RawMessage(nil)}
	for range 5000 {
		values = append(values, randomValue(r, 0))
	}
	e := newEnv(t, Options{})
	for i := range 3 {
		ev := simpleEvent("Review <b>&</b> \u2028", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
		ev["body"] = map[string]any{"contentType": "html", "content": "<p>line</p>\n\t\"quoted\""}
		ev["reminderMinutesBeforeStart"] = 15 + i
		e.create(ev)
	}
	for _, ev := range e.sim.Events(testUPN) {
		values = append(values, ev)
	}
	for _, v := range values {
		got, err := appendJSON(nil, v)
		if err != nil {
			t.Fatalf("%#v: %v", v, err)
		}
		want, _ := json.Marshal(v)
		if !bytes.Equal(got, want) {
			t.Fatalf("%#v:\n got %s\nwant %s", v, got, want)
		}
	}
	for _, bad := range []any{math.NaN(), math.Inf(1), map[string]any{"x": math.Inf(-1)}, []any{func() {}}, json.RawMessage(`{"a":`)} {
		if _, err := appendJSON(nil, bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}

// BenchmarkEncodePage encodes a delta page of 200 rendered events with
// appendJSON (what writeJSON uses) and with encoding/json.
func BenchmarkEncodePage(b *testing.B) {
	e := newEnv(b, Options{})
	seed(b, e.sim, 200)
	page := map[string]any{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)", "value": []any{}}
	for _, ev := range e.sim.Events(testUPN) {
		page["value"] = append(page["value"].([]any), ev)
	}
	b.Run("appendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = appendJSON(buf[:0], page)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_, _ = json.Marshal(page)
		}
	})
}
