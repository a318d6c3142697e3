<?php

declare(strict_types=1);

namespace OroHost\Web;

use OroHost\Calendar\CalendarEventManager;
use OroHost\Config\ConfigManager;
use OroHost\Container;

/**
 * The pages an Oro administrator and user see, served by PHP's built-in web
 * server (web/router.php): the Microsoft Settings block of the system and
 * organization configuration, the user's configuration page (Connect, Check
 * connection, Disconnect and the settings), and the user's calendar. In an
 * Oro bundle these are system_configuration.yml fields, the Connect button's
 * controller and its popup callback route, and CalendarBundle's views.
 *
 * Every value printed goes through View::h(); tokens never leave
 * ConnectionStore; POST forms carry a CSRF token.
 */
final class WebApp
{
    /** The fields, in the order the user page shows them. */
    public const FIELDS = [
        'syncIntervalMinutes' => ['label' => 'Sync Interval (in minutes)', 'type' => 'int'],
        'enabled' => ['label' => 'Enabled', 'type' => 'bool'],
        'direction' => ['label' => 'Sync Direction', 'type' => 'choice', 'choices' => [
            'both' => 'Both ways', 'oro_to_microsoft' => 'Oro → Microsoft 365', 'microsoft_to_oro' => 'Microsoft 365 → Oro',
        ]],
        'conflictResolution' => ['label' => 'Conflict Resolution', 'type' => 'choice', 'choices' => [
            'oro_wins' => 'Oro wins', 'microsoft_wins' => 'Microsoft 365 wins', 'most_recent' => 'Most recent change wins', 'merge' => 'Merge field by field',
        ]],
        'writeAttendees' => ['label' => 'Write Attendees', 'type' => 'bool'],
    ];
    private const ADMIN_FIELDS = ['enabled', 'direction', 'conflictResolution', 'writeAttendees'];
    private const PARENT = ['system' => null, 'organization' => 'system', 'user' => 'organization'];

    private View $view;

    public function __construct(private readonly Container $c)
    {
    }

    public function handle(string $method, string $path): void
    {
        // Graph's routes: no session, no CSRF token (Graph has neither); the
        // handshake first, then the notifications (README "Push")
        if ($path === '/msync/notify' || $path === '/msync/lifecycle') {
            $this->push($method);
            return;
        }
        session_set_cookie_params(['httponly' => true, 'samesite' => 'Lax', 'path' => '/']);
        session_name('OROHOSTSESSID');
        session_start();
        $_SESSION['csrf'] ??= bin2hex(random_bytes(16));
        $this->view = new View($_SESSION['csrf']);
        if ($method === 'POST' && !hash_equals($_SESSION['csrf'], (string) ($_POST['_token'] ?? ''))) {
            $this->send(403, $this->view->page('Forbidden', '<p class="alert error">The form has expired. Reload the page and try again.</p>'));
            return;
        }
        try {
            match ([$method, $path]) {
                ['GET', '/'] => $this->redirect('/user/config'),
                ['GET', '/admin/system'], ['POST', '/admin/system'] => $this->scopePage('system', 0, $method),
                ['GET', '/admin/organization'], ['POST', '/admin/organization'] => $this->scopePage('organization', $this->orgId(), $method),
                ['GET', '/user/config'], ['POST', '/user/config'] => $this->scopePage('user', $this->userId(), $method),
                ['GET', '/connect/start'] => $this->connectStart(),
                ['GET', '/oauth/callback'] => $this->callback(),
                ['POST', '/connect/check'] => $this->check(),
                ['POST', '/connect/disconnect'] => $this->disconnect(),
                ['GET', '/calendar'] => $this->calendar(),
                ['POST', '/calendar/event'] => $this->saveEvent(),
                ['POST', '/calendar/delete'] => $this->deleteEvent(),
                ['POST', '/calendar/sync'] => $this->syncNow(),
                default => $this->send(404, $this->view->page('Not found', '<p>No such page.</p>')),
            };
        } catch (\OroMsyncError $e) {
            // the sidecar's message and kind; its data (which may carry tokens) is not shown
            $this->send(502, $this->view->page('Microsoft 365', '<p class="alert error">' . View::h($e->getMessage()) . ' (' . View::h($e->kind() ?? 'error') . ')</p>'));
        }
    }

