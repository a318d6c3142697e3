package scenario

import (
	"fmt"
	"time"
)

// Fault is one fault of the scenario language ("fault <fault>" in a
// script). Every Remote under test produces each one in its own way, the
// mapping written next to it: the fake in Fake.Fault, the Graph simulator
// behind the real client in sync/simtest (simRemote.Fault).
type Fault string

// The faults. A write fault hits the next write sent, in order.
const (
	DeltaExpired     Fault = "delta 410"     // the delta token expires: the next delta request answers 410
	DeltaUnavailable Fault = "delta 503"     // the next delta request answers 503
	DeltaReplay      Fault = "delta replay"  // the round's deltaLink replays its last change
	DeltaDupes       Fault = "delta dupes"   // an empty page first, then each page repeats the previous page's last item
	DeltaEndless     Fault = "delta endless" // a round that never ends: the same page under new nextLinks
	GetUnavailable   Fault = "get 503"       // the next Get answers 503
	GetRefused       Fault = "get 403"       // the next Get answers 403: Microsoft refuses to read that one event
	WriteThrottled   Fault = "write 429"     // 429 with Retry-After, retried inside Apply
	WriteUnavailable Fault = "write 503"     // a final 503, after the Remote's own retries
	WriteDrop        Fault = "write drop"    // performed, its answer lost (or, in the simulator, not performed: see its note)
	WriteMoved       Fault = "write 412"     // a Microsoft 365 user changes the event just before the write
	WriteRejected    Fault = "write reject"  // 400: Microsoft refuses the content
)

// Faults lists every fault of the language.
var Faults = []Fault{DeltaExpired, DeltaUnavailable, DeltaReplay, DeltaDupes, DeltaEndless, GetUnavailable, GetRefused,
	WriteThrottled, WriteUnavailable, WriteDrop, WriteMoved, WriteRejected}

// ParseFault reads a fault as a script writes it.
func ParseFault(spec string) (Fault, error) {
	for _, f := range Faults {
		if string(f) == spec {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown fault %q", spec)
}

// parseLatency reads "latency <duration>", the setting a script writes
// among its faults: the time every request takes from then on.
func parseLatency(spec string) (time.Duration, bool, error) {
	var v string
	if _, err := fmt.Sscanf(spec, "latency %s", &v); err != nil {
		return 0, false, nil
	}
	d, err := time.ParseDuration(v)
	return d, true, err
}
