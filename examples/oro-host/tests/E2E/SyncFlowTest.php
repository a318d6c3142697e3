<?php

declare(strict_types=1);

namespace OroHost\Tests\E2E;

use OroHost\Sync\ConnectionStore;
use OroHost\Tests\Support\E2ETestCase;

/** Connect, the first (full) sync, edits on both sides, the incremental sync. */
final class SyncFlowTest extends E2ETestCase
{
    public function testConnectFullSyncEditsAndIncrementalSync(): void
    {
        $ada = $this->user('ada');

        // Connect: the account is shown, the tokens are stored encrypted
        $account = $this->connect($ada);
        $this->assertSame('ada@contoso.example', $account['email']);
        $conn = $this->db()->one('SELECT * FROM msync_connection WHERE user_id = ?', [$ada]);
        $this->assertSame('connected', $conn['status']);
        $this->assertSame('ada@contoso.example', $conn['account_email']);
        $sealed = ConnectionStore::bytes($conn['tokens']);
        $tokens = $this->c->connections()->get($ada)['tokens'];
        $this->assertNotEmpty($tokens['refreshToken']);
        $this->assertStringNotContainsString($tokens['refreshToken'], $sealed, 'the refresh token is not stored in clear');
        $this->assertStringNotContainsString($tokens['accessToken'], $sealed, 'the access token is not stored in clear');
        $this->assertSame('full', $this->state($ada)['next_mode']);

        // Both calendars have events before the first sync
        $standup = $this->outlookCreate($ada, 'Team standup', 1, 8);
        $this->outlookCreate($ada, 'Dentist', 2, 14);
        $review = $this->oroCreate($ada, 'Quarterly review', 3);
        $this->oroCreate($ada, 'Trade fair', 10, 0, true);

        $this->drain();
        $this->assertInSync($ada, ['Dentist', 'Quarterly review', 'Team standup', 'Trade fair']);
        $runs = $this->runs($ada);
        $this->assertSame('full', $runs[0]['mode']);
        $this->assertSame('completed', $runs[0]['outcome']);
        $fair = $this->db()->one("SELECT * FROM oro_calendar_event WHERE title = 'Trade fair'");
        $this->assertTrue($fair['all_day']);
        $msFair = array_values(array_filter($this->outlook($ada), fn ($e) => $e['subject'] === 'Trade fair'))[0];
        $this->assertTrue($msFair['isAllDay']);
        $this->assertSame($fair['start_date'], substr($msFair['start']['dateTime'], 0, 10));
        $pulled = $this->db()->one("SELECT * FROM oro_calendar_event WHERE title = 'Team standup'");
        $this->assertSame(gmdate('Y-m-d', time() + 86400) . ' 08:00:00+00', $pulled['start_at']);
        $stateAfterFull = json_decode($this->state($ada)['state'], true);
        $this->assertArrayHasKey('window', $stateAfterFull, 'the state keeps the window');

        // Edits on both sides: Outlook renames one; Oro renames, deletes, adds
        $this->outlookUpdate($ada, $standup, ['subject' => 'Team standup (moved)',
            'start' => ['dateTime' => gmdate('Y-m-d', time() + 86400) . 'T09:00:00', 'timeZone' => 'UTC'],
            'end' => ['dateTime' => gmdate('Y-m-d', time() + 86400) . 'T09:15:00', 'timeZone' => 'UTC']]);
        $this->c->events()->update($review, ['title' => 'Quarterly review (board)', 'location' => 'Board room']);
        $this->c->events()->delete((int) $fair['id']);
        $this->oroCreate($ada, 'Customer visit', 5, 10);
        $this->assertSame(3, (int) $this->db()->value('SELECT count(DISTINCT event_id) FROM msync_change_log WHERE user_id = ?', [$ada]));

        // the Oro edits made the sync due within the debounce
        $this->assertLessThanOrEqual(1.0, (float) $this->db()->value('SELECT EXTRACT(EPOCH FROM next_sync_at - now()) FROM msync_sync_state WHERE user_id = ?', [$ada]));
        $this->drain();
        $this->assertInSync($ada, ['Customer visit', 'Dentist', 'Quarterly review (board)', 'Team standup (moved)']);
        $last = $this->runs($ada);
        $last = end($last);
        $this->assertSame('incremental', $last['mode']);
        $this->assertSame('completed', $last['outcome']);
        $moved = $this->db()->one("SELECT * FROM oro_calendar_event WHERE title = 'Team standup (moved)'");
        $this->assertSame(gmdate('Y-m-d', time() + 86400) . ' 09:15:00+00', $moved['end_at']);
        $board = array_values(array_filter($this->outlook($ada), fn ($e) => $e['subject'] === 'Quarterly review (board)'))[0];
        $this->assertSame('Board room', $board['location']['displayName']);

        // nothing changed: a periodic run writes nothing and changes nothing
        $before = $this->outlook($ada);
        $this->makeDue($ada);
        $this->drain();
        $this->assertInSync($ada, ['Customer visit', 'Dentist', 'Quarterly review (board)', 'Team standup (moved)']);
        $this->assertSame(array_column($before, 'changeKey', 'id'), array_column($this->outlook($ada), 'changeKey', 'id'), 'an idle run rewrites nothing');
    }
}
