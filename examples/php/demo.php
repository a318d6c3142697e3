<?php
// Usage: php examples/php/demo.php /path/to/oro-msync [sidecar flags...]
//
// Starts the sidecar, asks for its API version and resolves a settings
// cascade the way Oro's configuration page would, then shuts it down the
// polite way (close stdin, wait for exit code 0).

declare(strict_types=1);

require __DIR__ . '/OroMsyncClient.php';

$client = new OroMsyncClient(array_slice($argv, 1));

$doc = $client->call('rpc.discover');
printf("API version %s, %d methods\n", $doc['info']['version'], count($doc['methods']));

$resolved = $client->call('settings.resolve', ['cascade' => [
    'system' => ['enabled' => true, 'direction' => 'both', 'conflictResolution' => 'most_recent'],
    'organization' => ['syncIntervalMinutes' => 30],
    'user' => ['direction' => null, 'conflictResolution' => 'merge'],
]]);
printf("enabled=%s direction=%s (%s) conflictResolution=%s (%s) interval=%d (%s)\n",
    var_export($resolved['effective']['enabled'], true),
    $resolved['effective']['direction'], $resolved['sources']['direction'],
    $resolved['effective']['conflictResolution'], $resolved['sources']['conflictResolution'],
    $resolved['effective']['syncIntervalMinutes'], $resolved['sources']['syncIntervalMinutes']);

try {
    $client->call('settings.resolve', ['cascade' => ['user' => ['direction' => 'sideways']]]);
    echo "bad input was accepted\n";
    exit(1);
} catch (OroMsyncError $e) {
    printf("rejected: code=%d kind=%s field=%s\n", $e->rpcCode, $e->kind() ?? '-', $e->data['field'] ?? '-');
}

exit($client->close());
