package calsync

import "testing"

// BenchmarkDecide measures the pure planner per event (both sides edited,
// merge: the most expensive case).
func BenchmarkDecide(b *testing.B) {
	p := pairFor("edit", "edit", t0, t0, true)
	cfg := planConfig{dir: DirectionBoth, strategy: ConflictMerge}
	b.ReportAllocs()
	for b.Loop() {
		decide(p, cfg)
	}
}
