package schema

import (
	"bytes"

	"github.com/oro-msync/oro-msync/schema/jsonscan"
)

// precheck refuses what countItems and then measure refuse, with their
// errors, before the params are decoded. Those are two scans of the
// params, which cost a sixth of a large sync.run's check; for params that
// are valid JSON within MaxParamValues and MaxParamDepth (what the RPC
// layer hands over) one skim, which validates, measures and counts the
// items of each member array, gives the same verdict. On anything else the
// two scans run, so that errors stay theirs.
func (m method) precheck(params []byte) error {
	var err error
	s := skim{b: params}
	_, ok := s.value(1, func(key []byte, items int) {
		for _, p := range m.params {
			if err == nil && items > p.maxItems && p.maxItems >= 0 && p.Name == jsonscan.Key(key) {
				err = tooManyItems(p)
			}
		}
	})
	if ok && spaceEnd(params, s.i) == len(params) {
		return err
	}
	if err := m.countItems(params); err != nil {
		return err
	}
	return measure(params)
}

// skim reads a JSON text without decoding it.
type skim struct {
	b      []byte
	i      int // the next byte of b to read
	values int // the values read so far
}

// value skims the value that starts after white space, which nests depth
// deep if it is an object or an array. It counts every value it reads, and
// reports false when the value is not valid JSON or breaks a limit. items
// is the number of an array's elements, -1 for any other value. member,
// if not nil, is called with each member of an object: its raw key and the
// items of its value.
func (s *skim) value(depth int, member func(key []byte, items int)) (items int, ok bool) {
	if s.i = spaceEnd(s.b, s.i); s.i == len(s.b) {
		return -1, false
	}
	if s.values++; s.values > MaxParamValues {
		return -1, false
	}
	switch c := s.b[s.i]; c {
	case '{', '[':
		if depth > MaxParamDepth {
			return -1, false
		}
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.i++
		n := 0
		if !s.next(end) {
			for {
				var key []byte
				if c == '{' {
					if s.i = spaceEnd(s.b, s.i); s.i == len(s.b) || s.b[s.i] != '"' {
						return -1, false
					}
					from := s.i
					if s.i, _, _, ok = stringEnd(s.b, s.i); !ok {
						return -1, false
					}
					if key = s.b[from:s.i]; !s.next(':') {
						return -1, false
					}
				}
				items, ok := s.value(depth+1, nil)
				if !ok {
					return -1, false
				}
				if n++; member != nil {
					member(key, items)
				}
				if s.next(',') {
					continue
				}
				if !s.next(end) {
					return -1, false
				}
				break
			}
		}
		if c == '[' {
			return n, true
		}
		return -1, true
	case '"':
		s.i, _, _, ok = stringEnd(s.b, s.i)
		return -1, ok
	case 't', 'f', 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if bytes.HasPrefix(s.b[s.i:], []byte(lit)) {
				s.i += len(lit)
				return -1, true
			}
		}
		return -1, false
	}
	s.i, ok = numberEnd(s.b, s.i)
	return -1, ok
}

// next consumes c (after white space) if it comes next.
func (s *skim) next(c byte) bool {
	if s.i = spaceEnd(s.b, s.i); s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}
