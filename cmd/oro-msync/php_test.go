package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPHPHostExample runs examples/php/demo.php, the host-side client an Oro
// bundle would start from, against the built sidecar: discovery, a settings
// cascade, a rejected bad input, and the polite exit (close stdin, exit 0).
func TestPHPHostExample(t *testing.T) {
	php, err := exec.LookPath("php")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("php is not installed, and CI=true: .ci/run must install php-cli")
		}
		t.Skip("php is not installed: skipping the PHP host example (.ci/run installs php-cli)")
	}
	cmd := exec.Command(php, filepath.Join("..", "..", "examples", "php", "demo.php"), binary, "--log-level=warn")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("demo.php: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr.String())
	}
	for _, want := range []string{
		"methods\n",
		"enabled=true direction=both (system) conflictResolution=merge (user) interval=30 (organization)",
		"rejected: code=-32602 kind=invalid_input field=cascade.user.direction",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("demo.php output lacks %q:\n%s", want, out)
		}
	}
}
