<?php

declare(strict_types=1);

namespace OroHost\Sidecar;

use OroHost\Config\HostConfig;

/** Starts oro-msync the way every part of the host does: same flags, stderr to a rotated log. */
final class SidecarFactory
{
    public function __construct(private readonly HostConfig $config)
    {
    }

    public function create(string $name): \OroMsyncClient
    {
        $cmd = [$this->config->sidecar, '--log-level=info'];
        if ($this->config->authorityUrl !== null) {
            $cmd[] = '--authority-url=' . $this->config->authorityUrl;
        }
        if ($this->config->graphUrl !== null) {
            $cmd[] = '--graph-url=' . $this->config->graphUrl;
        }
        if (!is_dir($this->config->logDir)) {
            mkdir($this->config->logDir, 0775, true);
        }
        $log = $this->config->logDir . '/oro-msync-' . preg_replace('/[^A-Za-z0-9_.-]/', '_', $name) . '.log';
        return new \OroMsyncClient($cmd, $log, ['maxLogBytes' => 5 << 20, 'keepLogs' => 3]);
    }
}
