package calendar

import (
	"testing"
	"time"
)

// graphStamp reads what it accepts exactly as time.Parse reads it (as
// graphTime falls back to it: RFC 3339, or the form without offset), and
// leaves the rest to it.
func TestGraphStampAgreesWithParse(t *testing.T) {
	parse := func(s string) (time.Time, bool) {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil && len(s) == len("2006-01-02T15:04:05") {
			v, err = time.Parse("2006-01-02T15:04:05", s)
		}
		return v, err == nil
	}
	for _, s := range []string{
		"2025-02-21T10:00:01.7654321Z", "2025-02-21T10:00:01Z", "2025-02-21T10:00:01", "2025-02-21T10:00:01.1Z",
		"2025-02-21T10:00:01.123456789Z", "2025-02-21T10:00:01.1234567891Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.9999999Z",
		"2024-02-29T12:00:00Z", "2025-02-29T12:00:00Z", "2025-13-01T00:00:00Z", "2025-00-10T00:00:00Z", "2025-01-32T00:00:00Z",
		"2025-01-01T24:00:00Z", "2025-01-01T23:60:00Z", "2025-01-01T23:59:60Z", "2025-01-01T10:00:00+01:00", "2025-01-01T10:00:00z",
		"2025-01-01T10:00:00.Z", "2025-01-01T10:00:00.", "2025-01-01T10:00:00.1", "2025-01-01 10:00:00Z", "2025-1-01T10:00:00Z",
		"+025-01-01T10:00:00Z", "2025-01-01T10:00:00ZZ", "2025-01-01T1a:00:00Z", "2025-01-01t10:00:00Z", "",
	} {
		got, ok := graphStamp([]byte(`"` + s + `"`))
		want, wok := parse(s)
		if ok && (!wok || !got.Equal(want) || got.Location() != want.Location()) {
			t.Errorf("%q: graphStamp %v, time.Parse %v (%v)", s, got, want, wok)
		}
		var g graphTime
		err := g.UnmarshalJSON([]byte(`"` + s + `"`))
		if (err == nil) != wok || wok && !g.Time.Equal(want) {
			t.Errorf("%q: graphTime %v (%v), time.Parse %v (%v)", s, g.Time, err, want, wok)
		}
	}
	if _, ok := graphStamp([]byte(`"2025-02-21T10:00:01.7654321Z"`)); !ok {
		t.Error("Graph's own form is not read without time.Parse")
	}
}
