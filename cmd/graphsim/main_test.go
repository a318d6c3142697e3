package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRun starts the server, reads the JSON line and uses all three URLs.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"--addr", "127.0.0.1:0", "--auto-consent"}, pw, io.Discard) }()

	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	var urls struct{ Authority, Graph, Control string }
	if err := json.Unmarshal([]byte(line), &urls); err != nil || !strings.HasPrefix(urls.Authority, "http://127.0.0.1:") ||
		urls.Graph != urls.Authority+"/v1.0" || urls.Control != urls.Authority+"/_sim" {
		t.Fatalf("line %q: %v", line, err)
	}
	r, err := http.Post(urls.Control+"/users", "application/json", strings.NewReader(`{"upn":"ada@contoso.com","mail":"ada@contoso.com"}`))
	if err != nil || r.StatusCode != 204 {
		t.Fatalf("control: %v %v", err, r)
	}
	r, _ = http.Get(urls.Graph + "/me")
	if r.StatusCode != 401 {
		t.Errorf("graph without token: %d", r.StatusCode)
	}
	// The default app is registered from the flags.
	r, _ = http.PostForm(urls.Authority+"/common/oauth2/v2.0/token", map[string][]string{
		"grant_type": {"refresh_token"}, "client_id": {defaultClientID}, "client_secret": {"wrong"}, "refresh_token": {"x"}})
	if r.StatusCode != 401 {
		t.Errorf("token with wrong secret: %d", r.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("server did not stop")
	}
}
