<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Container;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

/** oro:cron:msync-subscriptions (Push, every hour in Oro): subscription.ensure for each record whose renewAt has passed. */
final class RenewSubscriptionsCommand extends Command
{
    protected static $defaultName = 'oro:cron:msync-subscriptions';

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Renews the change-notification subscriptions whose renewAt has passed');
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $users = $this->c->push()->renewDue();
        $out->writeln(sprintf('renewed: %s', $users === [] ? 'none' : implode(', ', $users)));
        return self::SUCCESS;
    }
}
