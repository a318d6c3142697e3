package calsync

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
)

// digestCases are varied contents, Oro's and Microsoft's, for the hash
// tests and benchmarks: every field group set and unset, each way a
// group's value is built.
func digestCases(t testing.TB) []struct {
	name string
	c    content
} {
	oro := func(e Event) content {
		c, err := parseContent(e)
		if err != nil {
			t.Fatalf("%+v: %s %s", e, err.field, err.msg)
		}
		return c
	}
	start := time.Date(2026, 3, 5, 9, 30, 0, 0, time.UTC)
	attendees := []Attendee{
		{Email: "Zoe@Example.com", DisplayName: "Zoe", Status: "accepted", Type: attendeeRequired},
		{Email: "room1@example.com", Status: "none", Type: attendeeOptional},
		{Email: "adam@example.COM", Status: "tentative", Type: attendeeRequired},
	}
	exception := RemoteEvent{Subject: "moved", Body: "b\r\n", Start: start.Add(7*24*time.Hour + time.Hour), End: start.Add(7*24*time.Hour + 2*time.Hour), Reminder: 10, OriginalStart: start.Add(7 * 24 * time.Hour)}
	allDayException := RemoteEvent{Subject: "all day", AllDay: true, Start: time.Date(2026, 3, 19, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), Reminder: ReminderOff, OriginalStart: start.Add(14 * 24 * time.Hour)}
	series := &SeriesInfo{
		Recurrence: &Recurrence{RecurrenceType: "weekly", Interval: 1, DayOfWeek: []string{"thursday"}, StartTime: start, Count: ptr(10), TimeZone: "Europe/Berlin"},
		Exceptions: []RemoteEvent{allDayException, exception},
		Cancelled:  []time.Time{start.Add(35 * 24 * time.Hour), start.Add(21 * 24 * time.Hour).In(time.FixedZone("x", 3600))},
	}
	master := RemoteEvent{Type: "seriesMaster", Subject: "weekly", Start: start, End: start.Add(time.Hour), Reminder: 15, IsOrganizer: true, OrganizerEmail: "Me@Example.com", Attendees: attendees, Series: series}
	single := RemoteEvent{Type: "singleInstance", Subject: "meeting", Body: "Agenda:\r\n- one\r\n- two\r\n\r\n", Location: "Room 1", Start: start, End: start.Add(30 * time.Minute), Reminder: ReminderOff, OrganizerEmail: "Boss@Example.com", Attendees: attendees[:2]}
	remoteAllDay := RemoteEvent{Type: "singleInstance", Subject: "holiday", AllDay: true, Start: time.Date(2026, 12, 24, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 27, 0, 0, 0, 0, time.UTC), Reminder: 0}
	withLinkHashes := oro(Event{Title: "from a link", Start: "2026-03-05T09:30:00Z", End: "2026-03-05T10:30:00Z"})
	withLinkHashes.whoHash, withLinkHashes.seriesHash = "1a2b3c4d5e6f7081", "not a hash"
	own := oro(Event{Title: "invites", Start: "2026-03-05T09:30:00Z", End: "2026-03-05T10:30:00Z", Reminders: []Reminder{{Method: "email", Interval: ReminderInterval{Number: 2, Unit: "H"}}}})
	own.Who = &Who{IsOrganizer: true, Attendees: attendees, own: true}
	return []struct {
		name string
		c    content
	}{
		{"zero", content{Reminder: ReminderUnset}},
		{"timed", oro(Event{Title: "Standup", Location: "Berlin", Start: "2026-03-05T10:30:00+01:00", End: "2026-03-05T10:45:00+01:00"})},
		{"timed fraction", content{Title: "t", Start: start.Add(123456789), End: start.Add(time.Hour + 1), Reminder: ReminderUnset}},
		{"timed year 10000", content{Title: "far", Start: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), End: time.Date(10000, 1, 1, 1, 0, 0, 0, time.UTC), Reminder: ReminderUnset}},
		{"all-day", oro(Event{Title: "Offsite", AllDay: true, Start: "2026-03-05", End: "2026-03-07"})},
		{"all-day midnight", oro(Event{Title: "Offsite", AllDay: true, Start: "2026-03-05T00:00:00-05:00", End: "2026-03-06T00:00:00+09:00"})},
		{"description", oro(Event{Title: "notes", Description: "line one\r\nline two\rline three\n\r\n  \t\u00a0\r\n", Start: "2026-03-05T09:30:00Z", End: "2026-03-05T10:30:00Z"})},
		{"description plain", oro(Event{Title: "notes", Description: "ünïcode — text", Start: "2026-03-05T09:30:00Z", End: "2026-03-05T10:30:00Z"})},
		{"description blank", oro(Event{Title: "notes", Description: " \r\n\r\n", Start: "2026-03-05T09:30:00Z", End: "2026-03-05T10:30:00Z"})},
		{"reminder", oro(Event{Title: "r", Start: "2026-03-05T09:30:00Z", End: "2026-03-05T10:30:00Z", Reminders: []Reminder{{Method: "email", Interval: ReminderInterval{Number: 1, Unit: "D"}}, {Method: "web_socket", Interval: ReminderInterval{Number: 15, Unit: "M"}}}})},
		{"reminder off", oro(Event{Title: "r", Start: "2026-03-05T09:30:00Z", End: "2026-03-05T10:30:00Z", Reminders: []Reminder{}})},
		{"recurrence", oro(Event{Title: "weekly", Start: "2026-03-05T10:30:00+01:00", End: "2026-03-05T11:30:00+01:00",
			Recurrence: &Recurrence{RecurrenceType: "weekly", Interval: 2, DayOfWeek: []string{"thursday", "monday"}, StartTime: start, EndTime: ptr(start.Add(90 * 24 * time.Hour)), TimeZone: "Europe/Berlin"}})},
		{"link hashes", withLinkHashes},
		{"own attendees", own},
		{"remote single", remoteContent(&single)},
		{"remote all-day", remoteContent(&remoteAllDay)},
		{"remote series", remoteContent(&master)},
		{"remote no attendees", remoteContent(&RemoteEvent{Type: "singleInstance", Subject: "x", Start: start, End: start, Reminder: ReminderUnset})},
	}
}

