package calendar

import (
	"testing"
	"time"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestToGraphRecurrenceNull: an update that names the recurrence of an
// event without a series (a series made a single event in Oro) sends an
// explicit "recurrence": null, the only way Graph makes a series a single
// event; an update that does not name it sends none.
func TestToGraphRecurrenceNull(t *testing.T) {
	ev := calsync.RemoteEvent{Subject: "retro", Reminder: calsync.ReminderUnset,
		Start: time.Date(2025, 3, 3, 8, 0, 0, 0, time.UTC), End: time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)}
	for _, c := range []struct {
		fields []string
		want   string
	}{
		{[]string{"subject", "recurrence"}, `{"subject":"retro","recurrence":null}`},
		{[]string{"subject"}, `{"subject":"retro"}`},
	} {
		got, err := toGraph(calsync.Write{Op: calsync.WriteUpdate, ID: "A", Fields: c.fields, Event: ev})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("fields %v:\n got %s\nwant %s", c.fields, got, c.want)
		}
	}
}
