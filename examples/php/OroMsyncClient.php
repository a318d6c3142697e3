<?php
// A minimal host-side client for oro-msync, the way an Oro bundle would talk
// to it: start the sidecar once, write one JSON-RPC request per line, read
// replies line by line and match them by id. Stderr goes to a file so a
// chatty sidecar can never fill the pipe and stall both processes.
//
// In Oro itself you would use Symfony Process with an InputStream; proc_open
// keeps this example free of dependencies.

declare(strict_types=1);

final class OroMsyncError extends RuntimeException
{
    public function __construct(
        public readonly int $rpcCode,
        string $message,
        public readonly ?array $data,
    ) {
        parent::__construct($message, $rpcCode);
    }

    /** The stable failure kind, e.g. "reconnect_required" or "throttled". */
    public function kind(): ?string
    {
        return $this->data['kind'] ?? null;
    }

    public function retryable(): bool
    {
        return (bool) ($this->data['retryable'] ?? false);
    }
}

final class OroMsyncClient
{
    /** @var resource */
    private $process;
    /** @var array<int, resource> */
    private array $pipes;
    private int $nextId = 1;
    private string $buffer = '';
    /** @var array<string, array> replies that arrived while waiting for another id */
    private array $pending = [];

    /** @param list<string> $command e.g. ['/usr/local/bin/oro-msync', '--log-level=info'] */
    public function __construct(array $command, string $stderrLog = 'php://stderr')
    {
        $spec = [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['file', $stderrLog, 'a']];
        if ($stderrLog === 'php://stderr') {
            $spec[2] = STDERR;
        }
        $process = proc_open($command, $spec, $pipes);
        if (!is_resource($process)) {
            throw new RuntimeException('cannot start oro-msync');
        }
        $this->process = $process;
        $this->pipes = $pipes;
    }

    /**
     * Calls a method and waits for its reply.
     *
     * @throws OroMsyncError for a JSON-RPC error reply
     */
    public function call(string $method, array|object $params = [], float $timeoutSeconds = 60.0): mixed
    {
        $id = $this->nextId++;
        // Params are by name: an empty PHP array would encode as [] (by
        // position), so send an empty object instead.
        $this->send(['jsonrpc' => '2.0', 'id' => $id, 'method' => $method, 'params' => $params === [] ? new stdClass() : $params]);
        $deadline = microtime(true) + $timeoutSeconds;
        while (true) {
            $reply = $this->pending[(string) $id] ?? null;
            if ($reply !== null) {
                unset($this->pending[(string) $id]);
                if (isset($reply['error'])) {
                    $e = $reply['error'];
                    throw new OroMsyncError((int) $e['code'], (string) $e['message'], $e['data'] ?? null);
                }
                return $reply['result'];
            }
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                // Ask the sidecar to stop; it still answers (-32800), which a
                // later read will drop.
                $this->send(['jsonrpc' => '2.0', 'method' => '$/cancelRequest', 'params' => ['id' => $id]]);
                throw new RuntimeException("oro-msync: $method timed out");
            }
            $this->readSome($left);
        }
    }

    /** Closes stdin (the sidecar finishes in-flight work and exits 0) and waits. */
    public function close(): int
    {
        if (is_resource($this->pipes[0])) {
            fclose($this->pipes[0]);
        }
        while (!feof($this->pipes[1])) {
            $this->readSome(5.0);
        }
        fclose($this->pipes[1]);
        return proc_close($this->process);
    }

    private function send(array $message): void
    {
        $line = json_encode($message, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES) . "\n";
        for ($written = 0; $written < strlen($line);) {
            $n = fwrite($this->pipes[0], substr($line, $written));
            if ($n === false || $n === 0) {
                throw new RuntimeException('oro-msync: cannot write request (process gone?)');
            }
            $written += $n;
        }
        fflush($this->pipes[0]);
    }

    private function readSome(float $timeoutSeconds): void
    {
        $read = [$this->pipes[1]];
        $write = $except = null;
        $sec = (int) $timeoutSeconds;
        $usec = (int) (($timeoutSeconds - $sec) * 1e6);
        if (stream_select($read, $write, $except, $sec, $usec) < 1) {
            return;
        }
        $chunk = fread($this->pipes[1], 1 << 16);
        if ($chunk === false || ($chunk === '' && feof($this->pipes[1]))) {
            if (feof($this->pipes[1])) {
                return;
            }
            throw new RuntimeException('oro-msync: read failed');
        }
        $this->buffer .= $chunk;
        while (($pos = strpos($this->buffer, "\n")) !== false) {
            $line = substr($this->buffer, 0, $pos);
            $this->buffer = substr($this->buffer, $pos + 1);
            if (trim($line) === '') {
                continue;
            }
            $reply = json_decode($line, true, 512, JSON_THROW_ON_ERROR);
            // Batches are not used by this client; every reply is one object.
            $this->pending[(string) ($reply['id'] ?? 'null')] = $reply;
        }
    }
}
