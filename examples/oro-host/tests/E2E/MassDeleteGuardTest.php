<?php

declare(strict_types=1);

namespace OroHost\Tests\E2E;

use OroHost\Tests\Support\E2ETestCase;

/** Most of the calendar vanishes in Outlook: nothing is deleted in Oro until the user confirms. */
final class MassDeleteGuardTest extends E2ETestCase
{
    public function testNothingDeletedUntilConfirmed(): void
    {
        $fay = $this->user('fay');
        $this->connect($fay);
        $ids = [];
        for ($i = 1; $i <= 8; $i++) {
            $ids[$i] = $this->outlookCreate($fay, "Meeting $i", $i);
        }
        $this->drain();
        $all = array_map(fn ($i) => "Meeting $i", range(1, 8));
        $this->assertInSync($fay, $all);

        for ($i = 1; $i <= 6; $i++) {
            $this->outlookDelete($fay, $ids[$i]);
        }
        $this->makeDue($fay);
        $this->drain();

        $state = $this->state($fay);
        $this->assertSame('partial', $state['last_status']);
        $this->assertSame('mass_delete_guard', $state['last_reason']);
        $pending = json_decode($state['mass_delete_pending'], true);
        $this->assertSame('oro', $pending['guards'][0]['side']);
        $this->assertSame(6, $pending['guards'][0]['deletes']);
        $this->assertSame($all, $this->oroTitles($fay), 'nothing deleted in Oro');
        $this->assertSame(8, (int) $this->db()->value('SELECT count(*) FROM msync_event_link WHERE user_id = ?', [$fay]), 'links kept');

        // the next periodic run repeats the guard: still nothing deleted
        $this->makeDue($fay);
        $this->drain();
        $this->assertSame('mass_delete_guard', $this->state($fay)['last_reason']);
        $this->assertSame($all, $this->oroTitles($fay));

        // the user confirms
        $this->console('oro:msync:confirm-mass-delete', (string) $fay);
        $this->assertTrue($this->state($fay)['allow_mass_delete']);
        $this->drain();
        $this->assertInSync($fay, ['Meeting 7', 'Meeting 8']);
        $state = $this->state($fay);
        $this->assertSame('completed', $state['last_status']);
        $this->assertNull($state['mass_delete_pending']);
        $this->assertFalse($state['allow_mass_delete'], 'the confirmation is used once');
    }
}
