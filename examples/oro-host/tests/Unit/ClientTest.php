<?php

declare(strict_types=1);

namespace OroHost\Tests\Unit;

use PHPUnit\Framework\TestCase;

/** The hardened client (examples/php/OroMsyncClient.php) against the built sidecar. */
final class ClientTest extends TestCase
{
    private string $log;

    protected function setUp(): void
    {
        $bin = getenv('OROHOST_SIDECAR') ?: '';
        if (!is_executable($bin)) {
            if (getenv('CI') === 'true') {
                $this->fail('CI=true and OROHOST_SIDECAR does not name the built oro-msync');
            }
            $this->markTestSkipped('OROHOST_SIDECAR must name the built oro-msync');
        }
        $this->log = sys_get_temp_dir() . '/orohost-client-' . getmypid() . '-' . bin2hex(random_bytes(3)) . '.log';
    }

    protected function tearDown(): void
    {
        array_map('unlink', glob($this->log . '*') ?: []);
    }

    private function client(array $flags = [], array $options = []): \OroMsyncClient
    {
        $env = getenv() + ['OROMSYNC_TEST_HOOKS' => '1'];
        $env['OROMSYNC_TEST_HOOKS'] = '1';
        return new \OroMsyncClient([getenv('OROHOST_SIDECAR'), ...$flags], $this->log, $options + ['env' => $env]);
    }

    public function testDeadSidecarIsNoticedAtOnceAndRestarted(): void
    {
        $c = $this->client();
        $this->assertSame(['slept' => 1], $c->call('test.sleep', ['ms' => 1]));
        $pid = $c->pid();
        $killer = new \Symfony\Component\Process\Process(['sh', '-c', "sleep 0.3; kill -9 $pid"]);
        $killer->start();
        $t = microtime(true);
        try {
            $c->call('test.sleep', ['ms' => 20000], 30);
            $this->fail('the call survived its sidecar');
        } catch (\OroMsyncProcessError $e) {
            $this->assertStringContainsString('killed by signal 9', $e->getMessage());
        }
        $this->assertLessThan(2.0, microtime(true) - $t, 'noticed at once, not at the deadline');
        $this->assertSame(['slept' => 1], $c->call('test.sleep', ['ms' => 1]), 'the next call gets a new sidecar');
        $this->assertSame(2, $c->starts());
        $this->assertNotSame($pid, $c->pid());
        $this->assertSame(0, $c->close());
    }

    public function testDeadlineSendsCancelRequest(): void
    {
        $c = $this->client();
        $t = microtime(true);
        try {
            $c->call('test.sleep', ['ms' => 20000], 0.5);
            $this->fail('no timeout');
        } catch (\OroMsyncTimeout $e) {
            $this->assertStringContainsString('cancelled', $e->getMessage());
        }
        $this->assertLessThan(2.0, microtime(true) - $t);
        $this->assertSame(1, $c->starts(), 'the sidecar answered -32800 and lives on');
        $this->assertSame(['slept' => 1], $c->call('test.sleep', ['ms' => 1]));

        // a sidecar that answers nothing, not even the cancellation, is killed
        posix_kill($c->pid(), SIGSTOP);
        try {
            $c->call('test.sleep', ['ms' => 1], 0.3);
            $this->fail('no timeout');
        } catch (\OroMsyncTimeout $e) {
            $this->assertStringContainsString('killed', $e->getMessage());
        }
        $this->assertSame(['slept' => 1], $c->call('test.sleep', ['ms' => 1]));
        $this->assertSame(2, $c->starts());
        $c->close();
    }

    public function testEmptyObjectsAreSentAsObjects(): void
    {
        $c = $this->client();
        // cascade scopes are objects: [] would be rejected as -32602
        $r = $c->call('settings.resolve', ['cascade' => ['system' => [], 'organization' => [], 'user' => ['direction' => 'both']]]);
        $this->assertSame('both', $r['effective']['direction']);
        $this->assertSame('user', $r['sources']['direction']);
        $c->close();

        $doc = json_decode((string) file_get_contents(__DIR__ . '/../../../../schema/openrpc.json'), true);
        $sync = array_values(array_filter($doc['methods'], fn ($m) => $m['name'] === 'sync.run'))[0];
        $schema = ['type' => 'object', 'properties' => array_column(array_map(fn ($p) => [$p['name'], $p['schema']], $sync['params']), 1, 0)];
        $json = json_encode(\OroMsyncClient::shape([
            'cascade' => ['system' => [], 'user' => null],
            'events' => [['id' => '1', 'link' => ['v' => 1, 'remoteId' => 'r', 'fields' => []]]],
            'options' => [],
            'state' => ['v' => 1],
            'tokens' => ['accessToken' => 'a', 'expiresAt' => '2026-01-01T00:00:00Z'],
            'app' => [],
            'mode' => 'full',
        ], $schema, $doc['components']['schemas']));
        $this->assertStringContainsString('"cascade":{"system":{},"user":null}', $json);
        $this->assertStringContainsString('"options":{}', $json);
        $this->assertStringContainsString('"app":{}', $json);
        $this->assertStringContainsString('"fields":{}', $json, 'a nested empty object');
        $this->assertSame('{"events":[]}', json_encode(\OroMsyncClient::shape(['events' => []], $schema, $doc['components']['schemas'])), 'an empty list stays a list');
        $this->assertSame('[]', json_encode(\OroMsyncClient::shape([], ['type' => 'array'], [])), 'an empty array stays an array');
    }

    public function testStderrGoesToARotatedLog(): void
    {
        $c = $this->client(['--log-level=debug'], ['maxLogBytes' => 4000, 'keepLogs' => 2]);
        for ($i = 0; $i < 60; $i++) {
            $c->call('settings.resolve', ['cascade' => []]);
        }
        $c->close();
        $this->assertFileExists($this->log);
        $this->assertFileExists($this->log . '.1');
        $this->assertFileDoesNotExist($this->log . '.3', 'only keepLogs old files');
        clearstatcache();
        $this->assertLessThanOrEqual(4000 + 65536, filesize($this->log));
        $this->assertStringContainsString('settings.resolve', file_get_contents($this->log));
    }
}
