package calsync

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind classifies a failure for the host. The values are part of the wire
// contract (data.kind in JSON-RPC errors, kind in per-event issues) and must
// never change meaning. rpc maps each Kind to a JSON-RPC error code in one
// table.
type Kind string

// The failure kinds, stable on the wire.
const (
	// KindInvalidInput: the request is wrong; retrying it unchanged cannot help.
	KindInvalidInput Kind = "invalid_input"
	// KindReconnectRequired: the refresh token is expired or revoked; the user
	// must Connect again.
	KindReconnectRequired Kind = "reconnect_required"
	// KindConsentRequired: a needed permission was not granted; the user (or an
	// administrator) must consent.
	KindConsentRequired Kind = "consent_required"
	// KindThrottled: Microsoft asked us to back off; RetryAfter says how long.
	KindThrottled Kind = "throttled"
	// KindUnavailable: network failure, timeout or 5xx; retry later.
	KindUnavailable Kind = "unavailable"
	// KindResyncRequired: the delta token is gone (410); a full round is needed.
	KindResyncRequired Kind = "resync_required"
	// KindConflict: the item changed on the server while we wrote it (412).
	KindConflict Kind = "conflict"
	// KindNotFound: the item no longer exists on the Microsoft side.
	KindNotFound Kind = "not_found"
	// KindForbidden: the account may not do this (not the organizer, read-only
	// calendar, access denied for a reason other than consent).
	KindForbidden Kind = "forbidden"
	// KindRejected: Microsoft refused this item's content (a 400 for one event);
	// retrying it unchanged cannot help.
	KindRejected Kind = "rejected"
	// KindCancelled: the host cancelled the request ($/cancelRequest, or the
	// sidecar is stopping). A deadline that passes is KindUnavailable: the
	// same request may succeed later.
	KindCancelled Kind = "cancelled"
	// KindConfiguration: the sidecar is set up wrong (an endpoint URL whose
	// name does not exist, a token endpoint that redirects); an administrator
	// must fix its flags. Retrying cannot help.
	KindConfiguration Kind = "configuration"
	// KindInternal: a bug in oro-msync.
	KindInternal Kind = "internal"
)

// Retryable reports whether the same request may succeed later without any
// change by the user or the host.
func (k Kind) Retryable() bool {
	switch k {
	case KindThrottled, KindUnavailable, KindConflict, KindResyncRequired:
		return true
	}
	return false
}

// Error is the one error type that crosses package boundaries. Adapters
// translate their failures into it at the edge; rpc turns it into a JSON-RPC
// error object. Message is shown to people and must never contain a secret.
type Error struct {
	Kind       Kind
	Op         string        // what was being done, e.g. "graph.createEvent", "oauth.refresh"
	Field      string        // for KindInvalidInput: the offending field path, e.g. "cascade.user.direction"
	Message    string        // a short explanation a person can act on
	RetryAfter time.Duration // when Microsoft said how long to wait
	Code       string        // the upstream code when there is one (Graph error code, AADSTS number)
	Cause      string        // for a transport failure: what went wrong on the way (dns_not_found, connection_refused, redirect…)
	Err        error         // the cause, for logs; %w-wrapped
}

func (e *Error) Error() string {
	var s string
	switch {
	case e.Field != "":
		s = e.Field + ": " + e.Message
	case e.Message != "":
		s = e.Message
	default:
		s = string(e.Kind)
	}
	if e.Op != "" {
		s = e.Op + ": " + s
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Invalid returns a KindInvalidInput error naming the offending field.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalidInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// AsError finds the *Error in err's chain. An error that carries none is a
// bug as far as the host is concerned and is reported as KindInternal.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) {
		return &Error{Kind: KindCancelled, Message: "cancelled", Err: err}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return &Error{Kind: KindUnavailable, Message: "timed out", Err: err}
	}
	return &Error{Kind: KindInternal, Message: "internal error", Err: err}
}

// KindOf returns the Kind of err ("" for nil).
func KindOf(err error) Kind {
	if err == nil {
		return ""
	}
	return AsError(err).Kind
}
