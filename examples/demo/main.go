// Command demo runs oro-msync's main job end to end with no Microsoft
// account: it starts the Graph simulator (graphclient/graphsim) in process,
// starts the real sidecar as a subprocess pointed at it, and plays the Oro
// host: it connects the account (sign-in URL, a browser that follows it,
// code exchange, connection check), runs a full two-way sync of a small Oro
// calendar against a mailbox seeded with Outlook events, changes an event
// on each side, runs an incremental sync and checks that both sides agree.
//
//	go run ./examples/demo                        # the sidecar runs with go run
//	go run ./examples/demo --sidecar ./oro-msync  # a built binary instead
//	go run ./examples/demo --verbose              # plus the sidecar's and simulator's logs on stderr
//
// It prints a transcript, including the JSON-RPC messages in both directions
// with every token, code, verifier, state and secret cut to its first
// characters. The Oro side is a small in-memory store that applies the
// operations of sync.run the way sync/CONFLICTS.md tells a host to.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// options configure one run of the demo.
type options struct {
	// Sidecar is the path of a built oro-msync; "" runs it with go run.
	Sidecar string
	// Verbose sends the sidecar's and the simulator's logs to Stderr.
	Verbose bool
	Stderr  io.Writer
	// Report, when not nil, receives the end state of both sides and every
	// secret the demo handled, so a test can check them.
	Report *report
}

func main() {
	o := options{Stderr: os.Stderr}
	flag.StringVar(&o.Sidecar, "sidecar", "", "path of a built oro-msync (default: go run ./cmd/oro-msync)")
	flag.BoolVar(&o.Verbose, "verbose", false, "pass the sidecar's and the simulator's logs to stderr")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "demo: unexpected arguments %q\n", flag.Args())
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o, os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "demo:", err)
		os.Exit(1)
	}
}
