<?php

declare(strict_types=1);

namespace OroHost\Tests\Support;

use OroHost\Config\HostConfig;
use OroHost\Connect\HeadlessBrowser;
use OroHost\Container;
use OroHost\Simulator\GraphSimControl;
use PHPUnit\Framework\TestCase;
use Symfony\Component\Process\Process;

/**
 * Each test gets its own simulator, database and queue (in the run's own
 * vhost), installs the host as oro-host:install does, and drives it the way
 * production does: the scheduler enqueues, consumer processes (bin/console
 * oro:message-queue:consume, each with its own sidecar) sync. Assertions
 * read the database and the simulator's mailbox.
 */
abstract class E2ETestCase extends TestCase
{
    protected const CLIENT_ID = '11111111-2222-3333-4444-555555555555';

    protected Container $c;
    protected string $sim;
    protected GraphSimControl $simControl;
    protected string $tmp;
    /** @var array<string,string> the host's environment for its processes */
    protected array $env;
    private Process $simProcess;
    private string $dbName;
    /** @var list<Process> */
    private array $processes = [];

    protected function setUp(): void
    {
        $vhost = Infra::require();
        $this->tmp = sys_get_temp_dir() . '/orohost-e2e-' . getmypid() . '-' . bin2hex(random_bytes(3));
        mkdir($this->tmp, 0775, true);
        [$this->simProcess, $this->sim] = Infra::startSimulator($this->tmp . '/graphsim.log');
        $this->simControl = new GraphSimControl($this->sim);
        $this->dbName = 'orohost_e2e_' . getmypid() . '_' . bin2hex(random_bytes(3));
        Infra::createDatabase($this->dbName);
        $this->env = [
            'OROHOST_DSN' => Infra::pgBase() . ';dbname=' . $this->dbName,
            'OROHOST_DB_USER' => Infra::PG_USER,
            'OROHOST_DB_PASSWORD' => Infra::PG_PASSWORD,
            'OROHOST_AMQP_URL' => Infra::amqpBase() . '/' . rawurlencode($vhost),
            'OROHOST_QUEUE' => 'oro.msync.calendar_sync.' . $this->dbName,
            'OROHOST_SIDECAR' => Infra::env('OROHOST_SIDECAR'),
            'OROHOST_AUTHORITY_URL' => $this->sim,
            'OROHOST_GRAPH_URL' => $this->sim . '/v1.0',
            'OROHOST_SECRET' => 'e2e-secret-' . bin2hex(random_bytes(8)),
            'OROHOST_LOG_DIR' => $this->tmp,
            'OROHOST_DEBOUNCE_SECONDS' => '0.2',
            'OROHOST_TIME_BUDGET_SECONDS' => '20',
        ];
        $this->c = new Container(HostConfig::fromEnv($this->env));
        $this->console('oro-host:install');
    }

    protected function tearDown(): void
    {
        foreach ($this->processes as $p) {
            if ($p->isRunning()) {
                $p->stop(1, SIGKILL);
            }
        }
        if (isset($this->c)) {
            $this->c->queue()->close();
            unset($this->c); // closes the test's own sidecar and connections
        }
        gc_collect_cycles();
        if (isset($this->simProcess)) {
            $this->simProcess->stop(2);
        }
        if (isset($this->dbName)) {
            Infra::dropDatabase($this->dbName);
        }
        if ($this->hasFailed() || getenv('OROHOST_KEEP_LOGS')) {
            fwrite(STDERR, "\nlogs of " . $this->getName() . ': ' . $this->tmp . "\n");
        } else {
            array_map('unlink', glob($this->tmp . '/*') ?: []);
            @rmdir($this->tmp);
        }
    }

    /** Runs a bin/console command to its end; returns its output. */
    protected function console(string ...$args): string
    {
        $p = $this->process($args);
        $p->run();
        $this->assertTrue($p->isSuccessful(), implode(' ', $args) . " failed:\n" . $p->getOutput() . $p->getErrorOutput());
        return $p->getOutput();
    }

