package rpc

import (
	"errors"

	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/sourcegraph/jsonrpc2"
)

// JSON-RPC error codes. The first five are the specification's; -32800 is
// the Language Server Protocol's RequestCancelled.
const (
	CodeParseError       = -32700
	CodeInvalidRequest   = -32600
	CodeMethodNotFound   = -32601
	CodeInvalidParams    = -32602
	CodeInternalError    = -32603
	CodeRequestCancelled = -32800
)

// kindCodes is the one table mapping failure kinds to JSON-RPC error codes.
// schema/openrpc.json documents the same table as x-error-kinds (a test
// keeps the two equal). A kind missing here is reported as internal.
var kindCodes = map[calsync.Kind]int64{
	calsync.KindInvalidInput:      CodeInvalidParams,
	calsync.KindInternal:          CodeInternalError,
	calsync.KindCancelled:         CodeRequestCancelled,
	calsync.KindReconnectRequired: -32001,
	calsync.KindConsentRequired:   -32002,
	calsync.KindThrottled:         -32003,
	calsync.KindUnavailable:       -32004,
	calsync.KindResyncRequired:    -32005,
	calsync.KindConflict:          -32006,
	calsync.KindNotFound:          -32007,
	calsync.KindForbidden:         -32008,
	calsync.KindRejected:          -32009,
	calsync.KindConfiguration:     -32010,
}

// ErrorData is the data member of every error object the sidecar sends.
type ErrorData struct {
	Kind         calsync.Kind `json:"kind"`
	Retryable    bool         `json:"retryable"`
	RetryAfterMs int64        `json:"retryAfterMs,omitempty"`
	Field        string       `json:"field,omitempty"`
	Op           string       `json:"op,omitempty"`
	UpstreamCode string       `json:"upstreamCode,omitempty"`
	// Cause says what went wrong on the way to Microsoft (dns_not_found,
	// connection_refused, redirect…). It is sent whatever the kind: the
	// message of an internal error is replaced, the cause is not.
	Cause      string `json:"cause,omitempty"`
	LimitBytes int64  `json:"limitBytes,omitempty"`
	// Tokens are the user's tokens when they were rotated before the method
	// failed: the old refresh token may already be spent, so the host must
	// store these even though the call failed.
	Tokens any `json:"tokens,omitempty"`
}

// TokenCarrier is implemented by a method failure that happened after the
// OAuth tokens were refreshed; errorObject puts them in data.tokens.
type TokenCarrier interface {
	error
	RotatedTokens() any
}

// errorObject turns any error into a JSON-RPC error object. Errors without a
// *calsync.Error in their chain are internal: their text (which may say too
// much) is logged, never sent.
func errorObject(err error) *jsonrpc2.Error {
	var pe *protocolError
	if errors.As(err, &pe) {
		return pe.object()
	}
	e := calsync.AsError(err)
	k := e.Kind
	code, ok := kindCodes[k]
	if !ok {
		k, code = calsync.KindInternal, CodeInternalError
	}
	msg := e.Message
	if k == calsync.KindInternal {
		msg = "internal error"
	}
	if msg == "" {
		msg = string(k)
	}
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	d := ErrorData{Kind: k, Retryable: k.Retryable(), Field: e.Field, Op: e.Op, UpstreamCode: e.Code, Cause: e.Cause}
	if e.RetryAfter > 0 {
		d.RetryAfterMs = e.RetryAfter.Milliseconds()
	}
	var tc TokenCarrier
	if errors.As(err, &tc) {
		d.Tokens = tc.RotatedTokens()
	}
	o := &jsonrpc2.Error{Code: code, Message: msg}
	o.SetError(d)
	return o
}

// protocolError is a failure of the protocol itself (parse error, invalid
// request, unknown method), as opposed to a failure of a method.
type protocolError struct {
	code  int64
	msg   string
	limit int64 // for a message over the size limit
}

func (e *protocolError) Error() string { return e.msg }

func (e *protocolError) object() *jsonrpc2.Error {
	o := &jsonrpc2.Error{Code: e.code, Message: e.msg}
	o.SetError(ErrorData{Kind: calsync.KindInvalidInput, LimitBytes: e.limit})
	return o
}