    // ----- the settings pages -------------------------------------------------

    private function scopePage(string $scope, int $scopeId, string $method): void
    {
        $fields = $scope === 'user' ? array_keys(self::FIELDS) : self::ADMIN_FIELDS;
        $stored = $this->cfg()->scopeValues($scope, $scopeId);
        $errors = [];
        if ($method === 'POST') {
            [$posted, $errors] = $this->parseScopeForm($fields);
            // a strategy chosen here while the direction this scope ends up with is one way
            $resolved = $this->resolve($this->cascade($scope, $scopeId, $posted));
            if (($posted['conflictResolution'] ?? null) !== null && $resolved['effective']['direction'] !== 'both') {
                $errors['conflictResolution'] = 'Conflict Resolution applies only when Sync Direction is both ways: tick "Use ' . (self::PARENT[$scope] ?? 'default') . ' scope" or set Sync Direction to Both ways.';
            }
            if ($errors === []) {
                foreach ($fields as $f) {
                    $this->cfg()->set($scope, $scopeId, array_search($f, ConfigManager::SETTINGS, true), $posted[$f]);
                }
                $this->flash('success', 'Configuration saved.');
                $this->redirect($this->scopeUrl($scope));
                return;
            }
            $stored = array_filter($posted, fn ($v) => $v !== null);
            $this->flash('error', 'The configuration was not saved: correct the fields marked below.');
        }
        $resolved = $this->resolve($this->cascade($scope, $scopeId, $stored));
        $title = match ($scope) {
            'system' => 'System Configuration',
            'organization' => 'Organization Configuration: ' . $this->db()->value('SELECT name FROM oro_organization WHERE id = ?', [$scopeId]),
            'user' => 'My Configuration',
        };
        $body = '';
        if ($scope === 'user') {
            $body .= $this->connectionBlock($scopeId);
        }
        $body .= $this->settingsForm($scope, $fields, $stored, $resolved, $errors, $_POST['raw'] ?? []);
        $this->send($errors === [] ? 200 : 422, $this->view->page($title, $body, $this->takeFlash(), $this->userLabel()));
    }

    /** @return array{0:array<string,mixed>,1:array<string,string>} the values to store (null = use parent) and the errors */
    private function parseScopeForm(array $fields): array
    {
        $values = [];
        $errors = [];
        $parent = $_POST['use_parent'] ?? [];
        $raw = $_POST['value'] ?? [];
        foreach ($fields as $f) {
            if (isset($parent[$f])) {
                $values[$f] = null;
                continue;
            }
            $v = is_string($raw[$f] ?? null) ? trim($raw[$f]) : '';
            $def = self::FIELDS[$f];
            switch ($def['type']) {
                case 'bool':
                    $values[$f] = $v === '1';
                    break;
                case 'int':
                    if (!preg_match('/^\d{1,6}$/', $v) || (int) $v < 1 || (int) $v > 1440) {
                        $errors[$f] = 'Sync Interval must be a whole number of minutes from 1 to 1440 (24 hours).';
                        $values[$f] = null;
                        $_POST['raw'][$f] = $v;
                    } else {
                        $values[$f] = (int) $v;
                    }
                    break;
                default:
                    if (!isset($def['choices'][$v])) {
                        $errors[$f] = 'Choose one of the listed values.';
                        $values[$f] = null;
                    } else {
                        $values[$f] = $v;
                    }
            }
        }
        return [$values, $errors];
    }

