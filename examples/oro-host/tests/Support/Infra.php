<?php

declare(strict_types=1);

namespace OroHost\Tests\Support;

use PHPUnit\Framework\Assert;
use Symfony\Component\Process\Process;

/**
 * What the end-to-end tests run on: the built binaries, PostgreSQL and
 * RabbitMQ. A missing part skips the test, or fails it under CI=true.
 */
final class Infra
{
    public const PG_USER = 'orohost';
    public const PG_PASSWORD = 'orohost';

    private static ?string $vhost = null;
    private static ?string $unavailable = null;
    private static bool $checked = false;

    public static function env(string $name, string $default = ''): string
    {
        $v = getenv($name);
        return $v === false || $v === '' ? $default : $v;
    }

    public static function pgBase(): string
    {
        return self::env('OROHOST_PG', 'pgsql:host=127.0.0.1;port=5432');
    }

    public static function amqpBase(): string
    {
        return rtrim(self::env('OROHOST_AMQP', 'amqp://guest:guest@127.0.0.1:5672'), '/');
    }

    /** Skips (or fails under CI) when a part is missing; returns the vhost of this run. */
    public static function require(): string
    {
        if (!self::$checked) {
            self::$checked = true;
            self::$unavailable = self::check();
        }
        if (self::$unavailable !== null) {
            if (getenv('CI') === 'true') {
                Assert::fail('CI=true and the end-to-end suite cannot run: ' . self::$unavailable);
            }
            Assert::markTestSkipped(self::$unavailable);
        }
        return self::$vhost;
    }

    private static function check(): ?string
    {
        foreach (['OROHOST_SIDECAR' => 'the built oro-msync', 'OROHOST_GRAPHSIM' => 'the built cmd/graphsim'] as $var => $what) {
            $path = self::env($var);
            if ($path === '' || !is_executable($path)) {
                return "$var must name $what (.ci/test builds it)";
            }
        }
        try {
            new \PDO(self::pgBase() . ';dbname=postgres', self::PG_USER, self::PG_PASSWORD);
        } catch (\PDOException $e) {
            return 'PostgreSQL is not reachable as role orohost (.ci/run starts it and makes the role): ' . $e->getMessage();
        }
        $u = parse_url(self::amqpBase());
        $sock = @fsockopen($u['host'] ?? '127.0.0.1', $u['port'] ?? 5672, $errno, $errstr, 2);
        if ($sock === false) {
            return "RabbitMQ is not reachable ($errstr) (.ci/run starts it)";
        }
        fclose($sock);
        $ctl = self::rabbitmqctl();
        $vhost = 'orohost-e2e-' . getmypid();
        foreach ([['add_vhost', $vhost], ['set_permissions', '-p', $vhost, $u['user'] ?? 'guest', '.*', '.*', '.*']] as $args) {
            $p = new Process([$ctl, '-q', ...$args]);
            $p->run();
            if (!$p->isSuccessful()) {
                return 'rabbitmqctl ' . $args[0] . ' failed (the suite makes its own vhost): ' . trim($p->getErrorOutput() . $p->getOutput());
            }
        }
        self::$vhost = $vhost;
        register_shutdown_function(static function () use ($vhost, $ctl) {
            (new Process([$ctl, '-q', 'delete_vhost', $vhost]))->run();
        });
        return null;
    }

    private static function rabbitmqctl(): string
    {
        foreach (explode(':', (string) getenv('PATH')) as $dir) {
            if ($dir !== '' && is_executable("$dir/rabbitmqctl")) {
                return "$dir/rabbitmqctl";
            }
        }
        return '/usr/sbin/rabbitmqctl';
    }

    /** Starts cmd/graphsim on a free port; returns the process and its base URL. */
    public static function startSimulator(string $logFile): array
    {
        $p = new Process([self::env('OROHOST_GRAPHSIM'), '--auto-consent', '--addr', '127.0.0.1:0']);
        $p->setTimeout(null);
        $p->start(function ($type, $data) use ($logFile) {
            if ($type === Process::ERR) {
                file_put_contents($logFile, $data, FILE_APPEND);
            }
        });
        $line = null;
        $p->waitUntil(function ($type, $out) use (&$line) {
            if ($type === Process::OUT && str_contains($out, "\n")) {
                $line = $out;
                return true;
            }
            return false;
        });
        $urls = json_decode(trim((string) $line), true);
        if (!isset($urls['authority'])) {
            throw new \RuntimeException('graphsim did not start: ' . $p->getErrorOutput());
        }
        return [$p, $urls['authority']];
    }

    public static function createDatabase(string $name): void
    {
        $admin = new \PDO(self::pgBase() . ';dbname=postgres', self::PG_USER, self::PG_PASSWORD, [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]);
        $admin->exec("DROP DATABASE IF EXISTS \"$name\"");
        $admin->exec("CREATE DATABASE \"$name\"");
    }

    public static function dropDatabase(string $name): void
    {
        $admin = new \PDO(self::pgBase() . ';dbname=postgres', self::PG_USER, self::PG_PASSWORD, [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION]);
        try {
            $admin->exec("DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)");
        } catch (\PDOException $e) {
            // 42501: FORCE would end a session of another role, which is an
            // autovacuum worker in a test database (a big test's tables
            // get analysed). Our own sessions are ended, and a plain DROP
            // asks autovacuum to leave and waits for all of them (5 s).
            if ($e->getCode() !== '42501') {
                throw $e;
            }
            $admin->prepare('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ? AND usename = current_user AND pid <> pg_backend_pid()')->execute([$name]);
            $admin->exec("DROP DATABASE IF EXISTS \"$name\"");
        }
    }
}
