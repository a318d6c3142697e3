package graphsim

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The control API's lists answer [] when empty, as its README shows, never
// null (a client iterating the value must not need a null check).
func TestControlListsEmptyAreArrays(t *testing.T) {
	e := newEnv(t, Options{})
	for _, path := range []string{"/_sim/mail", "/_sim/unimplemented"} {
		resp, err := http.Get(e.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `"value":[]`) {
			t.Errorf("GET %s = %s, want an empty array", path, b)
		}
	}
}
