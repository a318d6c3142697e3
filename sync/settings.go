package calsync

import (
	"encoding/json"
	"fmt"
)

// Direction is the sync direction setting.
type Direction string

// The sync directions.
const (
	DirectionOroToMicrosoft Direction = "oro_to_microsoft"
	DirectionMicrosoftToOro Direction = "microsoft_to_oro"
	DirectionBoth           Direction = "both"
)

// Directions lists every valid Direction, in the order documented.
var Directions = []Direction{DirectionOroToMicrosoft, DirectionMicrosoftToOro, DirectionBoth}

// Pushes reports whether Oro changes are written to Microsoft 365.
func (d Direction) Pushes() bool { return d == DirectionOroToMicrosoft || d == DirectionBoth }

// Pulls reports whether Microsoft 365 changes are returned to Oro.
func (d Direction) Pulls() bool { return d == DirectionMicrosoftToOro || d == DirectionBoth }

// ConflictResolution is the strategy applied when both sides changed the same
// event since the last sync (only in DirectionBoth).
type ConflictResolution string

// The conflict strategies.
const (
	ConflictOroWins       ConflictResolution = "oro_wins"
	ConflictMicrosoftWins ConflictResolution = "microsoft_wins"
	ConflictMostRecent    ConflictResolution = "most_recent"
	ConflictMerge         ConflictResolution = "merge"
)

// ConflictResolutions lists every valid ConflictResolution.
var ConflictResolutions = []ConflictResolution{ConflictOroWins, ConflictMicrosoftWins, ConflictMostRecent, ConflictMerge}

// Defaults used when no scope of the cascade sets a value.
const (
	DefaultDirection           = DirectionBoth
	DefaultConflictResolution  = ConflictOroWins
	DefaultSyncIntervalMinutes = 15
	// DefaultWriteAttendees: Oro's attendees are not written to Microsoft
	// 365 unless a scope says so (Microsoft then mails them; attendee.go).
	DefaultWriteAttendees = false
	// The administrator's switch is off until an organization or the system
	// turns it on; the user's own switch is on unless the user turns it off.
	defaultAdminEnabled = false
	defaultUserEnabled  = true
)

// Scope names where a value came from.
type Scope string

// The scopes of the cascade, nearest last, plus the built-in default.
const (
	ScopeUser         Scope = "user"
	ScopeOrganization Scope = "organization"
	ScopeSystem       Scope = "system"
	ScopeDefault      Scope = "default"
)

// ScopeSettings is one level of the cascade. A nil field means "use the parent
// scope's value", whether the host left it out or sent null.
type ScopeSettings struct {
	Enabled             *bool               `json:"enabled,omitempty"`
	Direction           *Direction          `json:"direction,omitempty"`
	ConflictResolution  *ConflictResolution `json:"conflictResolution,omitempty"`
	SyncIntervalMinutes *int                `json:"syncIntervalMinutes,omitempty"`
	WriteAttendees      *bool               `json:"writeAttendees,omitempty"`
}

// Cascade is the system → organization → user settings chain as stored by
// Oro's config manager. Any scope may be absent.
type Cascade struct {
	System       *ScopeSettings `json:"system,omitempty"`
	Organization *ScopeSettings `json:"organization,omitempty"`
	User         *ScopeSettings `json:"user,omitempty"`
}

// Effective is the resolved configuration for one user.
type Effective struct {
	Enabled   bool      `json:"enabled"`
	Direction Direction `json:"direction"`
	// ConflictResolution is nil when it does not apply (direction is not both).
	ConflictResolution  *ConflictResolution `json:"conflictResolution"`
	SyncIntervalMinutes int                 `json:"syncIntervalMinutes"`
	// WriteAttendees: the attendees of events the user organizes are
	// written from Oro to Microsoft 365, which mails them invitations,
	// updates and cancellations (see attendee.go).
	WriteAttendees bool `json:"writeAttendees"`
}

// Sources says which scope each effective value came from.
type Sources struct {
	Enabled             Scope `json:"enabled"`
	Direction           Scope `json:"direction"`
	ConflictResolution  Scope `json:"conflictResolution"`
	SyncIntervalMinutes Scope `json:"syncIntervalMinutes"`
	WriteAttendees      Scope `json:"writeAttendees"`
}

// Resolved is the answer of settings.resolve, also embedded in sync results.
type Resolved struct {
	Effective Effective `json:"effective"`
	Sources   Sources   `json:"sources"`
	// DisabledBy names the scope whose switch turned sync off; empty when enabled.
	DisabledBy Scope `json:"disabledBy,omitempty"`
	// Notes explains values a person might find surprising, keyed by setting.
	Notes map[string]string `json:"notes,omitempty"`
	// configured is the conflict strategy the cascade names, kept even when it
	// does not apply so that notes can mention it.
	configured ConflictResolution
}

// ConflictStrategy returns the strategy the engine applies: the configured one
// in DirectionBoth, and "" otherwise.
func (r Resolved) ConflictStrategy() ConflictResolution {
	if r.Effective.ConflictResolution == nil {
		return ""
	}
	return *r.Effective.ConflictResolution
}

