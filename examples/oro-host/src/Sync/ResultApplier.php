<?php

declare(strict_types=1);

namespace OroHost\Sync;

use OroHost\Calendar\CalendarEventManager;
use OroHost\Db\Database;

/**
 * Applies a sync.run result to Oro, as sync/CONFLICTS.md ("What the host
 * must do") says. Runs inside the caller's transaction; writes nothing to
 * the change log (these changes come from Microsoft 365 and must not be
 * sent back).
 */
final class ResultApplier
{
    /** @var list<string> what happened to each operation, for logs and tests */
    public array $journal = [];
    /** @var array<string,true> ids of Oro events an operation changed, created or deleted */
    public array $touched = [];

    public function __construct(private readonly Database $db, private readonly int $userId, private readonly int $changeLogHighWater)
    {
    }

    public function apply(array $op): void
    {
        $ev = $this->find($op);
        $kind = $op['op'];
        $hasLink = array_key_exists('link', $op) && $op['link'] !== null;
        if ($kind !== 'link' && $ev !== null && $this->changedMeanwhile($ev, $op)) {
            // sent again next run (its change-log row is newer than the run)
            $this->note($op, 'skipped: changed in Oro while the sync ran', $ev);
            return;
        }
        switch ($kind) {
            case 'create':
                if ($ev === null) {
                    $cols = CalendarEventManager::columns($op['event']);
                    $cols['uid'] = $op['event']['uid'] ?? sprintf('%s@oro-host.example', bin2hex(random_bytes(8)));
                    $cols['user_id'] = $this->userId;
                    $cols['reminders'] = json_encode(Reminders::apply([], $op['reminder'] ?? null), JSON_THROW_ON_ERROR);
                    $id = (int) $this->db->value(
                        'INSERT INTO oro_calendar_event (' . implode(', ', array_keys($cols)) . ') VALUES (' . implode(', ', array_fill(0, count($cols), '?')) . ') RETURNING id',
                        array_values($cols)
                    );
                    $this->writeExceptions($id, $op['event']);
                    $ev = $this->load($id);
                    $this->note($op, 'created', $ev);
                } else {
                    // upsert by remoteId; revives a tombstone; keeps the event's uid
                    $this->writeContent($ev, $op);
                    $this->note($op, $ev['deleted_at'] !== null ? 'revived' : 'updated (upsert)', $ev);
                    $ev = $this->load((int) $ev['id']);
                }
                break;
            case 'update':
                if ($ev === null || $ev['deleted_at'] !== null) {
                    $this->note($op, 'nothing to do: no live event', $ev);
                    return;
                }
                $this->writeContent($ev, $op);
                $this->note($op, 'updated', $ev);
                $ev = $this->load((int) $ev['id']);
                break;
            case 'delete':
                if ($ev === null) {
                    $this->note($op, 'nothing to do: no such event', null);
                    return;
                }
                $this->db->exec('DELETE FROM msync_change_log WHERE event_id = ?', [$ev['id']]);
                $this->db->exec('DELETE FROM oro_calendar_event WHERE id = ?', [$ev['id']]);
                $this->touched[(string) $ev['id']] = true;
                $this->note($op, 'deleted', $ev);
                return;
            case 'link':
                if ($ev === null) {
                    $this->note($op, 'nothing to do: no such event', null);
                    return;
                }
                $this->note($op, $hasLink ? 'link stored' : 'link removed', $ev);
                break;
            default:
                $this->note($op, 'ignored: unknown op', $ev);
                return;
        }
        $this->touched[(string) $ev['id']] = true;
        if ($hasLink) {
            $this->db->exec(
                'INSERT INTO msync_event_link (event_id, user_id, remote_id, link, linked_updated_at) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (event_id) DO UPDATE SET remote_id = EXCLUDED.remote_id, link = EXCLUDED.link, linked_updated_at = EXCLUDED.linked_updated_at',
                [$ev['id'], $this->userId, $op['link']['remoteId'], json_encode($op['link'], JSON_THROW_ON_ERROR), $ev['updated_at']]
            );
            return;
        }
        // no link member: the stored link goes, and so does a tombstone
        $this->db->exec('DELETE FROM msync_event_link WHERE event_id = ?', [$ev['id']]);
        if ($ev['deleted_at'] !== null) {
            $this->db->exec('DELETE FROM msync_change_log WHERE event_id = ? AND id <= ?', [$ev['id'], $this->changeLogHighWater]);
            if (!$this->db->value('SELECT 1 FROM msync_change_log WHERE event_id = ?', [$ev['id']])) {
                $this->db->exec('DELETE FROM oro_calendar_event WHERE id = ?', [$ev['id']]);
            }
        }
    }

    /** By oroId, else by the stored link's remoteId; only this user's events, tombstones included. */
    private function find(array $op): ?array
    {
        if (isset($op['oroId']) && ctype_digit((string) $op['oroId'])) {
            $row = $this->db->one('SELECT e.*, l.linked_updated_at, l.remote_id FROM oro_calendar_event e LEFT JOIN msync_event_link l ON l.event_id = e.id WHERE e.id = ? AND e.user_id = ? FOR UPDATE OF e', [$op['oroId'], $this->userId]);
            if ($row !== null) {
                return $row;
            }
        }
        if (!empty($op['remoteId'])) {
            return $this->db->one('SELECT e.*, l.linked_updated_at, l.remote_id FROM msync_event_link l JOIN oro_calendar_event e ON e.id = l.event_id WHERE l.user_id = ? AND l.remote_id = ? FOR UPDATE OF e', [$this->userId, $op['remoteId']]);
        }
        return null;
    }

