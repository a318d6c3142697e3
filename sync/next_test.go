package calsync

import (
	"testing"
	"time"
)

// TestNextSyncAt is the rule of Result.NextSyncAt, reason by reason: a
// partial result that should be continued is called again after
// Microsoft's Retry-After (at least ContinueFloor), everything else after
// the sync interval, never before the Retry-After.
func TestNextSyncAt(t *testing.T) {
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	const interval = 15 * time.Minute
	for _, tc := range []struct {
		status     Status
		reason     Reason
		retryAfter time.Duration
		want       time.Duration // after now
	}{
		{StatusCompleted, "", 0, interval},
		{StatusCompleted, "", 3 * time.Second, interval},
		{StatusCompleted, "", time.Hour, time.Hour},
		{StatusPartial, ReasonTimeBudget, 0, ContinueFloor},
		{StatusPartial, ReasonTimeBudget, 3 * time.Second, 3 * time.Second},
		{StatusPartial, ReasonTimeBudget, 10 * time.Millisecond, ContinueFloor},
		{StatusPartial, ReasonTimeBudget, time.Hour, time.Hour},
		{StatusPartial, ReasonReadFailed, 0, ContinueFloor},
		{StatusPartial, ReasonReadFailed, 30 * time.Second, 30 * time.Second},
		{StatusPartial, ReasonResyncRequired, 0, ContinueFloor},
		{StatusPartial, ReasonResyncRequired, 5 * time.Second, 5 * time.Second},
		{StatusPartial, ReasonMassDeleteGuard, 0, interval},
		{StatusPartial, ReasonMassDeleteGuard, 3 * time.Second, interval},
		{StatusPartial, ReasonMassDeleteGuard, time.Hour, time.Hour},
		{StatusPartial, "some_future_reason", 0, interval},
		{StatusSkipped, ReasonDisabled, 0, interval},
		{StatusSkipped, ReasonDisabled, time.Hour, time.Hour},
	} {
		got := nextSyncAt(now, interval, tc.status, tc.reason, tc.retryAfter)
		if want := now.Add(tc.want); !got.Equal(want) {
			t.Errorf("%s/%s retryAfter=%v: nextSyncAt = now+%v, want now+%v", tc.status, tc.reason, tc.retryAfter, got.Sub(now), tc.want)
		}
	}
}

// TestRetryMs: an issue carries the Retry-After of the error that caused
// it, and nothing for errors without one.
func TestRetryMs(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int64
	}{
		{nil, 0},
		{&Error{Kind: KindUnavailable}, 0},
		{&Error{Kind: KindThrottled, RetryAfter: 3 * time.Second}, 3000},
		{&Error{Kind: KindUnavailable, RetryAfter: 10 * time.Second}, 10000},
	} {
		if got := retryMs(tc.err); got != tc.want {
			t.Errorf("retryMs(%v) = %d, want %d", tc.err, got, tc.want)
		}
	}
}
