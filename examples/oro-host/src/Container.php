<?php

declare(strict_types=1);

namespace OroHost;

use OroHost\Calendar\CalendarEventManager;
use OroHost\Config\ConfigManager;
use OroHost\Config\HostConfig;
use OroHost\Connect\ConnectionManager;
use OroHost\Db\Database;
use OroHost\MessageQueue\AmqpTransport;
use OroHost\MessageQueue\Scheduler;
use OroHost\Push\PushManager;
use OroHost\Security\TokenCrypter;
use OroHost\Sidecar\SidecarFactory;
use OroHost\Sync\ConnectionStore;
use OroHost\Sync\SyncProcessor;

/** The service container (Symfony DI, by hand): one instance of each service, made on first use. */
final class Container
{
    private array $services = [];

    public function __construct(public readonly HostConfig $config)
    {
    }

    private function once(string $id, callable $make): mixed
    {
        return $this->services[$id] ??= $make();
    }

    public function db(): Database
    {
        return $this->once('db', fn () => new Database($this->config->dsn, $this->config->dbUser, $this->config->dbPassword));
    }

    public function crypter(): TokenCrypter
    {
        return $this->once('crypter', fn () => new TokenCrypter($this->config->secret));
    }

    public function configManager(): ConfigManager
    {
        return $this->once('config', fn () => new ConfigManager($this->db(), $this->crypter()));
    }

    public function connections(): ConnectionStore
    {
        return $this->once('connections', fn () => new ConnectionStore($this->db(), $this->crypter()));
    }

    public function events(): CalendarEventManager
    {
        return $this->once('events', fn () => new CalendarEventManager($this->db(), $this->config->debounceSeconds));
    }

    public function queue(): AmqpTransport
    {
        return $this->once('queue', fn () => new AmqpTransport($this->config->amqpUrl, $this->config->queue));
    }

    public function scheduler(): Scheduler
    {
        return $this->once('scheduler', fn () => new Scheduler($this->db(), $this->queue()));
    }

    public function sidecar(string $name = 'web'): \OroMsyncClient
    {
        return $this->once('sidecar.' . $name, fn () => (new SidecarFactory($this->config))->create($name));
    }

    public function connectionManager(): ConnectionManager
    {
        return $this->once('connect', fn () => new ConnectionManager($this->sidecar(), $this->configManager(), $this->connections(), $this->push()));
    }

    public function push(): PushManager
    {
        return $this->once('push', fn () => new PushManager(
            $this->db(), $this->configManager(), $this->connections(), $this->crypter(),
            fn () => $this->sidecar(), $this->config->publicUrl, $this->config->debounceSeconds,
        ));
    }

    public function syncProcessor(string $consumer, ?\Closure $beforeCommit = null): SyncProcessor
    {
        return new SyncProcessor(
            $this->db(), $this->configManager(), $this->connections(), $this->queue(), $this->sidecar($consumer),
            $consumer, $this->config->timeBudgetSeconds, $this->config->debounceSeconds, $beforeCommit,
        );
    }
}