    private function settingsForm(string $scope, array $fields, array $stored, array $resolved, array $errors, array $raw): string
    {
        $rows = '';
        foreach ($fields as $f) {
            $def = self::FIELDS[$f];
            $inherits = !array_key_exists($f, $stored) && !isset($raw[$f]);
            $value = $raw[$f] ?? ($stored[$f] ?? $resolved['effective'][$f] ?? null);
            $id = 'field-' . $f;
            $input = match ($def['type']) {
                'bool' => View::select("value[$f]", $id, ['1' => 'Yes', '0' => 'No'], $value === null ? '' : ($value ? '1' : '0'), $inherits),
                'int' => sprintf('<input type="text" inputmode="numeric" id="%s" name="value[%s]" value="%s" size="6"%s>', View::h($id), View::h($f), View::h((string) $value), $inherits ? ' disabled' : ''),
                default => View::select("value[$f]", $id, $def['choices'], (string) $value, $inherits),
            };
            $parentLabel = $scope === 'system' ? 'Use default' : 'Use ' . self::PARENT[$scope] . ' scope';
            $checkbox = sprintf('<label class="parent"><input type="checkbox" class="use-parent" name="use_parent[%s]" id="parent-%s" value="1"%s> %s</label>', View::h($f), View::h($f), $inherits ? ' checked' : '', View::h($parentLabel));
            $eff = $resolved['effective'][$f] ?? null;
            $effText = $eff === null ? 'not applicable' : match ($def['type']) {
                'bool' => $eff ? 'Yes' : 'No',
                'int' => $eff . ' min',
                default => $def['choices'][$eff] ?? (string) $eff,
            };
            $note = $resolved['notes'][$f] ?? null;
            $hint = match ($f) {
                'conflictResolution' => '<div class="hint">Applies only when Sync Direction is both ways.</div>',
                'writeAttendees' => '<div class="hint">Writes the attendees of the meetings the user organizes to Microsoft 365, which then mails them invitations, updates and cancellations. Off by default.</div>',
                default => '',
            };
            $rows .= sprintf(
                '<tr class="%s" data-field="%s"><th><label for="%s">%s</label></th><td>%s%s%s</td><td>%s</td><td class="effective"><span class="value">%s</span> <span class="source">from %s</span>%s</td></tr>',
                isset($errors[$f]) ? 'has-error' : '', View::h($f), View::h($id), View::h($def['label']), $input, $hint,
                isset($errors[$f]) ? '<div class="error-message">' . View::h($errors[$f]) . '</div>' : '',
                $checkbox, View::h($effText), View::h($resolved['sources'][$f] ?? 'default'),
                $note === null ? '' : '<div class="note">' . View::h($note) . '</div>',
            );
        }
        return sprintf(
            '<section class="box"><h2>Microsoft Settings</h2><form method="POST" id="settings">%s<table class="settings"><thead><tr><th>Field</th><th>Value</th><th></th><th>Effective value</th></tr></thead><tbody>%s</tbody></table><p><button type="submit" class="btn primary" id="save">Save settings</button></p></form></section>',
            $this->view->csrf(), $rows,
        );
    }

    private function cascade(string $scope, int $scopeId, array $values): array
    {
        $values = array_filter($values, fn ($v) => $v !== null);
        return match ($scope) {
            'system' => ['system' => $values],
            'organization' => ['system' => $this->cfg()->scopeValues('system', 0), 'organization' => $values],
            'user' => ['system' => $this->cfg()->scopeValues('system', 0), 'organization' => $this->cfg()->scopeValues('organization', $this->orgOfUser($scopeId)), 'user' => $values],
        };
    }

    private function resolve(array $cascade): array
    {
        $cascade = array_map(fn ($s) => $s === [] ? new \stdClass() : $s, $cascade);
        return $this->c->sidecar()->call('settings.resolve', ['cascade' => $cascade], 10);
    }

    // ----- the connection -----------------------------------------------------

