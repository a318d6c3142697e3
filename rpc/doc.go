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
// flight before it lets the Conn close. One writer goroutine writes the
// replies from an unbounded queue in the order they are ready, so reading
// never waits for the host to read: a host that writes all its requests
// before it reads (PHP's blocking fwrite) cannot deadlock with the sidecar. Handlers run concurrently, bounded
// by Options.MaxConcurrent, each under recover and with its own context
// that $/cancelRequest cancels.
//
// Every request's context carries a zerolog logger (zerolog.Ctx) whose lines
// name the request id and method; params are never logged.
//
// This package must stay free of Microsoft Graph: it must not import
// msgraph-sdk-go or graphclient, so that its tests stay fast. Methods live
// in rpc/api.
package rpc
