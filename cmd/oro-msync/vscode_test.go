package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestVSCodeJSONRPC lets vscode-jsonrpc, a client nobody here wrote, drive
// the sidecar over --framing=content-length: discovery, a method, error
// codes, cancellation through its own $/cancelRequest, pipelining and the
// exit at EOF (testdata/vscode/client.mjs).
func TestVSCodeJSONRPC(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("node is not installed, and CI=true: .ci/run must install nodejs and npm")
		}
		t.Skip("node is not installed: skipping the vscode-jsonrpc test (.ci/run installs it)")
	}
	dir := filepath.Join("testdata", "vscode")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "vscode-jsonrpc")); err != nil {
		t.Fatalf("vscode-jsonrpc is not installed: run `npm ci` in cmd/oro-msync/testdata/vscode (.ci/test does it)")
	}
	cmd := exec.Command(node, "client.mjs", binary)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil || !strings.Contains(string(out), `"ok":true`) {
		t.Fatalf("vscode-jsonrpc client: %v\nstdout: %s\nstderr of client and sidecar:\n%s", err, out, stderr.String())
	}
}
