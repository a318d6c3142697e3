package graphsim_test

import (
	"context"
	"slices"
	"testing"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/oro-msync/oro-msync/graphclient/graphsim"
)

// weeklySeries creates a weekly Tuesday series of n occurrences from
// 2025-01-07 10:00 UTC and returns the master.
func weeklySeries(t *testing.T, e *sdkEnv, n int32) models.Eventable {
	t.Helper()
	ev := newEvent("weekly", "2025-01-07T10:00:00", "2025-01-07T11:00:00")
	rec, err := pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{models.TUESDAY_DAYOFWEEK}, count: n}.model("2025-01-07")
	if err != nil {
		t.Fatal(err)
	}
	ev.SetRecurrence(rec)
	m, err := e.client.Me().Events().Post(context.Background(), ev, nil)
	if err != nil {
		t.Fatalf("post series: %v", err)
	}
	return m
}

// deltaItem is what a test needs of one delta item.
type deltaItem struct {
	id, typ string
	removed bool
}

// deltaRound follows a delta round from link ("" for an initial round in
// January 2025) and returns its pages' items and the deltaLink.
func deltaRound(t *testing.T, e *sdkEnv, link string, pageSize string) ([][]deltaItem, string) {
	t.Helper()
	ctx := context.Background()
	h := abs.NewRequestHeaders()
	if pageSize != "" {
		h.Add("Prefer", "odata.maxpagesize="+pageSize)
	}
	cfg := &users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{Headers: h}
	b := e.client.Me().CalendarView().Delta()
	if link == "" {
		cfg.QueryParameters = &users.ItemCalendarViewDeltaRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-01-01T00:00:00Z"), EndDateTime: ptr("2025-02-01T00:00:00Z")}
	} else {
		b = b.WithUrl(link)
	}
	var pages [][]deltaItem
	for {
		page, err := b.GetAsDeltaGetResponse(ctx, cfg)
		if err != nil {
			t.Fatalf("delta: %v", err)
		}
		var items []deltaItem
		for _, it := range page.GetValue() {
			d := deltaItem{id: *it.GetId(), removed: it.GetAdditionalData()["@removed"] != nil}
			if it.GetTypeEscaped() != nil {
				d.typ = it.GetTypeEscaped().String()
			}
			items = append(items, d)
		}
		pages = append(pages, items)
		if page.GetOdataNextLink() == nil {
			return pages, *page.GetOdataDeltaLink()
		}
		b = e.client.Me().CalendarView().Delta().WithUrl(*page.GetOdataNextLink())
		cfg = &users.ItemCalendarViewDeltaRequestBuilderGetRequestConfiguration{Headers: h}
	}
}

func flatten(pages [][]deltaItem) []deltaItem { return slices.Concat(pages...) }

// summary counts a round's items: live ones by type, and @removed ones.
func summary(items []deltaItem) map[string]int {
	m := map[string]int{}
	for _, it := range items {
		if it.removed {
			m["removed"]++
		} else {
			m[it.typ]++
		}
	}
	return m
}

