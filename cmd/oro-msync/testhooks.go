package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/oro-msync/oro-msync/rpc"
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
	}
}
