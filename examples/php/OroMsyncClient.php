<?php
// The host-side client for oro-msync, the way an Oro bundle talks to it:
// start the sidecar once, write one JSON-RPC request per line, read replies
// line by line and match them by id. No dependencies beyond PHP itself, so
// both examples/php/demo.php and the reference host (examples/oro-host) use
// this file.
//
// What it guards against (each one bit a host writer once):
// - a dead sidecar is noticed at once (end of its stdout, or a failed write)
//   and reported as OroMsyncProcessError; the next call starts a new one;
// - every call has a deadline: at the deadline the client sends
//   $/cancelRequest, waits a short grace for the -32800 reply, and restarts a
//   sidecar that does not answer even then;
// - params are encoded as the schema wants them: an empty PHP array is `{}`
//   where the schema expects an object (cascade scopes, a link's `fields`,
//   options) and `[]` only where it expects an array (events). The shapes
//   come from the sidecar's own OpenRPC document (rpc.discover);
// - stderr never fills its pipe: the client drains it into a log file that it
//   rotates by size (or passes it to a stream you give it).

declare(strict_types=1);

class OroMsyncError extends RuntimeException
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

    /** How long Microsoft asked us to wait, when it said. */
    public function retryAfterMs(): ?int
    {
        return isset($this->data['retryAfterMs']) ? (int) $this->data['retryAfterMs'] : null;
    }

    /** Tokens rotated before the call failed: the host must store them. */
    public function tokens(): ?array
    {
        return $this->data['tokens'] ?? null;
    }
}

/** The sidecar died, or could not be started, or stopped answering. */
class OroMsyncProcessError extends RuntimeException
{
}

/** A call ran past its deadline; it was cancelled. */
class OroMsyncTimeout extends OroMsyncProcessError
{
}

final class OroMsyncClient
{
    /** @var resource|null */
    private $process = null;
    /** @var array<int, resource> */
    private array $pipes = [];
    private int $nextId = 1;
    private string $buffer = '';
    /** @var array<string, array> replies that arrived while waiting for another id */
    private array $pending = [];
    /** @var resource|null where stderr goes when it is not a rotated file */
    private $stderrSink = null;
    private ?string $stderrLog = null;
    private int $starts = 0;
    private ?int $lastExitCode = null;
    /** @var array<string, array>|null method name => params schemas (from rpc.discover) */
    private ?array $methods = null;
    private array $components = [];
    private array $options;
    /** @var array|null the first proc_get_status() that saw the process gone (PHP 8.2 reports the exit status once) */
    private ?array $exitStatus = null;

    /**
     * @param list<string> $command e.g. ['/usr/local/bin/oro-msync', '--log-level=info']
     * @param string $stderrLog a file path (drained and rotated by the client),
     *                          or 'php://stderr' to pass the sidecar's logs through
     * @param array{maxLogBytes?:int, keepLogs?:int, cancelGraceSeconds?:float, env?:array<string,string>|null, shapes?:bool} $options
     */
    public function __construct(private readonly array $command, string $stderrLog = 'php://stderr', array $options = [])
    {
        $this->options = $options + ['maxLogBytes' => 10 << 20, 'keepLogs' => 3, 'cancelGraceSeconds' => 2.0, 'env' => null, 'shapes' => true];
        if ($stderrLog === 'php://stderr') {
            $this->stderrSink = STDERR;
        } else {
            $this->stderrLog = $stderrLog;
        }
        $this->start();
    }

    /** How many times a sidecar was started (1 + restarts). */
    public function starts(): int
    {
        return $this->starts;
    }

    /** The sidecar's process id, null when none is running. */
    public function pid(): ?int
    {
        return $this->process !== null ? $this->status()['pid'] : null;
    }

    public function isRunning(): bool
    {
        return $this->process !== null && $this->status()['running'];
    }

    private function status(): array
    {
        if ($this->exitStatus !== null) {
            return $this->exitStatus;
        }
        $st = proc_get_status($this->process);
        if (!$st['running']) {
            $this->exitStatus = $st;
        }
        return $st;
    }

