<?php

declare(strict_types=1);

namespace OroHost\Tests\E2E;

use OroHost\Tests\Support\E2ETestCase;

/**
 * A recurring series made in Outlook comes into Oro as a master with its
 * recurrence and reminder; an occurrence retitled and one cancelled in
 * Outlook become exception rows; the series deleted in Outlook goes with
 * its exceptions. Nothing is written to Microsoft 365 and nobody is mailed;
 * an occurrence cancelled or moved in Oro is written to Outlook's series.
 */
final class SeriesTest extends E2ETestCase
{
    public function testSeriesFromOutlook(): void
    {
        $ada = $this->user('ada');
        $this->connect($ada);
        $events = '/_sim/users/' . rawurlencode($this->upn($ada)) . '/events';
        $monday = (new \DateTimeImmutable('monday next week', new \DateTimeZone('UTC')))->format('Y-m-d');
        $series = $this->simCall('POST', $events, [
            'subject' => 'Weekly sync',
            'start' => ['dateTime' => $monday . 'T09:00:00', 'timeZone' => 'W. Europe Standard Time'],
            'end' => ['dateTime' => $monday . 'T09:30:00', 'timeZone' => 'W. Europe Standard Time'],
            'isReminderOn' => true,
            'reminderMinutesBeforeStart' => 30,
            'recurrence' => [
                'pattern' => ['type' => 'weekly', 'interval' => 1, 'daysOfWeek' => ['monday']],
                'range' => ['type' => 'numbered', 'startDate' => $monday, 'numberOfOccurrences' => 4],
            ],
        ])['id'];
        $this->drain();

        $master = $this->db()->one("SELECT * FROM oro_calendar_event WHERE title = 'Weekly sync' AND recurring_event_id IS NULL");
        $this->assertNotNull($master, 'the series master is in Oro');
        $rec = json_decode((string) $master['recurrence'], true);
        $this->assertSame('weekly', $rec['recurrenceType']);
        $this->assertSame(1, $rec['interval']);
        $this->assertSame(['monday'], $rec['dayOfWeek']);
        $this->assertSame(4, $rec['occurrences']);
        $this->assertSame('Europe/Berlin', $rec['timeZone']);
        $this->assertEquals([['method' => 'web_socket', 'interval' => ['number' => 30, 'unit' => 'M']]], json_decode($master['reminders'], true), 'Outlook\'s reminder (jsonb orders the keys its own way)');
        $this->assertSame(1, (int) $this->db()->value('SELECT count(*) FROM oro_calendar_event WHERE user_id = ?', [$ada]), 'one row: the series, not its occurrences');

        // Outlook: the second occurrence retitled, the third cancelled
        $occurrences = $this->simCall('GET', $events . '/' . rawurlencode($series) . '/occurrences')['value'];
        $this->assertCount(4, $occurrences);
        $this->outlookUpdate($ada, $occurrences[1], ['subject' => 'Weekly sync (room 2)']);
        $this->outlookDelete($ada, $occurrences[2]);
        $this->makeDue($ada);
        $this->drain();
        $rows = $this->db()->all('SELECT * FROM oro_calendar_event WHERE recurring_event_id = ? ORDER BY original_start_at', [$master['id']]);
        $this->assertCount(2, $rows);
        $this->assertSame('Weekly sync (room 2)', $rows[0]['title']);
        $this->assertFalse($rows[0]['is_cancelled']);
        $this->assertTrue($rows[1]['is_cancelled']);
        $this->assertSame($master['uid'], $rows[1]['uid'], 'exceptions carry the series uid');

        // an idle run changes nothing (the exception rows it sends are left alone)
        $before = $this->outlook($ada);
        $this->makeDue($ada);
        $this->drain();
        $this->assertSame(array_column($before, 'changeKey', 'id'), array_column($this->outlook($ada), 'changeKey', 'id'), 'nothing rewritten in Microsoft 365');
        $this->assertCount(2, $this->db()->all('SELECT id FROM oro_calendar_event WHERE recurring_event_id = ?', [$master['id']]));

        // Outlook: the series deleted
        $this->outlookDelete($ada, $series);
        $this->makeDue($ada);
        $this->drain();
        $this->assertSame(0, (int) $this->db()->value('SELECT count(*) FROM oro_calendar_event WHERE user_id = ? AND deleted_at IS NULL', [$ada]), 'the series and its exceptions are gone');
        $mails = array_filter($this->simCall('GET', '/_sim/mail')['value'] ?? [], fn ($m) => $m['source'] === 'graph');
        $this->assertSame([], array_values($mails), 'the sync mailed nobody');
    }

