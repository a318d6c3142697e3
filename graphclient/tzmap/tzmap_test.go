package tzmap_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
	_ "time/tzdata"

	"github.com/oro-msync/oro-msync/graphclient/tzmap"
)

// TestTables: semantics §1.4.4 — CLDR 48 has 139 Windows zones, and every
// zone the tables name loads from the IANA database.
func TestTables(t *testing.T) {
	if n := len(tzmap.WindowsNames()); n != 139 {
		t.Errorf("%d Windows zones, CLDR 48 has 139", n)
	}
	for _, w := range tzmap.WindowsNames() {
		z, _ := tzmap.IANA(w)
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("%s → %s: %v", w, z, err)
		}
		if back, ok := tzmap.Windows(z); !ok || back != w {
			t.Errorf("%s → %s → %q", w, z, back)
		}
	}
	for _, n := range tzmap.GraphIANANames() {
		z, _ := tzmap.GraphIANA(n)
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("documented %s → %s: %v", n, z, err)
		}
	}
}

func TestLookups(t *testing.T) {
	cases := []struct {
		name, in, want string
		ok             bool
		f              func(string) (string, bool)
	}{
		{"§1.4.4 CLDR 48 moved Central Asia to Bishkek", "Central Asia Standard Time", "Asia/Bishkek", true, tzmap.IANA},
		{"§1.4.1 Windows names match exactly", "w. europe standard time", "", false, tzmap.IANA},
		{"§1.4.4 Morocco is a Windows zone", "Morocco Standard Time", "Africa/Casablanca", true, tzmap.IANA},
		{"§1.4.4 alias Asia/Kolkata", "Asia/Kolkata", "India Standard Time", true, tzmap.Windows},
		{"§1.4.4 alias Asia/Calcutta", "Asia/Calcutta", "India Standard Time", true, tzmap.Windows},
		{"§1.4.4 alias Europe/Kyiv", "Europe/Kyiv", "FLE Standard Time", true, tzmap.Windows},
		{"§1.4.4 non-001 territory", "Europe/Amsterdam", "W. Europe Standard Time", true, tzmap.Windows},
		{"§1.4.4 multi-zone type", "America/Toronto", "Eastern Standard Time", true, tzmap.Windows},
		{"§1.4.1 documented IANA", "America/Santiago", "America/Santiago", true, tzmap.GraphZone},
		{"§1.4.1 documented second spelling", "Asia/Toshkent", "Asia/Tashkent", true, tzmap.GraphZone},
		{"§1.4.1 undocumented IANA", "Europe/Amsterdam", "", false, tzmap.GraphZone},
		{"§1.4.1 undocumented IANA", "Etc/UTC", "", false, tzmap.GraphZone},
		{"§1.4.1 Windows UTC", "UTC", "Etc/UTC", true, tzmap.GraphZone},
	}
	for _, tc := range cases {
		t.Run(tc.name+" "+tc.in, func(t *testing.T) {
			got, ok := tc.f(tc.in)
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %q %v, want %q %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestGenerated: zones_gen.go is what the generator makes of the committed
// inputs.
func TestGenerated(t *testing.T) {
	have, err := os.ReadFile("zones_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "zones_gen.go")
	if err := run(t, out); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(out)
	if string(have) != string(want) {
		t.Error("zones_gen.go is stale: run go generate ./graphclient/tzmap")
	}
}

// run regenerates the tables into out with the committed generator.
func run(t *testing.T, out string) error {
	t.Helper()
	cmd := exec.Command("go", "run", "./internal/gen", "-in", "internal/gen", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Logf("%s", b)
		return err
	}
	return nil
}