    /**
     * Calls a method and waits for its reply.
     *
     * @throws OroMsyncError        for a JSON-RPC error reply
     * @throws OroMsyncTimeout      when the deadline passed (the call was cancelled)
     * @throws OroMsyncProcessError when the sidecar died during the call
     */
    public function call(string $method, array|object $params = [], float $timeoutSeconds = 60.0): mixed
    {
        if (!$this->isRunning()) {
            $this->restart();
        }
        if ($this->methods === null && $this->options['shapes'] && $method !== 'rpc.discover') {
            $this->learnShapes();
        }
        $id = $this->nextId++;
        $this->send(['jsonrpc' => '2.0', 'id' => $id, 'method' => $method, 'params' => $this->shapeParams($method, $params)]);
        $deadline = microtime(true) + $timeoutSeconds;
        $cancelled = false;
        while (true) {
            $reply = $this->pending[(string) $id] ?? null;
            if ($reply !== null) {
                unset($this->pending[(string) $id]);
                if (isset($reply['error'])) {
                    $e = $reply['error'];
                    if ($cancelled && (int) $e['code'] === -32800) {
                        throw new OroMsyncTimeout("oro-msync: $method ran past its deadline of {$timeoutSeconds}s and was cancelled");
                    }
                    throw new OroMsyncError((int) $e['code'], (string) $e['message'], $e['data'] ?? null);
                }
                return $reply['result'];
            }
            $left = $deadline - microtime(true);
            if ($left <= 0) {
                if (!$cancelled) {
                    // Ask the sidecar to stop the call; it answers -32800
                    // (or the result, if it finished meanwhile).
                    $cancelled = true;
                    $this->send(['jsonrpc' => '2.0', 'method' => '$/cancelRequest', 'params' => ['id' => $id]]);
                    $deadline = microtime(true) + $this->options['cancelGraceSeconds'];
                    continue;
                }
                // Not even the cancellation was answered: the process is stuck.
                $this->kill();
                throw new OroMsyncTimeout("oro-msync: $method did not answer its cancellation; the sidecar was killed");
            }
            $this->readSome($left);
        }
    }

    /** Closes stdin (the sidecar finishes in-flight work and exits 0) and waits. */
    public function close(): int
    {
        if ($this->process === null) {
            return $this->lastExitCode ?? 0;
        }
        if (isset($this->pipes[0]) && is_resource($this->pipes[0])) {
            fclose($this->pipes[0]);
        }
        $until = microtime(true) + 30;
        while (!feof($this->pipes[1]) && microtime(true) < $until) {
            $this->pump(1.0, false);
        }
        return $this->reap();
    }

    /** Kills the sidecar at once (SIGKILL) and reaps it. */
    public function kill(): void
    {
        if ($this->process !== null) {
            proc_terminate($this->process, 9);
            $this->reap();
        }
    }

    public function __destruct()
    {
        if ($this->process !== null) {
            $this->close();
        }
    }