    private function connectionBlock(int $userId): string
    {
        $conn = $this->c->connections()->get($userId);
        $connect = '<button type="button" class="btn primary connect" id="connect" data-url="/connect/start">%s</button>';
        if ($conn === null || $conn['tokens'] === null) {
            $inner = '<p id="connection-status">Not connected to Microsoft 365.</p>' . sprintf($connect, 'Connect');
        } else {
            $inner = sprintf(
                '<p id="connection-status" class="status-%s">Account: <strong id="account-name">%s</strong> <span class="email">%s</span> — %s</p>',
                View::h($conn['status']), View::h((string) $conn['account_name']), View::h((string) $conn['account_email']),
                View::h(match ($conn['status']) {
                    'connected' => 'connected',
                    'reconnect_required' => 'reconnect required: ' . ($conn['status_message'] ?? ''),
                    'consent_required' => 'consent required: ' . ($conn['status_message'] ?? ''),
                    default => $conn['status'] . ': ' . ($conn['status_message'] ?? ''),
                }),
            );
            $inner .= '<form method="POST" action="/connect/check" class="inline">' . $this->view->csrf() . '<button class="btn" id="check">Check connection</button></form> ';
            if ($conn['status'] !== 'connected') {
                $inner .= sprintf($connect, 'Connect again') . ' ';
            }
            $inner .= '<form method="POST" action="/connect/disconnect" class="inline" onsubmit="return confirm(\'Disconnect? Your events stay as they are on both sides.\')">' . $this->view->csrf() . '<button class="btn danger" id="disconnect">Disconnect</button></form>';
        }
        return '<section class="box"><h2>Microsoft 365 account</h2>' . $inner . '</section>';
    }

    /** The pop-up's first page: the sign-in address, with state and verifier kept in the session. */
    private function connectStart(): void
    {
        $userId = $this->userId();
        $email = (string) $this->db()->value('SELECT email FROM oro_user WHERE id = ?', [$userId]);
        $auth = $this->c->connectionManager()->start($email);
        $_SESSION['oauth'] = ['state' => $auth['state'], 'codeVerifier' => $auth['codeVerifier'], 'userId' => $userId];
        $this->redirect($auth['url']);
    }

    /** The redirect URI: check state, redeem the code, close the pop-up and refresh the opener. */
    private function callback(): void
    {
        $pending = $_SESSION['oauth'] ?? null;
        unset($_SESSION['oauth']);
        $state = (string) ($_GET['state'] ?? '');
        if ($pending === null || $state === '' || !hash_equals($pending['state'], $state)) {
            $this->flash('error', 'The sign-in answer does not belong to this session (state mismatch). Nothing was stored; click Connect to try again.');
        } elseif (isset($_GET['error'])) {
            $why = match ((string) $_GET['error']) {
                'access_denied' => 'Sign-in was cancelled or consent was refused',
                'consent_required', 'interaction_required' => 'Consent is required',
                default => 'Sign-in failed',
            };
            $this->flash('error', $why . ': ' . (string) ($_GET['error_description'] ?? $_GET['error']) . ' Nothing was stored.');
        } elseif (!isset($_GET['code'])) {
            $this->flash('error', 'The sign-in answer carried no code. Nothing was stored.');
        } else {
            try {
                $account = $this->c->connectionManager()->finish((int) $pending['userId'], $pending, (string) $_GET['code'], $state);
                $this->flash('success', 'Connected to Microsoft 365 as ' . ($account['displayName'] ?? $account['email'] ?? 'your account') . '.');
            } catch (\OroMsyncError $e) {
                $this->flash('error', 'Connecting failed: ' . $e->getMessage() . ' Nothing was stored.');
            }
        }
        // The pop-up closes itself and reloads the page that opened it.
        $this->send(200, '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Microsoft 365</title></head><body><p>You can close this window.</p>'
            . '<script>if (window.opener && !window.opener.closed) { window.opener.location.reload(); window.close(); } else { location.replace("/user/config"); }</script></body></html>');
    }

    private function check(): void
    {
        $res = $this->c->connectionManager()->check($this->userId());
        $msg = $res['message'];
        switch ($res['status']) {
            case 'connected':
                $msg .= isset($res['calendar']['name']) ? ' Calendar: ' . $res['calendar']['name'] . (($res['calendar']['canEdit'] ?? true) ? '' : ' (read only)') . '.' : '';
                $this->flash('success', $msg);
                break;
            case 'unavailable':
                $this->flash('warning', $msg . (isset($res['retryAfterMs']) ? sprintf(' Try again in %d seconds.', (int) ceil($res['retryAfterMs'] / 1000)) : ' Try again in a few minutes.'));
                break;
            default: // reconnect_required (the page shows Connect again), consent_required, error, not_connected
                $this->flash('error', $msg);
        }
        $this->redirect('/user/config');
    }

