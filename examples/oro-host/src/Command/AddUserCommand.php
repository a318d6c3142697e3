<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Container;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

final class AddUserCommand extends Command
{
    protected static $defaultName = 'oro-host:user:add';

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Adds an Oro user to organization #1')
            ->addArgument('username', InputArgument::REQUIRED)->addArgument('email', InputArgument::REQUIRED);
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $id = $this->c->db()->value('INSERT INTO oro_user (organization_id, username, email) VALUES (1, ?, ?) RETURNING id', [$in->getArgument('username'), $in->getArgument('email')]);
        $out->writeln("user #$id");
        return 0;
    }
}
