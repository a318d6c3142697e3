package calsync

import (
	"encoding/json"
	"io"
)

// Member is an extra member of a result's JSON object (see WriteJSON).
type Member struct {
	Name  string
	Value any
}

// WriteJSON writes r to w as encoding/json encodes it (json.Marshal's
// bytes), followed by the extra members (each omitted when its Value is
// nil), one operation at a time: a result of many thousands of operations
// never sits in one buffer that grows as it is encoded (copied, and the
// new memory touched, at each doubling), and the writer may keep it in
// pieces.
func (r *Result) WriteJSON(w io.Writer, extra ...Member) error {
	o := objectWriter{w: w, enc: json.NewEncoder(trimNewline{w})}
	o.member("status", r.Status)
	if r.Reason != "" {
		o.member("reason", r.Reason)
	}
	if r.Operations == nil {
		o.member("operations", nil)
	} else {
		o.name("operations")
		o.raw("[")
		for i := range r.Operations {
			if i > 0 {
				o.raw(",")
			}
			o.value(&r.Operations[i])
		}
		o.raw("]")
	}
	if r.State != nil {
		o.member("state", r.State)
	}
	o.member("issues", r.Issues)
	if len(r.Guards) > 0 {
		o.member("guards", r.Guards)
	}
	if len(r.Writes) > 0 {
		o.member("writes", r.Writes)
	}
	o.member("stats", &r.Stats)
	o.member("nextSyncAt", r.NextSyncAt)
	o.member("settings", &r.Settings)
	for _, m := range extra {
		if m.Value != nil {
			o.member(m.Name, m.Value)
		}
	}
	o.raw("}")
	return o.err
}

// objectWriter writes the members of one JSON object; it keeps the first
// error and writes nothing after it.
type objectWriter struct {
	w     io.Writer
	enc   *json.Encoder
	count int
	err   error
}

// name writes the separator and the member name (names here are plain
// ASCII, never escaped).
func (o *objectWriter) name(n string) {
	if o.count == 0 {
		o.raw(`{"` + n + `":`)
	} else {
		o.raw(`,"` + n + `":`)
	}
	o.count++
}

func (o *objectWriter) member(n string, v any) {
	o.name(n)
	o.value(v)
}

func (o *objectWriter) value(v any) {
	if o.err == nil {
		o.err = o.enc.Encode(v)
	}
}

func (o *objectWriter) raw(s string) {
	if o.err == nil {
		_, o.err = io.WriteString(o.w, s)
	}
}

// trimNewline drops the newline json.Encoder writes after each value (it
// writes a value and its newline in one Write).
type trimNewline struct{ w io.Writer }

func (t trimNewline) Write(p []byte) (int, error) {
	if n := len(p); n > 0 && p[n-1] == '\n' {
		_, err := t.w.Write(p[:n-1])
		return n, err
	}
	return t.w.Write(p)
}