    /** Removes the tokens, the sync state and the links; the events of both sides stay as they are. */
    private function disconnect(): void
    {
        $u = $this->userId();
        try {
            $this->c->push()->remove($u); // subscription.remove; the record goes either way
        } catch (\OroMsyncError $e) {
            $this->flash('error', 'The Microsoft 365 subscription could not be removed (' . $e->getMessage() . '); it expires by itself within 7 days.');
        }
        $this->db()->transactional(function () use ($u) {
            foreach (['msync_event_link', 'msync_change_log', 'msync_sync_state', 'msync_connection'] as $t) {
                $this->db()->exec("DELETE FROM $t WHERE user_id = ?", [$u]);
            }
        });
        $this->flash('success', 'Disconnected. The tokens, the sync state and the links were removed; your events stay as they are in Oro and in Microsoft 365.');
        $this->redirect('/user/config');
    }

    // ----- push: Graph's change and lifecycle notifications ----------------

    private function push(string $method): void
    {
        header('Cache-Control: no-store');
        if ($method !== 'POST') {
            http_response_code(405);
            header('Allow: POST');
            return;
        }
        if (isset($_GET['validationToken'])) {
            // the validation handshake: exactly the (URL-decoded) token, as text/plain
            header('Content-Type: text/plain; charset=utf-8');
            header('X-Content-Type-Options: nosniff'); // never rendered as HTML
            echo (string) $_GET['validationToken'];
            return;
        }
        $body = (string) file_get_contents('php://input');
        // answer at once (Graph waits 3 s at most), then do the work
        http_response_code(202);
        header('Content-Length: 0');
        header('Connection: close');
        while (ob_get_level() > 0) {
            ob_end_flush();
        }
        flush();
        if (function_exists('fastcgi_finish_request')) {
            fastcgi_finish_request();
        }
        ignore_user_abort(true);
        try {
            $this->c->push()->receive($body);
        } catch (\OroMsyncError $e) {
            // -32602 on body: not Graph's; nothing more to do. Never the body in the log.
            file_put_contents('php://stderr', sprintf("[%s] push: notification.verify: %s (%s)\n", date('c'), $e->getMessage(), $e->kind() ?? 'error'));
        }
    }

    // ----- the calendar ------------------------------------------------------

