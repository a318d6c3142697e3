<?php

declare(strict_types=1);

namespace OroHost\Connect;

/**
 * Plays the user's browser against the simulator (graphsim --auto-consent):
 * opens the sign-in URL and reads code and state from the redirect to the
 * app's redirect URI, without following it. Against Microsoft a person signs
 * in instead; nothing else in the flow changes.
 */
final class HeadlessBrowser
{
    /** @return array{code:string,state:string} */
    public static function signIn(string $url): array
    {
        $ctx = stream_context_create(['http' => ['follow_location' => 0, 'ignore_errors' => true, 'timeout' => 10]]);
        $body = @file_get_contents($url, false, $ctx);
        $headers = $http_response_header ?? [];
        $location = null;
        foreach ($headers as $h) {
            if (stripos($h, 'Location:') === 0) {
                $location = trim(substr($h, 9));
            }
        }
        if ($location === null) {
            throw new \RuntimeException('sign-in: no redirect (' . ($headers[0] ?? 'no answer') . '): ' . substr((string) $body, 0, 300));
        }
        parse_str((string) parse_url($location, PHP_URL_QUERY), $q);
        if (!isset($q['code'], $q['state'])) {
            throw new \RuntimeException('sign-in failed: ' . ($q['error'] ?? '?') . ': ' . ($q['error_description'] ?? $location));
        }
        return ['code' => $q['code'], 'state' => $q['state']];
    }
}
