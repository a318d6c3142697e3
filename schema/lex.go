package schema

import "unicode/utf8"

// text is what the scanners of this package read: params as Check gets
// them, or the parser's copy of them.
type text interface{ ~string | ~[]byte }

// spaceEnd returns the index of the first byte from b[i] on that is not
// JSON white space.
func spaceEnd[T text](b T, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd scans the string literal whose opening quote is at b[i] and
// returns the index just past its closing quote; escaped and ascii tell
// whether it holds escapes and whether all its bytes are ASCII. ok is false
// when no valid literal starts there: it is unterminated, or holds a
// control character or an escape JSON does not have.
func stringEnd[T text](b T, i int) (end int, escaped, ascii, ok bool) {
	ascii = true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, escaped, ascii, true
		case c == '\\':
			escaped = true
			if j+1 == len(b) {
				return 0, false, false, false
			}
			switch b[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if j+6 > len(b) {
					return 0, false, false, false
				}
				for k := j + 2; k < j+6; k++ {
					if !isHex(b[k]) {
						return 0, false, false, false
					}
				}
				j += 5
			default:
				return 0, false, false, false
			}
		case c < ' ':
			return 0, false, false, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return 0, false, false, false
}

// numberEnd returns the index just past the number that starts at b[i], as
// JSON spells numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; ok is
// false when none starts there.
func numberEnd[T text](b T, i int) (end int, ok bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if i, ok = digitsEnd(b, i); !ok {
		return 0, false
	}
	if i < len(b) && b[i] == '.' {
		if i, ok = digitsEnd(b, i+1); !ok {
			return 0, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, ok = digitsEnd(b, i); !ok {
			return 0, false
		}
	}
	return i, true
}

// digitsEnd returns the index just past the decimal digits that start at
// b[i]; ok is false when there are none.
func digitsEnd[T text](b T, i int) (end int, ok bool) {
	end = i
	for end < len(b) && isDigit(b[end]) {
		end++
	}
	return end, end > i
}

func isHex(c byte) bool { return isDigit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