    private function calendar(): void
    {
        $u = $this->userId();
        $events = $this->db()->all(
            "SELECT e.*, l.remote_id IS NOT NULL AS linked, EXISTS (SELECT 1 FROM msync_change_log c WHERE c.event_id = e.id) AS pending
               FROM oro_calendar_event e LEFT JOIN msync_event_link l ON l.event_id = e.id
              WHERE e.user_id = ? AND e.deleted_at IS NULL ORDER BY COALESCE(e.start_at, e.start_date::timestamptz), e.id",
            [$u]
        );
        $state = $this->db()->one('SELECT * FROM msync_sync_state WHERE user_id = ?', [$u]);
        $run = $this->db()->one('SELECT * FROM msync_sync_run WHERE user_id = ? AND finished_at IS NOT NULL ORDER BY id DESC LIMIT 1', [$u]);
        $issues = [];
        foreach (explode("\n", (string) ($run['detail'] ?? '')) as $line) {
            if (preg_match('/^issue #(\d+) (.*)$/', $line, $m)) {
                $issues[(int) $m[1]] = $m[2];
            } elseif (str_starts_with($line, 'issue ')) {
                $issues[] = substr($line, 6);
            }
        }
        $rows = '';
        foreach ($events as $e) {
            $id = (int) $e['id'];
            [$status, $label] = match (true) {
                isset($issues[$id]) => ['issue', 'issue: ' . $issues[$id]],
                $e['pending'] === true || $e['pending'] === 't' || !($e['linked'] === true || $e['linked'] === 't') => ['pending', 'pending'],
                default => ['linked', 'linked'],
            };
            $a = CalendarEventManager::toArray($e);
            $when = $a['allDay'] ? $a['start'] . ' (all day)' : gmdate('Y-m-d H:i', strtotime($a['start'])) . ' – ' . gmdate('H:i', strtotime($a['end'])) . ' UTC';
            $rows .= sprintf(
                '<tr data-event="%d"><td><form method="POST" action="/calendar/event" class="inline">%s<input type="hidden" name="id" value="%d"><input type="text" name="title" value="%s" class="title" aria-label="Title"> <button class="btn small">Save</button></form></td><td>%s</td><td><span class="sync %s">%s</span></td><td><form method="POST" action="/calendar/delete" class="inline">%s<input type="hidden" name="id" value="%d"><button class="btn small danger">Delete</button></form></td></tr>',
                $id, $this->view->csrf(), $id, View::h($e['title']), View::h($when), View::h($status), View::h($label), $this->view->csrf(), $id,
            );
        }
        $rows = $rows ?: '<tr><td colspan="4">No events.</td></tr>';
        $tomorrow = gmdate('Y-m-d', time() + 86400);
        $body = '<section class="box"><h2>Events</h2><table class="events" id="events"><thead><tr><th>Title</th><th>When</th><th>Sync status</th><th></th></tr></thead><tbody>' . $rows . '</tbody></table>'
            . '<h3>New event</h3><form method="POST" action="/calendar/event" id="new-event">' . $this->view->csrf()
            . '<label>Title <input type="text" name="title" id="event-title" required></label> '
            . sprintf('<label>Start (UTC) <input type="datetime-local" name="start" id="event-start" value="%sT10:00" required></label> ', View::h($tomorrow))
            . sprintf('<label>End (UTC) <input type="datetime-local" name="end" id="event-end" value="%sT11:00" required></label> ', View::h($tomorrow))
            . '<button class="btn primary" id="add-event">Add event</button></form></section>';
        $issueList = '';
        foreach ($issues as $k => $v) {
            $issueList .= '<li>' . View::h((is_int($k) && isset($issues[$k]) && $this->isEventId($events, $k) ? "event #$k: " : '') . $v) . '</li>';
        }
        $body .= sprintf(
            '<section class="box" id="last-run"><h2>Synchronization</h2><dl><dt>Last run</dt><dd id="last-status">%s</dd><dt>Last run at</dt><dd>%s</dd><dt>Next sync at</dt><dd id="next-sync">%s</dd><dt>Issues</dt><dd>%s</dd></dl><form method="POST" action="/calendar/sync">%s<button class="btn primary" id="sync-now">Sync now</button></form></section>',
            View::h($state === null ? 'never (not connected)' : trim(($state['last_status'] ?? 'not run yet') . ' ' . ($state['last_reason'] ?? '') . ' ' . ($state['last_error_kind'] ?? ''))),
            View::h(isset($state['last_sync_at']) ? gmdate('Y-m-d H:i:s', strtotime($state['last_sync_at'])) . ' UTC' : '—'),
            View::h(isset($state['next_sync_at']) ? gmdate('Y-m-d H:i:s', strtotime($state['next_sync_at'])) . ' UTC' : '— (no sync scheduled)'),
            $issueList === '' ? 'none' : '<ul>' . $issueList . '</ul>',
            $this->view->csrf(),
        );
        $this->send(200, $this->view->page('My Calendar', $body, $this->takeFlash(), $this->userLabel()));
    }

    private function isEventId(array $events, int $id): bool
    {
        foreach ($events as $e) {
            if ((int) $e['id'] === $id) {
                return true;
            }
        }
        return false;
    }

