<?php

declare(strict_types=1);

namespace OroHost\MessageQueue;

use PhpAmqpLib\Channel\AMQPChannel;
use PhpAmqpLib\Connection\AMQPStreamConnection;
use PhpAmqpLib\Message\AMQPMessage;
use PhpAmqpLib\Wire\AMQPTable;

/**
 * RabbitMQ as Oro's message-queue transport, reduced to one topic
 * ("sync this user"). Delayed delivery uses one TTL queue per delay that
 * dead-letters into the main queue (no plugin needed; a queue holds one
 * delay only, so no message waits behind a longer one).
 */
final class AmqpTransport
{
    private AMQPStreamConnection $conn;
    private AMQPChannel $channel;

    public function __construct(string $url, private readonly string $queue)
    {
        $u = parse_url($url);
        $this->conn = new AMQPStreamConnection(
            $u['host'] ?? '127.0.0.1',
            $u['port'] ?? 5672,
            urldecode($u['user'] ?? 'guest'),
            urldecode($u['pass'] ?? 'guest'),
            isset($u['path']) && $u['path'] !== '/' ? urldecode(substr($u['path'], 1)) : '/',
            false, 'AMQPLAIN', null, 'en_US', 5.0, 30.0, null, true, 15
        );
        $this->channel = $this->conn->channel();
        $this->channel->queue_declare($this->queue, false, true, false, false);
    }

    /** Publishes "sync this user", now or after $delayMs. */
    public function publish(int $userId, int $delayMs = 0): void
    {
        $msg = new AMQPMessage(json_encode(['userId' => $userId]), [
            'content_type' => 'application/json',
            'delivery_mode' => AMQPMessage::DELIVERY_MODE_PERSISTENT,
        ]);
        if ($delayMs <= 0) {
            $this->channel->basic_publish($msg, '', $this->queue);
            return;
        }
        $delayQueue = $this->queue . '.delay.' . $delayMs;
        $this->channel->queue_declare($delayQueue, false, true, false, false, false, new AMQPTable([
            'x-message-ttl' => $delayMs,
            'x-dead-letter-exchange' => '',
            'x-dead-letter-routing-key' => $this->queue,
            'x-expires' => $delayMs + 60000,
        ]));
        $this->channel->basic_publish($msg, '', $delayQueue);
    }

    /**
     * Consumes one message at a time (prefetch 1) and hands it to $handler,
     * which acks, rejects or requeues it. Returns when $stop says so, or
     * after $idleSeconds without a message.
     *
     * @param callable(AMQPMessage):void $handler
     * @param callable():bool $stop
     */
    public function consume(callable $handler, callable $stop, float $idleSeconds): void
    {
        $this->channel->basic_qos(0, 1, false);
        $this->channel->basic_consume($this->queue, '', false, false, false, false, $handler);
        $idleSince = microtime(true);
        while ($this->channel->is_consuming() && !$stop()) {
            $before = $idleSince;
            try {
                $this->channel->wait(null, false, 0.5);
                $idleSince = microtime(true);
            } catch (\PhpAmqpLib\Exception\AMQPTimeoutException) {
                if ($idleSeconds > 0 && microtime(true) - $before > $idleSeconds) {
                    break;
                }
                $idleSince = $before;
            }
        }
    }

    /** Messages ready in the main queue (for tests and status). */
    public function depth(?string $queue = null): int
    {
        [, $count] = $this->channel->queue_declare($queue ?? $this->queue, true);
        return (int) $count;
    }

    public function purge(): void
    {
        $this->channel->queue_purge($this->queue);
    }

    public function close(): void
    {
        try {
            $this->channel->close();
            $this->conn->close();
        } catch (\Throwable) {
        }
    }
}
