package calsync_test

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files of the sync scenarios")

// TestScenarios runs every sync/testdata/scenarios/<case>/scenario.txt
// against the in-memory fake and compares with golden.txt (-update rewrites).
// sync/simtest runs the same scripts against the Graph simulator.
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob("testdata/scenarios/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			script, err := os.ReadFile(filepath.Join(d, "scenario.txt"))
			if err != nil {
				t.Fatal(err)
			}
			got := scenario.Run(t, string(script), func(c *scenario.Clock) scenario.Remote { return scenario.NewFake(c) })
			golden := filepath.Join(d, "golden.txt")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./sync -update)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (go test ./sync -run TestScenarios -update, then review the diff):\n%s", golden, got)
			}
		})
	}
}
