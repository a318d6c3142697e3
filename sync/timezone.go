package calsync

import (
	"fmt"
	"strings"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/tzmap"
)

// The user's time zone (Request.TimeZone) and what it is used for: all-day
// events are plain dates on both sides, but Graph anchors an all-day event
// in a zone (calendar-semantics §1.4.3), so they are written as midnight to
// the next midnight in the user's Windows zone, never in UTC (an all-day
// block written at UTC midnight shows as 2am–2am to a user in UTC+2). They
// are read back as plain dates: the date part of what Graph returns, in no
// zone, so no zone from UTC−12 to UTC+14 shifts them by a day.
//
// Only graphclient/tzmap is used from graphclient: a stdlib-only table
// generated from CLDR (see TestDependencies).

// validTimeZone checks the request's IANA zone name: one the CLDR table
// knows, or one the IANA database (as this process loads it) knows. A
// valid zone without a Windows name is not an error of the request: each
// all-day event that would be written in it is an issue instead.
func validTimeZone(name string) error {
	if name == "" {
		return nil
	}
	if _, ok := tzmap.Windows(name); ok {
		return nil
	}
	if name == "Local" || strings.HasPrefix(name, "/") || strings.Contains(name, "..") {
		return Invalid("timeZone", "must be an IANA time zone name such as \"Europe/Berlin\", got %q", name)
	}
	if _, err := time.LoadLocation(name); err != nil {
		return Invalid("timeZone", "must be an IANA time zone name such as \"Europe/Berlin\", got %q", name)
	}
	return nil
}

// allDayZone is the Windows zone name all-day events are written in, from
// the request's IANA zone. Without a zone (hosts before timeZone existed)
// they are written in "UTC", as before; ok is false when the zone has no
// Windows name (those events are left out of the run, see screenZone).
func allDayZone(iana string) (zone string, ok bool) {
	if iana == "" {
		return "UTC", true
	}
	return tzmap.Windows(iana)
}

// screenZone reports, per event, the all-day Oro events that cannot be
// written because the user's zone has no Windows name (nothing is guessed),
// and leaves them out of the run as screen does with invalid events: their
// Microsoft copies are left alone too.
func (e *engine) screenZone(events []Event, bad map[string]bool) {
	if e.zoneOK {
		return
	}
	for _, ev := range events {
		if ev.Deleted || !ev.AllDay || bad[ev.ID] {
			continue
		}
		bad[ev.ID] = true
		e.res.Issues = append(e.res.Issues, Issue{OroID: ev.ID, Kind: KindRejected, Reason: ReasonTimeZoneUnmapped,
			Message: fmt.Sprintf("not synced: the all-day event needs the user's time zone in Microsoft 365, and timeZone %q has no Windows time zone name", e.timeZone)})
	}
}
