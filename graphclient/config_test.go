package graphclient

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// TestNetworkKeepsFourConnections: rounds of four requests at once, as a
// push runs against a mailbox, reuse the same four connections (each new
// one is a TLS handshake with Graph).
func TestNetworkKeepsFourConnections(t *testing.T) {
	var dialled atomic.Int32
	hold := make(chan struct{})
	var arrived sync.WaitGroup
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Done()
		<-hold
		io.WriteString(w, "{}")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			dialled.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c := &http.Client{Transport: network()}
	for range 3 {
		arrived.Add(4)
		var done sync.WaitGroup
		for range 4 {
			done.Go(func() {
				resp, err := c.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		arrived.Wait() // four at once
		hold <- struct{}{}
		hold <- struct{}{}
		hold <- struct{}{}
		hold <- struct{}{}
		done.Wait()
	}
	// 4 when every connection is kept; keeping 2 dials 2 more each round
	// (8). A request may dial while a connection is on its way back to
	// the pool, so a few more than 4 is no failure.
	if n := dialled.Load(); n >= 8 {
		t.Errorf("%d connections for 3 rounds of 4 requests, want 4", n)
	}
}

func TestIsGUIDAndIsDomain(t *testing.T) {
	for _, c := range []struct {
		s            string
		guid, domain bool
	}{
		{"11111111-2222-3333-4444-555555555555", true, false},
		{"ABCDEF01-abcd-ef01-2345-6789abcdef01", true, false},
		{"11111111-2222-3333-4444-55555555555", false, false},   // one short
		{"11111111-2222-3333-4444-5555555555555", false, false}, // one long
		{"11111111x2222-3333-4444-555555555555", false, false},
		{"1111111g-2222-3333-4444-555555555555", false, false},
		{"contoso.onmicrosoft.com", false, true},
		{"Contoso.COM", false, true},
		{"a-b.example", false, true},
		{"contoso", false, false},
		{"-contoso.com", false, false},
		{"contoso-.com", false, false},
		{"contoso..com", false, false},
		{"contoso.com.", false, false},
		{"con toso.com", false, false},
		{"contoso.com/x", false, false},
		{string(make([]byte, 64)) + ".com", false, false},
		{"", false, false},
	} {
		if got := isGUID(c.s); got != c.guid {
			t.Errorf("isGUID(%q) = %v", c.s, got)
		}
		if got := isDomain(c.s); got != c.domain {
			t.Errorf("isDomain(%q) = %v", c.s, got)
		}
	}
}

func TestValidVerifier(t *testing.T) {
	long := func(n int, c byte) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = c
		}
		return string(b)
	}
	for _, c := range []struct {
		v    string
		want bool
	}{
		{long(43, 'a'), true},
		{long(128, 'Z'), true},
		{long(42, 'a'), false},
		{long(129, 'a'), false},
		{long(40, 'a') + "._~-", true},
		{long(42, 'a') + "+", false},
		{long(42, 'a') + "=", false},
		{long(42, 'a') + "é", false},
	} {
		if got := validVerifier(c.v); got != c.want {
			t.Errorf("validVerifier(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}
