<?php

declare(strict_types=1);

namespace OroHost\Push;

use OroHost\Config\ConfigManager;
use OroHost\Db\Database;
use OroHost\Security\TokenCrypter;
use OroHost\Sync\ConnectionStore;

/**
 * Push (README "Push"): the user's change-notification subscription and what
 * the notification routes do with a POST. In Oro: a service of the bundle,
 * used by the connect controller, the disconnect action, the webhook
 * controller and a cron command that renews.
 */
final class PushManager
{
    public function __construct(
        private readonly Database $db,
        private readonly ConfigManager $config,
        private readonly ConnectionStore $connections,
        private readonly TokenCrypter $crypter,
        private readonly \Closure $sidecar,
        private readonly ?string $publicUrl,
        private readonly float $debounceSeconds,
    ) {
    }

    public function enabled(): bool
    {
        return $this->publicUrl !== null && $this->publicUrl !== '';
    }

    public function notificationUrl(): string
    {
        return rtrim((string) $this->publicUrl, '/') . '/msync/notify';
    }

    public function lifecycleUrl(): string
    {
        return rtrim((string) $this->publicUrl, '/') . '/msync/lifecycle';
    }

    /** The stored record, clientState decrypted; null when there is none. */
    public function record(int $userId): ?array
    {
        $row = $this->db->one('SELECT * FROM msync_subscription WHERE user_id = ?', [$userId]);
        if ($row === null) {
            return null;
        }
        return [
            'id' => $row['subscription_id'],
            'expiresAt' => self::iso($row['expires_at']),
            'clientState' => $this->crypter->decrypt(ConnectionStore::bytes($row['client_state'])),
            'renewAt' => self::iso($row['renew_at']),
        ];
    }

    /**
     * subscription.ensure (on connect, at renewAt, for lifecycle ensure/recreate).
     * Returns true when a new subscription was made (an incremental sync is asked for).
     */
    public function ensure(int $userId, bool $withRecord = true): bool
    {
        $conn = $this->connections->get($userId);
        if ($conn === null || $conn['tokens'] === null || $conn['status'] !== 'connected') {
            return false;
        }
        $params = [
            'app' => $this->config->appRegistration(),
            'tokens' => $conn['tokens'],
            'notificationUrl' => $this->notificationUrl(),
            'lifecycleNotificationUrl' => $this->lifecycleUrl(),
        ];
        $rec = $withRecord ? $this->record($userId) : null;
        if ($rec !== null) {
            $params['subscription'] = $rec;
        }
        $res = ($this->sidecar)()->call('subscription.ensure', $params, 60);
        $this->db->transactional(function () use ($userId, $res) {
            if (isset($res['tokens'])) {
                $this->connections->storeTokens($userId, $res['tokens']);
            }
            $s = $res['subscription'];
            $this->db->exec(
                'INSERT INTO msync_subscription (user_id, subscription_id, client_state, expires_at, renew_at, updated_at)
                 VALUES (?, ?, ?, ?, ?, now())
                 ON CONFLICT (user_id) DO UPDATE SET subscription_id = EXCLUDED.subscription_id, client_state = EXCLUDED.client_state,
                   expires_at = EXCLUDED.expires_at, renew_at = EXCLUDED.renew_at, updated_at = now()',
                [$userId, $s['id'], '\\x' . bin2hex($this->crypter->encrypt($s['clientState'])), $s['expiresAt'], $s['renewAt']]
            );
            if ($res['created']) {
                $this->requestSync($userId); // changes before the subscription were not notified
            }
        });
        return (bool) $res['created'];
    }

    /** Disconnect: subscription.remove (already gone is success); the record is deleted either way. */
    public function remove(int $userId): void
    {
        $rec = $this->db->one('SELECT subscription_id FROM msync_subscription WHERE user_id = ?', [$userId]);
        if ($rec === null) {
            return;
        }
        $conn = $this->connections->get($userId);
        try {
            if ($conn !== null && $conn['tokens'] !== null) {
                ($this->sidecar)()->call('subscription.remove', [
                    'app' => $this->config->appRegistration(),
                    'tokens' => $conn['tokens'],
                    'subscriptionId' => $rec['subscription_id'],
                ], 30);
            }
        } finally {
            // a subscription left behind expires within 7 days; its notifications name no record
            $this->db->exec('DELETE FROM msync_subscription WHERE user_id = ?', [$userId]);
        }
    }

