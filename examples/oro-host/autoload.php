<?php
// No Composer: Debian's packages install their own class maps under
// /usr/share/php (php-symfony-console, php-symfony-process, php-amqplib);
// this file loads those and maps OroHost\ onto src/ (PSR-4).

declare(strict_types=1);

foreach ([
    'Symfony/Component/Console/autoload.php',
    'Symfony/Component/Process/autoload.php',
    'PhpAmqpLib/autoload.php',
] as $lib) {
    $path = '/usr/share/php/' . $lib;
    if (!is_file($path)) {
        fwrite(STDERR, "oro-host: $path is missing: apt-get install php-symfony-console php-symfony-process php-amqplib\n");
        exit(1);
    }
    require_once $path;
}

spl_autoload_register(static function (string $class): void {
    if (str_starts_with($class, 'OroHost\\')) {
        $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen('OroHost\\'))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

// The hardened JSON-RPC client, shared with examples/php.
require_once __DIR__ . '/../php/OroMsyncClient.php';
