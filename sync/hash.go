package calsync

import "strconv"

// The content hashes (Link.Hash, Link.Fields, the transactionId's) are
// 64-bit FNV-1a hashes, as hash/fnv's New64a computes them; hosts store
// them in lower-case hex without leading zeros (strconv.FormatUint). They
// are computed for every event several times a run, so they are fed their
// input piece by piece (fnv64) instead of a string built first, and kept
// as numbers (sum64) until one leaves as text.

// fnv64 is an FNV-1a hash being computed; newFNV64 starts one.
type fnv64 uint64

const fnvPrime = 1099511628211

func newFNV64() fnv64 { return 14695981039346656037 }

func (h *fnv64) writeByte(c byte) { *h = (*h ^ fnv64(c)) * fnvPrime }

// writeString and write keep the hash in a local variable: the compiler
// does not keep *h in a register through the loop.
func (h *fnv64) writeString(s string) {
	x := *h
	for i := 0; i < len(s); i++ {
		x = (x ^ fnv64(s[i])) * fnvPrime
	}
	*h = x
}

func (h *fnv64) write(b []byte) {
	x := *h
	for _, c := range b {
		x = (x ^ fnv64(c)) * fnvPrime
	}
	*h = x
}

func (h fnv64) sum() sum64 { return sum64(h) }

// sum64 is a computed hash.
type sum64 uint64

// String is s as hosts store it.
func (s sum64) String() string {
	if s == emptySum {
		return emptyHash
	}
	return strconv.FormatUint(uint64(s), 16)
}

// emptySum is the hash of an empty value, as most events' description,
// location and attendees are; links hold its text (emptyHash) so often
// that it is not built each time.
const (
	emptySum  sum64 = 0xcbf29ce484222325
	emptyHash       = "cbf29ce484222325"
)

// appendText appends s as hosts store it.
func (s sum64) appendText(b []byte) []byte { return strconv.AppendUint(b, uint64(s), 16) }

// is reports whether a host's stored hash h is s, without allocating.
func (s sum64) is(h string) bool {
	var b [16]byte
	return string(s.appendText(b[:0])) == h
}

// shortHash is the hash of s, as hosts store it.
func shortHash(s string) string {
	h := newFNV64()
	h.writeString(s)
	return h.sum().String()
}
