package calsync

// Exported for the external tests (package calsync_test), which cannot see
// the engine's internals but share sync/internal/scenario with sync/simtest.

// ContentHash is the content hash of an Oro event as the engine compares it.
func ContentHash(e Event) string {
	c, _ := parseContent(e)
	return c.hash()
}

// RemoteContentHash is the content hash of a Microsoft event.
func RemoteContentHash(r RemoteEvent) string { return remoteContent(&r).hash() }
