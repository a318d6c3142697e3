// Command oro-msync is the sidecar an Oro application starts as a
// subprocess: it speaks JSON-RPC 2.0 on stdin/stdout (see package rpc and
// schema/openrpc.json) and logs to stderr. This package only reads flags
// and the environment, protects stdout, wires signals and calls rpc.Serve.
//
// Every flag has an environment variable, OROMSYNC_ plus the flag name in
// upper case with - as _ (e.g. OROMSYNC_GRAPH_URL); a flag given on the
// command line wins.
//
// OROMSYNC_TEST_HOOKS=1 adds methods that exist only for the black-box
// tests and benchmarks (test.sleep, test.panic, test.print, test.echo,
// test.syncResult); never set it in production.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/oro-msync/oro-msync/graphclient"
	"github.com/oro-msync/oro-msync/rpc"
	"github.com/oro-msync/oro-msync/rpc/api"
	"github.com/oro-msync/oro-msync/schema"
	"github.com/rs/zerolog"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// it comes from the module build info.
var version = ""

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], os.Getenv))
}

// gcPercent is the garbage collector's GOGC unless the environment sets
// one. The sidecar runs beside the host's PHP workers, where its peak
// memory is what counts, and a large sync.run's live heap (the round read,
// the operations, the reply) is tens of megabytes: at Go's default of 100
// the heap may grow to twice that before a collection, at 50 to one and a
// half times. Pulling 10,000 events, that lowers the peak RSS by about a
// tenth (BenchmarkPull10kProcess: 54–62 MiB → 51–55 MiB) for no CPU time
// that shows beside the run's noise (collection is a few percent of it).
const gcPercent = 50

