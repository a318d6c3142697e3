// Package jsonscan walks the members of a JSON object and the elements of
// a JSON array without decoding them: every value it hands out is a
// sub-slice of the input, and it allocates nothing. The sidecar uses it to
// look at requests that may be tens of megabytes (find the id and params of
// a request, count the members of a batch or the items of an array) before
// it spends memory decoding them.
//
// The input must already be valid JSON (json.Valid): the scanner does not
// check it. On input that is not, it never panics, but what it reports is
// unspecified.
//
// Compact writes such input back without the white space between its
// tokens, escaped as encoding/json escapes it.
//
// This package must not import anything of the project.
package jsonscan

import (
	"bytes"
	"encoding/json"
)

// Members calls fn with the raw key (quotes and escapes included) and the
// raw value of each member of the object obj, in order, until fn returns
// false. It reports false when obj is not an object.
func Members(obj []byte, fn func(key, value []byte) bool) bool {
	s := scanner{b: bytes.TrimSpace(obj)}
	if !s.next('{') {
		return false
	}
	if s.next('}') {
		return true
	}
	for s.i < len(s.b) {
		key := s.value()
		if !s.next(':') {
			return false
		}
		if !fn(key, s.value()) {
			return true
		}
		if !s.next(',') {
			return s.next('}')
		}
	}
	return false
}

// Elements calls fn with each element of the array arr, in order, until fn
// returns false. It reports false when arr is not an array.
func Elements(arr []byte, fn func(value []byte) bool) bool {
	s := scanner{b: bytes.TrimSpace(arr)}
	if !s.next('[') {
		return false
	}
	if s.next(']') {
		return true
	}
	for s.i < len(s.b) {
		if !fn(s.value()) {
			return true
		}
		if !s.next(',') {
			return s.next(']')
		}
	}
	return false
}

// Key returns the text of a raw key as Members hands it out, with escapes
// resolved ("\u0069d" is "id").
func Key(raw []byte) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// next consumes c (after white space) if it comes next.
func (s *scanner) next(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// value consumes one value (after white space) and returns it.
func (s *scanner) value() []byte {
	s.space()
	start := s.i
	depth := 0
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '"':
			s.str()
		case '{', '[':
			depth++
			s.i++
		case '}', ']':
			if depth == 0 {
				return s.b[start:s.i]
			}
			depth--
			s.i++
		case ',', ':', ' ', '\t', '\r', '\n':
			if depth == 0 {
				return s.b[start:s.i]
			}
			s.i++
		default:
			s.i++
		}
		if depth == 0 && s.i > start && (s.b[start] == '"' || s.b[start] == '{' || s.b[start] == '[') {
			return s.b[start:s.i]
		}
	}
	return s.b[start:s.i]
}

// str consumes a string whose opening quote is at s.i.
func (s *scanner) str() {
	for s.i++; s.i < len(s.b); s.i++ {
		switch s.b[s.i] {
		case '\\':
			s.i++
		case '"':
			s.i++
			return
		}
	}
}

// Size is the shape of a JSON text: how many values it holds (itself, and
// every member value and element at any depth) and how deeply its objects
// and arrays nest (0 for a scalar, 1 for [] or {}).
type Size struct {
	Values int
	Depth  int
}

// Measure measures the JSON text b in one pass, without decoding it, and
// stops as soon as Values exceeds maxValues or Depth exceeds maxDepth: the
// Size it returns is then just over the limit, not the whole. It allocates
// at most maxDepth+1 bytes, whatever the input.
func Measure(b []byte, maxValues, maxDepth int) Size {
	var s Size
	var open []byte // the objects and arrays open here: '{' or '['
	value := true   // the next token starts a value (not a key, not a close)
	for i := 0; i < len(b); i++ {
		switch c := b[i]; c {
		case ' ', '\t', '\r', '\n':
		case ',':
			// In an object a key comes next, in an array a value.
			value = len(open) > 0 && open[len(open)-1] == '['
		case ':':
			value = true
		case '}', ']':
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
			value = false
		default:
			if value {
				if s.Values++; s.Values > maxValues {
					return s
				}
			}
			switch c {
			case '{', '[':
				open = append(open, c)
				if s.Depth = max(s.Depth, len(open)); s.Depth > maxDepth {
					return s
				}
				value = c == '['
				continue
			case '"':
				sc := scanner{b: b, i: i}
				sc.str()
				i = sc.i - 1
			default: // a number, true, false or null
				for i+1 < len(b) && !ends(b[i+1]) {
					i++
				}
			}
			value = false
		}
	}
	return s
}

// ends reports whether c ends a number or a literal.
func ends(c byte) bool {
	switch c {
	case ',', ':', ']', '}', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}
