package rpc

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The framings Options.Framing accepts.
const (
	// FramingNDJSON is one compact JSON message per line: what a person
	// types and what PHP's json_encode($x)."\n" writes. Blank lines are
	// ignored.
	FramingNDJSON = "ndjson"
	// FramingContentLength is the LSP base protocol: "Content-Length: N"
	// header lines, a blank line, then N bytes of JSON.
	FramingContentLength = "content-length"
)

// keepPrefix is how much of an oversized message is kept to look for its id.
const keepPrefix = 4096

// tooLarge reports a message over the size limit; the reader has skipped it.
type tooLarge struct {
	prefix []byte // the start of the message
	limit  int64
}

func (e *tooLarge) Error() string { return fmt.Sprintf("message over the %d-byte limit", e.limit) }

// badFrame reports framing the reader could not understand but could skip
// (a Content-Length header block without a usable length).
type badFrame struct{ msg string }

func (e *badFrame) Error() string { return e.msg }

// frameReader yields one message body at a time. Errors other than
// *tooLarge and *badFrame end the stream.
type frameReader interface {
	ReadFrame() ([]byte, error)
}

// frameWriter writes messages with their framing. A message is the
// concatenation of parts, so that a batch reply is written from its
// members as they were encoded, never joined into one more copy. Writes
// are buffered (small replies go out together) until Flush.
type frameWriter interface {
	WriteFrame(parts ...[]byte) error
	Flush() error
}

func newFraming(framing string, r io.Reader, w io.Writer, limit int64) (frameReader, frameWriter, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	// A part larger than the buffer is written straight from where it was
	// encoded (bufio does not copy it).
	bw := bufio.NewWriterSize(w, 64<<10)
	switch framing {
	case "", FramingNDJSON:
		return &lineReader{br: br, limit: limit}, lineWriter{bw}, nil
	case FramingContentLength:
		return &headerReader{br: br, limit: limit}, headerWriter{bw}, nil
	}
	return nil, nil, fmt.Errorf("rpc: unknown framing %q (want %s or %s)", framing, FramingNDJSON, FramingContentLength)
}

type lineReader struct {
	br    *bufio.Reader
	limit int64
}