    /** A bin/console process, not started, with the test's environment. */
    protected function process(array $args, array $extraEnv = []): Process
    {
        $p = new Process([PHP_BINARY, __DIR__ . '/../../bin/console', ...$args], null, $this->env + $extraEnv);
        $p->setTimeout(180);
        $this->processes[] = $p;
        return $p;
    }

    /** Starts a consumer process that exits after $idle seconds without a message. */
    protected function startConsumer(string $name, float $idle = 1.5, array $extraEnv = []): Process
    {
        $p = $this->process(['oro:message-queue:consume', '--name=' . $name, '--idle-exit=' . $idle, '-v'], $extraEnv);
        $p->start();
        return $p;
    }

    /**
     * Lets the scheduler and $consumers consumer processes work until no
     * sync is due or queued. Returns the consumers' output.
     */
    protected function drain(int $consumers = 1, int $rounds = 6): string
    {
        $log = '';
        for ($round = 0; $round < $rounds; $round++) {
            // an Oro edit is due after the debounce
            $wait = (float) $this->db()->value("SELECT EXTRACT(EPOCH FROM min(next_sync_at) - clock_timestamp()) FROM msync_sync_state WHERE next_sync_at IS NOT NULL AND enqueued_at IS NULL");
            if ($wait > 0 && $wait < 3) {
                usleep((int) ($wait * 1e6) + 50000);
            }
            $enqueued = $this->c->scheduler()->tick();
            if ($enqueued === [] && $this->c->queue()->depth() === 0) {
                return $log;
            }
            $ps = [];
            for ($i = 1; $i <= $consumers; $i++) {
                $ps[] = $this->startConsumer("c$i");
            }
            foreach ($ps as $p) {
                $p->wait();
                $log .= $p->getOutput() . $p->getErrorOutput();
                $this->assertSame(0, $p->getExitCode(), "consumer failed:\n" . $p->getOutput() . $p->getErrorOutput());
            }
        }
        return $log;
    }

    protected function db(): \OroHost\Db\Database
    {
        return $this->c->db();
    }

    /** Adds an Oro user and the same person in the simulated tenant; returns the user id. */
    protected function user(string $name): int
    {
        $email = "$name@contoso.example";
        $this->simControl->addUser($email, ucfirst($name));
        return (int) $this->db()->value('INSERT INTO oro_user (organization_id, username, email) VALUES (1, ?, ?) RETURNING id', [$name, $email]);
    }

    protected function upn(int $userId): string
    {
        return (string) $this->db()->value('SELECT email FROM oro_user WHERE id = ?', [$userId]);
    }

    /** Connect, as the popup does: sign-in URL, a browser, the code exchange. */
    protected function connect(int $userId): array
    {
        $cm = $this->c->connectionManager();
        $session = $cm->start($this->upn($userId));
        $cb = HeadlessBrowser::signIn($session['url']);
        return $cm->finish($userId, $session, $cb['code'], $cb['state']);
    }

    /** A request to the simulator's control API; an answer of 300 or more fails the test. */
    protected function simCall(string $method, string $path, ?array $body = null): mixed
    {
        return $this->simControl->call($method, $path, $body);
    }

    /** The mailbox as the simulator holds it. */
    protected function outlook(int $userId): array
    {
        return $this->simControl->events($this->upn($userId));
    }

    protected function outlookSubjects(int $userId): array
    {
        $s = array_column($this->outlook($userId), 'subject');
        sort($s);
        return $s;
    }

    /** Creates an event in Outlook, as the user; $day days from today at $hour UTC. */
    protected function outlookCreate(int $userId, string $subject, int $day, int $hour = 9): string
    {
        $start = gmdate('Y-m-d', time() + $day * 86400) . sprintf('T%02d:00:00', $hour);
        $end = gmdate('Y-m-d', time() + $day * 86400) . sprintf('T%02d:30:00', $hour);
        return $this->simControl->createEvent($this->upn($userId), [
            'subject' => $subject,
            'start' => ['dateTime' => $start, 'timeZone' => 'UTC'],
            'end' => ['dateTime' => $end, 'timeZone' => 'UTC'],
        ]);
    }

