package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"time"

	"github.com/rs/zerolog"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/rpc"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// This file holds the connection lifecycle: connection.authorizationUrl,
// connection.exchangeCode and connection.check. Tokens, codes, verifiers and
// secrets pass through these handlers but are never logged nor put into an
// error message.

func graphConfig(ctx context.Context, env Env) graphclient.Config {
	log := zerolog.Ctx(ctx)
	if log.GetLevel() == zerolog.Disabled {
		log = &env.Logger
	}
	return graphclient.Config{
		Endpoints: graphclient.Endpoints{Authority: env.AuthorityURL, Graph: env.GraphURL},
		Version:   env.Version,
		Logger:    *log,
		Now:       env.Now,
	}
}

// AuthorizationURLParams are the params of connection.authorizationUrl.
type AuthorizationURLParams struct {
	App       graphclient.App `json:"app"`
	LoginHint string          `json:"loginHint,omitempty"`
	Prompt    string          `json:"prompt,omitempty"`
	Scopes    []string        `json:"scopes,omitempty"`
}

func authorizationURL(env Env) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, params json.RawMessage) (any, error) {
		var p AuthorizationURLParams
		if err := rpc.DecodeParams(params, &p); err != nil {
			return nil, err
		}
		return graphclient.NewAuthorization(graphConfig(ctx, env), p.App,
			graphclient.AuthorizationRequest{Scopes: p.Scopes, LoginHint: p.LoginHint, Prompt: p.Prompt})
	}
}

// ExchangeCodeParams are the params of connection.exchangeCode.
type ExchangeCodeParams struct {
	App           graphclient.App `json:"app"`
	Code          string          `json:"code"`
	State         string          `json:"state"`
	ExpectedState string          `json:"expectedState"`
	CodeVerifier  string          `json:"codeVerifier"`
}

// ExchangeCodeResult is the result of connection.exchangeCode.
type ExchangeCodeResult struct {
	Tokens        graphclient.Tokens  `json:"tokens"`
	Account       graphclient.Account `json:"account"`
	GrantedScopes []string            `json:"grantedScopes"`
}

func exchangeCode(env Env) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, params json.RawMessage) (any, error) {
		var p ExchangeCodeParams
		if err := rpc.DecodeParams(params, &p); err != nil {
			return nil, err
		}
		// Compared in constant time so the host's expected state cannot be
		// learnt from timing; both must be present.
		if p.ExpectedState == "" || subtle.ConstantTimeCompare([]byte(p.State), []byte(p.ExpectedState)) != 1 {
			return nil, calsync.Invalid("state", "does not match the sign-in that was started; start the sign-in again")
		}
		cfg := graphConfig(ctx, env)
		g, err := graphclient.Exchange(ctx, cfg, p.App, p.Code, p.CodeVerifier)
		if err != nil {
			return nil, err
		}
		if len(g.GrantedScopes) > 0 && !graphclient.HasScope(g.GrantedScopes, graphclient.RequiredScope) {
			return nil, graphclient.MissingScope(graphclient.RequiredScope)
		}
		s, err := graphclient.NewSession(ctx, cfg, p.App, g.Tokens)
		if err != nil {
			return nil, err
		}
		acct, err := s.Me(ctx)
		if err != nil {
			if calsync.KindOf(err) == calsync.KindForbidden {
				return nil, graphclient.MissingScope("User.Read")
			}
			// The code is spent; the tokens are good. Hand them over so the
			// host can finish with connection.check instead of a new sign-in.
			t, _ := s.Tokens()
			return nil, &TokensError{Err: err, Tokens: t}
		}
		if g.TenantID != "" {
			acct.TenantID = g.TenantID
		}
		if t, rotated := s.Tokens(); rotated {
			g.Tokens = t
		}
		zerolog.Ctx(ctx).Info().Str("tenant", acct.TenantID).Strs("scopes", g.GrantedScopes).Msg("account connected")
		return ExchangeCodeResult{Tokens: g.Tokens, Account: acct, GrantedScopes: g.GrantedScopes}, nil
	}
}

// CheckParams are the params of connection.check.
type CheckParams struct {
	App    graphclient.App    `json:"app"`
	Tokens graphclient.Tokens `json:"tokens"`
}

