package calsync

import "slices"

// Exported for the external tests (package calsync_test), which cannot see
// the engine's internals but share sync/internal/scenario with sync/simtest.

// ContentHash is the content hash of an Oro event as the engine compares it.
func ContentHash(e Event) string {
	c, _ := parseContent(e)
	return c.hash()
}

// SameContent reports whether an Oro event and a Microsoft event hold the
// same synchronized content; the reminder counts only when the Oro event
// carries reminders.
func SameContent(e Event, r RemoteEvent) bool {
	c, _ := parseContent(e)
	rd, od := remoteContent(&r).digest(), c.digest()
	same := func(i int) bool {
		return i < legacyGroups || i == slices.Index(fieldGroups[:], fieldReminder) && c.Reminder != ReminderUnset
	}
	return od.over(same) == rd.over(same)
}

// RemoteContentHash is the content hash of a Microsoft event.
func RemoteContentHash(r RemoteEvent) string { return remoteContent(&r).hash() }
