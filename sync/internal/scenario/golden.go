package scenario

import (
	"os"
	"path/filepath"
	"testing"
)

// Golden runs every scenario folder under dir (dir/<case>/scenario.txt) as a
// subtest: transcript turns the script into its transcript, which is
// compared with dir/<case>/<golden>, or written there when update is set.
// rerun is the command that rewrites the files, quoted in failures.
func Golden(t *testing.T, dir, golden string, update bool, rerun string, transcript func(t *testing.T, script string) string) {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios in %s: %v", dir, err)
	}
	for _, d := range dirs {
		t.Run(filepath.Base(d), func(t *testing.T) {
			script, err := os.ReadFile(filepath.Join(d, "scenario.txt"))
			if err != nil {
				t.Fatal(err)
			}
			got := transcript(t, string(script))
			file := filepath.Join(d, golden)
			if update {
				if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run %s)", err, rerun)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (%s, then review the diff):\n%s", file, rerun, got)
			}
		})
	}
}
