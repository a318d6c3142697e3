<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Connect\HeadlessBrowser;
use OroHost\Container;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputArgument;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/**
 * oro:msync:connect: the Connect popup. With --simulator the sign-in is
 * played headless (graphsim --auto-consent); otherwise open the URL, sign
 * in, and paste the address the browser was sent back to.
 */
final class ConnectCommand extends Command
{
    protected static $defaultName = 'oro:msync:connect';

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Connects a user to Microsoft 365')
            ->addArgument('user', InputArgument::REQUIRED, 'Oro user id')
            ->addOption('simulator', null, InputOption::VALUE_NONE, 'sign in headless against graphsim --auto-consent');
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $userId = (int) $in->getArgument('user');
        $email = (string) $this->c->db()->value('SELECT email FROM oro_user WHERE id = ?', [$userId]);
        $cm = $this->c->connectionManager();
        $session = $cm->start($email);
        if ($in->getOption('simulator')) {
            $cb = HeadlessBrowser::signIn($session['url']);
        } else {
            $out->writeln("Open this address, sign in, then paste the address you are sent back to:\n" . $session['url']);
            parse_str((string) parse_url(trim((string) fgets(STDIN)), PHP_URL_QUERY), $cb);
        }
        $account = $cm->finish($userId, $session, $cb['code'] ?? '', $cb['state'] ?? '');
        $out->writeln(sprintf('user #%d connected as %s <%s>; first (full) sync is due now', $userId, $account['displayName'] ?? '?', $account['email'] ?? '?'));
        return 0;
    }
}
