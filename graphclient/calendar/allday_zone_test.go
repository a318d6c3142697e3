package calendar

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
	"github.com/oro-msync/oro-msync/graphclient/tzmap"
	calsync "github.com/oro-msync/oro-msync/sync"
)

// TestAllDayInUserZone writes an all-day event in the user's Windows zone,
// for users from UTC−12 to UTC+14, and reads it back, by id and through a
// delta round, against the simulator (which anchors all-day events in the
// zone written): the plain dates never move by a day, and the stored event
// is anchored in the Windows zone, never in UTC or an IANA name.
func TestAllDayInUserZone(t *testing.T) {
	f := newFixture(t, graphsim.Options{})
	r := New(f.session, Options{})
	ctx := context.Background()
	day := func(d int) time.Time { return time.Date(2026, 2, d, 0, 0, 0, 0, time.UTC) }
	for _, iana := range []string{"Etc/GMT+12", "Pacific/Pago_Pago", "America/Los_Angeles", "UTC", "Europe/Berlin", "Asia/Tokyo", "Pacific/Auckland", "Pacific/Tongatapu", "Pacific/Kiritimati"} {
		t.Run(iana, func(t *testing.T) {
			win, ok := tzmap.Windows(iana)
			if !ok {
				t.Fatalf("no Windows zone for %s", iana)
			}
			w := calsync.Write{Key: "k", Op: calsync.WriteCreate, Event: calsync.RemoteEvent{Subject: "Holiday " + iana, AllDay: true, Start: day(2), End: day(3), TimeZone: win}}
			res, err := r.Apply(ctx, []calsync.Write{w})
			if err != nil || len(res) != 1 || res[0].Err != nil {
				t.Fatalf("create: %v %+v", err, res)
			}
			id := res[0].Event.ID
			got, err := r.Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if !got.AllDay || !got.Start.Equal(day(2)) || !got.End.Equal(day(3)) || got.TimeZone != win {
				t.Errorf("read back %v..%v allDay=%v zone %q, want 2026-02-02..2026-02-03 in %q", got.Start, got.End, got.AllDay, got.TimeZone, win)
			}
			// an update of the dates keeps the user's zone
			w = calsync.Write{Key: "u", Op: calsync.WriteUpdate, ID: id, Fields: []string{"start", "end", "allDay"},
				Event: calsync.RemoteEvent{AllDay: true, Start: day(5), End: day(7), TimeZone: win}}
			if res, err := r.Apply(ctx, []calsync.Write{w}); err != nil || res[0].Err != nil {
				t.Fatalf("update: %v %+v", err, res)
			}
			for _, m := range f.sim.Events(f.upn) {
				var g struct {
					Subject                                    string
					IsAllDay                                   bool
					OriginalStartTimeZone, OriginalEndTimeZone string
					Start                                      struct{ DateTime string }
				}
				b, _ := json.Marshal(m)
				if json.Unmarshal(b, &g) != nil || g.Subject != "Holiday "+iana {
					continue
				}
				if g.OriginalStartTimeZone != win || g.OriginalEndTimeZone != win {
					t.Errorf("stored in %q/%q, want %q", g.OriginalStartTimeZone, g.OriginalEndTimeZone, win)
				}
			}
			got, err = r.Get(ctx, id)
			if err != nil || !got.Start.Equal(day(5)) || !got.End.Equal(day(7)) {
				t.Errorf("after update read %v..%v (%v), want 2026-02-05..2026-02-07", got.Start, got.End, err)
			}
		})
	}
	// and a delta round reads every one of them on its dates
	page, err := r.Delta(ctx, calsync.Window{Start: day(1).AddDate(0, -1, 0), End: day(1).AddDate(0, 2, 0)}, "")
	seen := 0
	for err == nil {
		for _, ev := range page.Events {
			seen++
			if !ev.Start.Equal(day(5)) || !ev.End.Equal(day(7)) {
				t.Errorf("delta read %q on %v..%v, want 2026-02-05..2026-02-07", ev.Subject, ev.Start, ev.End)
			}
		}
		if page.NextLink == "" {
			break
		}
		page, err = r.Delta(ctx, calsync.Window{}, page.NextLink)
	}
	if err != nil || seen != 9 {
		t.Fatalf("delta: %d events, %v; want 9", seen, err)
	}
}

// TestWireTimeAllDayZone: an all-day date goes out as midnight of that date
// labelled with the zone named, a timed instant as the wall-clock time in
// the zone named (either side of its DST change), in UTC without one.
func TestWireTimeAllDayZone(t *testing.T) {
	d := time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		t      time.Time
		allDay bool
		zone   string
		want   dateTimeTimeZone
	}{
		{d, true, "Line Islands Standard Time", dateTimeTimeZone{"2026-02-02T00:00:00.0000000", "Line Islands Standard Time"}},
		{d, true, "Dateline Standard Time", dateTimeTimeZone{"2026-02-02T00:00:00.0000000", "Dateline Standard Time"}},
		{d, true, "", dateTimeTimeZone{"2026-02-02T00:00:00.0000000", "UTC"}},
		{d.Add(9 * time.Hour), false, "W. Europe Standard Time", dateTimeTimeZone{"2026-02-02T10:00:00.0000000", "W. Europe Standard Time"}},
		{time.Date(2026, 7, 1, 7, 0, 0, 0, time.UTC), false, "W. Europe Standard Time", dateTimeTimeZone{"2026-07-01T09:00:00.0000000", "W. Europe Standard Time"}},
		{time.Date(2026, 7, 1, 7, 0, 0, 0, time.UTC), false, "AUS Eastern Standard Time", dateTimeTimeZone{"2026-07-01T17:00:00.0000000", "AUS Eastern Standard Time"}},
		{time.Date(2026, 1, 1, 7, 0, 0, 0, time.UTC), false, "AUS Eastern Standard Time", dateTimeTimeZone{"2026-01-01T18:00:00.0000000", "AUS Eastern Standard Time"}},
		{d.Add(9 * time.Hour), false, "", dateTimeTimeZone{"2026-02-02T09:00:00.0000000", "UTC"}},
		{d.Add(9 * time.Hour), false, "Not A Zone", dateTimeTimeZone{"2026-02-02T09:00:00.0000000", "UTC"}},
	} {
		if got := *wireTime(c.t, c.allDay, c.zone); got != c.want {
			t.Errorf("wireTime(%v, %v, %q) = %+v, want %+v", c.t, c.allDay, c.zone, got, c.want)
		}
	}
}
