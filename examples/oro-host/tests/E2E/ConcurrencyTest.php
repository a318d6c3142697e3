<?php

declare(strict_types=1);

namespace OroHost\Tests\E2E;

use OroHost\Calendar\CalendarEventManager;
use OroHost\Db\Database;
use OroHost\Tests\Support\E2ETestCase;

/**
 * Three consumers, ten users, every job queued three times: no user is
 * synced twice at once. And an Oro edit that commits while a run waits to
 * record its end is synced after the debounce, not at the next scheduled
 * sync.
 */
final class ConcurrencyTest extends E2ETestCase
{
    public function testThreeConsumersTenUsersNoUserSyncedTwiceConcurrently(): void
    {
        $users = [];
        for ($n = 1; $n <= 10; $n++) {
            $u = $this->user("user$n");
            $this->connect($u);
            $this->outlookCreate($u, "Outlook $n.1", 1);
            $this->outlookCreate($u, "Outlook $n.2", 2);
            $this->oroCreate($u, "Oro $n.1", 3);
            $this->oroCreate($u, "Oro $n.2", 4, 0, true);
            $users[$n] = $u;
        }
        // each job three times in a row (a second scheduler, a user clicking
        // "sync now"), so that the three consumers take the same user at once
        $this->db()->exec('UPDATE msync_sync_state SET enqueued_at = now()');
        foreach ($users as $u) {
            for ($k = 0; $k < 3; $k++) {
                $this->c->queue()->publish($u);
            }
        }
        $ps = [];
        for ($i = 1; $i <= 3; $i++) {
            $ps[] = $this->startConsumer("c$i", 3);
        }
        // Oro edits while the consumers work
        usleep(500000);
        foreach ([1, 4, 7] as $n) {
            $this->oroCreate($users[$n], "Late $n", 5);
        }
        $log = '';
        foreach ($ps as $p) {
            $p->wait();
            $this->assertSame(0, $p->getExitCode(), $p->getOutput() . $p->getErrorOutput());
            $log .= $p->getOutput();
        }
        $this->assertMatchesRegularExpression('/user \d+ → requeue/', $log, 'a consumer found a user locked by another and requeued the job');
        $this->drain(3);

        // no two runs of one user overlap in time
        $overlaps = $this->db()->all(
            'SELECT a.user_id, a.id, b.id AS other, a.consumer, b.consumer AS other_consumer
               FROM msync_sync_run a JOIN msync_sync_run b ON a.user_id = b.user_id AND a.id < b.id
              WHERE b.started_at < a.finished_at AND a.started_at < b.finished_at'
        );
        $this->assertSame([], $overlaps, 'runs of one user overlapped');
        $this->assertSame(0, (int) $this->db()->value('SELECT count(*) FROM msync_sync_run WHERE finished_at IS NULL'));
        $consumers = $this->db()->all('SELECT DISTINCT consumer FROM msync_sync_run');
        $this->assertGreaterThanOrEqual(2, count($consumers), 'the work was shared');
        // the duplicates were absorbed: at most the full run, the late edit's
        // run and a few early duplicates per user, all of which wrote nothing twice
        foreach ($users as $n => $u) {
            $titles = ["Oro $n.1", "Oro $n.2", "Outlook $n.1", "Outlook $n.2"];
            if (in_array($n, [1, 4, 7], true)) {
                $titles[] = "Late $n";
            }
            $this->assertInSync($u, $titles);
            $this->assertSame(1, (int) $this->db()->value("SELECT count(*) FROM msync_sync_run WHERE user_id = ? AND mode = 'full'", [$u]), "user $n: one full run");
        }
        $this->assertSame(0, $this->c->queue()->depth());
    }

    public function testAnEditCommittedWhileARunEndsIsSyncedAfterTheDebounce(): void
    {
        $ada = $this->user('ada');
        $this->connect($ada);
        $id = $this->oroCreate($ada, 'Standup', 1);
        $this->drain();
        $this->assertInSync($ada, ['Standup']);

        // the edit, on a connection of its own, holds the user's sync state
        // (its debounce) and is not committed yet when a run ends
        $cfg = $this->c->config;
        $edit = new Database($cfg->dsn, $cfg->dbUser, $cfg->dbPassword);
        $this->makeDue($ada);
        $edit->pdo->beginTransaction();
        (new CalendarEventManager($edit, $cfg->debounceSeconds))->update($id, ['title' => 'Standup (moved)']);
        $this->c->queue()->publish($ada);
        $p = $this->startConsumer('c1');
        $deadline = microtime(true) + 30;
        while ((int) $this->db()->value("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") === 0) {
            $this->assertLessThan($deadline, microtime(true), 'the run never waited for the edit: ' . $p->getOutput() . $p->getErrorOutput());
            $this->assertTrue($p->isRunning(), 'the consumer ended without waiting for the edit: ' . $p->getOutput() . $p->getErrorOutput());
            usleep(20000);
        }
        $edit->pdo->commit();
        $p->wait();
        $this->assertSame(0, $p->getExitCode(), $p->getOutput() . $p->getErrorOutput());

        $due = (float) $this->db()->value('SELECT EXTRACT(EPOCH FROM next_sync_at - clock_timestamp()) FROM msync_sync_state WHERE user_id = ?', [$ada]);
        $this->assertLessThan($cfg->debounceSeconds + 1, $due, 'the edit waits for the next scheduled sync');
        $this->drain();
        $this->assertInSync($ada, ['Standup (moved)']);
    }
}
