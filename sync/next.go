package calsync

import "time"

// ContinueFloor is how soon after a result the host is asked to continue a
// partial run that should go on (time_budget, read_failed,
// resync_required) when Microsoft gave no Retry-After: a second, so that a
// host that follows nextSyncAt never loops without a pause.
const ContinueFloor = time.Second

// nextSyncAt says when the host should call again after a run that ended
// at now with status and reason; retryAfter is the longest Retry-After
// Microsoft answered during the run (0: none), interval the user's sync
// interval.
//
//   - partial time_budget, read_failed: the round goes on with the returned
//     state: now + retryAfter, at least ContinueFloor.
//   - partial resync_required: call again in mode full as soon: the same.
//   - partial mass_delete_guard (repeating it does nothing until the user
//     confirms), any other partial, completed, skipped: now + interval,
//     never earlier than now + retryAfter.
func nextSyncAt(now time.Time, interval time.Duration, status Status, reason Reason, retryAfter time.Duration) time.Time {
	wait := interval
	if status == StatusPartial && continues(reason) {
		wait = ContinueFloor
	}
	return now.Add(max(wait, retryAfter))
}

// continues reports whether a partial result with reason asks to be
// continued at once (not at the sync interval).
func continues(reason Reason) bool {
	switch reason {
	case ReasonTimeBudget, ReasonReadFailed, ReasonResyncRequired:
		return true
	}
	return false
}

// retryMs is what an issue caused by err carries as retryAfterMs: the
// Retry-After Microsoft answered with err (a 429, or a 503 with the
// header), in milliseconds; 0 (left out) when it gave none.
func retryMs(err error) int64 {
	if ae := AsError(err); ae != nil {
		return ae.RetryAfter.Milliseconds()
	}
	return 0
}