// TestSeriesDelta: semantics §1.1 — what an incremental calendarView/delta
// round shows after a series changes, under each switch.
func TestSeriesDelta(t *testing.T) {
	ctx := context.Background()
	type change func(t *testing.T, e *sdkEnv, master string, occ []string)
	cancelSecond := func(t *testing.T, e *sdkEnv, _ string, occ []string) {
		if err := e.client.Me().Events().ByEventId(occ[1]).Delete(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	toWednesday := func(t *testing.T, e *sdkEnv, master string, _ []string) {
		patch := models.NewEvent()
		rec, _ := pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{models.WEDNESDAY_DAYOFWEEK}, count: 4}.model("2025-01-07")
		patch.SetRecurrence(rec)
		if _, err := e.client.Me().Events().ByEventId(master).Patch(ctx, patch, nil); err != nil {
			t.Fatal(err)
		}
	}
	deleteSeries := func(t *testing.T, e *sdkEnv, master string, _ []string) {
		if err := e.client.Me().Events().ByEventId(master).Delete(ctx, nil); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		opts   graphsim.Options
		change change
		want   map[string]int
		newIDs bool // the occurrences in the round must all have new ids
	}{
		{"cancelled occurrence: no @removed", graphsim.Options{}, cancelSecond, map[string]int{"seriesMaster": 1, "occurrence": 3}, false},
		{"cancelled occurrence, DeltaRemovedOccurrences", graphsim.Options{DeltaRemovedOccurrences: true}, cancelSecond, map[string]int{"seriesMaster": 1, "occurrence": 3, "removed": 1}, false},
		{"cancelled occurrence, DeltaOmitSeriesMaster", graphsim.Options{DeltaOmitSeriesMaster: true}, cancelSecond, map[string]int{"occurrence": 3}, false},
		{"pattern change: new ids, no @removed", graphsim.Options{}, toWednesday, map[string]int{"seriesMaster": 1, "occurrence": 4}, true},
		{"pattern change, DeltaMasterOnlyOnSeriesChange", graphsim.Options{DeltaMasterOnlyOnSeriesChange: true}, toWednesday, map[string]int{"seriesMaster": 1}, false},
		{"pattern change, DeltaRemovedOccurrences", graphsim.Options{DeltaRemovedOccurrences: true}, toWednesday, map[string]int{"seriesMaster": 1, "occurrence": 4, "removed": 4}, true},
		{"deleted series: the master's @removed only", graphsim.Options{}, deleteSeries, map[string]int{"removed": 1}, false},
		{"deleted series, DeltaOmitSeriesMaster: nothing", graphsim.Options{DeltaOmitSeriesMaster: true}, deleteSeries, map[string]int{}, false},
		{"deleted series, DeltaRemovedSeriesOccurrences", graphsim.Options{DeltaRemovedSeriesOccurrences: true}, deleteSeries, map[string]int{"removed": 5}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSDKEnv(t, tc.opts)
			master := *weeklySeries(t, e, 4).GetId()
			pages, dl := deltaRound(t, e, "", "")
			var occ []string
			for _, it := range flatten(pages) {
				if it.typ == "occurrence" {
					occ = append(occ, it.id)
				}
			}
			tc.change(t, e, master, occ)
			pages, _ = deltaRound(t, e, dl, "")
			items := flatten(pages)
			if got := summary(items); !mapsEqual(got, tc.want) {
				t.Errorf("round after the change: %v, want %v", got, tc.want)
			}
			for _, it := range items {
				if tc.newIDs && it.typ == "occurrence" && slices.Contains(occ, it.id) {
					t.Errorf("occurrence %s kept its id across a pattern change (semantics §1.1: new ids)", it.id)
				}
			}
		})
	}
	t.Run("deleted series master answers 404", func(t *testing.T) {
		e := newSDKEnv(t, graphsim.Options{})
		master := *weeklySeries(t, e, 2).GetId()
		deleteSeries(t, e, master, nil)
		_, err := e.client.Me().Events().ByEventId(master).Get(ctx, nil)
		if st, code := odataCode(t, err); st != 404 || code != "ErrorItemNotFound" {
			t.Errorf("got %d %s", st, code)
		}
	})
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestSeriesPaging: semantics §1.1 — a series is not split across pages,
// so a page exceeds odata.maxpagesize; DeltaSplitSeries splits it.
func TestSeriesPaging(t *testing.T) {
	for _, tc := range []struct {
		opts  graphsim.Options
		sizes []int
	}{
		{graphsim.Options{}, []int{5}},
		{graphsim.Options{DeltaSplitSeries: true}, []int{2, 2, 1}},
	} {
		e := newSDKEnv(t, tc.opts)
		weeklySeries(t, e, 4)
		pages, _ := deltaRound(t, e, "", "2")
		var sizes []int
		for _, p := range pages {
			sizes = append(sizes, len(p))
		}
		if !slices.Equal(sizes, tc.sizes) {
			t.Errorf("split=%v: page sizes %v, want %v", tc.opts.DeltaSplitSeries, sizes, tc.sizes)
		}
	}
}

// TestSeriesMasterProperties: semantics §1.2.3 and §1.5 — cancelled
// occurrences and exceptions as OID.{master}.{date} on a GET of the master
// with $select (and $expand); /instances leaves cancelled ones out;
// occurrenceId on $select; an iCalUId per instance and the series uid.
func TestSeriesMasterProperties(t *testing.T) {
	ctx := context.Background()
	e := newSDKEnv(t, graphsim.Options{})
	me := e.client.Me()
	m := weeklySeries(t, e, 4)
	master := *m.GetId()
	win := &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-01-01T00:00:00Z"), EndDateTime: ptr("2025-02-01T00:00:00Z"),
		Select: []string{"id", "type", "occurrenceId", "iCalUId", "start"}}
	inst, err := me.Events().ByEventId(master).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{QueryParameters: win})
	if err != nil || len(inst.GetValue()) != 4 {
		t.Fatalf("instances: %v", err)
	}
	occ := inst.GetValue()
	if err := me.Events().ByEventId(*occ[1].GetId()).Delete(ctx, nil); err != nil {
		t.Fatal(err)
	}
	patch := models.NewEvent()
	patch.SetSubject(ptr("special"))
	if _, err := me.Events().ByEventId(*occ[2].GetId()).Patch(ctx, patch, nil); err != nil {
		t.Fatal(err)
	}
	oid := func(day string) string { return "OID." + master + "." + day }

	got, err := me.Events().ByEventId(master).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsEventItemRequestBuilderGetQueryParameters{
			Select: []string{"subject", "occurrenceId", "cancelledOccurrences", "exceptionOccurrences"}, Expand: []string{"exceptionOccurrences"}}})
	if err != nil {
		t.Fatal(err)
	}
	if c := got.GetCancelledOccurrences(); !slices.Equal(c, []string{oid("2025-01-14")}) {
		t.Errorf("cancelledOccurrences %v", c)
	}
	if v := got.GetAdditionalData()["occurrenceId"]; v != nil {
		t.Errorf("master occurrenceId %v, want null", v)
	}
	if x := got.GetExceptionOccurrences(); len(x) != 1 || extra(x[0], "occurrenceId") != oid("2025-01-21") || *x[0].GetSubject() != "special" {
		t.Errorf("exceptionOccurrences %v", x)
	}
	plain, err := me.Events().ByEventId(master).Get(ctx, nil)
	if err != nil || plain.GetCancelledOccurrences() != nil || plain.GetAdditionalData()["cancelledOccurrences"] != nil {
		t.Errorf("cancelledOccurrences without $select: %v %v", plain.GetCancelledOccurrences(), err)
	}

	inst, err = me.Events().ByEventId(master).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{QueryParameters: win})
	if err != nil {
		t.Fatal(err)
	}
	var days, uids []string
	for _, o := range inst.GetValue() {
		days = append(days, extra(o, "occurrenceId"))
		uids = append(uids, *o.GetICalUId())
	}
	if !slices.Equal(days, []string{oid("2025-01-07"), oid("2025-01-21"), oid("2025-01-28")}) {
		t.Errorf("instances occurrenceIds %v", days)
	}
	full, err := me.Events().ByEventId(master).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemEventsEventItemRequestBuilderGetQueryParameters{Select: []string{"iCalUId", "uid"}}})
	if err != nil {
		t.Fatal(err)
	}
	seriesUID := *full.GetICalUId()
	if u := extra(full, "uid"); u != seriesUID {
		t.Errorf("uid %q, want the master's iCalUId %s", u, seriesUID)
	}
	seen := map[string]bool{seriesUID: true}
	for _, u := range uids {
		if seen[u] {
			t.Errorf("iCalUId %s repeats (semantics §1.5: one per occurrence)", u)
		}
		seen[u] = true
	}
}