// TestDigestPinned pins the hashes of digestCases: hosts store them in
// links (Link.Hash, Link.Fields) and compare them across versions, so no
// change to how they are computed may change one. The values are those of
// the versions that first stored them.
func TestDigestPinned(t *testing.T) {
	want := map[string]string{
		"zero":                               "description=cbf29ce484222325;location=cbf29ce484222325;title=cbf29ce484222325;when=3d2f48b1dec88d5e; all=264c570b69c6370 hash=264c570b69c6370 legacy=264c570b69c6370",
		"timed":                              "description=cbf29ce484222325;location=867093d65b4dfd51;title=306c49ff50b8e7f6;when=c42ec5980ec84e78; all=2091dfec663ddaed hash=2091dfec663ddaed legacy=2091dfec663ddaed",
		"timed fraction":                     "description=cbf29ce484222325;location=cbf29ce484222325;title=af63e94c860202a3;when=8b14240602528a2a; all=f0f66e0258c6ce7b hash=f0f66e0258c6ce7b legacy=f0f66e0258c6ce7b",
		"timed year 10000":                   "description=cbf29ce484222325;location=cbf29ce484222325;title=dcb98818fee0146e;when=2d009abb57f28c63; all=6d7dfa602d45a369 hash=6d7dfa602d45a369 legacy=6d7dfa602d45a369",
		"all-day":                            "description=cbf29ce484222325;location=cbf29ce484222325;title=b9d508c5d9aaa319;when=b50c225948af7756; all=8ed89cebe2231487 hash=8ed89cebe2231487 legacy=8ed89cebe2231487",
		"all-day midnight":                   "description=cbf29ce484222325;location=cbf29ce484222325;title=b9d508c5d9aaa319;when=b50c235948af7909; all=d050eefc5d345334 hash=d050eefc5d345334 legacy=d050eefc5d345334",
		"description":                        "description=1d21fab452f0a285;location=cbf29ce484222325;title=40906c71b95bdbaa;when=8b14240602528a2a; all=418ff1dd02a45b82 hash=418ff1dd02a45b82 legacy=418ff1dd02a45b82",
		"description plain":                  "description=2a806a363a124690;location=cbf29ce484222325;title=40906c71b95bdbaa;when=8b14240602528a2a; all=17f8820b486caf8b hash=17f8820b486caf8b legacy=17f8820b486caf8b",
		"description blank":                  "description=cbf29ce484222325;location=cbf29ce484222325;title=40906c71b95bdbaa;when=8b14240602528a2a; all=5e37dd43ed2f6586 hash=5e37dd43ed2f6586 legacy=5e37dd43ed2f6586",
		"reminder":                           "description=cbf29ce484222325;location=cbf29ce484222325;reminder=M15;title=af63ef4c86020cd5;when=8b14240602528a2a; all=a601600615f16445 hash=a601600615f16445 legacy=56b8f612d319bbc2",
		"reminder off":                       "description=cbf29ce484222325;location=cbf29ce484222325;reminder=off;title=af63ef4c86020cd5;when=8b14240602528a2a; all=ebb0a2010d75c161 hash=ebb0a2010d75c161 legacy=56b8f612d319bbc2",
		"recurrence":                         "description=cbf29ce484222325;location=cbf29ce484222325;recurrence=643262c4c985f219;title=366ce84377cc68ee;when=8b14240602528a2a; all=c51f4b6689229651 hash=c51f4b6689229651 legacy=634d9ef6eca7c854",
		"link hashes":                        "attendees=1a2b3c4d5e6f7081;description=cbf29ce484222325;location=cbf29ce484222325;series=not a hash;title=4753552f50f494f6;when=8b14240602528a2a; all=2006bc2e094252b3 hash=2006bc2e094252b3 legacy=aaf7b555418e0aef",
		"own attendees":                      "attendees=b3164c209be0134;description=cbf29ce484222325;location=cbf29ce484222325;reminder=M120;title=fbca871a0696f559;when=8b14240602528a2a; all=69146f7725cf580f hash=69146f7725cf580f legacy=413f6107837f2ecf who=b3164c209be0134 invitees=f5e17553a8e50161",
		"remote single":                      "attendees=89d3eb1c3e88d59;description=c70a8cf1485052df;location=aba784e29b434e2d;reminder=off;title=3d674f8866baa53a;when=6ef6de661a24cfd5; all=dbaf7e3089e8a40 hash=dbaf7e3089e8a40 legacy=335a18f63b8da495 who=89d3eb1c3e88d59 invitees=f7777e98e488b351",
		"remote all-day":                     "attendees=cbf29ce484222325;description=cbf29ce484222325;location=cbf29ce484222325;reminder=M0;title=b5aa34142129bfbb;when=bec8ae43fffcd99b; all=53c337aa7b214e4d hash=53c337aa7b214e4d legacy=4435eb10136a3209 who=cbf29ce484222325 invitees=cbf29ce484222325",
		"remote series":                      "attendees=8e4c503953451f6d;description=cbf29ce484222325;location=cbf29ce484222325;recurrence=fca4c8c79e3076d7;reminder=M15;series=52f5c7b68b86020d;title=366ce84377cc68ee;when=8b14240602528a2a; all=2b998a7faef9f35e hash=2b998a7faef9f35e legacy=634d9ef6eca7c854 who=8e4c503953451f6d invitees=f5e17553a8e50161 series=52f5c7b68b86020d exception=2026-03-19T09:30:00Z=634d9ef6eca7c854",
		"remote no attendees":                "attendees=cbf29ce484222325;description=cbf29ce484222325;location=cbf29ce484222325;title=af63f54c86021707;when=d373a27903f06068; all=c7b80f728b5c612b hash=c7b80f728b5c612b legacy=c6f90fb672b26552 who=cbf29ce484222325 invitees=cbf29ce484222325",
		"rebased link":                       "4c64f8b9845c654f",
		"oro series":                         "806d1696bfdc72e0",
		"transactionId 42":                   "6f7210c8-21cf-821e-8000-00000000002a 6f725a05-7bad-8e9a-8000-00000000002a",
		"transactionId 9223372036854775807":  "6f7219f1-ce18-86fb-bfff-ffffffffffff 6f7243fb-6d89-88e7-bfff-ffffffffffff",
		"transactionId 9223372036854775808":  "oro1.OTIyMzM3MjAzNjg1NDc3NTgwOA.4bdf78f028c380b4 oro1.OTIyMzM3MjAzNjg1NDc3NTgwOA.39791e850eb27457",
		"transactionId 18446744073709551616": "oro1.MTg0NDY3NDQwNzM3MDk1NTE2MTY.45586d2b7e7fc6ca oro1.MTg0NDY3NDQwNzM3MDk1NTE2MTY.1a40f0ffe273fffa",
		"transactionId 0":                    "6f727a89-00fe-841a-8000-000000000000 6f72772d-230a-838c-8000-000000000000",
		"transactionId 00":                   "oro1.MDA.e5203466a8302696 oro1.MDA.c20b9b642f16283a",
		"transactionId 0042":                 "oro1.MDA0Mg.55189e0d04d7ba32 oro1.MDA0Mg.fb0ef035ca769c88",
		"transactionId -1":                   "oro1.LTE.a5489aaf6135d28a oro1.LTE.98ceac61d417cce8",
		"transactionId +1":                   "oro1.KzE.bc089b9e8b2592c6 oro1.KzE.52ba9720be89ea0e",
		"transactionId ":                     "oro1..760455e72b20937e oro1..444ad03c335bbd02",
		"transactionId é/ü":                  "oro1.w6kvw7w.3a5b9296ae795e74 oro1.w6kvw7w.9129fa098a3c0932",
		"transactionId e2":                   "oro1.ZTI.e5fd388603c79274 oro1.ZTI.e02fccb4ff09501b",
	}
	for _, tc := range digestCases(t) {
		fields, all := tc.c.hashes()
		var b strings.Builder
		for _, f := range slices.Sorted(maps.Keys(fields)) {
			fmt.Fprintf(&b, "%s=%s;", f, fields[f])
		}
		fmt.Fprintf(&b, " all=%s hash=%s", all, tc.c.hash())
		// the overall hash compared with a link made before the later
		// groups were synchronized
		d := tc.c.digest()
		legacy := d.over(func(i int) bool { return i < legacyGroups }).String()
		fmt.Fprintf(&b, " legacy=%s", legacy)
		if !d.matches(&Link{Fields: fields, Hash: all}) || !d.matches(&Link{Fields: map[string]string{fieldTitle: "", fieldDescription: "", fieldLocation: "", fieldWhen: ""}, Hash: legacy}) {
			t.Errorf("%s: the digest does not match its own link, or a legacy one", tc.name)
		}
		if w := tc.c.Who; w != nil {
			fmt.Fprintf(&b, " who=%s invitees=%s", shortHash(w.canonical()), invitees(w.Attendees, w.OrganizerEmail))
		}
		if s := tc.c.Series; s != nil {
			fmt.Fprintf(&b, " series=%s exception=%s", shortHash(s.text()), appendExceptionText(nil, s.Exceptions[0].OriginalStart, tc.c))
		}
		check(t, want, tc.name, b.String())
	}

	// a link's own entries, whatever they hold, make the overall hash a
	// rebased link records
	p := &pairInput{oro: &Event{Link: &Link{Fields: map[string]string{fieldTitle: "a", fieldDescription: "", fieldLocation: "cbf29ce484222325", fieldWhen: "x y", fieldReminder: "M5", fieldRecurrence: "0"}}}}
	p.rebaseSeries("oro")
	check(t, want, "rebased link", p.oro.Link.Hash)

	// the series group of Oro's exceptions
	xs := []*Event{
		{OriginalStart: "2026-03-12T10:30:00+01:00", Title: "moved", Start: "2026-03-12T11:30:00+01:00", End: "2026-03-12T12:30:00+01:00"},
		{OriginalStart: "2026-03-19T09:30:00Z", IsCancelled: true},
		{OriginalStart: "2026-03-26T09:30:00Z", Title: "all day", AllDay: true, Start: "2026-03-26", End: "2026-03-27", Description: "x\r\n"},
		{OriginalStart: "2026-04-02T09:30:00Z", Deleted: true},
	}
	check(t, want, "oro series", oroSeriesHash(xs))

	for _, id := range []string{"42", "9223372036854775807", "9223372036854775808", "18446744073709551616", "0", "00", "0042", "-1", "+1", "", "é/ü", "e2"} {
		check(t, want, "transactionId "+id, TransactionID(id, "uid-"+id, "")+" "+TransactionID(id, "", "AAMk1"))
	}
}