    private function load(int $id): array
    {
        return $this->db->one('SELECT e.*, l.linked_updated_at, l.remote_id FROM oro_calendar_event e LEFT JOIN msync_event_link l ON l.event_id = e.id WHERE e.id = ?', [$id]);
    }

    /**
     * Step 2 of the contract: the event changed while the sync ran. With
     * expectedUpdatedAt: compared as instants (the sidecar reformats it).
     * Without: changed since its link was stored, or (no link) a change-log
     * row newer than the request.
     */
    private function changedMeanwhile(array $ev, array $op): bool
    {
        $current = Instant::fromDb($ev['updated_at']);
        if (isset($op['expectedUpdatedAt'])) {
            return !Instant::same($current, $op['expectedUpdatedAt']);
        }
        if ($ev['linked_updated_at'] !== null) {
            return !Instant::same($current, Instant::fromDb($ev['linked_updated_at']));
        }
        return (bool) $this->db->value('SELECT 1 FROM msync_change_log WHERE event_id = ? AND id > ?', [$ev['id'], $this->changeLogHighWater]);
    }

    /**
     * An update's content: the event's fields, its reminders as the
     * operation's reminder instruction says, and a series' exceptions.
     */
    private function writeContent(array $ev, array $op): void
    {
        $id = (int) $ev['id'];
        $event = $op['event'];
        $cols = CalendarEventManager::columns($event);
        $cols['reminders'] = json_encode(Reminders::apply(json_decode($ev['reminders'], true, 8, JSON_THROW_ON_ERROR), $op['reminder'] ?? null), JSON_THROW_ON_ERROR);
        $set = implode(', ', array_map(fn ($c) => "$c = ?", array_keys($cols)));
        // uid stays; a tombstone comes back to life
        $this->db->exec("UPDATE oro_calendar_event SET $set, deleted_at = NULL, updated_at = clock_timestamp() WHERE id = ?", [...array_values($cols), $id]);
        $this->writeExceptions($id, $event);
    }

    /**
     * A series master's exceptions become exactly those the operation
     * lists, matched by originalStart as Oro matches them: updated (a
     * deleted row revived), created, and the others deleted (tombstones
     * too). A cancelled one keeps the master's title at its original
     * time. Not a series: it has none.
     */
    private function writeExceptions(int $masterId, array $event): void
    {
        $exceptions = isset($event['recurrence']) ? ($event['exceptions'] ?? []) : [];
        $master = $this->db->one('SELECT * FROM oro_calendar_event WHERE id = ?', [$masterId]);
        $keep = [];
        foreach ($exceptions as $x) {
            $orig = Instant::toDb((new \DateTimeImmutable($x['originalStart']))->format('Y-m-d\TH:i:s.uP'));
            if (!empty($x['isCancelled'])) {
                $length = (new \DateTimeImmutable($master['end_at'] ?? $master['end_date']))->getTimestamp() - (new \DateTimeImmutable($master['start_at'] ?? $master['start_date']))->getTimestamp();
                $start = new \DateTimeImmutable($x['originalStart']);
                $x = ['title' => $master['title'], 'description' => $master['description'], 'location' => $master['location'],
                    'start' => $start->format(DATE_RFC3339), 'end' => $start->modify("+$length seconds")->format(DATE_RFC3339)];
                $cols = CalendarEventManager::columns($x) + ['is_cancelled' => 't'];
            } else {
                $cols = CalendarEventManager::columns($x) + ['is_cancelled' => 'f'];
            }
            $row = $this->db->value('SELECT id FROM oro_calendar_event WHERE recurring_event_id = ? AND original_start_at = ?::timestamptz', [$masterId, $orig]);
            if ($row !== null) {
                // a row the user deleted comes back: Microsoft 365 holds the
                // occurrence this way and wins (its tombstone is not purged)
                $set = implode(', ', array_map(fn ($c) => "$c = ?", array_keys($cols)));
                $this->db->exec("UPDATE oro_calendar_event SET $set, deleted_at = NULL, updated_at = clock_timestamp() WHERE id = ?", [...array_values($cols), $row]);
                $keep[] = (int) $row;
                continue;
            }
            $cols += ['user_id' => $this->userId, 'uid' => $master['uid'], 'recurring_event_id' => $masterId, 'original_start_at' => $orig];
            $keep[] = (int) $this->db->value(
                'INSERT INTO oro_calendar_event (' . implode(', ', array_keys($cols)) . ') VALUES (' . implode(', ', array_fill(0, count($cols), '?')) . ') RETURNING id',
                array_values($cols)
            );
        }
        $gone = $keep === [] ? '' : ' AND id NOT IN (' . implode(', ', $keep) . ')';
        $this->db->exec('DELETE FROM oro_calendar_event WHERE recurring_event_id = ?' . $gone, [$masterId]);
    }

    private function note(array $op, string $what, ?array $ev): void
    {
        $this->journal[] = sprintf('%s %s (%s): %s', $op['op'], $ev !== null ? '#' . $ev['id'] : ($op['oroId'] ?? $op['remoteId'] ?? '?'), $op['reason'] ?? '', $what);
    }
}