// Connection statuses of connection.check.
const (
	StatusConnected         = "connected"
	StatusReconnectRequired = "reconnect_required"
	StatusConsentRequired   = "consent_required"
	StatusUnavailable       = "unavailable"
	// StatusError: something the user cannot fix by reconnecting or waiting
	// (no mailbox, a refusal Microsoft did not explain); kind says which.
	StatusError = "error"
)

// CheckResult is the result of connection.check.
type CheckResult struct {
	Status       string                `json:"status"`
	Message      string                `json:"message"`
	Kind         calsync.Kind          `json:"kind,omitempty"`
	UpstreamCode string                `json:"upstreamCode,omitempty"`
	Cause        string                `json:"cause,omitempty"`
	RetryAfterMs int64                 `json:"retryAfterMs,omitempty"`
	Account      *graphclient.Account  `json:"account,omitempty"`
	Calendar     *graphclient.Calendar `json:"calendar,omitempty"`
	// Tokens is present whenever they were rotated, even when a later step
	// failed: the host must store them or lose the connection.
	Tokens *graphclient.Tokens `json:"tokens,omitempty"`
}

func check(env Env) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, params json.RawMessage) (any, error) {
		var p CheckParams
		if err := rpc.DecodeParams(params, &p); err != nil {
			return nil, err
		}
		s, err := graphclient.NewSession(ctx, graphConfig(ctx, env), p.App, p.Tokens)
		if err != nil {
			return nil, err // bad input: nothing was sent, nothing rotated
		}
		res := runCheck(ctx, s)
		if ctx.Err() != nil {
			// Cancelled (or stopped): the answer is -32800, never a status
			// made of the failures the cancel caused. Tokens rotated before
			// it still reach the host (data.tokens).
			return nil, withTokens(s, &calsync.Error{Kind: calsync.KindCancelled, Op: "connection.check", Message: "cancelled"})
		}
		res.Tokens = rotatedTokens(s)
		zerolog.Ctx(ctx).Info().Str("status", res.Status).Str("upstream_code", res.UpstreamCode).Str("cause", res.Cause).
			Bool("rotated", res.Tokens != nil).Msg("connection checked")
		return res, nil
	}
}

// runCheck reads /me and the default calendar and says what the user can do.
func runCheck(ctx context.Context, s *graphclient.Session) CheckResult {
	acct, err := s.Me(ctx)
	if err != nil {
		return failed(err, "User.Read")
	}
	res := CheckResult{Account: &acct}
	cal, err := s.DefaultCalendar(ctx)
	if err != nil {
		f := failed(err, graphclient.RequiredScope)
		f.Account = &acct
		return f
	}
	res.Calendar = &cal
	granted := s.GrantedScopes()
	if (granted != nil && !graphclient.HasScope(granted, graphclient.RequiredScope)) || !cal.CanEdit {
		f := failed(graphclient.MissingScope(graphclient.RequiredScope), "")
		f.Account, f.Calendar = &acct, &cal
		return f
	}
	res.Status = StatusConnected
	res.Message = "Connected to Microsoft 365 as " + acct.Email + "."
	return res
}

// failed turns a classified failure into a status. A 403 while reading what
// scope grants is a missing scope.
func failed(err error, scope string) CheckResult {
	e := graphclient.Classify(err)
	if scope != "" {
		e = graphclient.ConsentOrForbidden(e, scope)
	}
	r := CheckResult{Kind: e.Kind, UpstreamCode: e.Code, Cause: e.Cause, Message: e.Message}
	switch e.Kind {
	case calsync.KindReconnectRequired:
		r.Status = StatusReconnectRequired
		r.Message = "The connection to Microsoft 365 has expired or was revoked. Connect the account again."
	case calsync.KindConsentRequired:
		r.Status = StatusConsentRequired
	case calsync.KindThrottled, calsync.KindUnavailable:
		r.Status = StatusUnavailable
		r.Message = "Microsoft 365 cannot be reached right now. Try again later."
		if e.RetryAfter > 0 {
			r.RetryAfterMs = e.RetryAfter.Milliseconds()
			r.Message = "Microsoft 365 cannot be reached right now. Try again in " + e.RetryAfter.Round(time.Second).String() + "."
		}
	default:
		r.Status = StatusError
		if e.Kind == calsync.KindInternal {
			r.Message = "The connection could not be checked because of an internal error."
		}
	}
	return r
}
