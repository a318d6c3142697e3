package calsync

import (
	"strings"
	"unicode"
)

// NormalizeText is the form in which an event's description is compared,
// and in which the Graph client reads a body. Exchange keeps bodies as HTML
// (facts §2): a description written as text and read back with Prefer:
// outlook.body-content-type="text" has CRLF line endings and a trailing CRLF
// (docs user-list-messages.md, example get_messages_in_text). So line
// endings become LF and trailing white space goes.
func NormalizeText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.TrimRightFunc(s, unicode.IsSpace)
}

// writeNormalized feeds h NormalizeText(s) without building it, as
// NormalizeText does for a description with CRs: the trailing white space
// goes first, which is the same before the line endings change (CR and LF
// are white space, and ASCII), then each line ending is fed as LF.
func (h *fnv64) writeNormalized(s string) {
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	for {
		cr := strings.IndexByte(s, '\r')
		if cr < 0 {
			h.writeString(s)
			return
		}
		h.writeString(s[:cr])
		h.writeByte('\n')
		s = strings.TrimPrefix(s[cr+1:], "\n")
	}
}