    private function start(): void
    {
        $this->rotateLog();
        $spec = [0 => ['pipe', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']];
        $process = @proc_open($this->command, $spec, $pipes, null, $this->options['env']);
        if (!is_resource($process)) {
            throw new OroMsyncProcessError('oro-msync: cannot start ' . implode(' ', $this->command));
        }
        stream_set_blocking($pipes[1], false);
        stream_set_blocking($pipes[2], false);
        $this->process = $process;
        $this->pipes = $pipes;
        $this->buffer = '';
        $this->pending = [];
        $this->exitStatus = null;
        $this->starts++;
    }

    private function restart(): void
    {
        if ($this->process !== null) {
            $this->kill();
        }
        $this->start();
        $this->methods = null;
    }

    /** Closes the pipes and collects the exit code; the process is gone after it. */
    private function reap(): int
    {
        foreach ($this->pipes as $i => $p) {
            if (is_resource($p)) {
                if ($i === 2) {
                    $this->drainStderr();
                }
                fclose($p);
            }
        }
        $this->pipes = [];
        $code = proc_close($this->process);
        if ($this->exitStatus !== null) {
            // already collected by proc_get_status (proc_close then says -1)
            $code = $this->exitStatus['signaled'] ? 128 + $this->exitStatus['termsig'] : $this->exitStatus['exitcode'];
        }
        $this->process = null;
        $this->lastExitCode = $code;
        return $code;
    }

    /** Reads the OpenRPC document once per process, to know which params are objects. */
    private function learnShapes(): void
    {
        $doc = $this->call('rpc.discover', [], 10.0);
        $this->methods = [];
        foreach ($doc['methods'] ?? [] as $m) {
            $props = [];
            foreach ($m['params'] ?? [] as $p) {
                $props[$p['name']] = $p['schema'] ?? [];
            }
            $this->methods[$m['name']] = ['type' => 'object', 'properties' => $props];
        }
        $this->components = $doc['components']['schemas'] ?? [];
    }

    private function shapeParams(string $method, array|object $params): object|array
    {
        $schema = $this->methods[$method] ?? ['type' => 'object'];
        return self::shape($params, $schema, $this->components);
    }

    /**
     * Turns PHP arrays into what the schema wants: an empty array is an
     * object unless the schema says array; an associative array is an
     * object anyway. Public for tests.
     */
    public static function shape(mixed $value, array $schema, array $components): mixed
    {
        $schema = self::deref($schema, $components);
        if (is_object($value) && !$value instanceof stdClass) {
            return $value; // JsonSerializable and the like: as given
        }
        if ($value instanceof stdClass) {
            $value = (array) $value;
            if ($value === []) {
                return new stdClass();
            }
            $schema['type'] = 'object';
        }
        if (!is_array($value)) {
            return $value;
        }
        $types = (array) ($schema['type'] ?? []);
        $wantsArray = in_array('array', $types, true) && !in_array('object', $types, true);
        if ($value === []) {
            return $wantsArray ? [] : new stdClass();
        }
        if ($wantsArray && array_is_list($value)) {
            $items = $schema['items'] ?? [];
            return array_map(fn ($v) => self::shape($v, is_array($items) ? $items : [], $components), $value);
        }
        if (!$wantsArray && !in_array('object', $types, true) && array_is_list($value) && !isset($schema['properties'])) {
            // no schema says what it is: keep a list a list
            return array_map(fn ($v) => self::shape($v, [], $components), $value);
        }
        $out = new stdClass();
        foreach ($value as $k => $v) {
            $sub = $schema['properties'][$k] ?? (is_array($schema['additionalProperties'] ?? null) ? $schema['additionalProperties'] : []);
            $out->{$k} = self::shape($v, $sub, $components);
        }
        return $out;
    }

    /** Resolves $ref, allOf and oneOf far enough to know properties and type. */
    private static function deref(array $schema, array $components, int $depth = 0): array
    {
        if ($depth > 10) {
            return $schema;
        }
        if (isset($schema['$ref']) && str_starts_with($schema['$ref'], '#/components/schemas/')) {
            $name = substr($schema['$ref'], strlen('#/components/schemas/'));
            $schema = array_merge($components[$name] ?? [], array_diff_key($schema, ['$ref' => 1]));
            return self::deref($schema, $components, $depth + 1);
        }
        foreach (['allOf', 'oneOf', 'anyOf'] as $k) {
            if (!isset($schema[$k])) {
                continue;
            }
            $parts = $schema[$k];
            unset($schema[$k]);
            foreach ($parts as $part) {
                $part = self::deref($part, $components, $depth + 1);
                if (($part['type'] ?? null) === 'null') {
                    $schema['type'] = array_values(array_unique(array_merge((array) ($schema['type'] ?? []), ['null'])));
                    continue;
                }
                if (isset($part['properties'])) {
                    $schema['properties'] = ($schema['properties'] ?? []) + $part['properties'];
                }
                if (isset($part['type'])) {
                    $schema['type'] = array_values(array_unique(array_merge((array) ($schema['type'] ?? []), (array) $part['type'])));
                }
                if (isset($part['items']) && !isset($schema['items'])) {
                    $schema['items'] = $part['items'];
                }
                if (isset($part['additionalProperties']) && !isset($schema['additionalProperties'])) {
                    $schema['additionalProperties'] = $part['additionalProperties'];
                }
            }
        }
        return $schema;
    }

    private function send(array $message): void
    {
        $line = json_encode($message, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_PRESERVE_ZERO_FRACTION) . "\n";
        $until = microtime(true) + 30;
        for ($written = 0; $written < strlen($line);) {
            if (!$this->isRunning()) {
                $this->died('while a request was written');
            }
            $n = @fwrite($this->pipes[0], substr($line, $written));
            if ($n === false) {
                $this->died('while a request was written');
            }
            if ($n === 0) {
                // stdin is full: the sidecar may be blocked on its stderr
                if (microtime(true) > $until) {
                    $this->kill();
                    throw new OroMsyncProcessError('oro-msync: stdin stayed full for 30 s; the sidecar was killed');
                }
                $this->pump(0.05, true);
                continue;
            }
            $written += $n;
        }
        fflush($this->pipes[0]);
    }

    /** Reports a dead sidecar with its exit status, and reaps it. */
    private function died(string $when): never
    {
        $this->drainStderr();
        // wait a moment for the exit status when stdout closed first
        for ($i = 0; $i < 50 && $this->status()['running']; $i++) {
            usleep(10000);
        }
        $status = $this->status();
        $this->reap();
        $how = match (true) {
            $status['running'] => 'closed its stdout',
            $status['signaled'] => 'was killed by signal ' . $status['termsig'],
            default => 'exited with status ' . $status['exitcode'],
        };
        throw new OroMsyncProcessError("oro-msync $how $when");
    }

    private function readSome(float $timeoutSeconds): void
    {
        if (!$this->pump(min($timeoutSeconds, 1.0), true)) {
            $this->died('while a call was waiting for its reply');
        }
    }

    /**
     * Waits up to $timeoutSeconds for output, moves stderr to the log and
     * stdout lines to $pending. Returns false at the end of stdout.
     */
    private function pump(float $timeoutSeconds, bool $checkAlive): bool
    {
        $read = [$this->pipes[1]];
        if (isset($this->pipes[2]) && is_resource($this->pipes[2]) && !feof($this->pipes[2])) {
            $read[] = $this->pipes[2];
        }
        $write = $except = null;
        $sec = (int) $timeoutSeconds;
        $usec = (int) (($timeoutSeconds - $sec) * 1e6);
        $n = @stream_select($read, $write, $except, $sec, $usec);
        if ($n === false) {
            return true; // interrupted by a signal: the caller loops
        }
        foreach ($read as $r) {
            if ($r === ($this->pipes[2] ?? null)) {
                $this->drainStderr();
                continue;
            }
            $chunk = fread($this->pipes[1], 1 << 16);
            if ($chunk === false || ($chunk === '' && feof($this->pipes[1]))) {
                return false;
            }
            $this->buffer .= $chunk;
            while (($pos = strpos($this->buffer, "\n")) !== false) {
                $line = substr($this->buffer, 0, $pos);
                $this->buffer = substr($this->buffer, $pos + 1);
                if (trim($line) === '') {
                    continue;
                }
                $reply = json_decode($line, true, 512, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
                // Batches are not used by this client; every reply is one object.
                $this->pending[(string) ($reply['id'] ?? 'null')] = $reply;
            }
        }
        if ($n === 0 && $checkAlive && !$this->isRunning()) {
            // exited without closing stdout yet (or a grandchild holds it)
            return false;
        }
        return true;
    }

    private function drainStderr(): void
    {
        $p = $this->pipes[2] ?? null;
        if (!is_resource($p)) {
            return;
        }
        while (($chunk = fread($p, 1 << 16)) !== false && $chunk !== '') {
            if ($this->stderrSink !== null) {
                fwrite($this->stderrSink, $chunk);
                continue;
            }
            if (@filesize($this->stderrLog) + strlen($chunk) > $this->options['maxLogBytes']) {
                $this->rotateLog(true);
            }
            clearstatcache(true, $this->stderrLog);
            file_put_contents($this->stderrLog, $chunk, FILE_APPEND);
        }
    }

    /** log → log.1 → … → log.N (dropped), when the log is over the limit or $force. */
    private function rotateLog(bool $force = false): void
    {
        if ($this->stderrLog === null) {
            return;
        }
        clearstatcache(true, $this->stderrLog);
        $size = @filesize($this->stderrLog);
        if ($size === false || (!$force && $size < $this->options['maxLogBytes'])) {
            return;
        }
        $keep = max(1, (int) $this->options['keepLogs']);
        @unlink($this->stderrLog . '.' . $keep);
        for ($i = $keep - 1; $i >= 1; $i--) {
            if (file_exists($this->stderrLog . '.' . $i)) {
                rename($this->stderrLog . '.' . $i, $this->stderrLog . '.' . ($i + 1));
            }
        }
        rename($this->stderrLog, $this->stderrLog . '.1');
    }
}
