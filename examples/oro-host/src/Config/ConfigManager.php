<?php

declare(strict_types=1);

namespace OroHost\Config;

use OroHost\Db\Database;
use OroHost\Security\TokenCrypter;

/**
 * Oro's ConfigManager for this bundle's settings: values stored per scope
 * (system, organization, user); a scope without a row uses its parent's
 * value. The cascade is sent to the sidecar as stored, and the sidecar
 * resolves it (settings.resolve, and inside sync.run), so the rules live in
 * one place.
 */
final class ConfigManager
{
    /** Oro config key => the sidecar's cascade key */
    public const SETTINGS = [
        'oro_msync.enabled' => 'enabled',
        'oro_msync.direction' => 'direction',
        'oro_msync.conflict_resolution' => 'conflictResolution',
        'oro_msync.sync_interval' => 'syncIntervalMinutes',
        'oro_msync.write_attendees' => 'writeAttendees',
    ];

    public function __construct(private readonly Database $db, private readonly TokenCrypter $crypter)
    {
    }

    /** Stores a value at a scope; null removes it ("use parent scope"). */
    public function set(string $scope, int $scopeId, string $name, mixed $value): void
    {
        if ($value === null) {
            $this->db->exec('DELETE FROM oro_config_value WHERE scope = ? AND scope_id = ? AND name = ?', [$scope, $scopeId, $name]);
            return;
        }
        $this->db->exec(
            'INSERT INTO oro_config_value (scope, scope_id, name, value) VALUES (?, ?, ?, ?)
             ON CONFLICT (scope, scope_id, name) DO UPDATE SET value = EXCLUDED.value',
            [$scope, $scopeId, $name, json_encode($value)]
        );
    }

    /** Push (README "Push"): the safety-net polling interval of a user with a live subscription. */
    public const PUSH_SAFETY_INTERVAL_MINUTES = 360;

    /**
     * The cascade of one user, farthest scope first, as sync.run wants it.
     * With a live change-notification subscription the user's interval is
     * stretched to the 6-hour safety net (never shortened): notifications
     * bring the syncs, polling only bounds how stale a lost one leaves him.
     */
    public function cascadeFor(int $userId): array
    {
        $orgId = (int) $this->db->value('SELECT organization_id FROM oro_user WHERE id = ?', [$userId]);
        $rows = $this->db->all(
            "SELECT scope, name, value FROM oro_config_value
              WHERE name LIKE 'oro_msync.%' AND (scope = 'system' OR scope = 'organization' AND scope_id = ? OR scope = 'user' AND scope_id = ?)",
            [$orgId, $userId]
        );
        $cascade = ['system' => [], 'organization' => [], 'user' => []];
        foreach ($rows as $r) {
            if (isset(self::SETTINGS[$r['name']])) {
                $cascade[$r['scope']][self::SETTINGS[$r['name']]] = json_decode($r['value'], true);
            }
        }
        $live = (bool) $this->db->value('SELECT EXISTS (SELECT 1 FROM msync_subscription WHERE user_id = ? AND expires_at > now())', [$userId]);
        if ($live) {
            $interval = $cascade['user']['syncIntervalMinutes'] ?? $cascade['organization']['syncIntervalMinutes'] ?? $cascade['system']['syncIntervalMinutes'] ?? 15;
            $cascade['user']['syncIntervalMinutes'] = max((int) $interval, self::PUSH_SAFETY_INTERVAL_MINUTES);
        }
        return $cascade; // empty scopes are encoded as {} by the client
    }

    /** The values one scope stores, keyed by the sidecar's names (a missing key = "use parent scope"). */
    public function scopeValues(string $scope, int $scopeId): array
    {
        $out = [];
        foreach ($this->db->all("SELECT name, value FROM oro_config_value WHERE scope = ? AND scope_id = ? AND name LIKE 'oro_msync.%'", [$scope, $scopeId]) as $r) {
            if (isset(self::SETTINGS[$r['name']])) {
                $out[self::SETTINGS[$r['name']]] = json_decode($r['value'], true);
            }
        }
        return $out;
    }

    /** The app registration (Oro keeps it in system config; the secret encrypted). */
    public function appRegistration(): array
    {
        $get = fn (string $n) => ($v = $this->db->value("SELECT value FROM oro_config_value WHERE scope = 'system' AND scope_id = 0 AND name = ?", [$n])) === null ? null : json_decode($v, true);
        $secret = $get('oro_microsoft_integration.client_secret');
        return array_filter([
            'tenant' => $get('oro_microsoft_integration.tenant') ?? 'common',
            'clientId' => $get('oro_microsoft_integration.client_id'),
            'clientSecret' => $secret === null ? null : $this->crypter->decrypt(base64_decode($secret)),
            'redirectUri' => $get('oro_microsoft_integration.redirect_url'),
        ], fn ($v) => $v !== null);
    }

    public function setAppRegistration(string $tenant, string $clientId, string $clientSecret, string $redirectUri): void
    {
        $this->set('system', 0, 'oro_microsoft_integration.tenant', $tenant);
        $this->set('system', 0, 'oro_microsoft_integration.client_id', $clientId);
        $this->set('system', 0, 'oro_microsoft_integration.client_secret', base64_encode($this->crypter->encrypt($clientSecret)));
        $this->set('system', 0, 'oro_microsoft_integration.redirect_url', $redirectUri);
    }
}
