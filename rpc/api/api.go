// Package api implements the sidecar's JSON-RPC methods on top of package
// rpc: each file adds the methods of one area (this one: settings.resolve)
// and Methods lists them all (rpc.Serve answers rpc.discover itself).
// Params reach a handler already validated against schema/openrpc.json, so
// handlers decode them with rpc.DecodeParams (exact member names) without
// re-checking shapes; they still check what the schema cannot say.
//
// Process-level settings (endpoints, version, clock, logger) come from Env.
// Request params can never change where tokens are sent: endpoints are only
// ever taken from Env.
package api

import (
	"context"
	"encoding/json"
	"time"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/rpc"
	calsync "github.com/oro-msync/oro-msync/sync"
	"github.com/rs/zerolog"
)

// Env is what every method may use from the process.
type Env struct {
	// AuthorityURL is the Microsoft identity platform (OAuth) base URL,
	// e.g. https://login.microsoftonline.com or the simulator's.
	AuthorityURL string
	// GraphURL is the Microsoft Graph base URL including the version,
	// e.g. https://graph.microsoft.com/v1.0 or the simulator's.
	GraphURL string
	// Version is the sidecar's build version (the API version is
	// info.version of the OpenRPC document).
	Version string
	// Logger is the process logger; inside a request use zerolog.Ctx(ctx),
	// which also names the request.
	Logger zerolog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Methods returns the method table of the sidecar.
func Methods(env Env) []rpc.Method {
	return []rpc.Method{
		{Name: "settings.resolve", Quick: true, Handler: settingsResolve},
		{Name: "connection.authorizationUrl", Quick: true, Handler: authorizationURL(env)},
		{Name: "connection.exchangeCode", Handler: exchangeCode(env)},
		{Name: "connection.check", Handler: check(env)},
		{Name: "sync.run", Handler: syncRun(env)},
		{Name: "subscription.ensure", Handler: subscriptionEnsure(env)},
		{Name: "subscription.remove", Handler: subscriptionRemove(env)},
		{Name: "notification.verify", Quick: true, Handler: notificationVerify},
		// A new method is one line here plus its entry in
		// schema/openrpc.json (a test refuses undocumented methods).
		// Quick: true only for a method that never waits on the network.
	}
}

// SettingsResolveParams are the params of settings.resolve.
type SettingsResolveParams struct {
	Cascade calsync.Cascade `json:"cascade"`
}

func settingsResolve(_ context.Context, params json.RawMessage) (any, error) {
	var p SettingsResolveParams
	if err := rpc.DecodeParams(params, &p); err != nil {
		return nil, err
	}
	if err := p.Cascade.Validate("cascade"); err != nil {
		return nil, err
	}
	return calsync.Resolve(p.Cascade), nil
}

// TokensError is a failure that happened after Microsoft issued or rotated
// the user's tokens (a refresh inside sync.run, a code redeemed by
// connection.exchangeCode): the host must store Tokens even though the call
// failed, because the refresh token it holds may already be spent. It wraps
// the failure, so its kind and code are the failure's; the RPC layer sends
// the tokens as data.tokens.
type TokensError struct {
	Err    error
	Tokens graphclient.Tokens
}

func (e *TokensError) Error() string { return e.Err.Error() }
func (e *TokensError) Unwrap() error { return e.Err }

// RotatedTokens hands the tokens to the RPC layer.
func (e *TokensError) RotatedTokens() any { return e.Tokens }

// withTokens returns err carrying s's tokens when s rotated them, so a
// failure never loses a refresh token the call already spent.
func withTokens(s *graphclient.Session, err error) error {
	if t, rotated := s.Tokens(); rotated {
		return &TokensError{Err: err, Tokens: t}
	}
	return err
}

// rotatedTokens returns s's tokens for a result when s rotated them, else nil.
func rotatedTokens(s *graphclient.Session) *graphclient.Tokens {
	if t, rotated := s.Tokens(); rotated {
		return &t
	}
	return nil
}