func check(t *testing.T, want map[string]string, name, got string) {
	t.Helper()
	if got != want[name] {
		t.Errorf("%s:\n got %s\nwant %s", name, got, want[name])
	}
}

// BenchmarkDigest measures the content hashes of one event, as a push
// computes them several times over: an Oro event's (timed, with a
// description and a reminder), a Microsoft copy's with attendees, a
// series master's with exceptions, and a new link's entries.
func BenchmarkDigest(b *testing.B) {
	cases := map[string]content{}
	for _, tc := range digestCases(b) {
		cases[tc.name] = tc.c
	}
	for _, bc := range []struct{ name, c string }{{"oro", "description"}, {"remote", "remote single"}, {"series", "remote series"}} {
		c := cases[bc.c]
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				c.digest()
			}
		})
	}
	b.Run("link", func(b *testing.B) {
		c := cases["remote single"]
		b.ReportAllocs()
		for b.Loop() {
			c.hashes()
		}
	})
}

// BenchmarkTransactionID measures a create's transactionId, for Oro's
// usual numeric ids and for others.
func BenchmarkTransactionID(b *testing.B) {
	for _, id := range []string{"123456", "e2"} {
		uid := "uid-" + id
		b.Run(id, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				TransactionID(id, uid, "")
			}
		})
	}
}

