package calsync

import "testing"

// An attendee's copy edited in Oro whose meeting its organizer deleted is
// never re-created in Microsoft 365 as the user's own event, whatever the
// strategy: pulled as a deletion, or reported when pushing only.
func TestOrganizerDeletedAttendeeCopyNotRecreated(t *testing.T) {
	for _, dir := range []Direction{DirectionBoth, DirectionOroToMicrosoft, DirectionMicrosoftToOro} {
		for _, strategy := range ConflictResolutions {
			d := decide(pairFor("edit", "delete", t0, t0, false), planConfig{dir: dir, strategy: strategy})
			if d.write != "" {
				t.Errorf("%s/%s: %s written to Microsoft 365", dir, strategy, d.write)
			}
			if dir.Pulls() && d.pull != OpDelete || !dir.Pulls() && (d.issue == nil || d.issue.Kind != KindForbidden) {
				t.Errorf("%s/%s: pull %q issue %+v; want the Oro copy deleted (pulling) or a forbidden issue", dir, strategy, d.pull, d.issue)
			}
		}
	}
	// the user's own event is still re-created when Oro wins
	if d := decide(pairFor("edit", "delete", t0, t0, true), planConfig{dir: DirectionBoth, strategy: ConflictOroWins}); d.write != WriteCreate {
		t.Errorf("organizer: write %q, want create", d.write)
	}
}
