package calsync

import (
	"strings"
	"testing"
	_ "time/tzdata" // zones the CLDR table lacks are checked against the IANA database
)

func TestRequestTimeZone(t *testing.T) {
	for _, c := range []struct {
		tz      string
		wantErr bool
		zone    string // the Windows zone all-day events are written in
		ok      bool
	}{
		{"", false, "UTC", true}, // absent: as before the field existed
		{"Europe/Berlin", false, "W. Europe Standard Time", true},
		{"Pacific/Kiritimati", false, "Line Islands Standard Time", true},
		{"Etc/GMT+12", false, "Dateline Standard Time", true},
		{"Asia/Calcutta", false, "India Standard Time", true}, // an alias
		{"UTC", false, "UTC", true},
		{"Antarctica/Troll", false, "", false}, // valid, no Windows name: per event
		{"W. Europe Standard Time", true, "", false},
		{"Local", true, "", false},
		{"Europe/Nowhere", true, "", false},
		{"../etc/passwd", true, "", false},
		{"/usr/share/zoneinfo/UTC", true, "", false},
	} {
		err := Request{TimeZone: c.tz}.Validate()
		if (err != nil) != c.wantErr {
			t.Errorf("%q: Validate = %v, want error %v", c.tz, err, c.wantErr)
		}
		if err != nil && (AsError(err).Field != "timeZone" || !strings.Contains(err.Error(), "timeZone")) {
			t.Errorf("%q: error %v does not name timeZone", c.tz, err)
		}
		if c.wantErr {
			continue
		}
		if zone, ok := allDayZone(c.tz); zone != c.zone || ok != c.ok {
			t.Errorf("%q: allDayZone = %q %v, want %q %v", c.tz, zone, ok, c.zone, c.ok)
		}
	}
}

// TestRemoteZone: all-day and timed content are written in the zone named
// (the user's Windows zone), in UTC without one.
func TestRemoteZone(t *testing.T) {
	c := content{AllDay: true}
	if z := c.remote("Line Islands Standard Time").TimeZone; z != "Line Islands Standard Time" {
		t.Errorf("all-day written in %q", z)
	}
	if z := c.remote("").TimeZone; z != "UTC" {
		t.Errorf("all-day without a zone written in %q", z)
	}
	c.AllDay = false
	if z := c.remote("Line Islands Standard Time").TimeZone; z != "Line Islands Standard Time" {
		t.Errorf("timed written in %q", z)
	}
	if z := c.remote("").TimeZone; z != "UTC" {
		t.Errorf("timed without a zone written in %q", z)
	}
}
