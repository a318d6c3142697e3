<?php
// Router script for PHP's built-in web server:
//   php -S 127.0.0.1:8400 -q web/router.php   (from examples/oro-host, with the OROHOST_* environment)
// -q keeps the server from logging request lines: the OAuth callback's query
// string holds the authorization code. This script logs method, path and
// status only (never a query string, a form or a token).

declare(strict_types=1);

require __DIR__ . '/../autoload.php';

$path = (string) parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH);
$started = microtime(true);
register_shutdown_function(static function () use ($path, $started): void {
    file_put_contents('php://stderr', sprintf("[%s] %s %s → %d (%d ms)\n", date('c'), $_SERVER['REQUEST_METHOD'] ?? '?', $path, http_response_code(), (microtime(true) - $started) * 1000));
});
(new OroHost\Web\WebApp(new OroHost\Container(OroHost\Config\HostConfig::fromEnv())))->handle($_SERVER['REQUEST_METHOD'] ?? 'GET', $path);
