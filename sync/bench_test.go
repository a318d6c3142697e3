package calsync

import "testing"

// BenchmarkDecide measures the pure planner per event (both sides edited,
// merge: the most expensive case). cached: the pair's content hashes were
// computed by an earlier decision (as readFor and emit share them with
// decide); fresh: every decision hashes both sides again.
func BenchmarkDecide(b *testing.B) {
	cfg := planConfig{dir: DirectionBoth, strategy: ConflictMerge}
	b.Run("cached", func(b *testing.B) {
		p := pairFor("edit", "edit", t0, t0, true)
		b.ReportAllocs()
		for b.Loop() {
			decide(p, cfg)
		}
	})
	b.Run("fresh", func(b *testing.B) {
		p := pairFor("edit", "edit", t0, t0, true)
		b.ReportAllocs()
		for b.Loop() {
			p.oroD, p.remoteD = nil, nil
			decide(p, cfg)
		}
	})
}