    /** The cron side: renews every subscription whose renewAt has passed. @return list<int> the users renewed */
    public function renewDue(): array
    {
        $done = [];
        foreach (array_map('intval', array_column($this->db->all('SELECT user_id FROM msync_subscription WHERE renew_at <= now() ORDER BY user_id'), 'user_id')) as $u) {
            try {
                $this->ensure($u);
                $done[] = $u;
            } catch (\OroMsyncError $e) {
                self::log(sprintf('subscription.ensure for user %d: %s (%s)', $u, $e->getMessage(), $e->kind() ?? 'error'));
            }
        }
        return $done;
    }

    /**
     * A POST on a notification route, after the 202 went out: notification.verify
     * with the records of the ids in the body and the recent keys, then a
     * debounced sync per user named and the lifecycle actions.
     *
     * @return array the verify result
     */
    public function receive(string $body): array
    {
        $ids = [];
        $decoded = json_decode($body, true);
        foreach ((is_array($decoded) && is_array($decoded['value'] ?? null)) ? $decoded['value'] : [] as $n) {
            if (is_array($n) && is_string($n['subscriptionId'] ?? null)) {
                $ids[$n['subscriptionId']] = true;
            }
        }
        $subs = [];
        if ($ids !== []) {
            $marks = implode(',', array_fill(0, count($ids), '?'));
            foreach ($this->db->all("SELECT user_id, subscription_id, client_state FROM msync_subscription WHERE subscription_id IN ($marks)", array_keys($ids)) as $r) {
                $subs[] = [
                    'id' => $r['subscription_id'],
                    'clientState' => $this->crypter->decrypt(ConnectionStore::bytes($r['client_state'])),
                    'user' => (string) $r['user_id'],
                ];
            }
        }
        $this->db->exec("DELETE FROM msync_notification_key WHERE seen_at < now() - interval '4 hours'");
        $recent = array_column($this->db->all('SELECT key FROM msync_notification_key'), 'key');
        $res = ($this->sidecar)()->call('notification.verify', ['body' => $body, 'subscriptions' => $subs, 'recentKeys' => $recent], 10);
        foreach ($res['keys'] as $k) {
            $this->db->exec('INSERT INTO msync_notification_key (key) VALUES (?) ON CONFLICT DO NOTHING', [$k]);
        }
        foreach ($res['sync'] as $s) {
            $this->requestSync((int) $s['user']);
        }
        foreach ($res['lifecycle'] as $l) {
            $u = (int) $l['user'];
            try {
                match ($l['action']) {
                    'ensure' => $this->ensure($u),
                    'recreate' => $this->ensure($u, false) || $this->requestSync($u),
                    'full_sync' => $this->requestSync($u, true),
                    default => null,
                };
            } catch (\OroMsyncError $e) {
                self::log(sprintf('lifecycle %s for user %d: %s (%s)', $l['action'], $u, $e->getMessage(), $e->kind() ?? 'error'));
            }
        }
        $ign = array_sum($res['ignored']);
        if ($ign > 0) {
            self::log(sprintf('notifications ignored: %s', json_encode($res['ignored'])));
        }
        return $res;
    }

    /** Asks for a sync soon, debounced like an Oro edit (CalendarEventManager); $full makes it a full one. */
    public function requestSync(int $userId, bool $full = false): bool
    {
        $this->db->exec(
            "UPDATE msync_sync_state
                SET next_sync_at = GREATEST(COALESCE(not_before, '-infinity'), LEAST(next_sync_at, now() + make_interval(secs => ?))),
                    enqueued_at = CASE WHEN next_sync_at > now() + make_interval(secs => ?) THEN NULL ELSE enqueued_at END,
                    next_mode = CASE WHEN ? THEN 'full' ELSE next_mode END
              WHERE user_id = ? AND next_sync_at IS NOT NULL",
            [$this->debounceSeconds, $this->debounceSeconds, $full ? 'true' : 'false', $userId]
        );
        return true;
    }

    private static function iso(string $ts): string
    {
        return (new \DateTimeImmutable($ts))->setTimezone(new \DateTimeZone('UTC'))->format('Y-m-d\TH:i:s\Z');
    }

    private static function log(string $line): void
    {
        file_put_contents('php://stderr', sprintf("[%s] push: %s\n", date('c'), $line));
    }
}
