// Package calendar implements the sync engine's Remote contract
// (calsync.Remote) over Microsoft Graph for the primary calendar of one
// connected user.
//
// Reads are built by msgraph-sdk-go's request builders: calendarView/delta
// pages (one page per call, links replayed verbatim), single events and the
// lookup by our extended property. They are sent through the session's
// request adapter, so its middleware and error mapping apply, but the answers
// are decoded with encoding/json into graphEvent, which holds only what the
// mapping reads: the SDK's parser and models cost several times the CPU and
// allocations per event. Writes go through JSON $batch requests that this
// package builds itself on the same adapter, because the SDK's batch helper
// panics on 204 items, chunks by 19 and never retries throttled items; their
// item answers are decoded the same way.
//
// Every request asks for UTC times and text bodies (Prefer headers), so the
// mapping to calsync.RemoteEvent never converts zones: timed events are
// instants in UTC, all-day events are plain dates at midnight UTC with an
// exclusive end. The Oro id travels in one single-value extended property
// (OroIDPropertyID), written with creates and updates and read back with
// $expand wherever Graph allows it (not on delta: there the Oro id is read
// from the transactionId, calsync.OroIDFromTransactionID).
//
// Concurrency: Microsoft throttles an application at 4 concurrent requests
// per mailbox, and Graph runs the items of an unordered batch 4 at a time.
// A Remote therefore holds 4 mailbox slots; a single request takes one slot,
// a batch takes one slot per item up to 4. Batches are sized and sent so that
// no more than 4 requests ever run against the mailbox, which is what keeps a
// well-behaved run free of 429s. Items answered 429, 503 or 504 are queued
// again after their Retry-After while the context allows; a create whose
// attempt may have been performed (no answer, a 5xx, a 409) is looked up by
// its Oro id before it is sent again, since Graph's transactionId dedupe is
// unconfirmed.
//
// The package must not decide anything about sync: what to write, and what a
// failure means for an event, is the engine's business. Errors leave as
// *calsync.Error, classified by graphclient.Classify.
package calendar
