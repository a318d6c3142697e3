package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/oro-msync/oro-msync/rpc"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// testHooks are methods for the black-box tests only, enabled by
// OROMSYNC_TEST_HOOKS=1. They are not in the OpenRPC document.
func testHooks() []rpc.Method {
	return []rpc.Method{
		// test.sleep {"ms": n} waits n milliseconds, or until cancelled.
		{Name: "test.sleep", Unlisted: true, Handler: func(ctx context.Context, params json.RawMessage) (any, error) {
			var p struct {
				Ms int `json:"ms"`
			}
			if err := rpc.DecodeParams(params, &p); err != nil {
				return nil, err
			}
			select {
			case <-time.After(time.Duration(p.Ms) * time.Millisecond):
				return map[string]int{"slept": p.Ms}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}},
		// test.panic panics, as a buggy method would.
		{Name: "test.panic", Unlisted: true, Handler: func(context.Context, json.RawMessage) (any, error) {
			panic("test.panic: boom")
		}},
		// test.print writes to stdout the ways a dependency might.
		{Name: "test.print", Unlisted: true, Handler: func(context.Context, json.RawMessage) (any, error) {
			fmt.Println("stray line from fmt.Println")
			fmt.Fprintln(os.Stdout, `{"jsonrpc":"2.0","id":1,"result":"forged"}`)
			_, _ = syscall.Write(1, []byte("stray bytes written to fd 1\n"))
			return "printed", nil
		}},
		// test.echo returns its params.
		{Name: "test.echo", Unlisted: true, Handler: func(_ context.Context, params json.RawMessage) (any, error) {
			return params, nil
		}},
		// test.syncResult {"operations": n} returns a sync.run result that
		// creates n Oro events, for measuring what a large reply costs.
		{Name: "test.syncResult", Unlisted: true, Handler: func(_ context.Context, params json.RawMessage) (any, error) {
			var p struct {
				Operations int `json:"operations"`
			}
			if err := rpc.DecodeParams(params, &p); err != nil {
				return nil, err
			}
			return syncResult(p.Operations), nil
		}},
	}
}

// syncResult is a sync.run result that creates n Oro events pulled from
// Outlook, each with its event and link: about 950 bytes an operation.
func syncResult(n int) calsync.Result {
	at := time.Date(2026, 3, 5, 9, 0, 0, 0, time.UTC)
	r := calsync.Result{Status: calsync.StatusCompleted, NextSyncAt: at, Issues: []calsync.Issue{}, Operations: make([]calsync.Operation, 0, n)}
	for i := range n {
		id := fmt.Sprintf("AAMkAGI2TG93AAA-%08d=", i)
		uid := "040000008200E00074C5B7101A82E008" + id
		r.Operations = append(r.Operations, calsync.Operation{
			Key: "create:" + id, Op: calsync.OpCreate, RemoteID: id, Reason: calsync.ReasonMicrosoftCreated,
			Event: &calsync.Event{UID: uid, Title: fmt.Sprintf("Weekly review %d", i),
				Description: strings.Repeat("Agenda: figures, risks, next steps. ", 8), Location: "Room 4.12",
				Start: "2026-03-05T09:00:00+01:00", End: "2026-03-05T10:00:00+01:00", UpdatedAt: at},
			Link: &calsync.Link{V: 1, RemoteID: id, ChangeKey: "DwAAABYAAAA" + id, ETag: `W/"DwAAABYAAAA` + id + `"`, ICalUID: uid},
		})
	}
	return r
}