    private function saveEvent(): void
    {
        $u = $this->userId();
        $title = trim((string) ($_POST['title'] ?? ''));
        if (isset($_POST['id'])) {
            $owner = $this->db()->value('SELECT user_id FROM oro_calendar_event WHERE id = ? AND deleted_at IS NULL', [(int) $_POST['id']]);
            if ((int) $owner === $u) {
                $this->c->events()->update((int) $_POST['id'], ['title' => $title]);
                $this->flash('success', 'Event saved; it is synchronized in a few seconds.');
            }
        } else {
            try {
                $start = new \DateTimeImmutable((string) ($_POST['start'] ?? ''), new \DateTimeZone('UTC'));
                $end = new \DateTimeImmutable((string) ($_POST['end'] ?? ''), new \DateTimeZone('UTC'));
            } catch (\Exception) {
                $start = $end = null;
            }
            if ($title === '' || $start === null || $end <= $start) {
                $this->flash('error', 'An event needs a title and an end after its start.');
            } else {
                $this->c->events()->create($u, ['title' => $title, 'start' => $start->format(DATE_RFC3339), 'end' => $end->format(DATE_RFC3339)]);
                $this->flash('success', 'Event created; it is synchronized in a few seconds.');
            }
        }
        $this->redirect('/calendar');
    }

    private function deleteEvent(): void
    {
        $owner = $this->db()->value('SELECT user_id FROM oro_calendar_event WHERE id = ?', [(int) ($_POST['id'] ?? 0)]);
        if ((int) $owner === $this->userId()) {
            $this->c->events()->delete((int) $_POST['id']);
            $this->flash('success', 'Event deleted.');
        }
        $this->redirect('/calendar');
    }

    /** Sync now: the user's job is due at once (never before Microsoft's back-off) and the scheduler enqueues it. */
    private function syncNow(): void
    {
        $n = $this->db()->exec(
            "UPDATE msync_sync_state s SET next_sync_at = GREATEST(COALESCE(not_before, '-infinity'), now()), enqueued_at = NULL
               FROM msync_connection c WHERE c.user_id = s.user_id AND c.status = 'connected' AND s.user_id = ?",
            [$this->userId()]
        );
        if ($n === 0) {
            $this->flash('error', 'Nothing to sync: connect your Microsoft 365 account first (or connect it again).');
        } else {
            $this->c->scheduler()->tick();
            $this->flash('success', 'Sync queued.');
        }
        $this->redirect('/calendar');
    }

    // ----- helpers -----------------------------------------------------------

    private function cfg(): ConfigManager
    {
        return $this->c->configManager();
    }

    private function db(): \OroHost\Db\Database
    {
        return $this->c->db();
    }

    /** The signed-in user: the reference host has no login; ?user= on any page switches (kept in the session). */
    private function userId(): int
    {
        if (isset($_GET['user']) && ctype_digit((string) $_GET['user'])) {
            $_SESSION['user_id'] = (int) $_GET['user'];
        }
        return $_SESSION['user_id'] ??= (int) $this->db()->value('SELECT min(id) FROM oro_user');
    }

    private function orgId(): int
    {
        return isset($_GET['id']) && ctype_digit((string) $_GET['id']) ? (int) $_GET['id'] : (int) $this->db()->value('SELECT min(id) FROM oro_organization');
    }

    private function orgOfUser(int $userId): int
    {
        return (int) $this->db()->value('SELECT organization_id FROM oro_user WHERE id = ?', [$userId]);
    }

    private function userLabel(): string
    {
        return (string) $this->db()->value('SELECT username FROM oro_user WHERE id = ?', [$this->userId()]);
    }

    private function scopeUrl(string $scope): string
    {
        return ['system' => '/admin/system', 'organization' => '/admin/organization', 'user' => '/user/config'][$scope];
    }

    private function flash(string $type, string $message): void
    {
        $_SESSION['flash'][] = [$type, $message];
    }

    private function takeFlash(): array
    {
        $f = $_SESSION['flash'] ?? [];
        unset($_SESSION['flash']);
        return $f;
    }

    private function redirect(string $url): void
    {
        header('Location: ' . $url, true, 303);
    }

    private function send(int $status, string $html): void
    {
        http_response_code($status);
        header('Content-Type: text/html; charset=utf-8');
        header('Cache-Control: no-store');
        header('Referrer-Policy: no-referrer'); // the callback's address (code, state) goes nowhere
        echo $html;
    }
}