// TestHashPieces checks the pieces the hashes are fed without building
// their input against what they stand for, on random strings of the
// characters that matter: line endings, ASCII and Unicode white space,
// upper case, non-ASCII and invalid UTF-8.
func TestHashPieces(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "Z", "\r", "\n", "\r\n", " ", "\t", "\u00a0", "\u0085", "É", "ß", "İ", "\xff", "\xe2\x80", "@"}
	random := func() string {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	if h := newFNV64(); h.sum() != emptySum || shortHash("") != emptyHash || sumEntry(emptySum).String() != emptyHash {
		t.Fatalf("the empty value hashes to %s, not emptySum", shortHash(""))
	}
	for range 20000 {
		s := random()
		h := newFNV64()
		h.writeNormalized(s)
		if got, want := h.sum().String(), shortHash(NormalizeText(s)); got != want {
			t.Fatalf("writeNormalized(%q) = %s, NormalizeText hashes to %s", s, got, want)
		}
		if got, want := string(appendLower([]byte("x"), s)), "x"+strings.ToLower(s); got != want {
			t.Fatalf("appendLower(%q) = %q, want %q", s, got, want)
		}
	}
}

// TestCanonicalOrder checks the attendees group's value for lists longer
// than canonical's buffers on the stack: the organizer, then each
// attendee's key in order.
func TestCanonicalOrder(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	w := &Who{OrganizerEmail: "Boss@Example.com", IsOrganizer: true}
	var keys []string
	for i := range 100 {
		a := Attendee{Email: fmt.Sprintf("User%d@Example.COM", rng.IntN(60)), Type: []string{attendeeRequired, attendeeOptional}[i%2], Status: []string{"none", "accepted"}[rng.IntN(2)]}
		w.Attendees = append(w.Attendees, a)
		keys = append(keys, strings.ToLower(a.Email)+" "+a.Type+" "+a.Status)
	}
	slices.Sort(keys)
	if got, want := w.canonical(), "boss@example.com (me);"+strings.Join(keys, ";"); got != want {
		t.Fatalf("canonical:\n got %s\nwant %s", got, want)
	}
	if got, want := w.sum().String(), shortHash(w.canonical()); got != want {
		t.Fatalf("sum %s, canonical hashes to %s", got, want)
	}
}
