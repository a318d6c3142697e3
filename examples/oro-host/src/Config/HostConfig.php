<?php

declare(strict_types=1);

namespace OroHost\Config;

/**
 * The process-level settings of the host (parameters.yml in an Oro
 * application), read from the environment. Endpoints of Microsoft are
 * process settings of the sidecar too: nothing a user stores can move them.
 */
final class HostConfig
{
    public function __construct(
        public readonly string $dsn,
        public readonly string $dbUser,
        public readonly string $dbPassword,
        public readonly string $amqpUrl,
        public readonly string $sidecar,
        public readonly ?string $authorityUrl,
        public readonly ?string $graphUrl,
        public readonly string $secret,
        public readonly string $logDir,
        public readonly float $debounceSeconds,
        public readonly int $timeBudgetSeconds,
        public readonly string $queue,
        // Push: the host's public base URL (its /msync/notify and /msync/lifecycle
        // routes); unset, no subscription is made and polling alone syncs
        public readonly ?string $publicUrl = null,
    ) {
    }

    public static function fromEnv(array $overrides = []): self
    {
        $env = static fn (string $name, ?string $default = null): ?string => $overrides[$name] ?? (getenv($name) !== false ? getenv($name) : $default);
        $secret = $env('OROHOST_SECRET');
        if ($secret === null || strlen($secret) < 16) {
            throw new \RuntimeException('OROHOST_SECRET must be set to at least 16 characters (it derives the token encryption key)');
        }
        return new self(
            dsn: $env('OROHOST_DSN', 'pgsql:host=127.0.0.1;port=5432;dbname=orohost'),
            dbUser: $env('OROHOST_DB_USER', 'orohost'),
            dbPassword: $env('OROHOST_DB_PASSWORD', 'orohost'),
            amqpUrl: $env('OROHOST_AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672/%2F'),
            sidecar: $env('OROHOST_SIDECAR', 'oro-msync'),
            authorityUrl: $env('OROHOST_AUTHORITY_URL'),
            graphUrl: $env('OROHOST_GRAPH_URL'),
            secret: $secret,
            logDir: $env('OROHOST_LOG_DIR', sys_get_temp_dir()),
            debounceSeconds: (float) $env('OROHOST_DEBOUNCE_SECONDS', '5'),
            timeBudgetSeconds: (int) $env('OROHOST_TIME_BUDGET_SECONDS', '50'),
            queue: $env('OROHOST_QUEUE', 'oro.msync.calendar_sync'),
            publicUrl: $env('OROHOST_PUBLIC_URL'),
        );
    }
}
