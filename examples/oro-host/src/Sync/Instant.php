<?php

declare(strict_types=1);

namespace OroHost\Sync;

/**
 * Timestamps as instants. The sidecar reformats what it echoes (`+00:00`
 * comes back as `Z`, `.120` as `.12`, up to nine fractional digits), so
 * `expectedUpdatedAt` must be compared with the stored `updated_at` as an
 * instant, never as a string. PHP's DateTime keeps microseconds only, so the
 * comparison is done on (epoch seconds, nanoseconds).
 */
final class Instant
{
    private const RFC3339 = '/^(\d{4}-\d\d-\d\d)[Tt ](\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?\s*([Zz]|[+-]\d\d(?::?\d\d)?)$/';

    /** @return array{int,int} epoch seconds and nanoseconds */
    public static function parse(string $s): array
    {
        if (!preg_match(self::RFC3339, trim($s), $m)) {
            throw new \InvalidArgumentException("not an RFC 3339 timestamp: $s");
        }
        $zone = strtoupper($m[4]) === 'Z' ? '+00:00' : $m[4];
        if (strlen($zone) === 3) {
            $zone .= ':00';
        }
        $dt = new \DateTimeImmutable($m[1] . 'T' . $m[2] . $zone);
        $nanos = (int) str_pad($m[3] ?? '', 9, '0');
        return [$dt->getTimestamp(), $nanos];
    }

    public static function same(?string $a, ?string $b): bool
    {
        if ($a === null || $b === null) {
            return $a === $b;
        }
        return self::parse($a) === self::parse($b);
    }

    /** a < b ? -1 : (a > b ? 1 : 0) */
    public static function compare(string $a, string $b): int
    {
        return self::parse($a) <=> self::parse($b);
    }

    /** A PostgreSQL timestamptz as read in UTC ('2026-05-01 10:00:00.1234+00') → RFC 3339 with microseconds. */
    public static function fromDb(string $pg): string
    {
        return (new \DateTimeImmutable($pg))->setTimezone(new \DateTimeZone('UTC'))->format('Y-m-d\TH:i:s.uP');
    }

    /**
     * RFC 3339 → a timestamptz literal, rounded up to the microsecond: a
     * "not before" time (nextSyncAt has nine fractional digits) must not move
     * earlier, as PostgreSQL's own rounding to microseconds might.
     */
    public static function toDbCeil(string $rfc3339): string
    {
        [$sec, $ns] = self::parse($rfc3339);
        $us = intdiv($ns + 999, 1000);
        if ($us === 1000000) {
            [$sec, $us] = [$sec + 1, 0];
        }
        return gmdate('Y-m-d H:i:s', $sec) . sprintf('.%06d+00', $us);
    }

    /** RFC 3339 → what PostgreSQL stores (microseconds; nanoseconds are cut, see CONFLICTS.md). */
    public static function toDb(string $rfc3339): string
    {
        [$sec, $ns] = self::parse($rfc3339);
        return gmdate('Y-m-d H:i:s', $sec) . sprintf('.%06d+00', intdiv($ns, 1000));
    }
}
