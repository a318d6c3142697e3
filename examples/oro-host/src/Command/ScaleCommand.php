<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Connect\HeadlessBrowser;
use OroHost\Container;
use OroHost\Simulator\GraphSimControl;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\ConsoleOutputInterface;
use Symfony\Component\Console\Output\OutputInterface;
use Symfony\Component\Process\Process;

/**
 * oro-host:bench:scale: the scale run of issue 14 through the host's own
 * parts. Against a freshly installed database and a running simulator
 * (cmd/graphsim --auto-consent, OROHOST_AUTHORITY_URL), it adds --users
 * users, each with a mailbox, and --events events each (a third made in Oro
 * through CalendarEventManager, so with change-log rows; the rest in
 * Outlook through the simulator's control API; --series of each side's are
 * weekly series of half a year, begun a week before, whose occurrences a
 * calendarView delta round lists one by one), connects them (the sign-in
 * played headless), starts --consumers consumer processes (bin/console
 * oro:message-queue:consume, each with its long-lived sidecar), schedules
 * every user and waits until each one's first sync is recorded
 * (msync_sync_run), then runs --rounds incremental rounds: edits on both
 * sides (in Oro two events edited, one created, one deleted; in Outlook the
 * same), every user scheduled, and a wait until each one has a newer run;
 * and last an idle round, with nothing edited anywhere.
 *
 * It prints one JSON line on stdout (progress goes to stderr): syncs and
 * events (pushed plus pulled) per second of the rounds' wall time, the
 * first sync included; p50 and p99 of the sync.run call as the consumers
 * timed it (msync_sync_run.call_ms), first syncs and incremental ones, and
 * of the whole run (started_at to finished_at: the request built, the call,
 * the result applied and committed);
 * the peak RSS (VmHWM) of the consumer processes and of their sidecars;
 * the Graph requests per incremental sync (the results' stats, and HTTP
 * requests in the simulator's log) and the mailbox requests (a batch's
 * items one by one, as Microsoft's limits count them) with what they come
 * to per user and day at a 15-minute interval against Microsoft's budget of
 * 10,000 requests per 10 minutes per mailbox. The idle round gives the
 * same for a sync that finds nothing to do (p50 of its call, mailbox
 * requests per sync and per user-day): the lower bound of that budget's
 * use, the edited rounds' being the upper one. Of the other figures only
 * the 429s and the peak RSS include the idle round.
 *
 * It fails (exit 1, the reason on stderr, no JSON) on a run that is not
 * `completed`, on any issue, on a run that did not push and pull exactly
 * what changed (nothing, in the idle round), on a user synced other than
 * once per round, on any 429 in the simulator's log, and when Oro's and
 * Outlook's live events of a user differ (subject, start and end) at the
 * end.
 */
final class ScaleCommand extends Command
{
    protected static $defaultName = 'oro-host:bench:scale';

    /** Each round's edits per side: two edited, one created, one deleted. */
    private const EDITED = 2;

