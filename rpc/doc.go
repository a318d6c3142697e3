// Package rpc is the JSON-RPC 2.0 protocol core of oro-msync: message
// framing (newline-delimited JSON by default, LSP Content-Length headers on
// request), a conformance layer that makes github.com/sourcegraph/jsonrpc2
// follow the whole specification, the method table, params validation
// against the OpenRPC document, and the one table that maps calsync error
// kinds to JSON-RPC error codes.
//
// sourcegraph/jsonrpc2 alone closes the connection on a parse error or an
// invalid request, has no batches, mangles negative, fractional and null
// ids, dies on a handler panic and loses in-flight replies at EOF. This
// package keeps its Conn and puts a conformance ObjectStream in front of it
// (stream.go): the stream answers parse errors and invalid requests itself,
// splits batches, gives every request an internal numeric id and keeps the
// original id bytes and params aside, swaps the original id back into each
// reply, assembles batch replies, and on EOF waits for every request in
// flight before it lets the Conn close. Replies do not go through the
// Conn: each is encoded once, by its request's goroutine, straight into
// the bytes that are written (a batch reply is written from its members,
// never joined). One writer goroutine writes the replies in the order
// they are ready from a queue, so reading goes on while the host is not
// reading: a host that writes its requests before it reads (PHP's
// blocking fwrite) does not deadlock with the sidecar. The queue is
// bounded (Options.MaxPendingOutput): past it, reading pauses until the
// host reads.
//
// The OpenRPC document costs nothing at start: Serve answers rpc.discover
// with it, encoded by the first rpc.discover, and builds the params
// validator for the first request that has params to check.
//
// What a hostile or careless host sends costs bounded memory: a batch has
// at most Options.MaxBatch members (counted before any is decoded), large
// messages are not copied (jsonscan hands out sub-slices), and a request
// waits for its slot as data, not as a goroutine. There are two pools.
// Quick methods (no network) and every params check run in a small pool
// whose slot the read goroutine waits for; the other methods (the ones
// that call Microsoft) run at most Options.MaxConcurrent at once, with at
// most Options.MaxQueued waiting in a queue; one more is refused as
// throttled. So a quick method never waits behind a sync. Each request
// runs under recover, with its own context that $/cancelRequest cancels,
// queued or running.
//
// Params are decoded with exact member names (DecodeParams): Go's decoder
// would match "ROUNDORODELETES" to roundOroDeletes.
//
// Every request's context carries a zerolog logger (zerolog.Ctx) whose lines
// name the request (id, rpc_method: other layers may log an HTTP method
// without a clash); durations are logged as *_ms. Params are never logged.
//
// This package must stay free of Microsoft Graph: it must not import
// msgraph-sdk-go or graphclient, so that its tests stay fast. Methods live
// in rpc/api.
package rpc
