package calsync

import (
	"bytes"
	"slices"
	"strconv"
)

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

// keys are the parts of a compared value that it holds sorted (the
// attendees', a series' exceptions), built one after another in one
// buffer (append to buf, then end) and sorted as spans of it, rather than
// as a string each. The caller gives buf and spans room on its stack; the
// methods take and return keys by value so that it stays there (a method
// appending through a pointer moves the room to the heap).
type keys struct {
	buf   []byte
	spans []span
	next  int // where the key being built starts
}

type span struct{ from, to int }

// end ends the key appended to buf since the last one.
func (k keys) end() keys {
	k.spans = append(k.spans, span{k.next, len(k.buf)})
	k.next = len(k.buf)
	return k
}

// appendSorted appends the keys to b in order (as strings sort), each
// after sep.
func (k keys) appendSorted(b []byte, sep string) []byte {
	slices.SortFunc(k.spans, func(x, y span) int { return bytes.Compare(k.buf[x.from:x.to], k.buf[y.from:y.to]) })
	for _, s := range k.spans {
		b = append(append(b, sep...), k.buf[s.from:s.to]...)
	}
	return b
}

// shortHash is the hash of s, as hosts store it.
func shortHash(s string) string {
	h := newFNV64()
	h.writeString(s)
	return h.sum().String()
}
