<?php

declare(strict_types=1);

namespace OroHost\Connect;

use OroHost\Config\ConfigManager;
use OroHost\Push\PushManager;
use OroHost\Sync\ConnectionStore;

/**
 * The user configuration page's Connect and Check connection buttons
 * (a controller and its popup callback in Oro).
 */
final class ConnectionManager
{
    public function __construct(
        private readonly \OroMsyncClient $sidecar,
        private readonly ConfigManager $config,
        private readonly ConnectionStore $connections,
        private readonly ?PushManager $push = null,
    ) {
    }

    /**
     * Step 1 (the Connect button): the sign-in URL; keep state and
     * codeVerifier in the user's session.
     *
     * @return array{url:string,state:string,codeVerifier:string}
     */
    public function start(?string $loginHint = null): array
    {
        $app = $this->config->appRegistration();
        unset($app['clientSecret']); // building the URL needs no secret
        $params = ['app' => $app];
        if ($loginHint !== null) {
            $params['loginHint'] = $loginHint;
        }
        return $this->sidecar->call('connection.authorizationUrl', $params, 10);
    }

    /** Step 2 (the popup's callback): redeem the code, store the tokens encrypted, show the account. */
    public function finish(int $userId, array $session, string $code, string $state): array
    {
        $res = $this->sidecar->call('connection.exchangeCode', [
            'app' => $this->config->appRegistration(),
            'code' => $code,
            'state' => $state,
            'expectedState' => $session['state'],
            'codeVerifier' => $session['codeVerifier'],
        ], 30);
        $this->connections->connect($userId, $res['tokens'], $res['account']);
        if ($this->push?->enabled()) {
            // subscribe; a failure leaves the user on polling (renewal tries again)
            try {
                $this->push->ensure($userId);
            } catch (\OroMsyncError $e) {
                file_put_contents('php://stderr', sprintf("[%s] push: subscription.ensure for user %d: %s (%s)\n", date('c'), $userId, $e->getMessage(), $e->kind() ?? 'error'));
            }
        }
        return $res['account'];
    }

    /** Check connection: the status and message to show; rotated tokens are stored. */
    public function check(int $userId): array
    {
        $conn = $this->connections->get($userId);
        if ($conn === null || $conn['tokens'] === null) {
            return ['status' => 'not_connected', 'message' => 'Not connected.'];
        }
        $res = $this->sidecar->call('connection.check', ['app' => $this->config->appRegistration(), 'tokens' => $conn['tokens']], 30);
        if (isset($res['tokens'])) {
            $this->connections->storeTokens($userId, $res['tokens']);
        }
        if (in_array($res['status'], ['reconnect_required', 'consent_required'], true)) {
            $this->connections->setStatus($userId, $res['status'], $res['message']);
        }
        return $res;
    }
}
