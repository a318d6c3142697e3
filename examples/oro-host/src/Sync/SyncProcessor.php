<?php

declare(strict_types=1);

namespace OroHost\Sync;

use OroHost\Calendar\CalendarEventManager;
use OroHost\Config\ConfigManager;
use OroHost\Db\Database;
use OroHost\MessageQueue\AmqpTransport;

/**
 * The message processor of the "sync this user" topic (an Oro
 * MessageProcessorInterface): one sync.run per message, its result applied
 * in one transaction, then ACK, REJECT, or a delayed requeue, by what
 * happened. One user is synced by one consumer at a time: a PostgreSQL
 * advisory lock per user, held on the consumer's own database session (a
 * consumer that dies loses its session, and so the lock).
 */
final class SyncProcessor
{
    public const ACK = 'ack';
    public const REJECT = 'reject';
    public const REQUEUE = 'requeue';

    /** advisory lock namespace (first key of pg_try_advisory_lock(int, int)) */
    private const LOCK_CLASS = 7411;
    /** back-off when Microsoft gave no Retry-After, and for a dead sidecar */
    private const RETRY_DELAY_MS = 30000;
    /** a user another consumer is syncing: look again soon */
    private const BUSY_DELAY_MS = 2000;

    /** @var list<string> */
    public array $lastJournal = [];

    public function __construct(
        private readonly Database $db,
        private readonly ConfigManager $config,
        private readonly ConnectionStore $connections,
        private readonly AmqpTransport $queue,
        private readonly \OroMsyncClient $sidecar,
        private readonly string $consumerName,
        private readonly int $timeBudgetSeconds,
        private readonly float $debounceSeconds,
        /** test hook: called inside the transaction, before COMMIT */
        private readonly ?\Closure $beforeCommit = null,
    ) {
    }

    /** @return string ACK, REJECT or REQUEUE (the requeue is already published, delayed) */
    public function process(int $userId): string
    {
        if (!$this->db->value('SELECT pg_try_advisory_lock(?, ?)', [self::LOCK_CLASS, $userId])) {
            // another consumer is syncing this user: the job stays unique
            $this->queue->publish($userId, self::BUSY_DELAY_MS);
            return self::REQUEUE;
        }
        try {
            return $this->processLocked($userId);
        } finally {
            $this->db->value('SELECT pg_advisory_unlock(?, ?)', [self::LOCK_CLASS, $userId]);
        }
    }

