<?php

declare(strict_types=1);

namespace OroHost\Tests\E2E;

use OroHost\Tests\Support\E2ETestCase;

/**
 * The scale run (oro-host:bench:scale, which BenchmarkScaleHost runs at
 * size) at its smallest: three users, two consumers, thirteen events each
 * (a weekly series among them on each side), one incremental round and an
 * idle one. Its figures are what the runs recorded; and it fails when
 * Microsoft throttles.
 */
final class ScaleTest extends E2ETestCase
{
    private const SIZE = ['--users=3', '--consumers=2', '--events=13', '--series=1', '--rounds=1', '--timeout=60'];

    public function testPrintsTheFiguresOfWhatTheConsumersSynced(): void
    {
        $p = $this->process(['oro-host:bench:scale', ...self::SIZE]);
        $p->run();
        $this->assertSame(0, $p->getExitCode(), $p->getOutput() . $p->getErrorOutput());
        $lines = explode("\n", trim($p->getOutput()));
        $this->assertCount(1, $lines, 'one line on stdout: ' . $p->getOutput());
        $f = json_decode($lines[0], true, 8, JSON_THROW_ON_ERROR);

        $this->assertSame([3, 2, 13, 1, 1], [$f['users'], $f['consumers'], $f['eventsPerUser'], $f['seriesPerSide'], $f['rounds']]);
        $this->assertSame(6, $f['syncs'], 'one first sync and one incremental sync per user');
        // the first sync pushes the 4 Oro events (3 single, 1 series) and
        // pulls the 9 Outlook ones (8 and 1); the round pushes 4 Oro changes
        // and pulls 4 Outlook changes
        $this->assertSame(3 * (13 + 8), $f['eventsMoved']);
        $this->assertSame(0, $f['throttled']);
        // over the wall time (rounded to the ms, so within 1 %)
        $this->assertEqualsWithDelta($f['syncs'] / $f['wallSeconds'], $f['syncsPerSecond'], $f['syncsPerSecond'] / 100);
        $this->assertEqualsWithDelta($f['eventsMoved'] / $f['wallSeconds'], $f['eventsPerSecond'], $f['eventsPerSecond'] / 100);
        foreach (['firstSync', 'incrSync', 'firstRun', 'incrRun'] as $k) {
            $this->assertGreaterThan(0, $f[$k . 'P50Ms'], $k);
            $this->assertGreaterThanOrEqual($f[$k . 'P50Ms'], $f[$k . 'P99Ms'], $k);
        }
        $this->assertGreaterThanOrEqual($f['firstSyncP50Ms'], $f['firstRunP50Ms'], 'a run holds its call');
        $this->assertGreaterThan(10, $f['consumerPeakRssMb']);
        $this->assertGreaterThan(5, $f['sidecarPeakRssMb']);
        // an incremental sync reads the delta and writes its four changes
        // in one batch (four mailbox requests)
        $this->assertGreaterThanOrEqual(2, $f['graphRequestsPerIncrSync']);
        $this->assertSame($f['graphRequestsPerIncrSync'], $f['httpRequestsPerIncrSync'], 'the results count what the simulator served');
        $this->assertGreaterThanOrEqual($f['httpRequestsPerIncrSync'] + 3, $f['mailboxRequestsPerIncrSync']);
        $this->assertEqualsWithDelta($f['mailboxRequestsPerIncrSync'] * 96, $f['mailboxRequestsPerUserDay'], 0.1);
        $this->assertEqualsWithDelta(100 * $f['mailboxRequestsPerUserDay'] / 1440000, $f['mailboxBudgetPercent'], 0.0001);
        // a sync that finds nothing reads one delta page
        $this->assertEquals(1, $f['idleMailboxRequestsPerSync']);
        $this->assertEquals(96, $f['idleMailboxRequestsPerUserDay']);
        $this->assertGreaterThan(0, $f['idleSyncP50Ms']);

        // what the host recorded, read here on its own
        $users = array_map('intval', array_column($this->db()->all('SELECT id FROM oro_user ORDER BY id'), 'id'));
        $this->assertCount(3, $users);
        foreach ($users as $u) {
            $runs = $this->runs($u);
            $this->assertSame(['full', 'incremental', 'incremental'], array_column($runs, 'mode'), 'the first sync, the edited round, the idle round');
            $this->assertSame(['completed', 'completed', 'completed'], array_column($runs, 'outcome'));
            foreach ($runs as $run) {
                $this->assertNotNull($run['call_ms']);
                $this->assertLessThanOrEqual((float) $this->db()->value('SELECT EXTRACT(EPOCH FROM finished_at - started_at) * 1000 FROM msync_sync_run WHERE id = ?', [$run['id']]), (int) $run['call_ms']);
            }
            $stats = array_map(fn ($r) => json_decode($r['stats'], true), $runs);
            $this->assertSame([[4, 9], [4, 4], [0, 0]], array_map(fn ($s) => [$s['pushed'], $s['pulled']], $stats));
            $titles = $this->oroTitles($u);
            $this->assertCount(13, $titles, 'a series is one event on each side');
            $this->assertSame($titles, $this->outlookSubjects($u));
        }
        $this->assertSame(2, (int) $this->db()->value('SELECT count(DISTINCT consumer) FROM msync_sync_run'), 'both consumers synced');
    }

    public function testFailsWhenMicrosoftThrottles(): void
    {
        $this->simCall('POST', '/_sim/faults', ['method' => 'GET', 'path' => '/v1.0/me/calendarView/delta', 'count' => 1, 'status' => 429, 'header' => ['Retry-After' => ['1']]]);
        $p = $this->process(['oro-host:bench:scale', ...self::SIZE]);
        $p->run();
        $this->assertSame(1, $p->getExitCode(), $p->getOutput() . $p->getErrorOutput());
        $this->assertSame('', $p->getOutput(), 'no figures');
        // the sidecar waited the second and completed: only the log tells
        $this->assertStringContainsString('oro-host:bench:scale: FAILED: the simulator answered 429 to 1 requests', $p->getErrorOutput());
    }
}
