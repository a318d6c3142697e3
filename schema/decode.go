package schema

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// decode decodes params into the generic values the checker walks, exactly
// as a json.Decoder with UseNumber does: map[string]any, []any,
// json.Number, string, bool and nil; the last of duplicate keys wins.
//
// The params of a large sync.run are a megabyte, and the decoder cost the
// sidecar a fifth of its allocations: it copies its input into a growing
// buffer, then allocates every key and every string on its own. Params come
// from the RPC layer as valid JSON, so a parser that trusts nothing but
// needs no error messages does the common case: it copies the input once
// and hands out substrings of that copy as keys, numbers and strings
// without escapes. On anything else (invalid JSON, trailing data) it gives
// up and the decoder decodes, so that its values and errors are the
// decoder's.
func decode(params []byte) (any, error) {
	p := parser{s: string(params)}
	if v, ok := p.value(); ok {
		if p.space(); p.i == len(p.s) {
			return v, nil
		}
	}
	dec := json.NewDecoder(bytes.NewReader(params))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// parser parses one JSON text. Each method reports false when the input
// is not what JSON allows there.
type parser struct {
	s string // the input
	i int    // the next byte of s to read

	// The members and elements parsed so far of the objects and arrays
	// open, shared by all of them: each object's map and each array's slice
	// is allocated once, at its close, at its final size.
	members  []member
	elements []any
}

type member struct {
	key   string
	value any
}

func (p *parser) space() { p.i = spaceEnd(p.s, p.i) }

// next consumes c (after white space) if it comes next.
func (p *parser) next(c byte) bool {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// value parses the value that starts after white space.
func (p *parser) value() (any, bool) {
	p.space()
	if p.i == len(p.s) {
		return nil, false
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		s, ok := p.str()
		return s, ok
	case c == '-' || '0' <= c && c <= '9':
		return p.number()
	case strings.HasPrefix(p.s[p.i:], "true"):
		p.i += len("true")
		return true, true
	case strings.HasPrefix(p.s[p.i:], "false"):
		p.i += len("false")
		return false, true
	case strings.HasPrefix(p.s[p.i:], "null"):
		p.i += len("null")
		return nil, true
	}
	return nil, false
}

func (p *parser) object() (any, bool) {
	p.i++ // {
	if p.next('}') {
		return map[string]any{}, true
	}
	open := len(p.members)
	for {
		p.space()
		if p.i == len(p.s) || p.s[p.i] != '"' {
			return nil, false
		}
		k, ok := p.str()
		if !ok || !p.next(':') {
			return nil, false
		}
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		p.members = append(p.members, member{k, v})
		if p.next(',') {
			continue
		}
		if !p.next('}') {
			return nil, false
		}
		m := make(map[string]any, len(p.members)-open)
		for _, kv := range p.members[open:] {
			m[kv.key] = kv.value
		}
		clear(p.members[open:]) // the values are the map's now: let them go with it
		p.members = p.members[:open]
		return m, true
	}
}

func (p *parser) array() (any, bool) {
	p.i++ // [
	if p.next(']') {
		return []any{}, true
	}
	open := len(p.elements)
	for {
		v, ok := p.value()
		if !ok {
			return nil, false
		}
		p.elements = append(p.elements, v)
		if p.next(',') {
			continue
		}
		if !p.next(']') {
			return nil, false
		}
		a := append([]any(nil), p.elements[open:]...)
		clear(p.elements[open:])
		p.elements = p.elements[:open]
		return a, true
	}
}

// str parses a string (its opening quote at p.i). One without escapes in
// valid UTF-8 is the substring between its quotes; any other is decoded by
// encoding/json, which resolves escapes (surrogate pairs too) and replaces
// invalid UTF-8 its own way.
func (p *parser) str() (string, bool) {
	start := p.i
	end, escaped, ascii, ok := stringEnd(p.s, start)
	if !ok {
		return "", false
	}
	p.i = end
	if s := p.s[start+1 : end-1]; !escaped && (ascii || utf8.ValidString(s)) {
		return s, true
	}
	var s string
	if json.Unmarshal([]byte(p.s[start:end]), &s) != nil {
		return "", false
	}
	return s, true
}

func (p *parser) number() (any, bool) {
	start := p.i
	end, ok := numberEnd(p.s, start)
	if !ok {
		return nil, false
	}
	p.i = end
	return json.Number(p.s[start:end]), true
}
