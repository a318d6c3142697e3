<?php

declare(strict_types=1);

namespace OroHost\MessageQueue;

use OroHost\Db\Database;

/**
 * The cron side (oro:cron:msync-schedule, every minute in Oro; a loop here):
 * enqueues "sync this user" for each connected user whose next_sync_at has
 * come. enqueued_at keeps a user from being enqueued again while its
 * message waits; a message lost for 10 minutes is enqueued again.
 */
final class Scheduler
{
    public function __construct(private readonly Database $db, private readonly AmqpTransport $queue)
    {
    }

    /** @return list<int> the users enqueued */
    public function tick(): array
    {
        $users = array_map('intval', array_column($this->db->all(
            "UPDATE msync_sync_state s SET enqueued_at = now()
               FROM msync_connection c
              WHERE c.user_id = s.user_id AND c.status = 'connected'
                AND s.next_sync_at <= clock_timestamp()
                AND (s.enqueued_at IS NULL OR s.enqueued_at < now() - interval '10 minutes')
          RETURNING s.user_id"
        ), 'user_id'));
        sort($users);
        foreach ($users as $u) {
            $this->queue->publish($u);
        }
        return $users;
    }
}