    private function processLocked(int $userId): string
    {
        $sched = $this->db->one('SELECT *, next_sync_at <= clock_timestamp() AS due FROM msync_sync_state WHERE user_id = ?', [$userId]);
        $conn = $this->connections->get($userId);
        if ($sched === null || $conn === null || $conn['status'] !== 'connected' || $conn['tokens'] === null) {
            return self::REJECT; // not connected (any more): nothing to do until Connect
        }
        if ($sched['next_sync_at'] === null || !self::bool($sched['due'])) {
            // early (a duplicate, or superseded by a back-off): the scheduler
            // enqueues it again at next_sync_at
            $this->db->exec('UPDATE msync_sync_state SET enqueued_at = NULL WHERE user_id = ? AND next_sync_at > clock_timestamp()', [$userId]);
            return self::REJECT;
        }
        $mode = $sched['next_mode'];
        $state = $sched['state'] === null ? null : json_decode($sched['state'], true);
        $hwm = (int) $this->db->value('SELECT COALESCE(MAX(id), 0) FROM msync_change_log WHERE user_id = ?', [$userId]);
        [$events, $inWindow] = $this->eventsFor($userId, $mode, $state, $hwm);
        $options = ['timeBudgetSeconds' => $this->timeBudgetSeconds];
        if ($mode === 'incremental') {
            $options['oroEventCount'] = $inWindow;
        }
        if (self::bool($sched['allow_mass_delete'])) {
            $options['allowMassDelete'] = true;
        }
        $params = [
            'app' => $this->config->appRegistration(),
            'tokens' => $conn['tokens'],
            'cascade' => $this->config->cascadeFor($userId),
            'mode' => $mode,
            'events' => $events,
            'options' => $options,
        ];
        if ($state !== null) {
            $params['state'] = $state;
        }
        $runId = (int) $this->db->value('INSERT INTO msync_sync_run (user_id, consumer, mode) VALUES (?, ?, ?) RETURNING id', [$userId, $this->consumerName, $mode]);

        $callStart = hrtime(true);
        try {
            // the sidecar stops at the budget; the deadline is a safety net
            $res = $this->sidecar->call('sync.run', $params, $this->timeBudgetSeconds + 15);
        } catch (\OroMsyncError $e) {
            return $this->failed($userId, $runId, $e, self::msSince($callStart));
        } catch (\OroMsyncProcessError $e) {
            $callMs = self::msSince($callStart);
            // dead or stuck sidecar: the client restarts it on the next call
            try {
                return $this->backOff($userId, self::RETRY_DELAY_MS, 'unavailable', null);
            } finally {
                $this->finishRun($runId, 'sidecar_failed', $e->getMessage(), $userId, $callMs);
            }
        }
        $callMs = self::msSince($callStart);

        return $this->db->transactional(function () use ($userId, $runId, $res, $events, $hwm, $mode, $callMs) {
            $applier = new ResultApplier($this->db, $userId, $hwm);
            foreach ($res['operations'] as $op) {
                $applier->apply($op);
            }
            $this->lastJournal = $applier->journal;
            $this->settle($userId, $res, $events, $hwm, $mode, $applier);
            if (isset($res['tokens'])) {
                $this->connections->storeTokens($userId, $res['tokens']);
            }
            [$nextAt, $nextMode, $now] = $this->schedule($res, $mode);
            $guard = ($res['reason'] ?? null) === 'mass_delete_guard' ? json_encode(['guards' => $res['guards'] ?? [], 'issues' => count($res['issues'])]) : null;
            // The row is locked first, in a statement of its own, so that the
            // UPDATE's snapshot (a new one: READ COMMITTED) holds every Oro
            // edit whose debounce (CalendarEventManager::changed) took the
            // row before us. Blocked on that row in the UPDATE itself,
            // PostgreSQL would re-read the row but not the change log, and
            // the edit would wait for the next scheduled sync.
            $this->db->value('SELECT 1 FROM msync_sync_state WHERE user_id = ? FOR UPDATE', [$userId]);
            $this->db->exec(
                "UPDATE msync_sync_state SET state = ?, next_mode = ?, last_status = ?, last_reason = ?, last_error_kind = NULL,
                        last_sync_at = now(), run_count = run_count + 1, mass_delete_pending = ?,
                        allow_mass_delete = allow_mass_delete AND ? ,
                        not_before = ?, enqueued_at = CASE WHEN ? THEN now() ELSE NULL END,
                        next_sync_at = CASE WHEN EXISTS (SELECT 1 FROM msync_change_log WHERE user_id = ? AND id > ?)
                            THEN GREATEST(?::timestamptz, LEAST(?::timestamptz, now() + make_interval(secs => ?))) ELSE ?::timestamptz END
                  WHERE user_id = ?",
                [
                    isset($res['state']) ? json_encode($res['state'], JSON_THROW_ON_ERROR) : null, $nextMode, $res['status'], $res['reason'] ?? null,
                    $guard, $guard !== null ? 't' : 'f',
                    $this->notBefore($res), $now ? 't' : 'f',
                    $userId, $hwm, $this->notBefore($res) ?? '-infinity', $nextAt, $this->debounceSeconds, $nextAt,
                    $userId,
                ]
            );
            $detail = $applier->journal;
            foreach ($res['issues'] as $is) {
                $detail[] = sprintf('issue %s %s/%s: %s', isset($is['oroId']) ? '#' . $is['oroId'] : ($is['remoteId'] ?? ''), $is['kind'], $is['reason'], $is['message']);
            }
            $this->finishRun($runId, $res['status'] . (isset($res['reason']) ? ':' . $res['reason'] : ''), implode("\n", $detail), $userId, $callMs, $res['stats'] ?? null);
            if ($this->beforeCommit !== null) {
                ($this->beforeCommit)($userId, $res);
            }
            if ($now) {
                // "call again": after COMMIT would be better, but a message
                // published here and a transaction that then fails only
                // gives a run that finds next_sync_at in the future
                $this->queue->publish($userId);
            }
            return self::ACK;
        });
    }

