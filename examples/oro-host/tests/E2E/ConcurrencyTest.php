<?php

declare(strict_types=1);

namespace OroHost\Tests\E2E;

use OroHost\Tests\Support\E2ETestCase;

/** Three consumers, ten users, every job queued three times: no user is synced twice at once. */
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
}
