<?php

declare(strict_types=1);

namespace OroHost\Sync;

use OroHost\Db\Database;
use OroHost\Security\TokenCrypter;

/** The user's Microsoft 365 connection (ImapBundle's UserEmailOrigin, with the tokens encrypted). */
final class ConnectionStore
{
    public function __construct(private readonly Database $db, private readonly TokenCrypter $crypter)
    {
    }

    public function connect(int $userId, array $tokens, array $account): void
    {
        $this->db->transactional(function () use ($userId, $tokens, $account) {
            $this->db->exec(
                "INSERT INTO msync_connection (user_id, account_name, account_email, tokens, status, status_message, connected_at, updated_at)
                 VALUES (?, ?, ?, ?, 'connected', NULL, now(), now())
                 ON CONFLICT (user_id) DO UPDATE SET account_name = EXCLUDED.account_name, account_email = EXCLUDED.account_email,
                   tokens = EXCLUDED.tokens, status = 'connected', status_message = NULL, connected_at = now(), updated_at = now()",
                [$userId, $account['displayName'] ?? null, $account['email'] ?? null, $this->seal($tokens)]
            );
            // first run: full, at once
            $this->db->exec(
                "INSERT INTO msync_sync_state (user_id, next_mode, next_sync_at) VALUES (?, 'full', now())
                 ON CONFLICT (user_id) DO UPDATE SET next_sync_at = now(), enqueued_at = NULL, not_before = NULL, last_error_kind = NULL",
                [$userId]
            );
        });
    }

    public function get(int $userId): ?array
    {
        $row = $this->db->one('SELECT * FROM msync_connection WHERE user_id = ?', [$userId]);
        if ($row === null) {
            return null;
        }
        $row['tokens'] = $row['tokens'] === null ? null : json_decode($this->crypter->decrypt(self::bytes($row['tokens'])), true);
        return $row;
    }

    /** Stores rotated tokens (call inside the run's transaction). */
    public function storeTokens(int $userId, array $tokens): void
    {
        $this->db->exec('UPDATE msync_connection SET tokens = ?, updated_at = now() WHERE user_id = ?', [$this->seal($tokens), $userId]);
    }

    public function setStatus(int $userId, string $status, ?string $message): void
    {
        $this->db->exec('UPDATE msync_connection SET status = ?, status_message = ?, updated_at = now() WHERE user_id = ?', [$status, $message, $userId]);
    }

    private function seal(array $tokens): mixed
    {
        $st = $this->crypter->encrypt(json_encode($tokens, JSON_THROW_ON_ERROR));
        return '\\x' . bin2hex($st); // bytea input
    }

    /** bytea comes back from pdo_pgsql as a stream. */
    public static function bytes(mixed $v): string
    {
        return is_resource($v) ? stream_get_contents($v) : (string) $v;
    }
}
