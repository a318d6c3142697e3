package simtest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The sizes of BenchmarkScaleHost.
var (
	scaleHostUsers     = flag.Int("scale-host-users", 40, "BenchmarkScaleHost: users, each with a mailbox of their own")
	scaleHostConsumers = flag.Int("scale-host-consumers", 4, "BenchmarkScaleHost: the reference host's consumer processes, each with its long-lived sidecar")
	scaleHostEvents    = flag.Int("scale-host-events", 100, "BenchmarkScaleHost: events per user at the start, a third made in Oro, the rest in Outlook")
	scaleHostSeries    = flag.Int("scale-host-series", 1, "BenchmarkScaleHost: weekly series per user on each side, among the events")
	scaleHostRounds    = flag.Int("scale-host-rounds", 2, "BenchmarkScaleHost: incremental rounds after the first sync, each after edits on both sides")
)

// The reference host, and the PostgreSQL and RabbitMQ it runs on as
// .ci/run starts them (role orohost, RabbitMQ's guest on the loopback).
const (
	oroHostDir   = "../../examples/oro-host"
	hostPGHost   = "127.0.0.1"
	hostPGRole   = "orohost"
	hostAMQPAddr = "127.0.0.1:5672"
)

// scaleHostFigures names the figures oro-host:bench:scale prints (its
// JSON keys) with the unit each is reported in; the sizes it echoes are
// checked rather than reported. A key missing or unknown fails the run, so
// that the two stay in step.
var scaleHostFigures = []struct{ key, unit string }{
	{"syncs", "syncs"},
	{"wallSeconds", "wall-s"},
	{"syncsPerSecond", "syncs/s"},
	{"eventsPerSecond", "events/s"},
	{"eventsMoved", "events"},
	{"firstSyncP50Ms", "first-p50-ms"},
	{"firstSyncP99Ms", "first-p99-ms"},
	{"incrSyncP50Ms", "incr-p50-ms"},
	{"incrSyncP99Ms", "incr-p99-ms"},
	{"firstRunP50Ms", "first-run-p50-ms"},
	{"firstRunP99Ms", "first-run-p99-ms"},
	{"incrRunP50Ms", "incr-run-p50-ms"},
	{"incrRunP99Ms", "incr-run-p99-ms"},
	{"consumerPeakRssMb", "consumer-peak-RSS-MB"},
	{"sidecarPeakRssMb", "sidecar-peak-RSS-MB"},
	{"graphRequestsPerIncrSync", "graph-req/incr-sync"},
	{"httpRequestsPerIncrSync", "sim-http-req/incr-sync"},
	{"mailboxRequestsPerIncrSync", "mailbox-req/incr-sync"},
	{"mailboxRequestsPerUserDay", "mailbox-req/user/day"},
	{"mailboxBudgetPercent", "mailbox-budget-%"},
	{"idleSyncP50Ms", "idle-p50-ms"},
	{"idleMailboxRequestsPerSync", "idle-mailbox-req/sync"},
	{"idleMailboxRequestsPerUserDay", "idle-mailbox-req/user/day"},
	{"throttled", "429s"},
}

// BenchmarkScaleHost is BenchmarkScale through the reference host's own
// parts (examples/oro-host) instead of goroutines standing in for them:
// its console command oro-host:bench:scale, on a fresh PostgreSQL database
// and RabbitMQ vhost, against one built cmd/graphsim under BenchmarkScale's
// latency model (scaleLatency), adds -scale-host-users users with
// -scale-host-events events each (a third made in Oro, the rest in
// Outlook; -scale-host-series of each side's are weekly series), connects
// them, starts -scale-host-consumers consumer processes (bin/console
// oro:message-queue:consume, each with its long-lived built sidecar), lets
// the scheduler enqueue every user and waits for each one's first sync,
// then runs -scale-host-rounds incremental rounds after edits on both
// sides and one idle round (nothing edited). See ScaleCommand for what it
// measures and what fails it (any run not completed, any issue, any 429,
// sides that differ).
//
// It reports every figure the command prints: syncs and events per second
// of the rounds' wall time, p50/p99 of the sync.run call as the consumers
// timed it and of the whole run (request built, call, result applied and
// committed), the peak RSS of the consumer PHP processes and of their
// sidecars, Graph requests and mailbox requests per incremental sync and
// per user and day at a 15-minute interval against the mailbox budget, and
// for the idle round the p50 of its call and its mailbox requests per sync
// and per user and day (the budget's use when nobody edits anything).
//
// Without php, psql, rabbitmqctl, PostgreSQL or RabbitMQ it is skipped;
// under CI=true that fails.
//
//	go test -run '^$' -bench ScaleHost -benchtime 1x ./sync/simtest/
func BenchmarkScaleHost(b *testing.B) {
	requireHost(b)
	sidecar := sidecarBinary(b)
	sim := buildProgram(b, "../../cmd/graphsim")
	var figures map[string]float64
	for b.Loop() {
		b.StopTimer()
		figures = scaleHostRun(b, sidecar, sim)
		b.StartTimer()
	}
	for _, f := range scaleHostFigures {
		b.ReportMetric(figures[f.key], f.unit)
	}
}

// requireHost skips b, or fails it under CI=true, when a part the
// reference host runs on is missing.
func requireHost(b *testing.B) {
	missing := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...) + " (.ci/run installs and starts it)"
		if os.Getenv("CI") == "true" {
			b.Fatal("CI=true and BenchmarkScaleHost cannot run: " + msg)
		}
		b.Skip(msg)
	}
	for _, cmd := range []string{"php", "psql", rabbitmqctl()} {
		if _, err := exec.LookPath(cmd); err != nil {
			missing("%s is missing", cmd)
		}
	}
	if out, err := psql("postgres", "SELECT 1"); err != nil {
		missing("PostgreSQL is not reachable as role %s: %v %s", hostPGRole, err, out)
	}
	c, err := net.DialTimeout("tcp", hostAMQPAddr, 2*time.Second)
	if err != nil {
		missing("RabbitMQ is not reachable: %v", err)
	}
	c.Close()
}

