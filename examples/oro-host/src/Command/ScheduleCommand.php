<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Container;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/** oro:cron:msync-schedule: enqueue the users whose next sync is due (once, or every --loop seconds). */
final class ScheduleCommand extends Command
{
    protected static $defaultName = 'oro:cron:msync-schedule';

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Enqueues a sync job for each user whose next sync is due')
            ->addOption('loop', null, InputOption::VALUE_REQUIRED, 'tick every N seconds instead of once', '0');
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $loop = (float) $in->getOption('loop');
        $stop = false;
        pcntl_async_signals(true);
        pcntl_signal(SIGTERM, function () use (&$stop) { $stop = true; });
        do {
            $users = $this->c->scheduler()->tick();
            if ($users !== []) {
                $out->writeln(gmdate('H:i:s') . ' enqueued users ' . implode(', ', $users));
            }
            if ($loop > 0) {
                usleep((int) ($loop * 1e6));
            }
        } while ($loop > 0 && !$stop);
        return 0;
    }
}