    /** @var list<array{process:Process,sidecarPid:int}> */
    private array $consumers = [];
    private OutputInterface $log;
    private float $started;

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Scale run: many users synced by several consumers against the simulator; prints one JSON line of figures')
            ->addOption('users', null, InputOption::VALUE_REQUIRED, 'users, each with a mailbox of their own', '40')
            ->addOption('consumers', null, InputOption::VALUE_REQUIRED, 'consumer processes (each with its sidecar)', '4')
            ->addOption('events', null, InputOption::VALUE_REQUIRED, 'events per user at the start (a third made in Oro, the rest in Outlook)', '100')
            ->addOption('series', null, InputOption::VALUE_REQUIRED, 'weekly series per user on each side, among the events (half a year of occurrences each)', '1')
            ->addOption('rounds', null, InputOption::VALUE_REQUIRED, 'incremental rounds after the first sync', '2')
            ->addOption('timeout', null, InputOption::VALUE_REQUIRED, 'seconds each round may take', '600');
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $this->log = $out instanceof ConsoleOutputInterface ? $out->getErrorOutput() : $out;
        $this->started = microtime(true);
        try {
            $figures = $this->measure(
                (int) $in->getOption('users'),
                (int) $in->getOption('consumers'),
                (int) $in->getOption('events'),
                (int) $in->getOption('series'),
                (int) $in->getOption('rounds'),
                (float) $in->getOption('timeout'),
            );
        } catch (\Throwable $e) {
            $this->log->writeln('oro-host:bench:scale: FAILED: ' . $e->getMessage());
            foreach ($this->consumers as $k) {
                $k['process']->stop(2);
            }
            return 1;
        }
        $out->writeln(json_encode($figures, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION));
        return 0;
    }

    private function measure(int $users, int $consumers, int $events, int $series, int $rounds, float $timeout): array
    {
        // on each side, $series of its events are weekly series, the rest
        // single events; the rounds edit and delete single events only
        $oroN = intdiv($events, 3) - $series;
        $msN = $events - intdiv($events, 3) - $series;
        // each round edits two events on each side and deletes one
        if ($users < 1 || $consumers < 1 || $rounds < 0 || $series < 0 || min($oroN, $msN) < (self::EDITED + 1) * max($rounds, 1)) {
            throw new \InvalidArgumentException("--users $users, --consumers $consumers, --events $events, --series $series, --rounds $rounds: too few");
        }
        if ($this->c->config->authorityUrl === null) {
            throw new \RuntimeException('OROHOST_AUTHORITY_URL must name the simulator (cmd/graphsim --auto-consent)');
        }
        $db = $this->c->db();
        if ((int) $db->value('SELECT count(*) FROM msync_connection') > 0) {
            throw new \RuntimeException('needs a freshly installed database: the scheduler would sync the users already connected too');
        }
        $sim = new GraphSimControl($this->c->config->authorityUrl);

        $this->progress("seeding $users users × $events events");
        $tag = bin2hex(random_bytes(3));
        $day0 = (int) (floor(time() / 86400) + 1) * 86400; // tomorrow, 00:00 UTC
        $us = [];
        for ($n = 1; $n <= $users; $n++) {
            $upn = "scale-$tag-$n@contoso.example";
            $sim->addUser($upn, "Scale $n");
            $id = (int) $db->value('INSERT INTO oro_user (organization_id, username, email) VALUES (1, ?, ?) RETURNING id', ["scale-$tag-$n", $upn]);
            $u = ['n' => $n, 'id' => $id, 'upn' => $upn, 'oro' => [], 'ms' => []];
            for ($i = 0; $i < $oroN; $i++) {
                $u['oro'][] = $this->c->events()->create($id, self::oroEvent("oro $n.$i", $day0 + $i * 3600));
            }
            for ($i = 0; $i < $msN; $i++) {
                $u['ms'][] = $sim->createEvent($upn, self::outlookEvent("ms $n.$i", $day0 + $i * 3600 + 1800));
            }
            for ($i = 0; $i < $series; $i++) {
                $at = $day0 - 7 * 86400 + $i * 86400 + 7 * 3600; // begun last week, 07:00 UTC
                $this->c->events()->create($id, self::oroSeries("oro weekly $n.$i", $at));
                $sim->createEvent($upn, self::outlookSeries("ms weekly $n.$i", $at + 1800));
            }
            $us[$id] = $u;
        }
        $this->progress('connecting');
        $cm = $this->c->connectionManager();
        foreach ($us as $id => $u) {
            $session = $cm->start($u['upn']);
            $cb = HeadlessBrowser::signIn($session['url']);
            $cm->finish($id, $session, $cb['code'], $cb['state']);
        }
        $sim->resetRequests();

        $this->progress("starting $consumers consumers");
        for ($k = 1; $k <= $consumers; $k++) {
            $this->consumers[] = $this->startConsumer("scale-c$k", $timeout);
        }

        $runs = [];
        $wall = 0.0;
        $this->progress('first sync');
        [$rows, $took] = $this->round($us, $timeout);
        $wall += $took;
        $this->check($rows, 'first sync', $oroN + $series, $msN + $series);
        $runs = array_merge($runs, $rows);
        $throttled = self::throttled($sim->requests());
        $sim->resetRequests();

        for ($r = 0; $r < $rounds; $r++) {
            $this->progress('round ' . ($r + 1));
            foreach ($us as $u) {
                $this->edit($sim, $u, $r, $day0 + 86400 * 10 + $r * 3600);
            }
            [$rows, $took] = $this->round($us, $timeout);
            $wall += $took;
            $this->check($rows, 'round ' . ($r + 1), self::EDITED + 2, self::EDITED + 2);
            $runs = array_merge($runs, $rows);
        }
        $log = $sim->requests();
        $throttled += self::throttled($log);

        // what a sync costs when nobody changed anything: the lower bound
        // of the requests per user-day, where the edited rounds give the
        // upper one
        $sim->resetRequests();
        $this->progress('idle round');
        [$idleRows] = $this->round($us, $timeout);
        $this->check($idleRows, 'idle round', 0, 0);
        $idleLog = $sim->requests();
        $throttled += self::throttled($idleLog);
        if ($throttled > 0) {
            throw new \RuntimeException("the simulator answered 429 to $throttled requests: no mailbox is synced twice at once, so Microsoft's limits must never be reached");
        }

        // every figure of a process is read while it still runs (VmHWM)
        $consumerRss = $sidecarRss = 0.0;
        foreach ($this->consumers as $k) {
            $consumerRss = max($consumerRss, self::peakRssMb((int) $k['process']->getPid()));
            $sidecarRss = max($sidecarRss, self::peakRssMb($k['sidecarPid']));
        }
        $this->progress('stopping the consumers, comparing both sides');
        $this->stopConsumers();
        $recorded = (int) $db->value('SELECT count(*) FROM msync_sync_run WHERE user_id IN (' . implode(',', array_keys($us)) . ')');
        if ($recorded !== $users * ($rounds + 2)) {
            throw new \RuntimeException(sprintf('%d runs recorded, want %d (one per user and round, the idle one included)', $recorded, $users * ($rounds + 2)));
        }
        $syncs = count($runs);
        foreach ($us as $u) {
            $this->compareSides($sim, $u, $events);
        }

        $full = $incr = $fullRun = $incrRun = [];
        $moved = $graphReq = 0;
        foreach ($runs as $row) {
            $stats = json_decode($row['stats'], true, 16, JSON_THROW_ON_ERROR);
            $moved += $stats['pushed'] + $stats['pulled'];
            if ($row['mode'] === 'full') {
                $full[] = (int) $row['call_ms'];
                $fullRun[] = (int) $row['run_ms'];
            } else {
                $incr[] = (int) $row['call_ms'];
                $incrRun[] = (int) $row['run_ms'];
                $graphReq += array_sum($stats['graphRequests'] ?? []);
            }
        }
        [$http, $mailbox] = self::graphRequests($log);
        $incrN = max(count($incr), 1);
        $perDay = $mailbox / $incrN * 24 * 4; // a sync every 15 minutes
        [, $idleMailbox] = self::graphRequests($idleLog);
        $idlePerSync = $idleMailbox / count($idleRows);
        return [
            'users' => $users,
            'consumers' => $consumers,
            'eventsPerUser' => $events,
            'seriesPerSide' => $series,
            'rounds' => $rounds,
            'syncs' => $syncs,
            'wallSeconds' => round($wall, 3),
            'syncsPerSecond' => round($syncs / $wall, 2),
            'eventsPerSecond' => round($moved / $wall, 1),
            'eventsMoved' => $moved,
            'firstSyncP50Ms' => self::percentile($full, 50),
            'firstSyncP99Ms' => self::percentile($full, 99),
            'incrSyncP50Ms' => self::percentile($incr, 50),
            'incrSyncP99Ms' => self::percentile($incr, 99),
            'firstRunP50Ms' => self::percentile($fullRun, 50),
            'firstRunP99Ms' => self::percentile($fullRun, 99),
            'incrRunP50Ms' => self::percentile($incrRun, 50),
            'incrRunP99Ms' => self::percentile($incrRun, 99),
            'consumerPeakRssMb' => round($consumerRss, 1),
            'sidecarPeakRssMb' => round($sidecarRss, 1),
            'graphRequestsPerIncrSync' => round($graphReq / $incrN, 2),
            'httpRequestsPerIncrSync' => round($http / $incrN, 2),
            'mailboxRequestsPerIncrSync' => round($mailbox / $incrN, 2),
            'mailboxRequestsPerUserDay' => round($perDay, 1),
            'mailboxBudgetPercent' => round(100 * $perDay / (10000 * 144), 4),
            'idleSyncP50Ms' => self::percentile(array_map(fn ($r) => (int) $r['call_ms'], $idleRows), 50),
            'idleMailboxRequestsPerSync' => round($idlePerSync, 2),
            'idleMailboxRequestsPerUserDay' => round($idlePerSync * 24 * 4, 1),
            'throttled' => $throttled,
        ];
    }

    /** A line on stderr, with the seconds since the start. */
    private function progress(string $what): void
    {
        $this->log->writeln(sprintf('%7.1f s  %s', microtime(true) - $this->started, $what));
    }

    /** Starts a consumer and reads its sidecar's pid from its first line. */
    private function startConsumer(string $name, float $timeout): array
    {
        $p = new Process([PHP_BINARY, __DIR__ . '/../../bin/console', 'oro:message-queue:consume', '--name=' . $name]);
        $p->setTimeout(null);
        $p->start();
        $deadline = microtime(true) + min($timeout, 30);
        while (!preg_match('/sidecar pid (\d+)/', $p->getOutput(), $m)) {
            if (!$p->isRunning() || microtime(true) > $deadline) {
                throw new \RuntimeException("consumer $name did not start: " . $p->getOutput() . $p->getErrorOutput());
            }
            usleep(20000);
        }
        return ['process' => $p, 'sidecarPid' => (int) $m[1]];
    }

    /** SIGTERM: each consumer finishes its message (none: all are idle), closes its sidecar and exits 0. */
    private function stopConsumers(): void
    {
        foreach ($this->consumers as $k) {
            $k['process']->signal(SIGTERM);
        }
        foreach ($this->consumers as $k) {
            $p = $k['process'];
            $p->wait();
            if ($p->getExitCode() !== 0) {
                throw new \RuntimeException('a consumer exited ' . $p->getExitCode() . ': ' . $p->getOutput() . $p->getErrorOutput());
            }
        }
        $this->consumers = [];
    }

    /**
     * Makes every user's sync due (as the interval passing would), lets the
     * scheduler enqueue them, and waits until each has a newer finished
     * run. Returns those runs and the round's wall time: from the tick to
     * the last run's end, by the database's clock.
     */
    private function round(array $us, float $timeout): array
    {
        $db = $this->c->db();
        $ids = implode(',', array_keys($us));
        $mark = (int) $db->value('SELECT COALESCE(max(id), 0) FROM msync_sync_run');
        $db->exec("UPDATE msync_sync_state SET next_sync_at = now(), not_before = NULL, enqueued_at = NULL WHERE user_id IN ($ids)");
        $start = (string) $db->value('SELECT clock_timestamp()');
        $enqueued = $this->c->scheduler()->tick();
        if (count($enqueued) !== count($us)) {
            throw new \RuntimeException(sprintf('the scheduler enqueued %d users, want %d', count($enqueued), count($us)));
        }
        $deadline = microtime(true) + $timeout;
        while (true) {
            // a light query while the consumers work; the rows once done
            $st = $db->one(
                "SELECT count(DISTINCT user_id) AS done, min(id) FILTER (WHERE outcome <> 'completed') AS failed
                   FROM msync_sync_run WHERE id > ? AND user_id IN ($ids) AND finished_at IS NOT NULL",
                [$mark]
            );
            if ($st['failed'] !== null) {
                $row = $db->one('SELECT * FROM msync_sync_run WHERE id = ?', [$st['failed']]);
                throw new \RuntimeException(sprintf('user %d: %s run #%d ended %s: %s', $row['user_id'], $row['mode'], $row['id'], $row['outcome'], $row['detail']));
            }
            if ((int) $st['done'] === count($us)) {
                break;
            }
            foreach ($this->consumers as $k) {
                if (!$k['process']->isRunning()) {
                    throw new \RuntimeException('a consumer exited: ' . $k['process']->getOutput() . $k['process']->getErrorOutput());
                }
            }
            if (microtime(true) > $deadline) {
                throw new \RuntimeException(sprintf('after %.0f s, %d of %d users synced', $timeout, $st['done'], count($us)));
            }
            usleep(20000);
        }
        $rows = $db->all(
            "SELECT *, round(EXTRACT(EPOCH FROM finished_at - started_at) * 1000)::int AS run_ms
               FROM msync_sync_run WHERE id > ? AND user_id IN ($ids) AND finished_at IS NOT NULL ORDER BY id",
            [$mark]
        );
        $took = (float) $db->value("SELECT EXTRACT(EPOCH FROM max(finished_at) - ?::timestamptz) FROM msync_sync_run WHERE id > ? AND user_id IN ($ids)", [$start, $mark]);
        return [$rows, $took];
    }

    /** Fails on an issue, or on a run that did not push and pull as many as said. */
    private function check(array $rows, string $name, int $pushed, int $pulled): void
    {
        foreach ($rows as $row) {
            foreach (explode("\n", (string) $row['detail']) as $line) {
                if (str_starts_with($line, 'issue ')) {
                    throw new \RuntimeException("user {$row['user_id']}, $name: $line");
                }
            }
            $s = json_decode((string) $row['stats'], true, 16, JSON_THROW_ON_ERROR);
            if ($s['pushed'] !== $pushed || $s['pulled'] !== $pulled) {
                throw new \RuntimeException(sprintf('user %d, %s: pushed %d, pulled %d, want %d and %d', $row['user_id'], $name, $s['pushed'], $s['pulled'], $pushed, $pulled));
            }
        }
    }

    /**
     * Round $r's edits of user $u: in Oro and in Outlook, the first events
     * not yet edited are edited and the last one not yet deleted is deleted
     * (no round touches an event an earlier one deleted), and one is created
     * at $at.
     */
    private function edit(GraphSimControl $sim, array $u, int $r, int $at): void
    {
        $events = $this->c->events();
        for ($j = 0; $j < self::EDITED; $j++) {
            $i = self::EDITED * $r + $j;
            $events->update($u['oro'][$i], ['title' => "oro {$u['n']}.$i, round $r"]);
            $sim->updateEvent($u['upn'], $u['ms'][$i], ['subject' => "ms {$u['n']}.$i, round $r"]);
        }
        $events->delete($u['oro'][count($u['oro']) - 1 - $r]);
        $sim->deleteEvent($u['upn'], $u['ms'][count($u['ms']) - 1 - $r]);
        $events->create($u['id'], self::oroEvent("oro new {$u['n']}.$r", $at));
        $sim->createEvent($u['upn'], self::outlookEvent("ms new {$u['n']}.$r", $at + 1800));
    }

    /** Fails unless Oro and Outlook hold the same $want live events (subject, start, end), nothing pending. */
    private function compareSides(GraphSimControl $sim, array $u, int $want): void
    {
        $db = $this->c->db();
        $oro = array_map(
            fn ($e) => $e['title'] . ' | ' . self::utc($e['start_at']) . ' | ' . self::utc($e['end_at']),
            $db->all('SELECT title, start_at, end_at FROM oro_calendar_event WHERE user_id = ? AND deleted_at IS NULL', [$u['id']])
        );
        $ms = array_map(
            fn ($e) => $e['subject'] . ' | ' . self::utc($e['start']['dateTime'], $e['start']['timeZone']) . ' | ' . self::utc($e['end']['dateTime'], $e['end']['timeZone']),
            $sim->events($u['upn'])
        );
        sort($oro);
        sort($ms);
        if ($oro !== $ms) {
            throw new \RuntimeException(sprintf(
                "%s: the sides differ: only in Oro: %s; only in Outlook: %s",
                $u['upn'],
                json_encode(array_values(array_diff($oro, $ms))),
                json_encode(array_values(array_diff($ms, $oro)))
            ));
        }
        if (count($oro) !== $want) {
            throw new \RuntimeException(sprintf('%s: %d events on each side, want %d', $u['upn'], count($oro), $want));
        }
        $pending = (int) $db->value('SELECT count(*) FROM msync_change_log WHERE user_id = ?', [$u['id']])
            + (int) $db->value('SELECT count(*) FROM oro_calendar_event WHERE user_id = ? AND deleted_at IS NOT NULL', [$u['id']]);
        if ($pending > 0) {
            throw new \RuntimeException("{$u['upn']}: $pending Oro changes or tombstones left unsynced");
        }
    }

    /**
     * The Graph requests of a simulator log: HTTP requests, and mailbox
     * requests (a batch's items one by one, as Microsoft's limits count them).
     *
     * @return array{int,int}
     */
    private static function graphRequests(array $log): array
    {
        $http = $mailbox = 0;
        foreach ($log as $rec) {
            if (str_starts_with($rec['path'], '/v1.0')) {
                $http++;
                $mailbox += max(1, count($rec['batchItems'] ?? []));
            }
        }
        return [$http, $mailbox];
    }

    /** A 429 anywhere in the log, batch items included. */
    private static function throttled(array $log): int
    {
        $n = 0;
        foreach ($log as $rec) {
            foreach ([$rec, ...($rec['batchItems'] ?? [])] as $r) {
                $n += (int) ($r['status'] === 429);
            }
        }
        return $n;
    }

    private static function oroEvent(string $title, int $start): array
    {
        return ['title' => $title, 'start' => gmdate('Y-m-d\TH:i:s+00:00', $start), 'end' => gmdate('Y-m-d\TH:i:s+00:00', $start + 1800)];
    }

    /** Occurrences of a seeded series: half a year of weeks. */
    private const OCCURRENCES = 26;

    /** A weekly series in Oro from $start (UTC), half an hour long. */
    private static function oroSeries(string $title, int $start): array
    {
        return self::oroEvent($title, $start) + ['recurrence' => [
            'recurrenceType' => 'weekly', 'interval' => 1, 'dayOfWeek' => [strtolower(gmdate('l', $start))],
            'startTime' => gmdate('Y-m-d\TH:i:s+00:00', $start), 'occurrences' => self::OCCURRENCES, 'timeZone' => 'UTC',
        ]];
    }

    /** A weekly series in Outlook from $start (UTC), twenty minutes long. */
    private static function outlookSeries(string $subject, int $start): array
    {
        return self::outlookEvent($subject, $start) + ['recurrence' => [
            'pattern' => ['type' => 'weekly', 'interval' => 1, 'daysOfWeek' => [strtolower(gmdate('l', $start))]],
            'range' => ['type' => 'numbered', 'startDate' => gmdate('Y-m-d', $start), 'numberOfOccurrences' => self::OCCURRENCES],
        ]];
    }

    private static function outlookEvent(string $subject, int $start): array
    {
        return [
            'subject' => $subject,
            'start' => ['dateTime' => gmdate('Y-m-d\TH:i:s', $start), 'timeZone' => 'UTC'],
            'end' => ['dateTime' => gmdate('Y-m-d\TH:i:s', $start + 1200), 'timeZone' => 'UTC'],
        ];
    }

    /**
     * An instant as UTC, to the second: PostgreSQL's timestamptz, or Graph's
     * dateTime (up to seven decimals, dropped) in $zone (UTC or an IANA name).
     */
    private static function utc(string $time, string $zone = 'UTC'): string
    {
        return (new \DateTimeImmutable(preg_replace('/\.\d+/', '', $time), new \DateTimeZone($zone)))->setTimezone(new \DateTimeZone('UTC'))->format('Y-m-d\TH:i:s\Z');
    }

    /** The p-th percentile of $ms (nearest rank), as BenchmarkScale computes it. */
    private static function percentile(array $ms, int $p): int
    {
        if ($ms === []) {
            return 0;
        }
        sort($ms);
        return $ms[max(intdiv($p * count($ms) + 99, 100) - 1, 0)];
    }

    /** The peak RSS (VmHWM) in MiB of the running process $pid. */
    private static function peakRssMb(int $pid): float
    {
        $status = @file_get_contents("/proc/$pid/status");
        if ($status === false || !preg_match('/^VmHWM:\s+(\d+) kB/m', $status, $m)) {
            throw new \RuntimeException("no VmHWM for process $pid");
        }
        return (int) $m[1] / 1024;
    }
}
