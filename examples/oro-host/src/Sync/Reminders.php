<?php

declare(strict_types=1);

namespace OroHost\Sync;

/**
 * An event's reminders after an operation's reminder instruction
 * (sync/CONFLICTS.md, "Reminders and time zones"): the smallest becomes
 * Microsoft 365's (its method kept, or a web_socket one added), the ones
 * then smaller are removed, the larger ones kept; "not on" removes them all.
 */
final class Reminders
{
    private const MINUTES = ['M' => 1, 'H' => 60, 'D' => 1440, 'W' => 10080];

    /** @param list<array{method:string,interval:array{number:int,unit:string}}> $reminders */
    public static function apply(array $reminders, ?array $change): array
    {
        if ($change === null) {
            return $reminders;
        }
        if (!$change['on']) {
            return [];
        }
        $minutes = fn (array $r) => $r['interval']['number'] * (self::MINUTES[$r['interval']['unit']] ?? 1);
        $smallest = null;
        foreach ($reminders as $i => $r) {
            if ($smallest === null || $minutes($r) < $minutes($reminders[$smallest])) {
                $smallest = $i;
            }
        }
        $out = [['method' => $smallest === null ? 'web_socket' : $reminders[$smallest]['method'], 'interval' => $change['interval']]];
        foreach ($reminders as $i => $r) {
            if ($i !== $smallest && $minutes($r) > $change['minutesBeforeStart']) {
                $out[] = $r;
            }
        }
        return $out;
    }
}
