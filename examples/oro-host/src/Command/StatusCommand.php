<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Container;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Helper\Table;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

/** oro:msync:status (as OroMicrosoftSyncBundle's oro:microsoft-sync:status). */
final class StatusCommand extends Command
{
    protected static $defaultName = 'oro:msync:status';

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Per user: connection, last and next sync, events, pending changes');
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $rows = $this->c->db()->all(
            "SELECT u.id, u.username, c.account_email, c.status, s.last_status, s.last_reason, s.last_error_kind,
                    to_char(s.last_sync_at, 'HH24:MI:SS') AS last, to_char(s.next_sync_at, 'HH24:MI:SS') AS next, s.next_mode,
                    (SELECT count(*) FROM oro_calendar_event e WHERE e.user_id = u.id AND e.deleted_at IS NULL) AS events,
                    (SELECT count(DISTINCT event_id) FROM msync_change_log l WHERE l.user_id = u.id) AS pending,
                    s.mass_delete_pending IS NOT NULL AS guard
               FROM oro_user u LEFT JOIN msync_connection c ON c.user_id = u.id LEFT JOIN msync_sync_state s ON s.user_id = u.id ORDER BY u.id"
        );
        (new Table($out))->setHeaders(['user', 'name', 'account', 'connection', 'last', 'reason', 'error', 'last at', 'next at', 'mode', 'events', 'pending', 'guard'])
            ->setRows(array_map(fn ($r) => array_map(fn ($v) => is_bool($v) ? ($v ? 'yes' : '') : (string) $v, array_values($r)), $rows))->render();
        return 0;
    }
}