// ReadFrame returns the next non-blank line, trimmed. A line is held in
// memory only while it can still be a message: one over the limit is
// dropped (all but a prefix to find its id in) as soon as it passes the
// limit, and one that does not start like a JSON object or array is
// refused from its first bytes; the rest of either is read and discarded
// up to its newline. The frame is the caller's: nothing is kept.
func (l *lineReader) ReadFrame() ([]byte, error) {
	for {
		var chunks [][]byte // the line so far, in the read buffer's pieces
		var prefix []byte   // set once the line is known to be refused
		var size int64      // bytes of this line so far, newline included
		var first byte      // the first byte that is not white space
		var err error
		for {
			var chunk []byte
			chunk, err = l.br.ReadSlice('\n')
			size += int64(len(chunk))
			if first == 0 {
				if t := bytes.TrimLeft(chunk, " \t\r\n"); len(t) > 0 {
					first = t[0]
				}
			}
			switch {
			case prefix != nil: // refused: discard up to the newline
			case first != 0 && first != '{' && first != '[' && err == bufio.ErrBufferFull:
				// Longer than the read buffer and not a message: do not
				// collect it just to find that json.Valid says no.
				prefix = []byte{}
			case size > l.limit+1:
				prefix = []byte{}
				for _, c := range append(chunks, chunk) {
					prefix = append(prefix, c[:min(len(c), keepPrefix-len(prefix))]...)
				}
				chunks = nil
			case first != 0: // white space before a message is not kept
				chunks = append(chunks, bytes.Clone(chunk)) // chunk is bufio's
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if err == nil {
			size-- // the newline does not count
		}
		switch {
		case size > l.limit:
			return nil, &tooLarge{prefix: prefix, limit: l.limit}
		case prefix != nil:
			return nil, &badFrame{msg: "not valid JSON: a line that does not start with { or ["}
		}
		// Pieces joined once, rather than a buffer grown by append: that
		// would allocate twice the line and more on the way.
		var line []byte
		if len(chunks) == 1 {
			line = chunks[0]
		} else if len(chunks) > 1 {
			line = bytes.Join(chunks, nil)
		}
		if line = bytes.TrimSpace(line); len(line) > 0 {
			return line, nil // a last line without a newline still counts
		}
		if err != nil {
			return nil, err
		}
	}
}

type lineWriter struct{ w *bufio.Writer }

func (l lineWriter) WriteFrame(parts ...[]byte) error {
	// encoding/json escapes every control character, U+2028 and U+2029,
	// so a compact message never spans two lines.
	if err := writeParts(l.w, parts); err != nil {
		return err
	}
	return l.w.WriteByte('\n')
}

func (l lineWriter) Flush() error { return l.w.Flush() }

func writeParts(w *bufio.Writer, parts [][]byte) error {
	for _, p := range parts {
		if _, err := w.Write(p); err != nil {
			return err
		}
	}
	return nil
}

type headerReader struct {
	br    *bufio.Reader
	limit int64
}

// maxHeaderLine bounds one header line; LSP headers are a few dozen bytes.
const maxHeaderLine = 8 << 10

func (h *headerReader) ReadFrame() ([]byte, error) {
	length, seen, bad := int64(-1), false, ""
	for {
		line, err := h.readLine()
		if err != nil {
			if err == io.EOF && seen {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		if len(line) == 0 {
			if !seen {
				continue // tolerate blank lines between messages
			}
			break
		}
		if t := bytes.TrimLeft(line, " \t"); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			// A host speaking the other framing: say so, and read on
			// (the line has been consumed).
			return nil, &badFrame{msg: "a JSON message without a Content-Length header: this sidecar reads --framing=content-length; " +
				"for one JSON message per line start it with --framing=ndjson"}
		}
		seen = true
		name, value, ok := strings.Cut(string(line), ":")
		if !ok {
			bad = fmt.Sprintf("malformed header line %q", truncate(line))
			continue
		}
		if strings.EqualFold(strings.TrimSpace(name), "Content-Length") {
			n, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
			if err != nil || n < 0 {
				bad = fmt.Sprintf("bad Content-Length %q", truncate([]byte(value)))
				continue
			}
			length = n
		}
	}
	if bad == "" && length < 0 {
		bad = "missing Content-Length header"
	}
	if bad != "" {
		if length >= 0 {
			if _, err := h.br.Discard(int(min(length, 1<<62))); err != nil {
				return nil, err
			}
		}
		return nil, &badFrame{msg: bad}
	}
	if length > h.limit {
		prefix := make([]byte, min(length, keepPrefix))
		if _, err := io.ReadFull(h.br, prefix); err != nil {
			return nil, err
		}
		if _, err := io.CopyN(io.Discard, h.br, length-int64(len(prefix))); err != nil {
			return nil, err
		}
		return nil, &tooLarge{prefix: prefix, limit: h.limit}
	}
	body := make([]byte, length)
	if _, err := io.ReadFull(h.br, body); err != nil {
		return nil, err
	}
	return body, nil
}

// readLine reads one header line without its line ending. Lines may end in
// CRLF, as the LSP base protocol says, or in a bare LF.
func (h *headerReader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := h.br.ReadSlice('\n')
		if len(line)+len(chunk) <= maxHeaderLine {
			line = append(line, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return nil, err
		}
		return bytes.TrimRight(line, "\r\n"), nil
	}
}

func truncate(b []byte) string {
	if len(b) > 64 {
		return string(b[:64]) + "…"
	}
	return string(b)
}

type headerWriter struct{ w *bufio.Writer }

func (h headerWriter) WriteFrame(parts ...[]byte) error {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if _, err := fmt.Fprintf(h.w, "Content-Length: %d\r\n\r\n", n); err != nil {
		return err
	}
	return writeParts(h.w, parts)
}

func (h headerWriter) Flush() error { return h.w.Flush() }
