package graphclient

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// TestReadAnswer checks that readAnswer reads what io.ReadAll reads, at
// every size around its pieces, in reads of any size, and keeps what it
// read before an error.
func TestReadAnswer(t *testing.T) {
	for _, n := range []int{0, 1, readPiece - 1, readPiece, readPiece + 1, 3*readPiece + 5} {
		want := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		for _, r := range []io.Reader{bytes.NewReader(want), iotest.HalfReader(bytes.NewReader(want)), iotest.DataErrReader(bytes.NewReader(want))} {
			got, err := readAnswer(r)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%d bytes: got %d bytes, %v", n, len(got), err)
			}
		}
		broken := errors.New("broken")
		got, err := readAnswer(io.MultiReader(bytes.NewReader(want), iotest.ErrReader(broken)))
		if err != broken || !bytes.Equal(got, want) {
			t.Errorf("%d bytes then an error: got %d bytes, %v", n, len(got), err)
		}
	}
}