// scaleHostRun runs oro-host:bench:scale once on a database, vhost and
// simulator of its own and returns its figures.
func scaleHostRun(b *testing.B, sidecar, simBin string) map[string]float64 {
	var suffix [4]byte
	rand.Read(suffix[:])
	name := fmt.Sprintf("orohost_scale_%d_%s", os.Getpid(), hex.EncodeToString(suffix[:]))
	dir := b.TempDir()

	if out, err := psql("postgres", `CREATE DATABASE "`+name+`"`); err != nil {
		b.Fatalf("create database: %v %s", err, out)
	}
	b.Cleanup(func() {
		if _, err := psql("postgres", `DROP DATABASE IF EXISTS "`+name+`" WITH (FORCE)`); err != nil {
			// FORCE is refused when an autovacuum worker is in the
			// database (another role's session): ours are ended, and a
			// plain DROP waits for it to leave
			psql("postgres", `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '`+name+`' AND usename = current_user AND pid <> pg_backend_pid()`)
			psql("postgres", `DROP DATABASE IF EXISTS "`+name+`"`)
		}
	})
	for _, args := range [][]string{{"add_vhost", name}, {"set_permissions", "-p", name, "guest", ".*", ".*", ".*"}} {
		if out, err := exec.Command(rabbitmqctl(), append([]string{"-q"}, args...)...).CombinedOutput(); err != nil {
			b.Fatalf("rabbitmqctl %s: %v %s", args[0], err, out)
		}
	}
	b.Cleanup(func() { exec.Command(rabbitmqctl(), "-q", "delete_vhost", name).Run() })

	log, err := os.Create(filepath.Join(dir, "graphsim.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { log.Close() })
	authority := startGraphsim(b, simBin, log,
		"--latency", scaleLatency.Latency.String(), "--batch-item-latency", scaleLatency.BatchItemLatency.String()).Authority
	env := append(os.Environ(),
		"OROHOST_DSN=pgsql:host="+hostPGHost+";port=5432;dbname="+name,
		"OROHOST_DB_USER="+hostPGRole, "OROHOST_DB_PASSWORD="+hostPGRole,
		"OROHOST_AMQP_URL=amqp://guest:guest@"+hostAMQPAddr+"/"+name,
		"OROHOST_QUEUE=oro.msync.calendar_sync."+name,
		"OROHOST_SIDECAR="+sidecar,
		"OROHOST_AUTHORITY_URL="+authority, "OROHOST_GRAPH_URL="+authority+"/v1.0",
		"OROHOST_SECRET=scale-"+hex.EncodeToString(suffix[:])+"-0123456789",
		"OROHOST_LOG_DIR="+dir,
	)
	console := func(args ...string) (stdout []byte) {
		cmd := exec.Command("php", append([]string{"bin/console"}, args...)...)
		cmd.Dir, cmd.Env = oroHostDir, env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		if err := cmd.Run(); err != nil {
			b.Fatalf("bin/console %s: %v\n%s%s", args[0], err, out.Bytes(), errOut.Bytes())
		}
		return out.Bytes()
	}
	console("oro-host:install")
	out := console("oro-host:bench:scale",
		fmt.Sprint("--users=", *scaleHostUsers), fmt.Sprint("--consumers=", *scaleHostConsumers),
		fmt.Sprint("--events=", *scaleHostEvents), fmt.Sprint("--series=", *scaleHostSeries), fmt.Sprint("--rounds=", *scaleHostRounds))

	var figures map[string]float64
	if err := json.Unmarshal(bytes.TrimSpace(out), &figures); err != nil {
		b.Fatalf("oro-host:bench:scale printed no line of figures: %v\n%s", err, out)
	}
	known := map[string]bool{}
	sizes := map[string]int{"users": *scaleHostUsers, "consumers": *scaleHostConsumers, "eventsPerUser": *scaleHostEvents, "seriesPerSide": *scaleHostSeries, "rounds": *scaleHostRounds}
	for k, want := range sizes {
		if got, ok := figures[k]; !ok || int(got) != want {
			b.Fatalf("%s: %v, want %d", k, got, want)
		}
		known[k] = true
	}
	for _, f := range scaleHostFigures {
		if _, ok := figures[f.key]; !ok {
			b.Fatalf("oro-host:bench:scale printed no %s: %s", f.key, out)
		}
		known[f.key] = true
	}
	for k := range figures {
		if !known[k] {
			b.Fatalf("oro-host:bench:scale printed %s, which BenchmarkScaleHost does not know: %s", k, out)
		}
	}
	return figures
}

// psql runs one statement in database db as the host's role.
func psql(db, sql string) ([]byte, error) {
	cmd := exec.Command("psql", "-h", hostPGHost, "-U", hostPGRole, "-d", db, "-v", "ON_ERROR_STOP=1", "-qAtc", sql)
	cmd.Env = append(os.Environ(), "PGPASSWORD="+hostPGRole, "PGCONNECT_TIMEOUT=3")
	return cmd.CombinedOutput()
}

// rabbitmqctl is the command on PATH, or Debian's, which is in /usr/sbin.
func rabbitmqctl() string {
	if p, err := exec.LookPath("rabbitmqctl"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/rabbitmqctl"); err == nil {
		return "/usr/sbin/rabbitmqctl"
	}
	return "rabbitmqctl"
}
