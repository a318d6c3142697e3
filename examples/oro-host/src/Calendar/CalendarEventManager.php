<?php

declare(strict_types=1);

namespace OroHost\Calendar;

use OroHost\Db\Database;
use OroHost\Sync\Instant;

/**
 * Oro-side edits of calendar events, as CalendarBundle's forms and API make
 * them: each one bumps updated_at, writes a change-log row for the next
 * incremental sync and asks for a sync soon (debounced). A deleted event
 * stays as a tombstone until a sync confirms the deletion.
 */
final class CalendarEventManager
{
    public function __construct(private readonly Database $db, private readonly float $debounceSeconds)
    {
    }

    /** @param array{title?:string,description?:string,location?:string,allDay?:bool,start:string,end:string,uid?:string} $e */
    public function create(int $userId, array $e): int
    {
        return $this->db->transactional(function () use ($userId, $e) {
            $cols = self::columns($e);
            $cols['uid'] = $e['uid'] ?? sprintf('%s@oro-host.example', bin2hex(random_bytes(8)));
            $cols['user_id'] = $userId;
            $id = (int) $this->db->value(
                'INSERT INTO oro_calendar_event (' . implode(', ', array_keys($cols)) . ') VALUES (' . implode(', ', array_fill(0, count($cols), '?')) . ') RETURNING id',
                array_values($cols)
            );
            $this->changed($userId, $id);
            return $id;
        });
    }

    public function update(int $eventId, array $changes): void
    {
        $this->db->transactional(function () use ($eventId, $changes) {
            $row = $this->db->one('SELECT * FROM oro_calendar_event WHERE id = ? AND deleted_at IS NULL FOR UPDATE', [$eventId]);
            if ($row === null) {
                throw new \RuntimeException("no live event $eventId");
            }
            $e = self::toArray($row);
            $cols = self::columns(array_merge($e, $changes));
            $set = implode(', ', array_map(fn ($c) => "$c = ?", array_keys($cols)));
            $this->db->exec("UPDATE oro_calendar_event SET $set, updated_at = clock_timestamp() WHERE id = ?", [...array_values($cols), $eventId]);
            $this->changed((int) $row['user_id'], $eventId);
        });
    }

    /**
     * Changes or cancels one occurrence of a series, as CalendarBundle does
     * (an exception row: recurring_event_id, original_start_at, and
     * is_cancelled for a cancellation, which DeleteManager::deleteOrCancel
     * makes instead of deleting): the row is created, or updated when the
     * occurrence has one (revived when it is a tombstone the sidecar has
     * not confirmed, such as one it reported: cancelling the occurrence
     * again is what its issue asks for). $originalStart is the occurrence's start by the
     * series' rule; $e its content (a cancellation keeps the master's).
     */
    public function exception(int $masterId, string $originalStart, array $e, bool $cancelled): int
    {
        return $this->db->transactional(function () use ($masterId, $originalStart, $e, $cancelled) {
            $master = $this->db->one('SELECT * FROM oro_calendar_event WHERE id = ? AND deleted_at IS NULL AND recurrence IS NOT NULL FOR UPDATE', [$masterId]);
            if ($master === null) {
                throw new \RuntimeException("no live series master $masterId");
            }
            $orig = Instant::toDb(self::dateTime($originalStart));
            if (!isset($e['start'])) { // at the occurrence's own time
                $m = self::toArray($master);
                $length = (new \DateTimeImmutable($m['end']))->getTimestamp() - (new \DateTimeImmutable($m['start']))->getTimestamp();
                $start = new \DateTimeImmutable($originalStart);
                $e += ['start' => $start->format(DATE_RFC3339), 'end' => $start->modify("+$length seconds")->format(DATE_RFC3339)];
            }
            $cols = self::columns($e + self::toArray($master));
            $cols['recurrence'] = null;
            $cols['is_cancelled'] = $cancelled ? 't' : 'f';
            $id = $this->db->value('SELECT id FROM oro_calendar_event WHERE recurring_event_id = ? AND original_start_at = ?::timestamptz', [$masterId, $orig]);
            if ($id !== null) {
                // a deleted row (a tombstone not yet confirmed) is the
                // occurrence's row again
                $set = implode(', ', array_map(fn ($c) => "$c = ?", array_keys($cols)));
                $this->db->exec("UPDATE oro_calendar_event SET $set, deleted_at = NULL, updated_at = clock_timestamp() WHERE id = ?", [...array_values($cols), $id]);
            } else {
                $cols += ['user_id' => $master['user_id'], 'uid' => $master['uid'], 'recurring_event_id' => $masterId, 'original_start_at' => $orig];
                $id = $this->db->value(
                    'INSERT INTO oro_calendar_event (' . implode(', ', array_keys($cols)) . ') VALUES (' . implode(', ', array_fill(0, count($cols), '?')) . ') RETURNING id',
                    array_values($cols)
                );
            }
            $this->changed((int) $master['user_id'], (int) $id);
            return (int) $id;
        });
    }

