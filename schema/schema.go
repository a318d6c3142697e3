// Package schema holds the OpenRPC 1.3 document that describes the sidecar's
// JSON-RPC API (openrpc.json), embedded so that the binary serves it from
// rpc.discover, and Validator, which checks the params of a call against it
// before any handler runs, with no file or network access.
//
// The tests validate the document against offline copies of the OpenRPC
// meta-schema and the json-schema-tools meta-schema it refers to (meta/,
// see meta/README.md) with santhosh-tekuri/jsonschema and a loader that
// refuses every URL it does not embed; the same library cross-checks the
// Validator's verdicts. That library is used by tests only: its package
// initialisation is too slow for the sidecar's start-up.
//
// To add a method: add its entry to "methods" (params by name, each an
// inline content descriptor whose schema is usually a $ref to
// "#/components/schemas/..."), put its params and result schemas under
// components.schemas, list the errors it can return, and give at least one
// example. The tests validate the document against the meta-schema, every
// example against the method's schemas, and every request in examples/.
//
// This package must not import anything of the project but its own
// jsonscan: rpc and the tests depend on it, not the other way round.
package schema

import _ "embed"

// OpenRPC is the OpenRPC document, as embedded. Callers must not modify it.
//
//go:embed openrpc.json
var OpenRPC []byte
