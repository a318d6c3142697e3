<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Container;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

/** The user confirmed the deletions the mass-delete guard held back: the next run passes allowMassDelete. */
final class ConfirmMassDeleteCommand extends Command
{
    protected static $defaultName = 'oro:msync:confirm-mass-delete';

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Confirms the deletions held back by the mass-delete guard')->addArgument('user', InputArgument::REQUIRED);
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $n = $this->c->db()->exec(
            "UPDATE msync_sync_state SET allow_mass_delete = true, next_sync_at = GREATEST(COALESCE(not_before, '-infinity'), now()), enqueued_at = NULL
              WHERE user_id = ? AND mass_delete_pending IS NOT NULL",
            [(int) $in->getArgument('user')]
        );
        $out->writeln($n ? 'confirmed: the next run deletes them' : 'nothing to confirm');
        return $n ? 0 : 1;
    }
}
