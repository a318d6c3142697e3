// Package tzmap maps Windows time-zone names to IANA names and back, and
// knows which names Microsoft Graph accepts in a dateTimeTimeZone
// (calendar-semantics §1.4.1, §1.4.4).
//
// The tables are generated from CLDR's windowsZones and bcp47 time-zone
// aliases, and from the list of IANA names the Graph documentation gives, by
// internal/gen (go generate), whose inputs are committed beside it. The
// package uses only the standard library and loads no zone data itself, so
// the sidecar, the sync engine and the simulator can all use it cheaply; a
// caller that turns names into *time.Location values should link
// time/tzdata so as not to depend on the host's zoneinfo.
package tzmap

//go:generate go run ./internal/gen -in internal/gen -out zones_gen.go
