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
// msgraph-sdk-go or rpc (TestDependencies enforces it). The Microsoft side
// reaches it through the Remote interface, which graphclient implements.
// Planning is pure (plan.go: no I/O); the clock is injected and every key
// and id the engine makes is derived from its inputs, so tests are
// byte-stable.
//
// # One run
//
// [Run] validates the [Request], resolves the cascade (disabled: skipped, no
// Remote call), reads one calendarView delta round (following nextLinks, with
// a guard against rounds that never end), pairs Microsoft items with the Oro
// events (by link, then by our transactionId or Oro id, then, in full mode,
// by iCalendar UID), confirms removals with Get, four at a time (a delta
// "@removed" is a deletion or a move out of the window; what the budget
// leaves unread is decided by a later call, the state continuing the round
// at the first page not decided), plans each pair (see CONFLICTS.md),
// applies the mass-delete guard, writes through Remote.Apply (If-Match on
// updates and deletes; 412 and 404 are read again and decided again; the
// Remote alone retries writes and looks up an ambiguous create, see
// Remote.Apply), and reads a settle round that absorbs the echoes
// of its own writes. The [Result] carries operations for the host, issues,
// the new [State] and statistics.
//
// Each phase has its own file, and each hands its result to the next as a
// value: run.go (Run, and run: the call's round from start to state),
// read.go (a delta round), pair.go (index and pairing), confirm.go (the
// reads a round leaves open), series.go (recurring series, recognised and
// set aside there and nowhere else), plan.go and conflict.go (the pure
// decide), guard.go (the mass-delete guard over a tally), apply.go (writes
// and their results), emit.go (operations, links, issues), settle.go (the
// echo round), round.go (one round through the phases, its roundMode) and
// state.go (the pure nextState).
//
// Incremental runs need the state of an earlier run for the same window; a
// first run, a changed window or an expired delta token (410) answers
// partial/resync_required with state.needsFull, and the host calls again
// with mode full, which reconciles by id and UID and never mass-creates or
// mass-deletes.
//
// # Crash safety
//
// Nothing is stored here. A host that loses a result calls again with its
// old state and events: the delta round from the old state shows what the
// lost run wrote (our transactionId identifies the creates, content hashes
// the updates), so the outcome converges without duplicates. The model test
// (TestModel) checks this with random edits, faults and lost results.
//
// # Tests
//
// The golden scenarios (testdata/scenarios/<case>/scenario.txt) run through
// sync/internal/scenario twice: here against an in-memory fake (golden.txt),
// and in sync/simtest against the Graph simulator through the real Graph
// client (golden-graph.txt). Both are rewritten with -update. A script
// marked sim-only (the recurring series ones: the fake holds no series)
// runs against the simulator alone.
package calsync
