package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os/exec"
	"strings"
	"time"
	"unicode/utf8"
)

// sidecarPkg is what runs when no binary is given. The package path (not
// ./cmd/oro-msync) works from any directory inside the module.
const sidecarPkg = "github.com/oro-msync/oro-msync/cmd/oro-msync"

// sidecar is a running oro-msync and the host's end of its JSON-RPC pipe:
// one request at a time, one NDJSON line each way.
type sidecar struct {
	cmd        *exec.Cmd
	stdin      io.WriteCloser
	lines      <-chan []byte // stdout, line by line; closed at its end
	transcript io.Writer
	lastID     int
	stopped    bool
}

func startSidecar(o options, authority, graph string, transcript io.Writer) (*sidecar, error) {
	name, args := o.Sidecar, []string{"--authority-url", authority, "--graph-url", graph}
	if name == "" {
		name, args = "go", append([]string{"run", sidecarPkg}, args...)
	}
	if o.Verbose {
		args = append(args, "--log-format", "console", "--log-level", "debug")
	}
	fmt.Fprintf(transcript, "$ %s %s\n", name, strings.Join(args, " "))
	cmd := exec.Command(name, args...)
	if o.Verbose {
		cmd.Stderr = o.Stderr
	}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the sidecar: %w", err)
	}
	lines := make(chan []byte)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			if len(bytes.TrimSpace(sc.Bytes())) > 0 {
				lines <- bytes.Clone(sc.Bytes())
			}
		}
	}()
	return &sidecar{cmd: cmd, stdin: stdin, lines: lines, transcript: transcript}, nil
}

// rpcError is a JSON-RPC error reply.
type rpcError struct {
	Code    int             `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data"`
}

func (e *rpcError) Error() string {
	var d struct {
		Kind  string `json:"kind"`
		Field string `json:"field"`
	}
	_ = json.Unmarshal(e.Data, &d)
	msg := fmt.Sprintf("JSON-RPC error %d: %s", e.Code, e.Message)
	if d.Kind != "" {
		msg += " (kind " + d.Kind + ")"
	}
	if d.Field != "" {
		msg += " (field " + d.Field + ")"
	}
	return msg
}

// rotatedTokens returns the tokens a failed call refreshed before it
// failed (data.tokens), which the host must store anyway.
func (e *rpcError) rotatedTokens() *tokens {
	var d struct {
		Tokens *tokens `json:"tokens"`
	}
	_ = json.Unmarshal(e.Data, &d)
	return d.Tokens
}

// call sends one request, prints both messages abbreviated and decodes the
// result into result. An error reply is returned as *rpcError.
func (s *sidecar) call(ctx context.Context, method string, params, result any) error {
	s.lastID++
	id := s.lastID
	msg := map[string]any{"jsonrpc": "2.0", "id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	req, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.transcript, "  → %s\n", abbreviate(req))
	if _, err := s.stdin.Write(append(req, '\n')); err != nil {
		return fmt.Errorf("%s: writing to the sidecar: %w", method, err)
	}
	var line []byte
	select {
	case l, ok := <-s.lines:
		if !ok {
			return fmt.Errorf("%s: the sidecar closed stdout without replying (run with --verbose to see its log)", method)
		}
		line = l
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
	fmt.Fprintf(s.transcript, "  ← %s\n", abbreviate(line))
	var reply struct {
		ID     int             `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *rpcError       `json:"error"`
	}
	if err := json.Unmarshal(line, &reply); err != nil {
		return fmt.Errorf("%s: bad reply: %w", method, err)
	}
	if reply.ID != id {
		return fmt.Errorf("%s: reply to id %d, want %d", method, reply.ID, id)
	}
	if reply.Error != nil {
		return reply.Error
	}
	return json.Unmarshal(reply.Result, result)
}

// stop shuts the sidecar down the polite way: close its stdin, read what it
// still writes and wait for it to exit (killed after 10 s). It returns the
// exit error, nil for status 0.
func (s *sidecar) stop() error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	_ = s.stdin.Close()
	kill := time.AfterFunc(10*time.Second, func() { _ = s.cmd.Process.Kill() })
	defer kill.Stop()
	for range s.lines {
	}
	return s.cmd.Wait()
}

// maxShown is how much of one JSON-RPC message the transcript shows.
const maxShown = 320

// Keys whose string values are credentials, and keys holding URLs with
// credentials or cursors in their query.
var (
	secretKeys = map[string]bool{"accessToken": true, "refreshToken": true, "clientSecret": true,
		"code": true, "codeVerifier": true, "state": true, "expectedState": true}
	urlKeys      = map[string]bool{"url": true, "deltaLink": true, "nextLink": true}
	secretParams = map[string]bool{"code": true, "state": true, "code_challenge": true, "$deltatoken": true, "$skiptoken": true}
	opaqueKeys   = map[string]bool{"remoteId": true, "changeKey": true, "etag": true, "iCalUId": true, "uid": true, "hash": true, "key": true, "id": true}
)

// abbreviate renders a JSON-RPC message for the transcript: credentials cut
// to their first characters, long ids shortened, the whole cut to maxShown.
// A line that is not JSON is never shown (it could hold anything).
func abbreviate(line []byte) string {
	var v any
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return fmt.Sprintf("(%d bytes that are not JSON)", len(line))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(redact("", v)); err != nil {
		return fmt.Sprintf("(%d bytes: %v)", len(line), err)
	}
	s := strings.TrimSpace(b.String())
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:cut], len(line))
}

// redact returns v with the values under sensitive keys abbreviated.
func redact(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			as := k
			if key == "fields" {
				as = "hash" // a link's per-field-group hashes
			}
			x[k] = redact(as, c)
		}
		return x
	case []any:
		for i, c := range x {
			x[i] = redact("", c)
		}
		return x
	case string:
		switch {
		case secretKeys[key]:
			return secretPrefix(x)
		case urlKeys[key]:
			return redactURL(x)
		case opaqueKeys[key] && len(x) > 14:
			return x[:10] + "…"
		}
	}
	return v
}

// secretPrefix shows the first 6 characters of a secret (fewer for short
// ones, so that most of it is always hidden).
func secretPrefix(s string) string {
	n := 6
	if len(s) < 2*n {
		n = len(s) / 2
	}
	return s[:n] + "…"
}

// redactURL abbreviates the query parameters of u that carry a code, a
// state, a PKCE challenge or a Graph cursor; the rest stays readable.
func redactURL(u string) string {
	base, query, ok := strings.Cut(u, "?")
	if !ok {
		return u
	}
	params := strings.Split(query, "&")
	for i, p := range params {
		k, v, _ := strings.Cut(p, "=")
		if name, err := url.QueryUnescape(k); err == nil && secretParams[name] {
			params[i] = k + "=" + secretPrefix(v)
		}
	}
	return base + "?" + strings.Join(params, "&")
}
