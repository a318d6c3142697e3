<?php

declare(strict_types=1);

namespace OroHost\Security;

/**
 * Encrypts tokens and the client secret at rest with libsodium's secretbox
 * (XSalsa20-Poly1305): nonce || ciphertext. Oro's own DefaultCrypter
 * (oro_security.encoder.default) would do; this one authenticates too, so a
 * tampered row fails loudly instead of decrypting to garbage.
 */
final class TokenCrypter
{
    private string $key;

    public function __construct(string $secret)
    {
        // A key derived from the application secret (kernel.secret); a
        // deployment may give a dedicated random 32-byte key instead.
        $this->key = sodium_crypto_generichash('oro-msync tokens v1', hash('sha256', $secret, true), SODIUM_CRYPTO_SECRETBOX_KEYBYTES);
    }

    public function encrypt(string $plain): string
    {
        $nonce = random_bytes(SODIUM_CRYPTO_SECRETBOX_NONCEBYTES);
        return $nonce . sodium_crypto_secretbox($plain, $nonce, $this->key);
    }

    public function decrypt(string $sealed): string
    {
        $nonce = substr($sealed, 0, SODIUM_CRYPTO_SECRETBOX_NONCEBYTES);
        $plain = sodium_crypto_secretbox_open(substr($sealed, SODIUM_CRYPTO_SECRETBOX_NONCEBYTES), $nonce, $this->key);
        if ($plain === false) {
            throw new \RuntimeException('cannot decrypt: wrong key or tampered data');
        }
        return $plain;
    }
}
