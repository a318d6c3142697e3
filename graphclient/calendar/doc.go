// Package calendar implements the sync engine's Remote contract
// (calsync.Remote) over Microsoft Graph for the primary calendar of one
// connected user.
//
// Reads are built by msgraph-sdk-go's request builders: calendarView/delta
// pages (one page per call, links replayed verbatim), single events, a
// series master with its exceptions and cancelled occurrences, a series'
// occurrences in a span (instances, for the ids an Oro exception is
// written to) and the lookup by our extended property. They are sent through the session's
// request adapter, so its middleware and error mapping apply, but the answers
// are decoded by encoding/json's rules (go-json-experiment/json's v1
// package, see decode) into graphEvent, which holds only what the
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
// and 10,000 requests per 10 minutes per mailbox, and Graph runs the items
// of an unordered batch 4 at a time but those of a batch chained by
// dependsOn one at a time. A Remote therefore holds 4 mailbox slots; a
// single request and a chained batch take one slot each, an unordered batch
// one per item up to 4. Apply keeps 4 chained batches in flight (the last
// batch of a push goes unordered once it is alone), so the mailbox runs 4
// writes at every moment and never sees a fifth, which is what keeps a
// well-behaved run free of 429s. Every request and batch item is counted
// against the Remote's request budget; what it does not allow is not sent
// and answers throttled. Items answered 429, 503 or 504 are queued again
// after their Retry-After while the context allows, items answered 424 (an
// earlier item of their chain failed) at once; a create whose attempt may
// have been performed (no answer, a 5xx, a 409) is looked up by its Oro id
// before it is sent again, since Graph's transactionId dedupe is
// unconfirmed.
//
// The package must not decide anything about sync: what to write, and what a
// failure means for an event, is the engine's business. Errors leave as
// *calsync.Error, classified by graphclient.Classify.
package calendar