// Validate checks every value of every scope and names the first bad field,
// e.g. "cascade.user.direction". prefix is the path of the cascade in the
// request ("cascade").
func (c Cascade) Validate(prefix string) error {
	scopes := []struct {
		name string
		s    *ScopeSettings
	}{{"system", c.System}, {"organization", c.Organization}, {"user", c.User}}
	for _, sc := range scopes {
		if sc.s == nil {
			continue
		}
		path := prefix + "." + sc.name
		if d := sc.s.Direction; d != nil && !oneOf(*d, Directions) {
			return Invalid(path+".direction", "must be one of %s, got %q", list(Directions), *d)
		}
		if r := sc.s.ConflictResolution; r != nil && !oneOf(*r, ConflictResolutions) {
			return Invalid(path+".conflictResolution", "must be one of %s, got %q", list(ConflictResolutions), *r)
		}
		if m := sc.s.SyncIntervalMinutes; m != nil && (*m < 1 || *m > 1440) {
			return Invalid(path+".syncIntervalMinutes", "must be an integer from 1 to 1440, got %d", *m)
		}
	}
	return nil
}

// Resolve applies the cascade rules. It assumes c passed Validate.
//
// direction, conflictResolution, syncIntervalMinutes and writeAttendees
// take the nearest scope that sets them. enabled is both the administrator's switch and the
// user's: it is true only when the organization's value (falling back to the
// system's, default false) is true and the user's own value (default true) is
// true.
func Resolve(c Cascade) Resolved {
	// nearest first
	chain := []struct {
		scope Scope
		s     *ScopeSettings
	}{{ScopeUser, c.User}, {ScopeOrganization, c.Organization}, {ScopeSystem, c.System}}

	var r Resolved
	r.Effective.Direction, r.Sources.Direction = DefaultDirection, ScopeDefault
	r.configured, r.Sources.ConflictResolution = DefaultConflictResolution, ScopeDefault
	r.Effective.SyncIntervalMinutes, r.Sources.SyncIntervalMinutes = DefaultSyncIntervalMinutes, ScopeDefault
	r.Effective.WriteAttendees, r.Sources.WriteAttendees = DefaultWriteAttendees, ScopeDefault
	for i := len(chain) - 1; i >= 0; i-- { // farthest first, nearer scopes overwrite
		s := chain[i].s
		if s == nil {
			continue
		}
		if s.Direction != nil {
			r.Effective.Direction, r.Sources.Direction = *s.Direction, chain[i].scope
		}
		if s.ConflictResolution != nil {
			r.configured, r.Sources.ConflictResolution = *s.ConflictResolution, chain[i].scope
		}
		if s.SyncIntervalMinutes != nil {
			r.Effective.SyncIntervalMinutes, r.Sources.SyncIntervalMinutes = *s.SyncIntervalMinutes, chain[i].scope
		}
		if s.WriteAttendees != nil {
			r.Effective.WriteAttendees, r.Sources.WriteAttendees = *s.WriteAttendees, chain[i].scope
		}
	}

	admin, adminScope := defaultAdminEnabled, ScopeDefault
	if c.System != nil && c.System.Enabled != nil {
		admin, adminScope = *c.System.Enabled, ScopeSystem
	}
	if c.Organization != nil && c.Organization.Enabled != nil {
		admin, adminScope = *c.Organization.Enabled, ScopeOrganization
	}
	user := defaultUserEnabled
	if c.User != nil && c.User.Enabled != nil {
		user = *c.User.Enabled
	}
	r.Effective.Enabled = admin && user
	switch {
	case !admin:
		r.Sources.Enabled, r.DisabledBy = adminScope, adminScope
		r.note("enabled", fmt.Sprintf("turned off by the %s setting", adminScope))
	case !user:
		r.Sources.Enabled, r.DisabledBy = ScopeUser, ScopeUser
		r.note("enabled", "turned off by the user")
	default:
		// The user's own switch defaults to on, so the administrator's scope
		// is what made sync run.
		r.Sources.Enabled = adminScope
	}

	if r.Effective.Direction == DirectionBoth {
		cr := r.configured
		r.Effective.ConflictResolution = &cr
	} else {
		r.note("conflictResolution", fmt.Sprintf("not applicable: direction is %s; conflicts are resolved only when syncing both ways", r.Effective.Direction))
	}
	switch {
	case r.Effective.WriteAttendees && !r.Effective.Direction.Pushes():
		r.note("writeAttendees", fmt.Sprintf("not applicable: direction is %s; nothing is written to Microsoft 365", r.Effective.Direction))
	case r.Effective.WriteAttendees:
		r.note("writeAttendees", "Microsoft 365 mails invitations, updates and cancellations to the attendees of the meetings the user organizes")
	}
	return r
}

func (r *Resolved) note(key, text string) {
	if r.Notes == nil {
		r.Notes = map[string]string{}
	}
	r.Notes[key] = text
}

func oneOf[T comparable](v T, all []T) bool {
	for _, a := range all {
		if a == v {
			return true
		}
	}
	return false
}

func list[T ~string](all []T) string {
	b, _ := json.Marshal(all)
	return string(b)
}
