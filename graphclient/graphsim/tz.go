package graphsim

import (
	"regexp"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the simulator must not depend on the host's zoneinfo
)

// windowsZones maps the Windows time zone names Graph accepts to IANA zones
// (CLDR windowsZones.xml, territory 001). facts §5: dateTimeTimeZone accepts
// any Windows name plus a listed set of IANA names.
var windowsZones = map[string]string{
	"Dateline Standard Time":          "Etc/GMT+12",
	"UTC-11":                          "Etc/GMT+11",
	"Hawaiian Standard Time":          "Pacific/Honolulu",
	"Alaskan Standard Time":           "America/Anchorage",
	"Pacific Standard Time (Mexico)":  "America/Tijuana",
	"Pacific Standard Time":           "America/Los_Angeles",
	"US Mountain Standard Time":       "America/Phoenix",
	"Mountain Standard Time (Mexico)": "America/Mazatlan",
	"Mountain Standard Time":          "America/Denver",
	"Central America Standard Time":   "America/Guatemala",
	"Central Standard Time":           "America/Chicago",
	"Central Standard Time (Mexico)":  "America/Mexico_City",
	"Canada Central Standard Time":    "America/Regina",
	"SA Pacific Standard Time":        "America/Bogota",
	"Eastern Standard Time":           "America/New_York",
	"US Eastern Standard Time":        "America/Indianapolis",
	"Venezuela Standard Time":         "America/Caracas",
	"Atlantic Standard Time":          "America/Halifax",
	"SA Western Standard Time":        "America/La_Paz",
	"Newfoundland Standard Time":      "America/St_Johns",
	"E. South America Standard Time":  "America/Sao_Paulo",
	"Argentina Standard Time":         "America/Buenos_Aires",
	"Greenland Standard Time":         "America/Godthab",
	"UTC-02":                          "Etc/GMT+2",
	"Azores Standard Time":            "Atlantic/Azores",
	"UTC":                             "Etc/UTC",
	"GMT Standard Time":               "Europe/London",
	"Greenwich Standard Time":         "Atlantic/Reykjavik",
	"W. Europe Standard Time":         "Europe/Berlin",
	"Central Europe Standard Time":    "Europe/Budapest",
	"Romance Standard Time":           "Europe/Paris",
	"Central European Standard Time":  "Europe/Warsaw",
	"W. Central Africa Standard Time": "Africa/Lagos",
	"GTB Standard Time":               "Europe/Bucharest",
	"Middle East Standard Time":       "Asia/Beirut",
	"Egypt Standard Time":             "Africa/Cairo",
	"South Africa Standard Time":      "Africa/Johannesburg",
	"FLE Standard Time":               "Europe/Kiev",
	"Israel Standard Time":            "Asia/Jerusalem",
	"E. Europe Standard Time":         "Europe/Chisinau",
	"Arabic Standard Time":            "Asia/Baghdad",
	"Turkey Standard Time":            "Europe/Istanbul",
	"Arab Standard Time":              "Asia/Riyadh",
	"Russian Standard Time":           "Europe/Moscow",
	"E. Africa Standard Time":         "Africa/Nairobi",
	"Iran Standard Time":              "Asia/Tehran",
	"Arabian Standard Time":           "Asia/Dubai",
	"Afghanistan Standard Time":       "Asia/Kabul",
	"Pakistan Standard Time":          "Asia/Karachi",
	"West Asia Standard Time":         "Asia/Tashkent",
	"India Standard Time":             "Asia/Calcutta",
	"Sri Lanka Standard Time":         "Asia/Colombo",
	"Nepal Standard Time":             "Asia/Katmandu",
	"Central Asia Standard Time":      "Asia/Almaty",
	"Bangladesh Standard Time":        "Asia/Dhaka",
	"Myanmar Standard Time":           "Asia/Rangoon",
	"SE Asia Standard Time":           "Asia/Bangkok",
	"China Standard Time":             "Asia/Shanghai",
	"Singapore Standard Time":         "Asia/Singapore",
	"Taipei Standard Time":            "Asia/Taipei",
	"W. Australia Standard Time":      "Australia/Perth",
	"Tokyo Standard Time":             "Asia/Tokyo",
	"Korea Standard Time":             "Asia/Seoul",
	"Cen. Australia Standard Time":    "Australia/Adelaide",
	"AUS Central Standard Time":       "Australia/Darwin",
	"E. Australia Standard Time":      "Australia/Brisbane",
	"AUS Eastern Standard Time":       "Australia/Sydney",
	"West Pacific Standard Time":      "Pacific/Port_Moresby",
	"Tasmania Standard Time":          "Australia/Hobart",
	"Vladivostok Standard Time":       "Asia/Vladivostok",
	"Central Pacific Standard Time":   "Pacific/Guadalcanal",
	"New Zealand Standard Time":       "Pacific/Auckland",
	"UTC+12":                          "Etc/GMT-12",
	"Fiji Standard Time":              "Pacific/Fiji",
	"Tonga Standard Time":             "Pacific/Tongatapu",
	"Samoa Standard Time":             "Pacific/Apia",
	"Line Islands Standard Time":      "Pacific/Kiritimati",
}

// ianaAccepted is the IANA set: the targets above, their modern spellings
// and the Etc/GMT±N family.
var ianaAccepted = func() map[string]bool {
	m := map[string]bool{"UTC": true, "Etc/GMT": true, "Asia/Kolkata": true, "Asia/Kathmandu": true,
		"Asia/Yangon": true, "Europe/Kyiv": true, "America/Nuuk": true, "America/Indiana/Indianapolis": true,
		"America/Argentina/Buenos_Aires": true, "Europe/Amsterdam": true, "Europe/Rome": true, "Europe/Madrid": true,
		"Europe/Stockholm": true, "Europe/Vienna": true, "Europe/Zurich": true, "Europe/Brussels": true,
		"Europe/Prague": true, "Europe/Dublin": true, "Europe/Lisbon": true, "America/Toronto": true,
		"America/Vancouver": true, "Asia/Hong_Kong": true, "Australia/Melbourne": true}
	for _, v := range windowsZones {
		m[v] = true
	}
	return m
}()

var etcRe = regexp.MustCompile(`^Etc/GMT[+-]([0-9]|1[0-4])$`)

var (
	zoneMu    sync.Mutex
	zoneCache = map[string]*time.Location{}
)

// loadZone resolves a dateTimeTimeZone.timeZone or Prefer outlook.timezone
// value; ok is false for names Graph rejects.
func loadZone(name string) (*time.Location, bool) {
	name = strings.TrimSpace(name)
	iana := name
	if w, ok := windowsZones[name]; ok {
		iana = w
	} else if !ianaAccepted[name] && !etcRe.MatchString(name) {
		// Windows names are matched case-insensitively by Exchange.
		for k, v := range windowsZones {
			if strings.EqualFold(k, name) {
				iana = v
				goto load
			}
		}
		return nil, false
	}
load:
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
