package graphsim

import (
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the simulator must not depend on the host's zoneinfo

	"github.com/oro-msync/oro-msync/graphclient/tzmap"
)

var (
	zoneMu    sync.Mutex
	zoneCache = map[string]*time.Location{}
)

// loadZone returns the location of a zone name: a Windows name (CLDR's
// territory-001 zone), an IANA name Graph documents, or any other IANA name.
// Whether Graph accepts the name is zoneError's question; loadZone only
// computes, so stored names always load.
func loadZone(name string) (*time.Location, bool) {
	iana, ok := tzmap.GraphZone(name)
	if !ok {
		if name == "" || name == "Local" || !strings.Contains(name, "/") {
			return nil, false
		}
		iana = name
	}
	zoneMu.Lock()
	defer zoneMu.Unlock()
	if l, ok := zoneCache[iana]; ok {
		return l, true
	}
	l, err := time.LoadLocation(iana)
	if err != nil {
		return nil, false
	}
	zoneCache[iana] = l
	return l, true
}

// zoneError is Graph's answer to a zone name in a request (semantics
// §1.4.1), nil when it is accepted: every Windows name CLDR knows, matched
// exactly, and of IANA names only the documented list (others with
// AcceptAnyIANAZone). With RejectIANAOnWrite, a documented IANA name in a
// body fails as Africa/Casablanca did (contrib#1609).
func (s *Sim) zoneError(name string, write bool) *apiErr {
	if tzmap.IsWindows(name) {
		return nil
	}
	_, documented := tzmap.GraphIANA(name)
	if documented && !(write && s.opts.RejectIANAOnWrite) {
		return nil
	}
	if !documented && s.opts.AcceptAnyIANAZone {
		if _, ok := loadZone(name); ok {
			return nil
		}
	}
	if documented {
		return badRequest("ErrorPropertyValidationFailure", "At least one property failed validation.")
	}
	return badRequest("TimeZoneNotSupportedException", "A valid TimeZone value must be specified. The following TimeZone value is not supported: '%s'.", name)
}

// checkZones applies zoneError to every zone a body names; write is false
// for the control API's Outlook-side writes.
func (s *Sim) checkZones(p *parsedBody, write bool) *apiErr {
	for _, d := range []*dtz{p.start, p.end} {
		if d == nil {
			continue
		}
		if err := s.zoneError(d.tz, write); err != nil {
			return err
		}
	}
	if rec, ok := p.rec.(map[string]any); ok {
		rng, _ := rec["range"].(map[string]any)
		if tz, _ := rng["recurrenceTimeZone"].(string); tz != "" {
			return s.zoneError(tz, write)
		}
	}
	return nil
}
