<?php

declare(strict_types=1);

namespace OroHost\Tests\Unit;

use OroHost\Sync\Instant;
use PHPUnit\Framework\TestCase;

/** expectedUpdatedAt is compared as an instant: the sidecar reformats what it echoes. */
final class InstantTest extends TestCase
{
    public function testReformattedTimesAreTheSameInstant(): void
    {
        $this->assertTrue(Instant::same('2026-03-01T10:00:00.120000+00:00', '2026-03-01T10:00:00.12Z'));
        $this->assertTrue(Instant::same('2026-03-01T11:00:00+01:00', '2026-03-01T10:00:00Z'));
        $this->assertTrue(Instant::same('2026-03-01T10:00:00.123456+00:00', '2026-03-01T10:00:00.123456000Z'));
        $this->assertFalse(Instant::same('2026-03-01T10:00:00.123456+00:00', '2026-03-01T10:00:00.123457Z'));
        $this->assertFalse(Instant::same('2026-03-01T10:00:00.000000001Z', '2026-03-01T10:00:00Z'), 'nine fractional digits count');
        $this->assertSame(-1, Instant::compare('2026-03-01T10:00:00.9Z', '2026-03-01T10:00:01Z'));
    }

    public function testDatabaseRoundTrip(): void
    {
        $this->assertSame('2026-03-01T10:00:00.120000+00:00', Instant::fromDb('2026-03-01 10:00:00.12+00'));
        $this->assertSame('2026-03-01 09:00:00.123456+00', Instant::toDb('2026-03-01T10:00:00.123456789+01:00'));
        $this->assertTrue(Instant::same(Instant::fromDb('2026-03-01 10:00:00+00'), '2026-03-01T10:00:00Z'));
        $this->assertSame('2026-03-01 10:00:00.123457+00', Instant::toDbCeil('2026-03-01T10:00:00.123456001Z'), 'a not-before time never moves earlier');
        $this->assertSame('2026-03-01 10:00:01.000000+00', Instant::toDbCeil('2026-03-01T10:00:00.9999999Z'));
        $this->assertSame('2026-03-01 10:00:00.120000+00', Instant::toDbCeil('2026-03-01T10:00:00.12Z'));
    }
}