    /** A weekly series made in Oro becomes one series in Outlook, renamed with it. */
    public function testSeriesFromOro(): void
    {
        $ada = $this->user('ada');
        $this->connect($ada);
        $monday = (new \DateTimeImmutable('monday next week', new \DateTimeZone('Europe/Berlin')))->setTime(9, 0);
        $id = $this->c->events()->create($ada, [
            'title' => 'Sprint review',
            'start' => $monday->format(DATE_RFC3339),
            'end' => $monday->modify('+1 hour')->format(DATE_RFC3339),
            'recurrence' => ['recurrenceType' => 'weekly', 'interval' => 2, 'dayOfWeek' => ['monday'],
                'startTime' => $monday->format(DATE_RFC3339), 'occurrences' => 5, 'timeZone' => 'Europe/Berlin'],
        ]);
        $this->drain();
        $masters = array_values(array_filter($this->outlook($ada), fn ($e) => $e['type'] === 'seriesMaster'));
        $this->assertCount(1, $masters, 'one series in Outlook');
        $this->assertCount(1, $this->outlook($ada), 'and nothing else: no event per occurrence');
        $this->assertSame('Sprint review', $masters[0]['subject']);
        $this->assertSame('weekly', $masters[0]['recurrence']['pattern']['type']);
        $this->assertSame(2, $masters[0]['recurrence']['pattern']['interval']);
        $this->assertSame(5, $masters[0]['recurrence']['range']['numberOfOccurrences']);
        $this->assertSame('W. Europe Standard Time', $masters[0]['recurrence']['range']['recurrenceTimeZone']);

        $this->c->events()->update($id, ['title' => 'Sprint review (all hands)']);
        $this->drain();
        $masters = array_values(array_filter($this->outlook($ada), fn ($e) => $e['type'] === 'seriesMaster'));
        $this->assertSame('Sprint review (all hands)', $masters[0]['subject']);
        $this->assertSame(2, $masters[0]['recurrence']['pattern']['interval'], 'the pattern kept');
    }
    /**
     * An occurrence cancelled and one moved in Oro: Outlook's series loses
     * the one and holds the other as an exception at its new time; an idle
     * run rewrites nothing, and nobody is mailed.
     */
    public function testExceptionsFromOro(): void
    {
        $ada = $this->user('ada');
        $this->connect($ada);
        $berlin = new \DateTimeZone('Europe/Berlin');
        $utc = new \DateTimeZone('UTC');
        $monday = (new \DateTimeImmutable('monday next week', $berlin))->setTime(9, 0);
        $id = $this->c->events()->create($ada, [
            'title' => 'Stand-up',
            'start' => $monday->format(DATE_RFC3339),
            'end' => $monday->modify('+15 minutes')->format(DATE_RFC3339),
            'recurrence' => ['recurrenceType' => 'weekly', 'interval' => 1, 'dayOfWeek' => ['monday'],
                'startTime' => $monday->format(DATE_RFC3339), 'occurrences' => 4, 'timeZone' => 'Europe/Berlin'],
        ]);
        $this->drain();
        $masters = array_values(array_filter($this->outlook($ada), fn ($e) => $e['type'] === 'seriesMaster'));
        $this->assertCount(1, $masters, 'one series in Outlook');
        $occurrences = '/_sim/users/' . rawurlencode($this->upn($ada)) . '/events/' . rawurlencode($masters[0]['id']) . '/occurrences';
        $this->assertCount(4, $this->simCall('GET', $occurrences)['value']);

        // Oro: the second occurrence cancelled, the third moved to 11:00 and renamed
        $second = $monday->modify('+1 week');
        $this->c->events()->exception($id, $second->setTimezone($utc)->format(DATE_RFC3339), [], true);
        $third = $monday->modify('+2 weeks');
        $this->c->events()->exception($id, $third->setTimezone($utc)->format(DATE_RFC3339), [
            'title' => 'Stand-up (moved)',
            'start' => $third->setTime(11, 0)->format(DATE_RFC3339),
            'end' => $third->setTime(11, 15)->format(DATE_RFC3339),
        ], false);
        // One run writes both. A run that postpones an exception says so in
        // an issue (a spent time budget on a loaded machine, for one), and
        // only then is the next run awaited, at most twice.
        $plain = fn () => count($this->simCall('GET', $occurrences)['value']);
        $this->drain();
        for ($again = 0; $again < 2 && $plain() !== 2 && str_contains((string) (array_slice($this->runs($ada), -1)[0]['detail'] ?? ''), 'issue '); $again++) {
            $this->makeDue($ada);
            $this->drain();
        }
        $this->assertSame(2, $plain(), "two plain occurrences left: one cancelled, one an exception; runs:\n" . implode("\n", array_map(fn ($r) => "{$r['mode']} {$r['outcome']}: {$r['detail']}", $this->runs($ada))));
        $exceptions = array_values(array_filter($this->outlook($ada), fn ($e) => $e['type'] === 'exception'));
        $this->assertCount(1, $exceptions, 'the moved occurrence is an exception in Outlook');
        $this->assertSame('Stand-up (moved)', $exceptions[0]['subject']);
        $this->assertSame($third->setTimezone($utc)->format('Y-m-d\TH:i:s\Z'), $exceptions[0]['originalStart']);
        $this->assertSame($third->setTime(11, 0)->setTimezone($utc)->format('Y-m-d\TH:i:s'), substr($exceptions[0]['start']['dateTime'], 0, 19));
        $this->assertCount(2, $this->db()->all('SELECT id FROM oro_calendar_event WHERE recurring_event_id = ?', [$id]), 'Oro keeps its two exception rows');

        // an idle run rewrites nothing
        $before = array_column($this->outlook($ada), 'changeKey', 'id');
        $this->makeDue($ada);
        $this->drain();
        $this->assertSame($before, array_column($this->outlook($ada), 'changeKey', 'id'), 'nothing rewritten in Microsoft 365');
        $mails = array_filter($this->simCall('GET', '/_sim/mail')['value'] ?? [], fn ($m) => $m['source'] === 'graph');
        $this->assertSame([], array_values($mails), 'the sync mailed nobody');
    }