    protected function outlookUpdate(int $userId, string $id, array $patch): void
    {
        $this->simControl->updateEvent($this->upn($userId), $id, $patch);
    }

    protected function outlookDelete(int $userId, string $id): void
    {
        $this->simControl->deleteEvent($this->upn($userId), $id);
    }

    /** Creates an event in Oro, as a user does (change log, debounced sync). */
    protected function oroCreate(int $userId, string $title, int $day, int $hour = 14, bool $allDay = false): int
    {
        $date = gmdate('Y-m-d', time() + $day * 86400);
        return $this->c->events()->create($userId, $allDay
            ? ['title' => $title, 'allDay' => true, 'start' => $date, 'end' => gmdate('Y-m-d', time() + ($day + 1) * 86400)]
            : ['title' => $title, 'start' => sprintf('%sT%02d:00:00+00:00', $date, $hour), 'end' => sprintf('%sT%02d:45:00+00:00', $date, $hour)]);
    }

    /** The user's live Oro events with their links, by title. */
    protected function oroEvents(int $userId): array
    {
        $rows = $this->db()->all(
            'SELECT e.*, l.remote_id FROM oro_calendar_event e LEFT JOIN msync_event_link l ON l.event_id = e.id
              WHERE e.user_id = ? AND e.deleted_at IS NULL ORDER BY e.title, e.id',
            [$userId]
        );
        return $rows;
    }

    protected function oroTitles(int $userId): array
    {
        $t = array_column($this->oroEvents($userId), 'title');
        sort($t);
        return $t;
    }

    /** Both sides hold the same events, each Oro event linked to its own copy, nothing pending. */
    protected function assertInSync(int $userId, array $titles): void
    {
        sort($titles);
        $this->assertSame($titles, $this->oroTitles($userId), 'Oro events');
        $this->assertSame($titles, $this->outlookSubjects($userId), 'Microsoft 365 events');
        $byId = [];
        foreach ($this->outlook($userId) as $ev) {
            $byId[self::idKey($ev['id'])] = $ev['subject'];
        }
        foreach ($this->oroEvents($userId) as $e) {
            $this->assertNotNull($e['remote_id'], "Oro event {$e['title']} is linked");
            $this->assertSame($e['title'], $byId[self::idKey($e['remote_id'])] ?? null, "the link of {$e['title']} names its own copy");
        }
        $this->assertSame(0, (int) $this->db()->value('SELECT count(*) FROM msync_change_log WHERE user_id = ?', [$userId]), 'no Oro change left unsynced');
        $this->assertSame(0, (int) $this->db()->value('SELECT count(*) FROM oro_calendar_event WHERE user_id = ? AND deleted_at IS NOT NULL', [$userId]), 'no tombstone left');
    }

    /**
     * An event id without its form: Graph's REST ids (AAMk…) and immutable
     * ids (AAkA…, which the sidecar asks for) name the same event.
     */
    protected static function idKey(string $id): string
    {
        return substr($id, 4);
    }

    /** The user's runs, oldest first. */
    protected function runs(int $userId): array
    {
        return $this->db()->all('SELECT * FROM msync_sync_run WHERE user_id = ? ORDER BY id', [$userId]);
    }

    protected function state(int $userId): array
    {
        return $this->db()->one('SELECT * FROM msync_sync_state WHERE user_id = ?', [$userId]);
    }

    /** Makes the user's next periodic sync due now (as time passing would). */
    protected function makeDue(int $userId): void
    {
        $this->db()->exec('UPDATE msync_sync_state SET next_sync_at = now(), not_before = NULL, enqueued_at = NULL WHERE user_id = ?', [$userId]);
    }
}
