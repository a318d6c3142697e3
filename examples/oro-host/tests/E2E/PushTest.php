<?php

declare(strict_types=1);

namespace OroHost\Tests\E2E;

use OroHost\Config\HostConfig;
use OroHost\Container;
use OroHost\Tests\Support\E2ETestCase;
use Symfony\Component\Process\Process;

/**
 * Push through the host's own routes (web/router.php under php -S): the
 * handshake on connect, an Outlook edit notified → a sync → the event in
 * Oro, a forged clientState ignored, disconnect removes the subscription.
 */
final class PushTest extends E2ETestCase
{
    private Process $web;
    private string $base;

    protected function setUp(): void
    {
        parent::setUp();
        $sock = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($sock, false), ':'), 1);
        fclose($sock);
        $this->base = "http://127.0.0.1:$port";
        $this->env['OROHOST_PUBLIC_URL'] = $this->base;
        $this->c = new Container(HostConfig::fromEnv($this->env));
        // workers: a lifecycle action's handshake comes back while a request runs
        $this->web = new Process([PHP_BINARY, '-S', "127.0.0.1:$port", '-q', __DIR__ . '/../../web/router.php'], __DIR__ . '/../..', $this->env + ['PHP_CLI_SERVER_WORKERS' => '4']);
        $this->web->setTimeout(null);
        $this->web->start();
        for ($i = 0; $i < 100; $i++) {
            if (@fsockopen('127.0.0.1', $port) !== false) {
                return;
            }
            usleep(50000);
        }
        $this->fail('the web server did not start: ' . $this->webLog());
    }

    protected function tearDown(): void
    {
        if (isset($this->web) && $this->web->isRunning()) {
            $this->web->stop(1);
        }
        if ($this->hasFailed()) {
            fwrite(STDERR, "\nweb server log:\n" . $this->webLog());
        }
        parent::tearDown();
    }

    public function testSubscribeNotifySyncForgeryAndDisconnect(): void
    {
        $ada = $this->user('ada');

        // Connect subscribes: the simulator's handshake went through the host's route
        $this->connect($ada);
        $rec = $this->c->push()->record($ada);
        $this->assertNotNull($rec, 'the subscription record is stored');
        $subs = $this->simCall('GET', '/_sim/subscriptions')['value'];
        $this->assertCount(1, $subs);
        $this->assertSame($rec['id'], $subs[0]['id']);
        $this->assertSame($this->base . '/msync/notify', $subs[0]['notificationUrl']);
        $this->assertSame($this->base . '/msync/lifecycle', $subs[0]['lifecycleNotificationUrl']);
        $this->assertMatchesRegularExpression('~POST /msync/notify → 200~', $this->webLog(), 'the handshake answered');
        $sealed = (string) $this->db()->value('SELECT encode(client_state, \'hex\') FROM msync_subscription WHERE user_id = ?', [$ada]);
        $this->assertStringNotContainsString(bin2hex($rec['clientState']), $sealed, 'clientState is stored encrypted');

        $this->drain();
        $this->assertSame([], $this->oroTitles($ada));
        $this->assertGreaterThan(5 * 3600, $this->secondsToNextSync($ada), 'a live subscription stretches polling to the 6-hour safety net');

        // An Outlook edit: the notification reaches the route, the sync becomes due
        $this->outlookCreate($ada, 'Dentist', 2, 14);
        $this->waitFor(fn () => $this->secondsToNextSync($ada) < 5, 'the notification made a sync due');
        $this->assertMatchesRegularExpression('~POST /msync/notify → 202~', $this->webLog());
        $this->waitFor(fn () => (int) $this->db()->value('SELECT count(*) FROM msync_notification_key') > 0, 'the keys are kept');
        $this->drain();
        $this->assertInSync($ada, ['Dentist']);
        $this->assertSame('incremental', $this->runs($ada)[count($this->runs($ada)) - 1]['mode']);

        // the echo of our own writes is harmless; let it settle, then a forged clientState
        usleep(500000);
        $this->drain();
        $keys = (int) $this->db()->value('SELECT count(*) FROM msync_notification_key');
        $forged = json_encode(['value' => [[
            'id' => 'forged-' . bin2hex(random_bytes(4)),
            'subscriptionId' => $rec['id'],
            'subscriptionExpirationDateTime' => $rec['expiresAt'],
            'clientState' => 'not-the-secret',
            'changeType' => 'created',
            'resource' => 'Users/x/Events/AAkAforged',
            'tenantId' => 'contoso',
            'resourceData' => ['@odata.type' => '#Microsoft.Graph.Event', '@odata.id' => 'Users/x/Events/AAkAforged', '@odata.etag' => 'W/"1"', 'id' => 'AAkAforged'],
        ]]]);
        $this->assertSame(202, $this->post('/msync/notify', $forged));
        $this->waitFor(fn () => str_contains($this->webLog(), '"clientStateMismatch":1'), 'the forgery was counted');
        $this->assertGreaterThan(60, $this->secondsToNextSync($ada), 'a forged notification makes no sync due');
        $this->assertSame($keys, (int) $this->db()->value('SELECT count(*) FROM msync_notification_key'));

        // Renewal (the cron command) once renewAt has passed: the same subscription, a later renewAt
        $this->db()->exec("UPDATE msync_subscription SET renew_at = now() - interval '1 second' WHERE user_id = ?", [$ada]);
        $this->assertStringContainsString("renewed: $ada", $this->console('oro:cron:msync-subscriptions'));
        $renewed = $this->c->push()->record($ada);
        $this->assertSame($rec['id'], $renewed['id']);
        $this->assertGreaterThan(time() + 86400, strtotime($renewed['renewAt']));
        $this->assertStringContainsString('renewed: none', $this->console('oro:cron:msync-subscriptions'));

        // Lifecycle: missed → a full sync; subscriptionRemoved → a new subscription (its handshake too)
        $this->simCall('POST', '/_sim/subscriptions/' . rawurlencode($rec['id']) . '/lifecycle', ['lifecycleEvent' => 'missed']);
        $this->waitFor(fn () => $this->state($ada)['next_mode'] === 'full' && $this->secondsToNextSync($ada) < 5, 'missed made a full sync due');
        $this->drain();
        $runs = $this->runs($ada);
        $this->assertSame('full', end($runs)['mode']);
        $this->simCall('POST', '/_sim/subscriptions/' . rawurlencode($rec['id']) . '/lifecycle', ['lifecycleEvent' => 'subscriptionRemoved']);
        $this->waitFor(fn () => ($this->c->push()->record($ada)['id'] ?? $rec['id']) !== $rec['id'], 'the subscription was recreated');
        $subs = $this->simCall('GET', '/_sim/subscriptions')['value'];
        $this->assertSame([$this->c->push()->record($ada)['id']], array_column($subs, 'id'));
        $this->drain();

        // Disconnect (the page's button) removes the subscription in Microsoft 365
        $this->disconnectViaPage($ada);
        $this->assertSame([], $this->simCall('GET', '/_sim/subscriptions')['value']);
        $this->assertNull($this->c->push()->record($ada));
    }

    /** The server's log (method, path, status; the host's push lines), read so far. */
    private function webLog(): string
    {
        return $this->web->getOutput() . $this->web->getErrorOutput();
    }

    private function secondsToNextSync(int $userId): float
    {
        return (float) $this->db()->value('SELECT EXTRACT(EPOCH FROM next_sync_at - clock_timestamp()) FROM msync_sync_state WHERE user_id = ?', [$userId]);
    }

    private function waitFor(callable $cond, string $what, float $seconds = 10): void
    {
        $end = microtime(true) + $seconds;
        while (!$cond()) {
            if (microtime(true) > $end) {
                $this->fail("timed out: $what");
            }
            usleep(100000);
        }
        $this->addToAssertionCount(1);
    }

    private function post(string $path, string $body): int
    {
        $ctx = stream_context_create(['http' => ['method' => 'POST', 'header' => "Content-Type: application/json\r\n", 'content' => $body, 'ignore_errors' => true, 'timeout' => 10]]);
        file_get_contents($this->base . $path, false, $ctx);
        return (int) explode(' ', $http_response_header[0] ?? 'HTTP/1.1 0')[1];
    }

    private function disconnectViaPage(int $userId): void
    {
        $page = file_get_contents($this->base . '/user/config?user=' . $userId);
        $cookie = null;
        foreach ($http_response_header as $h) {
            if (preg_match('/^Set-Cookie:\s*(OROHOSTSESSID=[^;]+)/i', $h, $m)) {
                $cookie = $m[1];
            }
        }
        $this->assertNotNull($cookie);
        $this->assertSame(1, preg_match('/name="_token" value="([^"]+)"/', $page, $m));
        $ctx = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => "Content-Type: application/x-www-form-urlencoded\r\nCookie: $cookie\r\n",
            'content' => http_build_query(['_token' => html_entity_decode($m[1])]),
            'ignore_errors' => true, 'follow_location' => 0, 'timeout' => 30,
        ]]);
        file_get_contents($this->base . '/connect/disconnect', false, $ctx);
        $this->assertSame(303, (int) explode(' ', $http_response_header[0])[1], 'disconnect redirects');
    }
}
