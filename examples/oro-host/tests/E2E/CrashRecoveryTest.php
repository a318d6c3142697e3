<?php

declare(strict_types=1);

namespace OroHost\Tests\E2E;

use OroHost\Tests\Support\E2ETestCase;

/**
 * A consumer is killed (SIGKILL) after Microsoft 365 was written to and the
 * operations were applied, before COMMIT; RabbitMQ redelivers the job to
 * another consumer. Nothing is duplicated, nothing is lost.
 */
final class CrashRecoveryTest extends E2ETestCase
{
    public function testConsumerKilledBeforeCommitThenRedelivered(): void
    {
        $bob = $this->user('bob');
        $this->connect($bob);
        $this->outlookCreate($bob, 'Outlook one', 1);
        $this->outlookCreate($bob, 'Outlook two', 2);
        $this->drain();
        $this->assertInSync($bob, ['Outlook one', 'Outlook two']);

        // Oro-side changes for Microsoft 365; an Outlook change for Oro
        $this->oroCreate($bob, 'Oro A', 3);
        $this->oroCreate($bob, 'Oro B', 4);
        $this->oroCreate($bob, 'Oro C', 5, 0, true);
        $two = $this->db()->one("SELECT e.id, l.remote_id FROM oro_calendar_event e JOIN msync_event_link l ON l.event_id = e.id WHERE e.title = 'Outlook two'");
        $this->c->events()->delete((int) $two['id']);
        $this->outlookCreate($bob, 'Outlook three', 6);
        usleep(300000);
        $this->assertSame([$bob], $this->c->scheduler()->tick());

        $pause = $this->tmp . '/paused';
        $victim = $this->startConsumer('victim', 30, ['OROHOST_TEST_PAUSE_BEFORE_COMMIT' => $pause]);
        for ($i = 0; $i < 200 && !is_file($pause); $i++) {
            usleep(100000);
        }
        $this->assertFileExists($pause, "the consumer reached the commit:\n" . $victim->getOutput() . $victim->getErrorOutput());

        // Graph has the writes; the database has none of them (uncommitted)
        $this->assertSame(['Oro A', 'Oro B', 'Oro C', 'Outlook one', 'Outlook three'], $this->outlookSubjects($bob), 'Microsoft 365 was written to');
        $this->assertSame(['Oro A', 'Oro B', 'Oro C', 'Outlook one'], $this->oroTitles($bob), 'Oro: nothing committed (Outlook three not pulled yet)');
        $this->assertSame(1, (int) $this->db()->value('SELECT count(*) FROM oro_calendar_event WHERE id = ? AND deleted_at IS NOT NULL', [$two['id']]), 'the tombstone is still there');
        $this->assertSame(0, (int) $this->db()->value("SELECT count(*) FROM msync_event_link l JOIN oro_calendar_event e ON e.id = l.event_id WHERE e.title LIKE 'Oro %'"));

        $victim->signal(SIGKILL);
        $victim->wait();
        $this->assertSame(1, count(array_filter($this->runs($bob), fn ($r) => $r['finished_at'] === null)), 'the killed run never finished');

        // redelivered (no scheduler tick in between: the same message)
        $this->assertSame([], $this->c->scheduler()->tick(), 'the job is still enqueued');
        $heir = $this->startConsumer('heir', 1.5);
        $heir->wait();
        $this->assertStringContainsString('heir', $heir->getOutput());
        $runs = $this->runs($bob);
        $last = end($runs);
        $this->assertSame('heir', $last['consumer']);
        $this->assertSame('completed', $last['outcome']);
        // the creates the lost run made are found and linked, not made again
        $this->assertSame(3, substr_count($last['detail'], '(recovered_unrecorded_create): link stored'), $last['detail']);
        $this->assertStringContainsString("link #{$two['id']} (oro_deleted): link removed", $last['detail']);
        $this->drain();

        // no duplicate in Microsoft 365, nothing lost on either side
        $this->assertInSync($bob, ['Oro A', 'Oro B', 'Oro C', 'Outlook one', 'Outlook three']);
        $this->assertCount(5, $this->outlook($bob));
        $this->assertSame(1, (int) $this->db()->value("SELECT count(*) FROM oro_calendar_event WHERE title = 'Outlook three'"), 'pulled once');
    }
}
