<?php

declare(strict_types=1);

namespace OroHost\Command;

use OroHost\Container;
use Symfony\Component\Console\Command\Command;
use Symfony\Component\Console\Input\InputInterface;
use Symfony\Component\Console\Input\InputOption;
use Symfony\Component\Console\Output\OutputInterface;

/** oro-host:install: the tables, one organization, the app registration and the system defaults. */
final class InstallCommand extends Command
{
    protected static $defaultName = 'oro-host:install';

    public function __construct(private readonly Container $c)
    {
        parent::__construct();
    }

    protected function configure(): void
    {
        $this->setDescription('Creates the tables and stores the app registration (system configuration)')
            ->addOption('tenant', null, InputOption::VALUE_REQUIRED, 'tenant: common, organizations, a tenant id or domain', 'common')
            ->addOption('client-id', null, InputOption::VALUE_REQUIRED, 'Application (client) ID from Microsoft Entra', '11111111-2222-3333-4444-555555555555')
            ->addOption('client-secret', null, InputOption::VALUE_REQUIRED, 'client secret value', 'graphsim-secret')
            ->addOption('redirect-uri', null, InputOption::VALUE_REQUIRED, 'redirect URI registered for the app', 'http://localhost:8400/oauth/callback');
    }

    protected function execute(InputInterface $in, OutputInterface $out): int
    {
        $db = $this->c->db();
        $db->installSchema();
        $db->exec("INSERT INTO oro_organization (name) VALUES ('Main')");
        $cfg = $this->c->configManager();
        $cfg->setAppRegistration($in->getOption('tenant'), $in->getOption('client-id'), $in->getOption('client-secret'), $in->getOption('redirect-uri'));
        $cfg->set('system', 0, 'oro_msync.enabled', true);
        $cfg->set('system', 0, 'oro_msync.direction', 'both');
        $cfg->set('system', 0, 'oro_msync.conflict_resolution', 'oro_wins');
        $cfg->set('system', 0, 'oro_msync.sync_interval', 15);
        $out->writeln('installed: tables, organization #1, app ' . $in->getOption('client-id') . ', sync enabled (both directions, oro_wins, every 15 min)');
        return 0;
    }
}
