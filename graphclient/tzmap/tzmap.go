package tzmap

import (
	"slices"
	"sync"
)

// The tables are built on first use, not when the program starts: a
// sidecar call that resolves no zone (rpc.discover, the connection methods)
// does not pay for them, which keeps the process start short (issue 14).
var (
	windowsToIANA = sync.OnceValue(windowsToIANATable)
	ianaToWindows = sync.OnceValue(ianaToWindowsTable)
	graphIANA     = sync.OnceValue(graphIANATable)
)

// IANA returns the IANA zone CLDR gives a Windows zone name (its
// territory-001 default, e.g. "W. Europe Standard Time" → "Europe/Berlin").
// Windows names are matched exactly, as Graph matches them.
func IANA(windows string) (string, bool) {
	z, ok := windowsToIANA()[windows]
	return z, ok
}

// Windows returns the Windows zone name for an IANA name from any CLDR
// territory, under any of its aliases ("Asia/Calcutta" and "Asia/Kolkata",
// "Europe/Kiev" and "Europe/Kyiv"), e.g. "Europe/Amsterdam" → "W. Europe
// Standard Time". It is how a client turns a host's IANA zone into a name
// Graph accepts (calendar-semantics §1.4.1: always send Windows names).
func Windows(iana string) (string, bool) {
	w, ok := ianaToWindows()[iana]
	return w, ok
}

// IsWindows reports whether name is a Windows zone name CLDR knows.
func IsWindows(name string) bool {
	_, ok := windowsToIANA()[name]
	return ok
}

// GraphIANA reports whether Graph documents name as an accepted IANA time
// zone, and returns the zone it stands for (a name the IANA database
// knows: the documented "Asia/Toshkent" stands for "Asia/Tashkent").
// Names outside this list, such as "Europe/Amsterdam", are not documented
// as accepted.
func GraphIANA(name string) (string, bool) {
	z, ok := graphIANA()[name]
	return z, ok
}

// GraphZone resolves a dateTimeTimeZone.timeZone value as Graph reads it: a
// Windows name, or an IANA name on Graph's documented list. It returns the
// IANA zone to compute with, and false for a name Graph does not document.
func GraphZone(name string) (string, bool) {
	if z, ok := windowsToIANA()[name]; ok {
		return z, true
	}
	return GraphIANA(name)
}

// WindowsNames lists every Windows zone name, sorted.
func WindowsNames() []string { return sortedKeys(windowsToIANA()) }

// GraphIANANames lists the IANA names Graph documents, sorted.
func GraphIANANames() []string { return sortedKeys(graphIANA()) }

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
