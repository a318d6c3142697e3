<?php

declare(strict_types=1);

namespace OroHost\Simulator;

/**
 * The Microsoft 365 simulator's control API (cmd/graphsim, `/_sim`; see
 * graphclient/graphsim/README.md): the tenant's users, a mailbox's events as
 * the user makes them in Outlook, and the request log. For the end-to-end
 * tests and the scale run; nothing in the host's production path uses it.
 */
final class GraphSimControl
{
    /** @param string $baseUrl the simulator's base URL (its authority, e.g. http://127.0.0.1:PORT) */
    public function __construct(private readonly string $baseUrl)
    {
    }

    /**
     * One request; returns the decoded answer (null when empty). Throws on
     * an answer of 300 or more.
     */
    public function call(string $method, string $path, ?array $body = null): mixed
    {
        $ctx = stream_context_create(['http' => [
            'method' => $method,
            'header' => "Content-Type: application/json\r\n",
            'content' => $body === null ? '' : json_encode($body, JSON_THROW_ON_ERROR),
            'ignore_errors' => true,
            'timeout' => 30,
        ]]);
        $out = @file_get_contents($this->baseUrl . $path, false, $ctx);
        $status = (int) (explode(' ', $http_response_header[0] ?? 'HTTP/1.1 0')[1] ?? 0);
        if ($out === false || $status === 0 || $status >= 300) {
            throw new \RuntimeException(sprintf('graphsim %s %s: %d %s', $method, $path, $status, substr((string) $out, 0, 500)));
        }
        return $out === '' ? null : json_decode($out, true, 512, JSON_THROW_ON_ERROR);
    }

    /** Adds a user (and mailbox) to the tenant. */
    public function addUser(string $upn, string $displayName): void
    {
        $this->call('POST', '/_sim/users', ['upn' => $upn, 'displayName' => $displayName, 'mail' => $upn]);
    }

    /** The mailbox's events as the simulator holds them (Graph's JSON). */
    public function events(string $upn): array
    {
        return $this->call('GET', self::eventsPath($upn))['value'];
    }

    /** Creates an event (Graph's JSON) as the user does in Outlook; returns its id. */
    public function createEvent(string $upn, array $event): string
    {
        return $this->call('POST', self::eventsPath($upn), $event)['id'];
    }

    public function updateEvent(string $upn, string $id, array $patch): void
    {
        $this->call('PATCH', self::eventsPath($upn) . '/' . rawurlencode($id), $patch);
    }

    public function deleteEvent(string $upn, string $id): void
    {
        $this->call('DELETE', self::eventsPath($upn) . '/' . rawurlencode($id));
    }

    /** The request log since it was last reset: graphsim's RequestRecord, batch items included. */
    public function requests(): array
    {
        return $this->call('GET', '/_sim/requests')['value'];
    }

    public function resetRequests(): void
    {
        $this->call('DELETE', '/_sim/requests');
    }

    private static function eventsPath(string $upn): string
    {
        return '/_sim/users/' . rawurlencode($upn) . '/events';
    }
}