    /**
     * The events of the request: in full mode every live event of the user
     * and the pending tombstones; in incremental mode those named by the
     * change log up to $hwm, with the series master of each exception row
     * among them, deleted rows included (their tombstones are compared with
     * the series as Microsoft 365 holds it, which only the master names).
     * Also the number of live events in the state's window
     * (options.oroEventCount, the base of the Oro-side mass-delete guard).
     */
    private function eventsFor(int $userId, string $mode, ?array $state, int $hwm): array
    {
        $sql = 'SELECT e.*, l.link FROM oro_calendar_event e LEFT JOIN msync_event_link l ON l.event_id = e.id WHERE e.user_id = ?';
        $rows = $mode === 'full'
            ? $this->db->all($sql . ' AND (e.deleted_at IS NULL OR EXISTS (SELECT 1 FROM msync_change_log c WHERE c.event_id = e.id)) ORDER BY e.id', [$userId])
            // an exception row, live or deleted, goes with its series master
            // (the sidecar writes it to the series the master's link names)
            : $this->db->all($sql . ' AND (e.id IN (SELECT event_id FROM msync_change_log WHERE user_id = ? AND id <= ?)
                   OR e.id IN (SELECT x.recurring_event_id FROM oro_calendar_event x JOIN msync_change_log c ON c.event_id = x.id WHERE c.user_id = ? AND c.id <= ?)) ORDER BY e.id',
                [$userId, $userId, $hwm, $userId, $hwm]);
        $events = [];
        foreach ($rows as $r) {
            $e = CalendarEventManager::toArray($r);
            if ($r['link'] !== null) {
                $e['link'] = json_decode($r['link'], true);
            }
            if ($r['deleted_at'] !== null) {
                if (!isset($e['link']) && !$this->db->value('SELECT 1 FROM msync_change_log WHERE event_id = ? AND id <= ?', [$r['id'], $hwm])) {
                    continue;
                }
                // a tombstone: id, link and when it was deleted; an exception
                // row's (it has no link) names its series and occurrence, so
                // that the sidecar can tell whether Microsoft 365 still holds
                // that occurrence cancelled or changed (Graph cannot make it
                // plain again: an issue), its master going along as above
                $e = array_filter([
                    'id' => $e['id'], 'deleted' => true, 'updatedAt' => $e['updatedAt'], 'link' => $e['link'] ?? null,
                    'recurringEventId' => $e['recurringEventId'] ?? null, 'originalStart' => $e['originalStart'] ?? null,
                ], fn ($v) => $v !== null);
            }
            $events[] = $e;
        }
        $w = $state['window'] ?? null;
        $inWindow = $w === null ? 0 : (int) $this->db->value(
            "SELECT count(*) FROM oro_calendar_event WHERE user_id = ? AND deleted_at IS NULL
               AND (NOT all_day AND start_at < ?::timestamptz AND end_at > ?::timestamptz
                 OR all_day AND start_date < (?::timestamptz AT TIME ZONE 'UTC')::date + 1 AND end_date > (?::timestamptz AT TIME ZONE 'UTC')::date)",
            [$userId, $w['end'], $w['start'], $w['end'], $w['start']]
        );
        return [$events, $inWindow];
    }

    /**
     * Steps 3 and 4 of the contract: every event sent is synced unless an
     * issue names it; its change-log rows up to the request's high-water
     * mark go (a change made during the run has a later row and is sent
     * next time). A sent tombstone no issue names is confirmed: purged.
     */
    private function settle(int $userId, array $res, array $events, int $hwm, string $mode, ResultApplier $applier): void
    {
        $pending = [];
        foreach ($res['issues'] as $is) {
            if (isset($is['oroId'])) {
                $pending[(string) $is['oroId']] = true;
            }
        }
        foreach ($events as $e) {
            $id = $e['id'];
            if (isset($pending[$id])) {
                if ($mode === 'full') {
                    // keep it pending for the incremental runs that follow
                    $this->db->exec('INSERT INTO msync_change_log (user_id, event_id) SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM msync_change_log WHERE event_id = ?)', [$userId, $id, $id]);
                }
                continue;
            }
            $this->db->exec('DELETE FROM msync_change_log WHERE event_id = ? AND id <= ?', [$id, $hwm]);
            if (!empty($e['deleted'])) {
                // confirmed, unless a create revived it or it changed since
                $this->db->exec(
                    'DELETE FROM oro_calendar_event WHERE id = ? AND deleted_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM msync_change_log WHERE event_id = ?)',
                    [$id, $id]
                );
            }
        }
    }

    /**
     * When the next run starts and in which mode. Returns [nextSyncAt,
     * mode, "call again now"]. time_budget and read_failed continue the
     * round at once, except after throttling: then not before nextSyncAt
     * (which the sidecar sets to now + Retry-After for these reasons).
     */
    private function schedule(array $res, string $mode): array
    {
        $next = Instant::toDbCeil($res['nextSyncAt']);
        $throttled = $this->notBefore($res) !== null;
        return match ($res['reason'] ?? null) {
            'resync_required' => [gmdate('Y-m-d H:i:s+00'), 'full', true],
            'time_budget', 'read_failed' => $throttled ? [$next, $mode, false] : [gmdate('Y-m-d H:i:s+00'), $mode, true],
            default => [$next, 'incremental', false],
        };
    }

    /** After throttling, nothing (not even an Oro edit) brings the next run before nextSyncAt. */
    private function notBefore(array $res): ?string
    {
        foreach ($res['issues'] as $is) {
            if (($is['kind'] ?? '') === 'throttled' || ($is['retryAfterMs'] ?? 0) > 0) {
                return Instant::toDbCeil($res['nextSyncAt']);
            }
        }
        return null;
    }

    /** An error reply: store rotated tokens, then alert, back off or give up, by kind. */
    private function failed(int $userId, int $runId, \OroMsyncError $e, int $callMs): string
    {
        if ($e->tokens() !== null) {
            // Microsoft rotated the refresh token before the call failed: the
            // one we hold may be spent already
            $this->connections->storeTokens($userId, $e->tokens());
        }
        $kind = $e->kind() ?? 'internal';
        try {
            return $this->failedKind($userId, $e, $kind);
        } finally {
            $this->finishRun($runId, 'error:' . $kind, $e->getMessage(), $userId, $callMs);
        }
    }

    private function failedKind(int $userId, \OroMsyncError $e, string $kind): string
    {
        switch ($kind) {
            case 'reconnect_required':
            case 'consent_required':
                // an alert for the user; no retry until they Connect again
                $this->connections->setStatus($userId, $kind, $e->getMessage());
                $this->db->exec('UPDATE msync_sync_state SET next_sync_at = NULL, enqueued_at = NULL, last_status = ?, last_error_kind = ? WHERE user_id = ?', ['error', $kind, $userId]);
                return self::REJECT;
            case 'resync_required':
                $this->db->exec("UPDATE msync_sync_state SET next_mode = 'full' WHERE user_id = ?", [$userId]);
                return $this->backOff($userId, 0, $kind, null);
        }
        if ($e->retryable()) {
            return $this->backOff($userId, max($e->retryAfterMs() ?? 0, $kind === 'throttled' ? 1000 : self::RETRY_DELAY_MS), $kind, $e->retryAfterMs());
        }
        // invalid_input, internal, rejected, …: the same request fails again;
        // try at the next interval (someone may fix the data or the settings)
        $this->db->exec(
            "UPDATE msync_sync_state SET next_sync_at = now() + interval '1 hour', enqueued_at = NULL, last_status = 'error', last_error_kind = ? WHERE user_id = ?",
            [$kind, $userId]
        );
        return self::REJECT;
    }

    /** A delayed requeue: the message comes back after $delayMs, never before next_sync_at. */
    private function backOff(int $userId, int $delayMs, string $kind, ?int $retryAfterMs): string
    {
        $this->db->exec(
            "UPDATE msync_sync_state SET next_sync_at = clock_timestamp() + make_interval(secs => ?), not_before = CASE WHEN ? THEN clock_timestamp() + make_interval(secs => ?) ELSE not_before END,
                    enqueued_at = now(), last_status = 'error', last_error_kind = ? WHERE user_id = ?",
            [$delayMs / 1000, $retryAfterMs !== null ? 't' : 'f', $delayMs / 1000, $kind, $userId]
        );
        $this->queue->publish($userId, $delayMs);
        return self::REQUEUE;
    }

    /**
     * Records how the run ended, how long its call took, the result's stats
     * and, once the schedule is stored, when the next one may start.
     */
    private function finishRun(int $runId, string $outcome, string $detail, int $userId, int $callMs, ?array $stats = null): void
    {
        $this->db->exec(
            'UPDATE msync_sync_run SET finished_at = clock_timestamp(), outcome = ?, detail = ?, call_ms = ?, stats = ?,
                    next_sync_at = (SELECT next_sync_at FROM msync_sync_state WHERE user_id = ?) WHERE id = ?',
            [$outcome, $detail, $callMs, $stats === null ? null : json_encode($stats, JSON_THROW_ON_ERROR), $userId, $runId]
        );
    }

    private static function msSince(int $hrtime): int
    {
        return (int) round((hrtime(true) - $hrtime) / 1e6);
    }

    private static function bool(mixed $v): bool
    {
        return $v === true || $v === 't' || $v === 1 || $v === '1';
    }
}
