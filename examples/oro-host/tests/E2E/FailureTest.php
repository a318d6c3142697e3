<?php

declare(strict_types=1);

namespace OroHost\Tests\E2E;

use OroHost\Tests\Support\E2ETestCase;

/** Microsoft says no: a revoked refresh token, a 429 storm, a lost delta token. */
final class FailureTest extends E2ETestCase
{
    public function testRevokedRefreshTokenNeedsReconnectAndIsNotRetried(): void
    {
        $cy = $this->user('cy');
        $this->connect($cy);
        $this->oroCreate($cy, 'Before revocation', 1);
        $this->drain();
        $this->assertInSync($cy, ['Before revocation']);

        // an admin revokes the sessions; an hour later the access token has expired
        $this->simCall('POST', '/_sim/users/' . rawurlencode($this->upn($cy)) . '/revokeRefreshTokens');
        $this->simCall('POST', '/_sim/clock/advance', ['duration' => '2h']);
        $tokenCalls = $this->simCall('GET', '/_sim/counts')['POST /{tenant}/oauth2/v2.0/token'] ?? 0;
        $this->oroCreate($cy, 'After revocation', 2);
        $this->makeDue($cy);
        $this->drain(1, 4);

        $conn = $this->db()->one('SELECT * FROM msync_connection WHERE user_id = ?', [$cy]);
        $this->assertSame('reconnect_required', $conn['status'], 'the user is told to connect again');
        $this->assertNotEmpty($conn['status_message']);
        $state = $this->state($cy);
        $this->assertNull($state['next_sync_at'], 'no sync is scheduled until the user reconnects');
        $this->assertSame('reconnect_required', $state['last_error_kind']);
        $failed = array_values(array_filter($this->runs($cy), fn ($r) => $r['outcome'] === 'error:reconnect_required'));
        $this->assertCount(1, $failed, 'tried once');
        $this->assertSame($tokenCalls + 1, $this->simCall('GET', '/_sim/counts')['POST /{tenant}/oauth2/v2.0/token'], 'one refresh attempt, no loop');

        // the scheduler and the consumers leave the user alone from now on
        $this->assertSame([], $this->c->scheduler()->tick());
        $this->assertSame(0, $this->c->queue()->depth());
        $this->oroCreate($cy, 'Still waiting', 3);
        usleep(300000);
        $this->assertSame([], $this->c->scheduler()->tick(), 'an Oro edit does not bring the job back');
        $this->assertCount(count($failed) + 1, $this->runs($cy));
        $this->assertSame(['Before revocation'], $this->outlookSubjects($cy));

        // Check connection says the same; Connect again repairs it
        $this->assertSame('reconnect_required', $this->c->connectionManager()->check($cy)['status']);
        $this->connect($cy);
        $this->drain();
        $this->assertInSync($cy, ['After revocation', 'Before revocation', 'Still waiting']);
    }

