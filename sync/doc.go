// Package calsync is the synchronization engine of oro-msync: the domain types
// (Oro events, per-event links, the per-user sync state, operations for the
// host), the settings cascade, the error taxonomy and the planner that decides
// what to write where.
//
// The directory is sync/ but the package is named calsync so that it never
// shadows the standard library's sync package in importers; import it as
//
//	import calsync "github.com/oro-msync/oro-msync/sync"
//
// Dependencies point inward: this package must not import graphclient,
// msgraph-sdk-go or rpc. The Microsoft side reaches it through the Remote
// interface, which graphclient implements. Planning is pure (no I/O); the
// clock and id generation are injected so tests are byte-stable.
package calsync
