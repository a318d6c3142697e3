<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Container;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Output\OutputInterface;

final class CheckCommand extends Command
{
    protected static $defaultName = 'oro:msync:check';

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Check connection (the button on the user configuration page)')->addArgument('user', InputArgument::REQUIRED);
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $r = $this->c->connectionManager()->check((int) $in->getArgument('user'));
        $out->writeln($r['status'] . ': ' . $r['message']);
        return $r['status'] === 'connected' ? 0 : 1;
    }
}