    public function testThrottlingStormIsRescheduledNoEarlierThanNextSyncAt(): void
    {
        $dee = $this->user('dee');
        $this->connect($dee);
        $this->outlookCreate($dee, 'Existing', 1);
        $this->drain();
        $this->assertInSync($dee, ['Existing']);

        // 1. the delta read is throttled: sync.run fails with throttled and
        // retryAfterMs; the job comes back (delayed requeue) after it
        $this->simCall('POST', '/_sim/faults', ['method' => 'GET', 'path' => '/v1.0/me/calendarView/delta', 'count' => 12, 'status' => 429, 'header' => ['Retry-After' => ['1']]]);
        $this->oroCreate($dee, 'Written after the storm', 2);
        $log = $this->drain(1, 8);
        $runs = $this->runs($dee);
        $throttled = array_values(array_filter($runs, fn ($r) => $r['outcome'] === 'error:throttled'));
        $this->assertGreaterThanOrEqual(2, count($throttled), "several throttled runs:\n$log");
        // after each throttled run the next one started no earlier than the
        // back-off it stored (Retry-After), though an Oro edit was waiting
        $pairs = $this->db()->all(
            "SELECT a.id, a.next_sync_at, b.started_at, b.started_at >= a.next_sync_at AS ok
               FROM msync_sync_run a JOIN msync_sync_run b ON b.user_id = a.user_id
                AND b.id = (SELECT min(id) FROM msync_sync_run c WHERE c.user_id = a.user_id AND c.id > a.id)
              WHERE a.user_id = ? AND a.outcome = 'error:throttled'",
            [$dee]
        );
        $this->assertCount(count($throttled), $pairs, 'each throttled run was followed by another');
        foreach ($pairs as $p) {
            $this->assertTrue($p['ok'], "run after {$p['id']} started at {$p['started_at']}, before {$p['next_sync_at']}");
        }
        foreach ($throttled as $t) {
            $this->assertGreaterThanOrEqual(0.9, (float) $this->db()->value('SELECT EXTRACT(EPOCH FROM next_sync_at - finished_at) FROM msync_sync_run WHERE id = ?', [$t['id']]), 'Retry-After honoured');
        }
        $this->assertInSync($dee, ['Existing', 'Written after the storm']);

        // 2. the writes are throttled past the time budget: partial
        // time_budget after throttling means "not before nextSyncAt"
        $this->simCall('POST', '/_sim/faults', ['method' => 'POST', 'path' => '/v1.0/$batch', 'count' => 100, 'status' => 429, 'header' => ['Retry-After' => ['8']]]);
        $this->simCall('POST', '/_sim/faults', ['method' => 'POST', 'path' => '/v1.0/me/events', 'count' => 100, 'status' => 429, 'header' => ['Retry-After' => ['8']]]);
        $this->oroCreate($dee, 'Throttled write', 3);
        $this->env['OROHOST_TIME_BUDGET_SECONDS'] = '4';
        $this->drain(1, 2);
        $runs = $this->runs($dee);
        $last = end($runs);
        $this->assertSame('partial:time_budget', $last['outcome']);
        $this->assertStringContainsString('throttled', $last['detail']);
        $state = $this->state($dee);
        // nextSyncAt is now + Retry-After (8 s), not the sync interval
        $wait = (float) $this->db()->value('SELECT EXTRACT(EPOCH FROM next_sync_at - finished_at) FROM msync_sync_run WHERE id = ?', [$last['id']]);
        $this->assertGreaterThanOrEqual(7.0, $wait, 'not called again at once: next run at nextSyncAt');
        $this->assertLessThan(60, $wait, 'the round goes on after Retry-After, not after the sync interval');
        $this->assertSame($state['next_sync_at'], $state['not_before']);
        $this->assertSame($state['next_sync_at'], $last['next_sync_at']);

        // an Oro edit does not bring the run before nextSyncAt either
        $this->oroCreate($dee, 'Edit during back-off', 4);
        $this->assertSame($state['next_sync_at'], $this->state($dee)['next_sync_at']);
        $this->assertSame([], $this->c->scheduler()->tick());
        $this->assertCount(count($runs), $this->runs($dee));

        // time passes, Microsoft calms down: everything is written once
        $this->simCall('DELETE', '/_sim/faults');
        $this->env['OROHOST_TIME_BUDGET_SECONDS'] = '20';
        $this->makeDue($dee);
        $this->drain();
        $this->assertInSync($dee, ['Edit during back-off', 'Existing', 'Throttled write', 'Written after the storm']);
    }

    public function testLostDeltaTokenIsFollowedByAFullRun(): void
    {
        $eve = $this->user('eve');
        $this->connect($eve);
        $kept = $this->outlookCreate($eve, 'Kept', 1);
        $this->oroCreate($eve, 'From Oro', 2);
        $this->drain();
        $this->assertInSync($eve, ['From Oro', 'Kept']);
        $fullRuns = count(array_filter($this->runs($eve), fn ($r) => $r['mode'] === 'full'));

        // Microsoft loses the delta token; meanwhile both sides change
        $this->simCall('POST', '/_sim/users/' . rawurlencode($this->upn($eve)) . '/expireDeltaTokens');
        $this->outlookUpdate($eve, $kept, ['subject' => 'Kept (renamed in Outlook)']);
        $this->outlookCreate($eve, 'New in Outlook', 3);
        $this->oroCreate($eve, 'New in Oro', 4);
        $this->drain();

        $runs = array_slice($this->runs($eve), 1);
        $outcomes = array_map(fn ($r) => $r['mode'] . ' ' . $r['outcome'], $runs);
        $this->assertContains('incremental partial:resync_required', $outcomes, implode("\n", $outcomes));
        $i = array_search('incremental partial:resync_required', $outcomes, true);
        $this->assertSame('full completed', $outcomes[$i + 1] ?? null, 'a full run follows at once');
        $this->assertGreaterThan($fullRuns, count(array_filter($this->runs($eve), fn ($r) => $r['mode'] === 'full')));
        $this->assertInSync($eve, ['From Oro', 'Kept (renamed in Outlook)', 'New in Oro', 'New in Outlook']);
        $this->assertSame('incremental', $this->state($eve)['next_mode'], 'back to incremental runs');
    }
}
