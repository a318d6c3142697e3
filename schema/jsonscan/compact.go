package jsonscan

// Compact appends doc, which must be valid JSON, to dst as
// json.Marshal(json.RawMessage(doc)) would write it: without white space
// between tokens, and with what encoding/json escapes in strings (<, >,
// &, U+2028, U+2029) escaped. It does not validate doc, and copies the
// runs of bytes that need nothing at once: encoding/json's scanner took a
// tenth of a sidecar's start to compact the OpenRPC document for
// rpc.discover, and the simulator writes every batch item's body with it.
func Compact(dst, doc []byte) []byte {
	const hex = "0123456789abcdef"
	inString := false
	for i := 0; i < len(doc); {
		stop := &outsideStops
		if inString {
			stop = &insideStops
		}
		j := i
		for j < len(doc) && !stop[doc[j]] {
			j++
		}
		dst = append(dst, doc[i:j]...)
		if j == len(doc) {
			break
		}
		c := doc[j]
		i = j + 1
		switch {
		case !inString && c != '"': // white space between tokens
		case c == '"':
			inString = !inString
			dst = append(dst, c)
		case c == '\\': // an escape, copied as it is
			dst = append(dst, c)
			if i < len(doc) {
				dst = append(dst, doc[i])
				i++
			}
		case c == 0xE2:
			if i+1 < len(doc) && doc[i] == 0x80 && doc[i+1]&^1 == 0xA8 { // U+2028, U+2029
				dst = append(dst, '\\', 'u', '2', '0', '2', hex[doc[i+1]&0xF])
				i += 2
			} else {
				dst = append(dst, c)
			}
		default: // <, >, &
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
		}
	}
	return dst
}

// The bytes Compact stops at, outside strings and in them.
var (
	outsideStops = [256]bool{' ': true, '\t': true, '\n': true, '\r': true, '"': true}
	insideStops  = [256]bool{'"': true, '\\': true, '<': true, '>': true, '&': true, 0xE2: true}
)
