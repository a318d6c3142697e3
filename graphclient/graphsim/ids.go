package graphsim

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"
)

// Ids are URL-safe base64 with "=" padding, like Graph REST ids (facts §11.6),
// and case-sensitive. The decoded body is a kind byte and 16 random bytes;
// an occurrence appends its original start (Unix seconds), so occurrence ids
// are derived from the master and stable, and an exception keeps its
// occurrence's id. The REST form ("AAMk…") and the immutable form ("AAkA…",
// Prefer: IdType="ImmutableId", facts §11.7) share one body, so a client
// that forgets the header on one request sees different ids.
const (
	kindEvent      = 'E'
	kindOccurrence = 'O'
	kindCalendar   = 'C'

	restPrefix      = "AAMk"
	immutablePrefix = "AAkA"
)

func formatID(key string, immutable bool) string {
	p := restPrefix
	if immutable && key[0] != kindCalendar {
		p = immutablePrefix
	}
	return p + base64.URLEncoding.EncodeToString([]byte(key))
}

// parseID returns the map key of id; malformed is true for ids Graph would
// answer 400 ErrorInvalidIdMalformed.
func parseID(id string) (key string, malformed bool) {
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '=') {
			return "", true
		}
	}
	var rest string
	switch {
	case strings.HasPrefix(id, restPrefix):
		rest = id[len(restPrefix):]
	case strings.HasPrefix(id, immutablePrefix):
		rest = id[len(immutablePrefix):]
	default:
		return "", true
	}
	b, err := base64.URLEncoding.DecodeString(rest)
	if err != nil || len(b) < 17 {
		return "", true
	}
	return string(b), false
}

func occurrenceKey(masterKey string, originalStart time.Time) string {
	var b [25]byte
	b[0] = kindOccurrence
	copy(b[1:17], masterKey[1:17])
	binary.BigEndian.PutUint64(b[17:], uint64(originalStart.Unix()))
	return string(b[:])
}

// splitOccurrenceKey returns the master key and original start of an
// occurrence key.
func splitOccurrenceKey(key string) (string, time.Time, bool) {
	if len(key) != 25 || key[0] != kindOccurrence {
		return "", time.Time{}, false
	}
	m := string(rune(kindEvent)) + key[1:17]
	return m, time.Unix(int64(binary.BigEndian.Uint64([]byte(key[17:]))), 0).UTC(), true
}
