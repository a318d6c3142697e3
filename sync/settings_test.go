package calsync

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func cascadeOf(t *testing.T, s string) Cascade {
	t.Helper()
	var c Cascade
	if err := json.Unmarshal([]byte(s), &c); err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return c
}

func TestResolve(t *testing.T) {
	oro, ms, both := DirectionOroToMicrosoft, DirectionMicrosoftToOro, DirectionBoth
	type want struct {
		enabled    bool
		write      bool // writeAttendees
		direction  Direction
		conflict   ConflictResolution // "" means not applicable (null)
		interval   int
		sources    Sources
		disabledBy Scope
		notes      []string // keys that must have a note
	}
	tests := []struct {
		name    string
		cascade string
		want    want
	}{
		{"nothing configured: defaults, off until an admin turns it on", `{}`,
			want{false, false, both, ConflictOroWins, 15, Sources{ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, ScopeDefault, []string{"enabled"}}},
		{"null scopes and null values mean parent", `{"system":null,"organization":{"enabled":null,"direction":null},"user":{"conflictResolution":null,"syncIntervalMinutes":null}}`,
			want{false, false, both, ConflictOroWins, 15, Sources{ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, ScopeDefault, []string{"enabled"}}},
		{"system sets everything", `{"system":{"enabled":true,"direction":"both","conflictResolution":"merge","syncIntervalMinutes":60}}`,
			want{true, false, both, ConflictMerge, 60, Sources{ScopeSystem, ScopeSystem, ScopeSystem, ScopeSystem, ScopeDefault}, "", nil}},
		{"organization overrides system", `{"system":{"enabled":true,"direction":"both","conflictResolution":"merge","syncIntervalMinutes":60},"organization":{"direction":"both","conflictResolution":"most_recent","syncIntervalMinutes":5}}`,
			want{true, false, both, ConflictMostRecent, 5, Sources{ScopeSystem, ScopeOrganization, ScopeOrganization, ScopeOrganization, ScopeDefault}, "", nil}},
		{"user overrides organization and system", `{"system":{"enabled":true,"conflictResolution":"merge","syncIntervalMinutes":60},"organization":{"conflictResolution":"most_recent","syncIntervalMinutes":5},"user":{"conflictResolution":"microsoft_wins","syncIntervalMinutes":1440}}`,
			want{true, false, both, ConflictMicrosoftWins, 1440, Sources{ScopeSystem, ScopeDefault, ScopeUser, ScopeUser, ScopeDefault}, "", nil}},
		{"user null falls through to organization", `{"system":{"enabled":true,"syncIntervalMinutes":60},"organization":{"syncIntervalMinutes":5},"user":{"syncIntervalMinutes":null}}`,
			want{true, false, both, ConflictOroWins, 5, Sources{ScopeSystem, ScopeDefault, ScopeDefault, ScopeOrganization, ScopeDefault}, "", nil}},
		{"missing organization falls through to system", `{"system":{"enabled":true,"direction":"oro_to_microsoft"},"user":{}}`,
			want{true, false, oro, "", 15, Sources{ScopeSystem, ScopeSystem, ScopeDefault, ScopeDefault, ScopeDefault}, "", []string{"conflictResolution"}}},

		// enabled: the administrator's switch (organization, else system, else off) AND the user's (default on)
		{"system on, user default", `{"system":{"enabled":true}}`,
			want{true, false, both, ConflictOroWins, 15, Sources{ScopeSystem, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, "", nil}},
		{"system off", `{"system":{"enabled":false},"user":{"enabled":true}}`,
			want{false, false, both, ConflictOroWins, 15, Sources{ScopeSystem, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, ScopeSystem, []string{"enabled"}}},
		{"organization on overrides system off", `{"system":{"enabled":false},"organization":{"enabled":true}}`,
			want{true, false, both, ConflictOroWins, 15, Sources{ScopeOrganization, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, "", nil}},
		{"organization off overrides system on", `{"system":{"enabled":true},"organization":{"enabled":false},"user":{"enabled":true}}`,
			want{false, false, both, ConflictOroWins, 15, Sources{ScopeOrganization, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, ScopeOrganization, []string{"enabled"}}},
		{"organization null falls back to system", `{"system":{"enabled":true},"organization":{"enabled":null}}`,
			want{true, false, both, ConflictOroWins, 15, Sources{ScopeSystem, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, "", nil}},
		{"user turns it off", `{"system":{"enabled":true},"user":{"enabled":false}}`,
			want{false, false, both, ConflictOroWins, 15, Sources{ScopeUser, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, ScopeUser, []string{"enabled"}}},
		{"user on cannot override the administrator", `{"organization":{"enabled":false},"user":{"enabled":true}}`,
			want{false, false, both, ConflictOroWins, 15, Sources{ScopeOrganization, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, ScopeOrganization, []string{"enabled"}}},
		{"user on alone is not enough", `{"user":{"enabled":true}}`,
			want{false, false, both, ConflictOroWins, 15, Sources{ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, ScopeDefault, []string{"enabled"}}},
		{"both off: the administrator's switch is named", `{"organization":{"enabled":false},"user":{"enabled":false}}`,
			want{false, false, both, ConflictOroWins, 15, Sources{ScopeOrganization, ScopeDefault, ScopeDefault, ScopeDefault, ScopeDefault}, ScopeOrganization, []string{"enabled"}}},

		// conflictResolution applies only when the direction is both
		{"one way to Microsoft: conflict not applicable", `{"system":{"enabled":true,"conflictResolution":"merge"},"user":{"direction":"oro_to_microsoft"}}`,
			want{true, false, oro, "", 15, Sources{ScopeSystem, ScopeUser, ScopeSystem, ScopeDefault, ScopeDefault}, "", []string{"conflictResolution"}}},
		{"one way to Oro: conflict not applicable", `{"system":{"enabled":true},"organization":{"direction":"microsoft_to_oro"}}`,
			want{true, false, ms, "", 15, Sources{ScopeSystem, ScopeOrganization, ScopeDefault, ScopeDefault, ScopeDefault}, "", []string{"conflictResolution"}}},
		{"user back to both: conflict applies again", `{"system":{"enabled":true},"organization":{"direction":"microsoft_to_oro","conflictResolution":"most_recent"},"user":{"direction":"both"}}`,
			want{true, false, both, ConflictMostRecent, 15, Sources{ScopeSystem, ScopeUser, ScopeOrganization, ScopeDefault, ScopeDefault}, "", nil}},

		// writeAttendees: the nearest scope that sets it; off by default
		{"writeAttendees set by the organization", `{"system":{"enabled":true,"writeAttendees":false},"organization":{"writeAttendees":true}}`,
			want{true, true, both, ConflictOroWins, 15, Sources{ScopeSystem, ScopeDefault, ScopeDefault, ScopeDefault, ScopeOrganization}, "", []string{"writeAttendees"}}},
		{"writeAttendees turned off by the user", `{"system":{"enabled":true,"writeAttendees":true},"user":{"writeAttendees":false}}`,
			want{true, false, both, ConflictOroWins, 15, Sources{ScopeSystem, ScopeDefault, ScopeDefault, ScopeDefault, ScopeUser}, "", nil}},
		{"writeAttendees null falls through to system", `{"system":{"enabled":true,"writeAttendees":true},"organization":{"writeAttendees":null}}`,
			want{true, true, both, ConflictOroWins, 15, Sources{ScopeSystem, ScopeDefault, ScopeDefault, ScopeDefault, ScopeSystem}, "", []string{"writeAttendees"}}},
		{"writeAttendees not applicable when nothing is pushed", `{"system":{"enabled":true},"user":{"direction":"microsoft_to_oro","writeAttendees":true}}`,
			want{true, true, ms, "", 15, Sources{ScopeSystem, ScopeUser, ScopeDefault, ScopeDefault, ScopeUser}, "", []string{"conflictResolution", "writeAttendees"}}},
		{"interval bounds accepted", `{"system":{"enabled":true,"syncIntervalMinutes":1440},"user":{"syncIntervalMinutes":1}}`,
			want{true, false, both, ConflictOroWins, 1, Sources{ScopeSystem, ScopeDefault, ScopeDefault, ScopeUser, ScopeDefault}, "", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cascadeOf(t, tt.cascade)
			if err := c.Validate("cascade"); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			r := Resolve(c)
			e := r.Effective
			if e.Enabled != tt.want.enabled || e.Direction != tt.want.direction || e.SyncIntervalMinutes != tt.want.interval || e.WriteAttendees != tt.want.write {
				t.Errorf("effective = %+v, want enabled=%v direction=%s interval=%d writeAttendees=%v", e, tt.want.enabled, tt.want.direction, tt.want.interval, tt.want.write)
			}
			if got := r.ConflictStrategy(); got != tt.want.conflict {
				t.Errorf("conflict strategy = %q, want %q", got, tt.want.conflict)
			}
			if (e.ConflictResolution == nil) != (tt.want.conflict == "") {
				t.Errorf("effective.conflictResolution = %v, want applicable=%v", e.ConflictResolution, tt.want.conflict != "")
			}
			if r.Sources != tt.want.sources {
				t.Errorf("sources = %+v, want %+v", r.Sources, tt.want.sources)
			}
			if r.DisabledBy != tt.want.disabledBy {
				t.Errorf("disabledBy = %q, want %q", r.DisabledBy, tt.want.disabledBy)
			}
			if len(r.Notes) != len(tt.want.notes) {
				t.Errorf("notes = %v, want keys %v", r.Notes, tt.want.notes)
			}
			for _, k := range tt.want.notes {
				if r.Notes[k] == "" {
					t.Errorf("no note for %s in %v", k, r.Notes)
				}
			}
		})
	}
}

// The wire shape of the result: conflictResolution is an explicit null when
// not applicable, disabledBy and notes are left out when there is nothing to say.
func TestResolvedJSON(t *testing.T) {
	r := Resolve(cascadeOf(t, `{"system":{"enabled":true},"user":{"direction":"oro_to_microsoft"}}`))
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	for _, want := range []string{`"conflictResolution":null`, `"enabled":true`, `"writeAttendees":false`, `"sources":{"enabled":"system","direction":"user","conflictResolution":"default","syncIntervalMinutes":"default","writeAttendees":"default"}`} {
		if !strings.Contains(got, want) {
			t.Errorf("%s\nlacks %s", got, want)
		}
	}
	if strings.Contains(got, "disabledBy") || strings.Contains(got, "configured") {
		t.Errorf("%s: disabledBy must be absent when enabled, and nothing internal may leak", got)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		cascade string
		field   string // "" = valid
	}{
		{`{}`, ""},
		{`{"system":{"direction":"both","conflictResolution":"oro_wins","syncIntervalMinutes":1},"organization":{"direction":"oro_to_microsoft","conflictResolution":"microsoft_wins"},"user":{"direction":"microsoft_to_oro","conflictResolution":"most_recent","syncIntervalMinutes":1440}}`, ""},
		{`{"user":{"conflictResolution":"merge"}}`, ""},
		{`{"system":{"writeAttendees":true},"organization":{"writeAttendees":false},"user":{"writeAttendees":null}}`, ""},
		{`{"system":{"direction":"sideways"}}`, "cascade.system.direction"},
		{`{"organization":{"direction":""}}`, "cascade.organization.direction"},
		{`{"user":{"direction":"Both"}}`, "cascade.user.direction"},
		{`{"system":{"conflictResolution":"coin_toss"}}`, "cascade.system.conflictResolution"},
		{`{"user":{"conflictResolution":"oro-wins"}}`, "cascade.user.conflictResolution"},
		{`{"system":{"syncIntervalMinutes":0}}`, "cascade.system.syncIntervalMinutes"},
		{`{"organization":{"syncIntervalMinutes":1441}}`, "cascade.organization.syncIntervalMinutes"},
		{`{"user":{"syncIntervalMinutes":-5}}`, "cascade.user.syncIntervalMinutes"},
		// the first bad field is named, farthest scope first
		{`{"system":{"direction":"x"},"user":{"direction":"y"}}`, "cascade.system.direction"},
	}
	for _, tt := range tests {
		t.Run(tt.cascade, func(t *testing.T) {
			err := cascadeOf(t, tt.cascade).Validate("cascade")
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want an *Error naming %s", err, tt.field)
			}
			if e.Kind != KindInvalidInput || e.Field != tt.field || e.Message == "" {
				t.Fatalf("got kind %s field %q message %q, want invalid_input on %s", e.Kind, e.Field, e.Message, tt.field)
			}
		})
	}
}
