package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer collects stderr, written by the sidecar's pipe copier and
// the simulator's handlers at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDemo runs the README's demo against a freshly built sidecar and
// checks its outcome from the raw end state, not from its own verdict:
// both sides hold the same five events with both edits, every Oro event is
// linked, and no credential reaches stdout or the logs.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the sidecar")
	}
	bin := filepath.Join(t.TempDir(), "oro-msync")
	if out, err := exec.Command("go", "build", "-o", bin, sidecarPkg).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var stdout bytes.Buffer
	stderr := &lockedBuffer{}
	var rep report
	err := run(ctx, options{Sidecar: bin, Verbose: true, Stderr: stderr, Report: &rep}, &stdout)
	t.Logf("transcript:\n%s", stdout.String())
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr.String())
	}

	type event struct {
		start, end, location string
		allDay               bool
	}
	oro := map[string]event{}
	for _, e := range rep.Oro {
		if _, dup := oro[e.Title]; dup {
			t.Errorf("Oro has %q twice", e.Title)
		}
		var link struct{ RemoteID string }
		if err := json.Unmarshal(e.Link, &link); err != nil || link.RemoteID == "" {
			t.Errorf("Oro event #%s %q has no link: %s", e.ID, e.Title, e.Link)
		}
		ev := event{start: e.Start, end: e.End, location: e.Location, allDay: e.AllDay}
		if !e.AllDay {
			ev.start, ev.end = utc(t, e.Start), utc(t, e.End)
		}
		oro[e.Title] = ev
	}
	ms := map[string]event{}
	for _, e := range rep.Mailbox {
		title, _ := e["subject"].(string)
		if _, dup := ms[title]; dup {
			t.Errorf("the mailbox has %q twice", title)
		}
		var ev event
		ev.allDay, _ = e["isAllDay"].(bool)
		loc, _ := e["location"].(map[string]any)
		ev.location, _ = loc["displayName"].(string)
		for _, f := range []struct {
			name string
			into *string
		}{{"start", &ev.start}, {"end", &ev.end}} {
			dt, _ := e[f.name].(map[string]any)
			v, _ := dt["dateTime"].(string)
			if tz := dt["timeZone"]; tz != "UTC" {
				t.Fatalf("mailbox %q %s in %v", title, f.name, tz)
			}
			if ev.allDay {
				*f.into = strings.TrimSuffix(v, "T00:00:00.0000000")
			} else {
				*f.into = utc(t, strings.TrimSuffix(v, ".0000000")+"Z")
			}
		}
		ms[title] = ev
	}
	if !maps.Equal(oro, ms) {
		t.Errorf("the sides differ:\nOro:     %v\nmailbox: %v", oro, ms)
	}
	want := []string{"Quarterly review (with the board)", "Trade fair", "Team standup", "Dentist (moved)", "Company holiday"}
	if len(ms) != len(want) {
		t.Errorf("mailbox has %d events, want %d", len(ms), len(want))
	}
	for _, title := range want {
		if _, ok := ms[title]; !ok {
			t.Errorf("mailbox lacks %q", title)
		}
	}
	if got := ms["Quarterly review (with the board)"].location; got != "Board room" {
		t.Errorf("the Oro edit reached Microsoft 365 with location %q, want Board room", got)
	}
	if d := ms["Dentist (moved)"]; !strings.HasSuffix(d.start, "T16:00:00Z") || d.allDay {
		t.Errorf("the Outlook edit reached Oro as %+v, want 16:00 UTC", d)
	}
	if d := ms["Trade fair"]; !d.allDay {
		t.Errorf("Trade fair is not all day in Microsoft 365: %+v", d)
	}

	if len(rep.Secrets) < 6 {
		t.Errorf("the report holds %d secrets, want at least secret, state, verifier, code and two tokens", len(rep.Secrets))
	}
	for _, s := range rep.Secrets {
		if s == "" {
			t.Error("an empty secret was reported")
			continue
		}
		if strings.Contains(stdout.String(), s) || strings.Contains(stderr.String(), s) {
			t.Errorf("secret %s appears in the output", secretPrefix(s))
		}
	}
	for _, step := range []string{"connection.authorizationUrl", "connection.exchangeCode", "connection.check",
		"(mode incremental)", "the sidecar exited with status 0"} {
		if !strings.Contains(stdout.String(), step) {
			t.Errorf("the transcript lacks %q", step)
		}
	}
}

func utc(t *testing.T, s string) string {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UTC().Format(time.RFC3339)
}

func TestAbbreviate(t *testing.T) {
	const (
		access   = "EwB4A8l6BAAUbDba3x0OR5ZSHO5WAh0000longtoken"
		refresh  = "M.C540_BAY.0.U.-Cg2refresh-token-value"
		verifier = "PvyPBRq0verifier-43-characters-or-more-xyzw"
		code     = "M.CLJw0z-the-authorization-code"
		state    = "nB0yCkstate-value-32-bytes"
		delta    = "AbCdEfdeltatoken-cursor"
	)
	msgs := []string{
		`{"jsonrpc":"2.0","id":7,"result":{"tokens":{"accessToken":"` + access + `","refreshToken":"` + refresh +
			`"},"codeVerifier":"` + verifier + `","state":"` + state + `","code":"` + code + `"}}`,
		`{"jsonrpc":"2.0","id":8,"result":{"url":"https://login.example/authorize?client_id=x&state=` + state +
			`&code_challenge=` + verifier + `","link":{"remoteId":"AAkALgAAAAAAHYQDEapmEc2byACqAC-EWg0AmUYHkqOzZ0yi",` +
			`"fields":{"title":"9f2c0c1d2e3f4a5b6c7d"}},"title":"Quarterly review"}}`,
		`{"jsonrpc":"2.0","id":9,"method":"sync.run","params":{"state":{"deltaLink":` +
			`"https://graph.example/v1.0/me/calendarView/delta?%24deltatoken=` + delta + `"}}}`,
	}
	var got string
	for _, m := range msgs {
		got += abbreviate([]byte(m)) + "\n"
	}
	for _, s := range []string{access, refresh, verifier, code, state, delta, "AAkALgAAAAAAHYQDEapmEc2byACqAC", "9f2c0c1d2e3f4a5b6c7d"} {
		if strings.Contains(got, s) {
			t.Errorf("%q shown in full:\n%s", s, got)
		}
	}
	for _, s := range []string{`"accessToken":"EwB4A8…"`, `"state":"nB0yCk…"`, `state=nB0yCk…`, `%24deltatoken=AbCdEf…`,
		`"title":"Quarterly review"`, `client_id=x`} {
		if !strings.Contains(got, s) {
			t.Errorf("%s missing from\n%s", s, got)
		}
	}
	if got := abbreviate([]byte(`not json ` + access)); strings.Contains(got, access[:6]) {
		t.Errorf("a line that is not JSON is shown: %s", got)
	}
	if long := abbreviate([]byte(`{"x":"` + strings.Repeat("é", 400) + `"}`)); len(long) > maxShown+40 || !strings.HasSuffix(long, " bytes)") {
		t.Errorf("a long message is not cut: %d bytes", len(long))
	}
}
