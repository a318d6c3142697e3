package calsync_test

import (
	"flag"
	"testing"

	"github.com/oro-msync/oro-msync/sync/internal/scenario"
)

var update = flag.Bool("update", false, "rewrite the golden files of the sync scenarios")

// TestScenarios runs every sync/testdata/scenarios/<case>/scenario.txt
// against the in-memory fake and compares with golden.txt (-update rewrites).
// sync/simtest runs the same scripts against the Graph simulator. Scripts
// marked sim-only (series, which the fake does not model) are skipped.
func TestScenarios(t *testing.T) {
	scenario.Golden(t, "testdata/scenarios", "golden.txt", *update, "go test ./sync -run TestScenarios -update",
		func(t *testing.T, script string) string {
			if scenario.SimOnly(script) {
				t.Skip("sim-only: the fake does not model series")
			}
			return scenario.Run(t, script, func(c *scenario.Clock) scenario.Remote { return scenario.NewFake(c) })
		})
}
