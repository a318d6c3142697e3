package api

import (
	"context"
	"encoding/json"
	"io"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/graphclient/calendar"
	"github.com/oro-msync/oro-msync/rpc"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// SyncRunParams are the params of sync.run: the connection (app, tokens)
// beside the engine's request (cascade, state, window, mode, events,
// options). The endpoints the tokens go to come from Env, never from here.
type SyncRunParams struct {
	App    graphclient.App    `json:"app"`
	Tokens graphclient.Tokens `json:"tokens"`
	calsync.Request
}

// SyncRunResult is the engine's result plus the token set when the run
// refreshed it: the host must store it, or it loses the connection.
type SyncRunResult struct {
	calsync.Result
	Tokens *graphclient.Tokens `json:"tokens,omitempty"`
}

// WriteJSON writes r as encoding/json would (rpc.JSONWriter): a result of
// many operations is written one operation at a time.
func (r SyncRunResult) WriteJSON(w io.Writer) error {
	var tokens any
	if r.Tokens != nil {
		tokens = r.Tokens
	}
	return r.Result.WriteJSON(w, calsync.Member{Name: "tokens", Value: tokens})
}

// syncRun builds one Graph session for the call, runs the engine over the
// user's calendar and hands back what the host must persist.
func syncRun(env Env) func(context.Context, json.RawMessage) (any, error) {
	return func(ctx context.Context, params json.RawMessage) (any, error) {
		var p SyncRunParams
		if err := rpc.DecodeParams(params, &p); err != nil {
			return nil, err
		}
		// the whole call, token refresh included, keeps to the time budget:
		// the engine ends its part a little earlier and answers partial
		ctx, cancel := context.WithTimeout(ctx, p.Options.TimeBudget())
		defer cancel()
		session, err := graphclient.NewSession(ctx, graphConfig(ctx, env), p.App, p.Tokens)
		if err != nil {
			return nil, err
		}
		// the requests earlier calls sent count against this call's budget
		opts := calendar.Options{Now: env.Now}
		if p.State != nil {
			opts.Sent = p.State.Sent
		}
		res, err := calsync.Run(ctx, p.Request, calendar.New(session, opts), calsync.RunOptions{Now: env.Now, CheckLink: session.CheckLink})
		if err != nil {
			return nil, withTokens(session, err)
		}
		return SyncRunResult{Result: res, Tokens: rotatedTokens(session)}, nil
	}
}