    /**
     * An occurrence cancelled in Outlook comes into Oro as a cancelled
     * exception row; the user deletes that row (the occurrence is back in
     * Oro's eyes). Graph cannot restore a cancelled occurrence: the host
     * sends the row's tombstone with its series master, the sidecar reports
     * it (rejected, recurring_not_supported) naming the series and the
     * occurrence, and the host keeps the tombstone so the user keeps seeing
     * the issue. Quiet idle run here: the tombstone is sent again (it is
     * pending, as any event an issue names) and the same issue comes back,
     * nothing else: no operation, nothing written on either side. Cancelling
     * the occurrence again in Oro, as the issue says, revives the row and
     * settles it; restoring the row then (isCancelled back to false) is
     * reported on the row as well.
     */
    public function testDeletedCancelledExceptionRowReported(): void
    {
        $ada = $this->user('ada');
        $this->connect($ada);
        $events = '/_sim/users/' . rawurlencode($this->upn($ada)) . '/events';
        $monday = (new \DateTimeImmutable('monday next week', new \DateTimeZone('UTC')))->format('Y-m-d');
        $series = $this->simCall('POST', $events, [
            'subject' => 'Weekly sync',
            'start' => ['dateTime' => $monday . 'T09:00:00', 'timeZone' => 'UTC'],
            'end' => ['dateTime' => $monday . 'T09:30:00', 'timeZone' => 'UTC'],
            'recurrence' => [
                'pattern' => ['type' => 'weekly', 'interval' => 1, 'daysOfWeek' => ['monday']],
                'range' => ['type' => 'numbered', 'startDate' => $monday, 'numberOfOccurrences' => 4],
            ],
        ])['id'];
        $this->drain();
        $master = $this->db()->one("SELECT * FROM oro_calendar_event WHERE title = 'Weekly sync' AND recurring_event_id IS NULL");
        $this->assertNotNull($master, 'the series master is in Oro');

        // Outlook: the third occurrence cancelled; Oro gets a cancelled row
        $occurrences = $events . '/' . rawurlencode($series) . '/occurrences';
        $this->outlookDelete($ada, $this->simCall('GET', $occurrences)['value'][2]);
        $this->makeDue($ada);
        $this->drain();
        $rows = $this->db()->all('SELECT * FROM oro_calendar_event WHERE recurring_event_id = ?', [$master['id']]);
        $this->assertCount(1, $rows, 'one exception row');
        $this->assertTrue($rows[0]['is_cancelled'], 'the occurrence is cancelled in Oro');
        $row = (int) $rows[0]['id'];
        $orig = (new \DateTimeImmutable($rows[0]['original_start_at']))->setTimezone(new \DateTimeZone('UTC'))->format(DATE_RFC3339);
        $this->assertSame((new \DateTimeImmutable($monday . 'T09:00:00Z'))->modify('+2 weeks')->format(DATE_RFC3339), $orig, 'the row is that occurrence');
        $outlookBefore = array_column($this->outlook($ada), 'changeKey', 'id');

        // Oro: the user deletes the cancelled row (the occurrence restored in Oro's eyes)
        $this->c->events()->delete($row);
        $this->drain();
        $detail = (string) array_slice($this->runs($ada), -1)[0]['detail'];
        $issue = "issue #$row rejected/recurring_not_supported: ";
        $this->assertStringContainsString($issue, $detail, "the tombstone's issue is the run's; runs:\n" . $this->runLog($ada));
        $line = array_values(array_filter(explode("\n", $detail), fn ($l) => str_starts_with($l, $issue)))[0];
        $this->assertStringContainsString(sprintf('the series "Weekly sync" (Oro %d)', $master['id']), $line, 'the issue names the series');
        $this->assertStringContainsString("at $orig was deleted in Oro", $line, 'and the occurrence (its originalStart as the host sent it)');
        $this->assertStringContainsString('stays cancelled in Microsoft 365', $line);
        $this->assertCount(3, $this->simCall('GET', $occurrences)['value'], 'the occurrence is still cancelled in Outlook');
        $this->assertSame($outlookBefore, array_column($this->outlook($ada), 'changeKey', 'id'), 'nothing written to Microsoft 365, nothing created there');
        $this->assertSame([(int) $master['id']], array_map('intval', array_column($this->oroEvents($ada), 'id')), 'Oro: the master alone, no row made again');
        $this->assertNotNull($this->db()->value('SELECT deleted_at FROM oro_calendar_event WHERE id = ?', [$row]), 'the tombstone is kept while its issue stands');

        // an idle run: the tombstone is sent again, the same issue, nothing else
        $this->makeDue($ada);
        $this->drain();
        $this->assertSame([$line], array_values(array_filter(explode("\n", (string) array_slice($this->runs($ada), -1)[0]['detail']))), "the idle run's detail is the issue alone; runs:\n" . $this->runLog($ada));
        $this->assertSame($outlookBefore, array_column($this->outlook($ada), 'changeKey', 'id'), 'nothing rewritten in Microsoft 365');
        $this->assertSame([(int) $master['id']], array_map('intval', array_column($this->oroEvents($ada), 'id')));
        $this->assertSame(1, (int) $this->db()->value('SELECT count(*) FROM oro_calendar_event WHERE user_id = ? AND deleted_at IS NOT NULL', [$ada]), 'one tombstone');

        // Oro: cancelled again, as the issue says: the row is back, nothing to report or write
        $this->c->events()->exception((int) $master['id'], $orig, [], true);
        $this->drain();
        $this->assertStringNotContainsString('issue ', (string) array_slice($this->runs($ada), -1)[0]['detail'], "runs:\n" . $this->runLog($ada));
        $rows = $this->db()->all('SELECT * FROM oro_calendar_event WHERE recurring_event_id = ?', [$master['id']]);
        $this->assertCount(1, $rows);
        $this->assertSame($row, (int) $rows[0]['id'], 'the same row, revived');
        $this->assertNull($rows[0]['deleted_at']);
        $this->assertTrue($rows[0]['is_cancelled']);
        $this->assertSame($outlookBefore, array_column($this->outlook($ada), 'changeKey', 'id'), 'nothing written to Microsoft 365');
        $this->assertSame(0, (int) $this->db()->value('SELECT count(*) FROM msync_change_log WHERE user_id = ?', [$ada]), 'nothing pending');

        // Oro: the row restored (isCancelled back to false) is reported on the row too
        $this->c->events()->exception((int) $master['id'], $orig, [], false);
        $this->drain();
        $detail = (string) array_slice($this->runs($ada), -1)[0]['detail'];
        $this->assertStringContainsString($issue . sprintf('not written: the occurrence of the series "Weekly sync" (Oro %d) at %s was restored in Oro, but stays cancelled', $master['id'], $orig), $detail, "runs:\n" . $this->runLog($ada));
        $this->assertCount(3, $this->simCall('GET', $occurrences)['value'], 'still cancelled in Outlook');
        $this->assertSame($outlookBefore, array_column($this->outlook($ada), 'changeKey', 'id'), 'nothing written to Microsoft 365');
        $mails = array_filter($this->simCall('GET', '/_sim/mail')['value'] ?? [], fn ($m) => $m['source'] === 'graph');
        $this->assertSame([], array_values($mails), 'the sync mailed nobody');
    }

    private function runLog(int $userId): string
    {
        return implode("\n", array_map(fn ($r) => "{$r['mode']} {$r['outcome']}: {$r['detail']}", $this->runs($userId)));
    }
}