// extra reads a string property the v1.0 SDK model has no accessor for
// (occurrenceId, uid): it lands in AdditionalData as a *string.
func extra(ev models.Eventable, key string) string {
	if v, _ := ev.GetAdditionalData()[key].(*string); v != nil {
		return *v
	}
	return ""
}

// TestSeriesChangeCancellations: semantics §1.3 ("What happens to exceptions
// when the pattern or the times change") and Part 4 #8 — a pattern or time
// change of a series discards its exceptions (Outlook) and, by default,
// keeps each cancelled date cancelled while the new pattern still generates
// it (EWS); SeriesChangeRestoresCancelled brings them back (Outlook).
func TestSeriesChangeCancellations(t *testing.T) {
	ctx := context.Background()
	tuesdays := func(n int32) models.PatternedRecurrenceable {
		rec, err := pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{models.TUESDAY_DAYOFWEEK}, count: n}.model("2025-01-07")
		if err != nil {
			t.Fatal(err)
		}
		return rec
	}
	extend := models.NewEvent()
	extend.SetRecurrence(tuesdays(6))
	times := func(start, end string) models.Eventable {
		ev, dt := models.NewEvent(), newEvent("", start, end)
		ev.SetStart(dt.GetStart())
		ev.SetEnd(dt.GetEnd())
		return ev
	}
	later := times("2025-01-07T11:00:00", "2025-01-07T12:00:00")
	wednesdays := times("2025-01-08T10:00:00", "2025-01-08T11:00:00")
	wed, err := pattern{typ: models.WEEKLY_RECURRENCEPATTERNTYPE, interval: 1, days: []models.DayOfWeek{models.WEDNESDAY_DAYOFWEEK}, count: 5}.model("2025-01-08")
	if err != nil {
		t.Fatal(err)
	}
	wednesdays.SetRecurrence(wed)
	cases := []struct {
		name      string
		opts      graphsim.Options
		patch     models.Eventable
		cancelled []string // dates in cancelledOccurrences
		days      []string // instance dates in January
	}{
		{"pattern change keeps the cancellation", graphsim.Options{}, extend, []string{"2025-01-14"}, []string{"2025-01-07", "2025-01-21", "2025-01-28"}},
		{"time change keeps the cancellation", graphsim.Options{}, later, []string{"2025-01-14"}, []string{"2025-01-07", "2025-01-21", "2025-01-28"}},
		{"a date the new pattern lacks is forgotten", graphsim.Options{}, wednesdays, nil, []string{"2025-01-08", "2025-01-15", "2025-01-22", "2025-01-29"}},
		{"SeriesChangeRestoresCancelled", graphsim.Options{SeriesChangeRestoresCancelled: true}, extend, nil, []string{"2025-01-07", "2025-01-14", "2025-01-21", "2025-01-28"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newSDKEnv(t, tc.opts)
			me := e.client.Me()
			master := *weeklySeries(t, e, 5).GetId()
			win := &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-01-01T00:00:00Z"), EndDateTime: ptr("2025-02-01T00:00:00Z")}
			inst, err := me.Events().ByEventId(master).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{QueryParameters: win})
			if err != nil {
				t.Fatal(err)
			}
			occ := inst.GetValue()
			if err := me.Events().ByEventId(*occ[1].GetId()).Delete(ctx, nil); err != nil {
				t.Fatal(err)
			}
			special := models.NewEvent()
			special.SetSubject(ptr("special"))
			if _, err := me.Events().ByEventId(*occ[2].GetId()).Patch(ctx, special, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := me.Events().ByEventId(master).Patch(ctx, tc.patch, nil); err != nil {
				t.Fatalf("series change: %v", err)
			}

			got, err := me.Events().ByEventId(master).Get(ctx, &users.ItemEventsEventItemRequestBuilderGetRequestConfiguration{
				QueryParameters: &users.ItemEventsEventItemRequestBuilderGetQueryParameters{
					Select: []string{"cancelledOccurrences", "exceptionOccurrences"}, Expand: []string{"exceptionOccurrences"}}})
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, d := range tc.cancelled {
				want = append(want, "OID."+master+"."+d)
			}
			if c := got.GetCancelledOccurrences(); !slices.Equal(c, want) && len(c)+len(want) > 0 {
				t.Errorf("cancelledOccurrences %v, want %v", c, want)
			}
			if x := got.GetExceptionOccurrences(); len(x) != 0 {
				t.Errorf("%d exceptions left, want none", len(x))
			}
			inst, err = me.Events().ByEventId(master).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{QueryParameters: win})
			if err != nil {
				t.Fatal(err)
			}
			var days []string
			for _, o := range inst.GetValue() {
				days = append(days, (*o.GetStart().GetDateTime())[:10])
				if o.GetTypeEscaped().String() != "occurrence" || *o.GetSubject() != "weekly" {
					t.Errorf("instance %s is a %s %q, want a plain occurrence", *o.GetStart().GetDateTime(), o.GetTypeEscaped(), *o.GetSubject())
				}
			}
			if !slices.Equal(days, tc.days) {
				t.Errorf("instances on %v, want %v", days, tc.days)
			}
		})
	}
	t.Run("a reset exception's id is its occurrence's again", func(t *testing.T) {
		e := newSDKEnv(t, graphsim.Options{})
		me := e.client.Me()
		master := *weeklySeries(t, e, 5).GetId()
		inst, err := me.Events().ByEventId(master).Instances().Get(ctx, &users.ItemEventsItemInstancesRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.ItemEventsItemInstancesRequestBuilderGetQueryParameters{StartDateTime: ptr("2025-01-01T00:00:00Z"), EndDateTime: ptr("2025-02-01T00:00:00Z")}})
		if err != nil {
			t.Fatal(err)
		}
		id := *inst.GetValue()[2].GetId()
		special := models.NewEvent()
		special.SetSubject(ptr("special"))
		if _, err := me.Events().ByEventId(id).Patch(ctx, special, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := me.Events().ByEventId(master).Patch(ctx, extend, nil); err != nil {
			t.Fatal(err)
		}
		got, err := me.Events().ByEventId(id).Get(ctx, nil)
		if err != nil || got.GetTypeEscaped().String() != "occurrence" {
			t.Errorf("GET %v, want the occurrence", err)
		}
	})
}