    public function delete(int $eventId): void
    {
        $this->db->transactional(function () use ($eventId) {
            $userId = $this->db->value('UPDATE oro_calendar_event SET deleted_at = clock_timestamp(), updated_at = clock_timestamp() WHERE id = ? AND deleted_at IS NULL RETURNING user_id', [$eventId]);
            if ($userId !== null) {
                $this->changed((int) $userId, $eventId);
            }
        });
    }

    private function changed(int $userId, int $eventId): void
    {
        $this->db->exec('INSERT INTO msync_change_log (user_id, event_id) VALUES (?, ?)', [$userId, $eventId]);
        // Debounce: a burst of edits gives one sync, a few seconds after the
        // first; never before Microsoft's back-off (not_before); and not at
        // all for a user whose connection needs attention (next_sync_at NULL).
        $this->db->exec(
            "UPDATE msync_sync_state
                SET next_sync_at = GREATEST(COALESCE(not_before, '-infinity'), LEAST(next_sync_at, now() + make_interval(secs => ?))),
                    enqueued_at = CASE WHEN next_sync_at > now() + make_interval(secs => ?) THEN NULL ELSE enqueued_at END
              WHERE user_id = ? AND next_sync_at IS NOT NULL",
            [$this->debounceSeconds, $this->debounceSeconds, $userId]
        );
    }

    /**
     * Maps the API's fields onto columns. recurrence goes with the rest (an
     * event without one is not a series); attendees and the organizer only
     * when given (they come from Microsoft 365 operations); reminders
     * when given (an operation changes them through its own instruction).
     */
    public static function columns(array $e): array
    {
        $allDay = (bool) ($e['allDay'] ?? false);
        $cols = [
            'title' => (string) ($e['title'] ?? ''),
            'description' => (string) ($e['description'] ?? ''),
            'location' => (string) ($e['location'] ?? ''),
            'all_day' => $allDay ? 't' : 'f',
            'start_at' => $allDay ? null : Instant::toDb(self::dateTime($e['start'])),
            'end_at' => $allDay ? null : Instant::toDb(self::dateTime($e['end'])),
            'start_date' => $allDay ? substr($e['start'], 0, 10) : null,
            'end_date' => $allDay ? substr($e['end'], 0, 10) : null,
            'recurrence' => isset($e['recurrence']) ? json_encode($e['recurrence'], JSON_THROW_ON_ERROR) : null,
        ];
        if (array_key_exists('attendees', $e)) {
            $cols['attendees'] = json_encode($e['attendees'] ?? [], JSON_THROW_ON_ERROR);
        }
        if (array_key_exists('isOrganizer', $e)) {
            $cols['is_organizer'] = $e['isOrganizer'] ? 't' : 'f';
            $cols['organizer_email'] = $e['organizerEmail'] ?? null;
            $cols['organizer_display_name'] = $e['organizerDisplayName'] ?? null;
        }
        if (array_key_exists('reminders', $e)) {
            $cols['reminders'] = json_encode($e['reminders'], JSON_THROW_ON_ERROR);
        }
        return $cols;
    }

    /** A row as the sidecar's SyncEvent (without link). */
    public static function toArray(array $row): array
    {
        $allDay = $row['all_day'] === true || $row['all_day'] === 't';
        $e = [
            'id' => (string) $row['id'],
            'uid' => $row['uid'],
            'title' => $row['title'],
            'description' => $row['description'],
            'location' => $row['location'],
            'allDay' => $allDay,
            'start' => $allDay ? $row['start_date'] : self::rfc3339($row['start_at']),
            'end' => $allDay ? $row['end_date'] : self::rfc3339($row['end_at']),
            'updatedAt' => Instant::fromDb($row['updated_at']),
            // the host synchronizes reminders: [] is an event without any
            'reminders' => json_decode($row['reminders'] ?? '[]', true, 8, JSON_THROW_ON_ERROR),
        ];
        if ($e['uid'] === null) {
            unset($e['uid']);
        }
        if ($row['recurrence'] !== null) {
            $e['recurrence'] = json_decode($row['recurrence'], true, 8, JSON_THROW_ON_ERROR);
        }
        if ($row['attendees'] !== null) {
            // written to Microsoft 365 only with writeAttendees (ignored otherwise)
            $e['attendees'] = json_decode($row['attendees'], true, 8, JSON_THROW_ON_ERROR);
        }
        if ($row['organizer_email'] !== null) {
            $e['organizerEmail'] = $row['organizer_email'];
        }
        if ($row['recurring_event_id'] !== null) {
            $e['recurringEventId'] = (string) $row['recurring_event_id'];
            $e['originalStart'] = self::rfc3339($row['original_start_at']);
            $e['isCancelled'] = $row['is_cancelled'] === true || $row['is_cancelled'] === 't';
        }
        return $e;
    }

    private static function rfc3339(string $pg): string
    {
        return (new \DateTimeImmutable($pg))->setTimezone(new \DateTimeZone('UTC'))->format('Y-m-d\TH:i:sP');
    }

    private static function dateTime(string $s): string
    {
        return (new \DateTimeImmutable($s))->format('Y-m-d\TH:i:s.uP');
    }
}
