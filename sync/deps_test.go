package calsync

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies keeps the engine free of the adapters: sync must not
// import graphclient, rpc or the Graph SDK (dependencies point inward).
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/oro-msync/oro-msync/graphclient",
		"github.com/oro-msync/oro-msync/rpc",
		"github.com/microsoftgraph/",
		"github.com/microsoft/kiota",
	}
	// the CLDR zone table is stdlib-only data, shared with the adapter
	allowed := "github.com/oro-msync/oro-msync/graphclient/tzmap"
	for _, dep := range strings.Fields(string(out)) {
		if dep == allowed {
			continue
		}
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("sync depends on %s", dep)
			}
		}
	}
}
