package simtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// The app cmd/graphsim registers by default.
const (
	simClientID = "11111111-2222-3333-4444-555555555555"
	simSecret   = "graphsim-secret"
	simRedirect = "http://localhost:8400/oauth/callback"
)

// graphsimURLs is the first line a started cmd/graphsim prints.
type graphsimURLs struct{ Authority, Graph, Control string }

// startGraphsim starts the built simulator bin with --auto-consent and
// args, its log going to stderr (nil: discarded), stops it when tb ends and
// returns the URLs it printed.
func startGraphsim(tb testing.TB, bin string, stderr io.Writer, args ...string) graphsimURLs {
	tb.Helper()
	cmd := exec.Command(bin, append([]string{"--auto-consent"}, args...)...)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	var urls graphsimURLs
	if err := json.NewDecoder(out).Decode(&urls); err != nil || urls.Authority == "" {
		tb.Fatalf("graphsim did not start: its first line: %+v, %v", urls, err)
	}
	return urls
}

// sidecar is a running oro-msync speaking newline-delimited JSON-RPC.
type sidecar struct {
	t   *testing.T
	in  io.WriteCloser
	out *bufio.Scanner
	id  int
}

// call sends one request and decodes its result into result. It returns
// the error object of an error reply and fails the test when there is no
// readable reply.
func (s *sidecar) call(method string, params any, result any) *json.RawMessage {
	s.t.Helper()
	e, err := s.exchange(method, params, result)
	if err != nil {
		s.t.Fatal(err)
	}
	return e
}

// exchange is call returning what call fails on, for goroutines other
// than the test's; it does not use s.t.
func (s *sidecar) exchange(method string, params any, result any) (*json.RawMessage, error) {
	s.id++
	line, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": s.id, "method": method, "params": params})
	if err != nil {
		return nil, err
	}
	if _, err := s.in.Write(append(line, '\n')); err != nil {
		return nil, err
	}
	if !s.out.Scan() {
		return nil, fmt.Errorf("%s: no answer (%v)", method, s.out.Err())
	}
	var resp struct {
		Result json.RawMessage  `json:"result"`
		Error  *json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(s.out.Bytes(), &resp); err != nil {
		return nil, fmt.Errorf("%s: %v in %s", method, err, s.out.Bytes())
	}
	if resp.Error != nil {
		return resp.Error, nil
	}
	if err := json.Unmarshal(resp.Result, result); err != nil {
		return nil, fmt.Errorf("%s result: %v", method, err)
	}
	return nil, nil
}

// TestEndToEnd drives the built oro-msync against a started cmd/graphsim as
// the PHP host would: sign in, first full sync both ways, edits on both
// sides, an incremental sync, and an idle incremental sync that costs one
// Graph request.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binaries")
	}
	simBin, sidecarBin := buildProgram(t, "../../cmd/graphsim"), buildProgram(t, "../../cmd/oro-msync")

	urls := startGraphsim(t, simBin, nil)

	var stderr bytes.Buffer
	cmd := exec.Command(sidecarBin, "--authority-url", urls.Authority, "--graph-url", urls.Graph)
	cmd.Stderr = &stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.Close()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("oro-msync stderr:\n%s", stderr.String())
		}
	})
	sc := bufio.NewScanner(out)
	sc.Buffer(nil, 16<<20)
	s := &sidecar{t: t, in: in, out: sc}

	app := map[string]any{"tenant": "common", "clientId": simClientID, "clientSecret": simSecret, "redirectUri": simRedirect}
	var auth struct{ URL, State, CodeVerifier string }
	if e := s.call("connection.authorizationUrl", map[string]any{"app": app, "loginHint": upn}, &auth); e != nil {
		t.Fatalf("authorizationUrl: %s", *e)
	}
	code := authorize(t, auth.URL)
	var grant struct{ Tokens json.RawMessage }
	if e := s.call("connection.exchangeCode", map[string]any{"app": app, "code": code, "state": auth.State,
		"expectedState": auth.State, "codeVerifier": auth.CodeVerifier}, &grant); e != nil {
		t.Fatalf("exchangeCode: %s", *e)
	}

	// Outlook has one event, Oro another.
	start := time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)
	ctl := func(method, path string, body any) {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(method, urls.Control+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			msg, _ := io.ReadAll(resp.Body)
			t.Fatalf("control %s %s: %d %s", method, path, resp.StatusCode, msg)
		}
	}
	ctl("POST", "/users/"+upn+"/events", outlookEvent("from outlook", start.Add(24*time.Hour)))
	h := newHost()
	h.create("from oro", start)

	run := func(name string) (calsync.Result, map[string]int) {
		t.Helper()
		req := h.request(calsync.DirectionBoth, "oro_wins", calsync.Options{})
		var res struct {
			calsync.Result
			Tokens json.RawMessage `json:"tokens"`
		}
		params := map[string]any{"app": app, "tokens": grant.Tokens, "cascade": req.Cascade, "window": req.Window,
			"mode": req.Mode, "events": req.Events, "options": req.Options}
		if req.State != nil {
			params["state"] = req.State
		}
		if e := s.call("sync.run", params, &res); e != nil {
			t.Fatalf("%s: sync.run error %s", name, *e)
		}
		if len(res.Tokens) > 0 {
			grant.Tokens = res.Tokens
		}
		if len(res.Issues) > 0 {
			t.Fatalf("%s: issues %+v", name, res.Issues)
		}
		h.apply(res.Result)
		return res.Result, res.Stats.GraphRequests
	}

	res, _ := run("first sync")
	if res.Status != calsync.StatusCompleted || len(res.Operations) != 2 {
		t.Fatalf("first sync: %s, operations %+v", res.Status, res.Operations)
	}
	w := &world{t: t, host: h}
	check := func(want ...string) {
		t.Helper()
		var events struct{ Value []map[string]any }
		resp, err := http.Get(urls.Control + "/users/" + upn + "/events")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&events); err != nil {
			t.Fatal(err)
		}
		var ms []string
		for _, e := range events.Value {
			ms = append(ms, e["subject"].(string))
		}
		oro := w.oroEvents()
		if strings.Join(ms, ",") != strings.Join(want, ",") || len(oro) != len(want) {
			t.Errorf("microsoft %v, oro %v, want %v on both sides", ms, oro, want)
		}
		for _, s := range want {
			if _, ok := oro[s]; !ok {
				t.Errorf("oro lacks %q: %v", s, oro)
			}
		}
	}
	check("from oro", "from outlook")

	// Edit both sides, then delete one in Outlook.
	h.edit("oro-1", "from oro, edited")
	var outlookID string
	for _, ev := range h.live() {
		if ev.Title == "from outlook" {
			outlookID = ev.Link.RemoteID
		}
	}
	ctl("PATCH", "/users/"+upn+"/events/"+outlookID, map[string]any{"subject": "from outlook, edited"})
	run("incremental sync")
	check("from oro, edited", "from outlook, edited")

	if _, reqs := run("idle sync"); len(reqs) != 1 || reqs["delta"] != 1 {
		t.Errorf("idle incremental sync made Graph requests %v, want only delta:1", reqs)
	}
}
