// Command graphsim serves the Microsoft 365 simulator of package graphsim on
// a TCP port, for demos and manual runs. Once listening it prints one JSON
// line to stdout:
//
//	{"authority":"http://127.0.0.1:PORT","graph":"http://127.0.0.1:PORT/v1.0","control":"http://127.0.0.1:PORT/_sim"}
//
// and logs to stderr. One OAuth app is registered from the flags; the control
// API (/_sim) registers more. It exits on SIGINT or SIGTERM.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// Defaults of the one registered app; documented in graphsim's README.
const (
	defaultClientID     = "11111111-2222-3333-4444-555555555555"
	defaultClientSecret = "graphsim-secret"
	defaultRedirectURI  = "http://localhost:8400/oauth/callback"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "graphsim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("graphsim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "listen address (port 0 picks a free port)")
	auto := fs.Bool("auto-consent", false, "sign in the login_hint user without a form (creating the mailbox) and redirect at once")
	clientID := fs.String("client-id", defaultClientID, "client id of the registered OAuth app")
	secret := fs.String("client-secret", defaultClientSecret, "client secret of the registered OAuth app")
	redirect := fs.String("redirect-uri", defaultRedirectURI, "redirect URI of the registered OAuth app")
	latency := fs.Duration("latency", 0, "service time of every identity and Graph request (a Graph request holds its mailbox concurrency slot meanwhile)")
	itemLatency := fs.Duration("batch-item-latency", 0, "service time of every $batch item (holding a mailbox slot, at most 4 items at once)")
	switches := fs.String("options", "", `JSON object of graphsim.Options switches, e.g. '{"DeltaRemovedOccurrences":true}'`)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var opts graphsim.Options
	if *switches != "" {
		dec := json.NewDecoder(strings.NewReader(*switches))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&opts); err != nil {
			return fmt.Errorf("--options: %w", err)
		}
	}
	logger := log.New(stderr, "", log.LstdFlags|log.LUTC)
	opts.AutoConsent, opts.Logf, opts.Latency, opts.BatchItemLatency = *auto, logger.Printf, *latency, *itemLatency
	sim := graphsim.New(opts)
	sim.RegisterApp(graphsim.App{ClientID: *clientID, ClientSecret: *secret, RedirectURIs: []string{*redirect}})

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	line, _ := json.Marshal(map[string]string{"authority": base, "graph": base + "/v1.0", "control": base + "/_sim"})
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}
	logger.Printf("graphsim: listening on %s (auto-consent=%v, client-id=%s, redirect-uri=%s)", base, *auto, *clientID, *redirect)

	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second, ErrorLog: logger}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