type config struct {
	framing         string
	logLevel        string
	logFormat       string
	authorityURL    string
	graphURL        string
	maxMessageBytes int64
	maxConcurrent   int
	maxBatch        int
	version         bool
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("oro-msync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(name, def string) string {
		if v := getenv("OROMSYNC_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.framing, "framing", env("framing", rpc.FramingNDJSON), "message framing: ndjson (one JSON message per line) or content-length (LSP headers)")
	fs.StringVar(&c.logLevel, "log-level", env("log-level", "info"), "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", env("log-format", "json"), "log format on stderr: json or console")
	fs.StringVar(&c.authorityURL, "authority-url", env("authority-url", graphclient.DefaultAuthority), "Microsoft identity platform base URL")
	fs.StringVar(&c.graphURL, "graph-url", env("graph-url", graphclient.DefaultGraph), "Microsoft Graph base URL, with the version")
	maxBytes, err := strconv.ParseInt(env("max-message-bytes", strconv.Itoa(rpc.DefaultMaxMessageBytes)), 10, 64)
	if err != nil {
		return c, fmt.Errorf("OROMSYNC_MAX_MESSAGE_BYTES: %v", err)
	}
	fs.Int64Var(&c.maxMessageBytes, "max-message-bytes", maxBytes, "largest incoming message in bytes; larger ones get an error reply")
	maxConc, err := strconv.Atoi(env("max-concurrent", strconv.Itoa(rpc.DefaultMaxConcurrent)))
	if err != nil {
		return c, fmt.Errorf("OROMSYNC_MAX_CONCURRENT: %v", err)
	}
	fs.IntVar(&c.maxConcurrent, "max-concurrent", maxConc, "requests to Microsoft (connection.exchangeCode, connection.check, sync.run) running at once; more wait their turn, other methods never wait for them")
	maxBatch, err := strconv.Atoi(env("max-batch", strconv.Itoa(rpc.DefaultMaxBatch)))
	if err != nil {
		return c, fmt.Errorf("OROMSYNC_MAX_BATCH: %v", err)
	}
	fs.IntVar(&c.maxBatch, "max-batch", maxBatch, "most requests in one batch; a larger batch is refused as a whole")
	fs.BoolVar(&c.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if c.maxMessageBytes <= 0 || c.maxConcurrent <= 0 || c.maxBatch <= 0 {
		return c, errors.New("--max-message-bytes, --max-concurrent and --max-batch must be positive")
	}
	return c, nil
}

func run(args []string, getenv func(string) string) int {
	c, err := parseFlags(args, getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(os.Stderr, "oro-msync:", err)
		return 2
	}
	if c.version {
		fmt.Printf("oro-msync %s (API %s)\n", buildVersion(), apiVersion())
		return 0
	}

	level, ok := logLevels[c.logLevel]
	if !ok {
		fmt.Fprintf(os.Stderr, "oro-msync: --log-level (OROMSYNC_LOG_LEVEL) must be debug, info, warn or error, got %q\n", c.logLevel)
		return 2
	}
	var logOut io.Writer = os.Stderr
	switch c.logFormat {
	case "json":
	case "console":
		logOut = zerolog.ConsoleWriter{Out: os.Stderr}
	default:
		fmt.Fprintf(os.Stderr, "oro-msync: --log-format must be json or console, got %q\n", c.logFormat)
		return 2
	}
	log := zerolog.New(logOut).Level(level).With().Timestamp().Logger()

	// A parent that goes away must show up as a failed write, not as a
	// death by SIGPIPE in the middle of a log line.
	signal.Ignore(syscall.SIGPIPE)
	out, err := protectStdout()
	if err != nil {
		log.Error().Err(err).Msg("cannot set up stdout")
		return 1
	}
	ctx, stop, caught := catchSignals()
	defer stop()

	env := api.Env{AuthorityURL: c.authorityURL, GraphURL: c.graphURL, Version: buildVersion(), Logger: log}
	methods := api.Methods(env)
	if getenv("OROMSYNC_TEST_HOOKS") == "1" {
		methods = append(methods, testHooks()...)
	}
	err = rpc.Serve(ctx, os.Stdin, afterSignals{out, caught}, rpc.Options{
		Framing:         c.framing,
		MaxMessageBytes: c.maxMessageBytes,
		MaxConcurrent:   c.maxConcurrent,
		MaxBatch:        c.maxBatch,
		Logger:          log,
		Methods:         methods,
		Schema:          schema.OpenRPC,
	})
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		log.Info().Msg("stopped by signal")
		return 0
	case errors.Is(err, rpc.ErrOutputClosed):
		log.Info().Msg("stdout closed by the host; exiting")
		return 1
	default:
		log.Error().Err(err).Msg("stopped")
		return 1
	}
}

// catchSignals returns a context cancelled by the first SIGTERM or SIGINT,
// the function that stops catching them (until then later ones are caught
// too: the drain after the first is not cut short), and a channel closed
// once they are caught. They are caught from a goroutine: signal.Notify
// waits until the runtime has started its signal-mask thread
// (runtime.ensureSigM), which took 0.7–1.2 ms of a start that answers
// rpc.discover in about 14, and the first request is read meanwhile. No
// reply is written before they are caught (afterSignals), so a host that
// signals the sidecar after an answer always gets the drain; a signal
// before the first answer ends the process, as it would without a handler.
func catchSignals() (context.Context, func(), <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	caught := make(chan struct{})
	done := make(chan struct{})
	go func() {
		sigs := make(chan os.Signal, 1)
		signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
		close(caught)
		defer signal.Stop(sigs)
		select {
		case <-sigs:
			cancel()
			<-done
		case <-done:
		}
	}()
	return ctx, func() { close(done); cancel() }, caught
}

// afterSignals is the protocol's output, written to only once the signals
// are caught (see catchSignals).
type afterSignals struct {
	w      io.Writer
	caught <-chan struct{}
}

func (a afterSignals) Write(p []byte) (int, error) {
	<-a.caught
	return a.w.Write(p)
}

// logLevels are the values of --log-level. zerolog.ParseLevel is not used:
// it accepts more, and its error says it is "defaulting" to a level that
// is never used.
var logLevels = map[string]zerolog.Level{
	"debug": zerolog.DebugLevel,
	"info":  zerolog.InfoLevel,
	"warn":  zerolog.WarnLevel,
	"error": zerolog.ErrorLevel,
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

func apiVersion() string {
	var d struct {
		Info struct {
			Version string `json:"version"`
		} `json:"info"`
	}
	_ = json.Unmarshal(schema.OpenRPC, &d)
	return d.Info.Version
}
