<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Container;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/** Adds an Oro calendar event as a user would (change log, debounced sync). */
final class AddEventCommand extends Command
{
    protected static $defaultName = 'oro-host:event:add';

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Adds an Oro calendar event')
            ->addArgument('user', InputArgument::REQUIRED)->addArgument('title', InputArgument::REQUIRED)
            ->addOption('start', null, InputOption::VALUE_REQUIRED, 'RFC 3339 start', gmdate('Y-m-d\T10:00:00\Z', time() + 86400))
            ->addOption('minutes', null, InputOption::VALUE_REQUIRED, 'duration', '60');
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $start = new \DateTimeImmutable($in->getOption('start'));
        $id = $this->c->events()->create((int) $in->getArgument('user'), [
            'title' => $in->getArgument('title'),
            'start' => $start->format(DATE_RFC3339),
            'end' => $start->modify('+' . (int) $in->getOption('minutes') . ' minutes')->format(DATE_RFC3339),
        ]);
        $out->writeln("event #$id");
        return 0;
    }
}
