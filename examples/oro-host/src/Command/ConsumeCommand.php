<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Container;
use OroHost\Sync\SyncProcessor;
use PhpAmqpLib\Message\AMQPMessage;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * oro:message-queue:consume for the sync topic: one long-lived sidecar per
 * consumer, one message at a time. SIGTERM finishes the current message,
 * then stops (closing the sidecar politely).
 */
final class ConsumeCommand extends Command
{
    protected static $defaultName = 'oro:message-queue:consume';

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Consumes calendar sync jobs')
            ->addOption('name', null, InputOption::VALUE_REQUIRED, 'consumer name (logs, msync_sync_run.consumer)', 'consumer-' . getmypid())
            ->addOption('idle-exit', null, InputOption::VALUE_REQUIRED, 'exit after N seconds without a message (0: never)', '0')
            ->addOption('message-limit', null, InputOption::VALUE_REQUIRED, 'exit after N messages (0: no limit)', '0');
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $name = (string) $in->getOption('name');
        $limit = (int) $in->getOption('message-limit');
        $hook = null;
        if (($pauseFile = getenv('OROHOST_TEST_PAUSE_BEFORE_COMMIT')) !== false && $pauseFile !== '') {
            // Test hook: Graph has been written to and the operations applied,
            // the transaction is open; announce it and wait to be killed.
            $hook = function (int $userId) use ($pauseFile): void {
                file_put_contents($pauseFile, (string) getmypid());
                sleep(300);
            };
        }
        $processor = $this->c->syncProcessor($name, $hook);
        $stop = false;
        $count = 0;
        pcntl_async_signals(true);
        pcntl_signal(SIGTERM, function () use (&$stop) { $stop = true; });
        pcntl_signal(SIGINT, function () use (&$stop) { $stop = true; });
        $out->writeln("$name: consuming (sidecar pid " . $this->c->sidecar($name)->pid() . ')');
        $this->c->queue()->consume(function (AMQPMessage $m) use ($processor, $name, $out, &$count) {
            $userId = (int) (json_decode($m->getBody(), true)['userId'] ?? 0);
            try {
                $verdict = $processor->process($userId);
            } catch (\Throwable $e) {
                // the database or the queue failed under us: let RabbitMQ
                // deliver the job again (to us or another consumer)
                $out->writeln("$name: user $userId: " . get_class($e) . ': ' . $e->getMessage());
                $m->nack(true);
                sleep(1);
                $count++;
                return;
            }
            match ($verdict) {
                SyncProcessor::ACK, SyncProcessor::REQUEUE => $m->ack(), // a requeue is published already, delayed
                SyncProcessor::REJECT => $m->reject(false),
            };
            $out->writeln(sprintf('%s %s: user %d → %s', gmdate('H:i:s'), $name, $userId, $verdict));
            foreach ($processor->lastJournal as $line) {
                $out->writeln('    ' . $line, OutputInterface::VERBOSITY_VERBOSE);
            }
            $processor->lastJournal = [];
            $count++;
        }, function () use (&$stop, &$count, $limit) {
            return $stop || ($limit > 0 && $count >= $limit);
        }, (float) $in->getOption('idle-exit'));
        $this->c->queue()->close();
        $this->c->sidecar($name)->close();
        return 0;
    }
}
