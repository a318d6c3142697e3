package rpc

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

func readAll(t *testing.T, r frameReader) (frames []string, errs []string) {
	t.Helper()
	for {
		f, err := r.ReadFrame()
		var big *tooLarge
		var bad *badFrame
		switch {
		case errors.As(err, &big):
			errs = append(errs, "too large:"+string(idFromPrefix(big.prefix)))
		case errors.As(err, &bad):
			errs = append(errs, "bad")
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return frames, errs
		case err != nil:
			t.Fatal(err)
		default:
			frames = append(frames, string(f))
		}
	}
}

func TestLineReader(t *testing.T) {
	ten := `{"id":1}  `                                                            // 10 bytes with trailing spaces
	in := "\n" + ten + "\n\r\n  \n" + `{"id":2,"x":"toolong"}` + "\n" + `{"id":3}` // last line without newline
	fr, _, _ := newFraming(FramingNDJSON, strings.NewReader(in), io.Discard, 10)
	frames, errs := readAll(t, fr)
	if strings.Join(frames, "|") != `{"id":1}|{"id":3}` || strings.Join(errs, "|") != "too large:2" {
		t.Fatalf("frames %q errs %q", frames, errs)
	}
	// A line far larger than the buffer is skipped without holding it in memory.
	huge := `{"id":"h","p":"` + strings.Repeat("x", 1<<20) + `"}` + "\n" + `{"id":4}` + "\n"
	fr, _, _ = newFraming(FramingNDJSON, strings.NewReader(huge), io.Discard, 100)
	frames, errs = readAll(t, fr)
	if strings.Join(frames, "|") != `{"id":4}` || strings.Join(errs, "|") != `too large:"h"` {
		t.Fatalf("frames %q errs %q", frames, errs)
	}
}

func TestHeaderReader(t *testing.T) {
	in := "Content-Length: 8\r\n\r\n{\"id\":1}" +
		"\r\ncontent-length: 8\nX-Other: y\n\n{\"id\":2}" + // case-insensitive, LF-only, blank line between messages tolerated
		"Content-Length: 20\r\n\r\n{\"id\":3,\"x\":\"long\"}" +
		"Content-Length: nine\r\n\r\n" +
		"X: 1\r\n\r\n" +
		"Content-Length: 8\r\n\r\n{\"id\":4}" +
		"Content-Length: 100\r\n\r\n{\"id\":5" // truncated: the end
	fr, _, _ := newFraming(FramingContentLength, strings.NewReader(in), io.Discard, 10)
	frames, errs := readAll(t, fr)
	if strings.Join(frames, "|") != `{"id":1}|{"id":2}|{"id":4}` || strings.Join(errs, "|") != "too large:3|bad|bad" {
		t.Fatalf("frames %q errs %q", frames, errs)
	}
}

func TestWriters(t *testing.T) {
	var b strings.Builder
	_, w, _ := newFraming(FramingContentLength, strings.NewReader(""), &b, 10)
	_ = w.WriteFrame([]byte(`{"é":1}`))
	_ = w.WriteFrame([]byte(`[`), []byte(`{}`), []byte(`,`), []byte(`1`), []byte(`]`))
	if b.Len() != 0 {
		t.Fatalf("written before Flush: %q", b.String())
	}
	_ = w.Flush()
	if b.String() != "Content-Length: 8\r\n\r\n{\"é\":1}Content-Length: 6\r\n\r\n[{},1]" {
		t.Fatalf("%q", b.String())
	}
	b.Reset()
	_, w, _ = newFraming(FramingNDJSON, strings.NewReader(""), &b, 10)
	_ = w.WriteFrame([]byte(`{}`))
	_ = w.WriteFrame([]byte(`[`), []byte(`{}`), []byte(`]`))
	_ = w.Flush()
	if b.String() != "{}\n[{}]\n" {
		t.Fatalf("%q", b.String())
	}
	if _, _, err := newFraming("xml", nil, nil, 1); err == nil {
		t.Fatal("unknown framing accepted")
	}
}

// A long line that cannot be a message is refused from its first bytes and
// skipped to its newline without being collected (issue 8, finding 4).
func TestLongNonMessageLineIsNotBuffered(t *testing.T) {
	in := strings.Repeat("x", 10<<20) + "\n" + `{"id":1}` + "\n"
	fr, _, _ := newFraming(FramingNDJSON, strings.NewReader(in), io.Discard, 64<<20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	frames, errs := readAll(t, fr)
	runtime.ReadMemStats(&after)
	if strings.Join(frames, "|") != `{"id":1}` || strings.Join(errs, "|") != "bad" {
		t.Fatalf("frames %q errs %q", frames, errs)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Fatalf("skipping a 10 MiB line allocated %d bytes", n)
	}
}
