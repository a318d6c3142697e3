package schema

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// scans is what precheck replaces: countItems, then measure.
func scans(m method, params []byte) error {
	if err := m.countItems(params); err != nil {
		return err
	}
	return measure(params)
}

// skims reports whether precheck decides params with its skim, not the
// two scans.
func skims(params []byte) bool {
	s := skim{b: params}
	_, ok := s.value(1, nil)
	return ok && spaceEnd(params, s.i) == len(params)
}

func precheckCases() []string {
	deep := func(n int) string { return strings.Repeat(`[`, n) + strings.Repeat(`]`, n) }
	events := func(n int) string { return `[{}` + strings.Repeat(`,{}`, n-1) + `]` }
	cases := []string{
		`{}`, ` { } `, `{"events":[]}`, `{"events":` + events(50000) + `}`, `{"events":` + events(50001) + `}`,
		`{"events":` + events(50001) + `,"events":[]}`, `{"events":[],"events":` + events(50001) + `}`, `{"\u0065vents":` + events(50001) + `}`,
		`{"mode":` + events(50001) + `}`, `{"events":{"a":1}}`, `{"events":"[1,2]"}`, `{"events":[[1,2],[3]]}`,
		`{"events":[` + deep(31) + `]}`, `{"events":[` + deep(32) + `]}`, `{"a":` + deep(31) + `}`, `{"a":` + deep(32) + `}`,
		`{"events":[{"id":"1","title":"a\"b\\c\u00e9","allDay":true,"deleted":false,"n":null,"x":-1.5e3}]}`,
		string(syncRunEvents(10)),
		// Not valid JSON: the scans decide.
		`{`, `{"events":[}`, `{"events":` + events(50001), `{"events":` + events(50001) + `,}`, `{"events":[` + deep(40) + `}`,
		`{"events":[1,]}`, `{"events":[01]}`, `{"events":["\x"]}`, "{\"events\":[\"\x01\"]}", `{"events":[tru]}`, `{"events":[]} x`,
		`{"events":` + events(50001) + `} {`, `{"a" 1}`, `{"a":1 "b":2}`, `{1:2}`, `{"events":[` + deep(40) + `]`,
	}
	return cases
}

// precheck gives the verdicts of the two scans it replaces, on valid JSON
// (which it skims) and on anything else.
func TestPrecheckIsTheScans(t *testing.T) {
	v, err := NewValidator(OpenRPC)
	if err != nil {
		t.Fatal(err)
	}
	m := v.methods["sync.run"]
	refused := 0
	for _, c := range precheckCases() {
		want := scans(m, []byte(c))
		if got := m.precheck([]byte(c)); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%.80s: precheck says %v, the scans %v", c, got, want)
		}
		if want != nil && skims([]byte(c)) {
			refused++
		}
		if took, valid := skims([]byte(c)), json.Valid([]byte(c)); took != valid && !strings.Contains(fmt.Sprint(want), "nest deeper") {
			t.Errorf("%.80s: skimmed %v, json.Valid says %v", c, took, valid)
		}
	}
	if refused < 3 {
		t.Fatalf("the skim refused only %d cases itself", refused)
	}
}

func FuzzPrecheck(f *testing.F) {
	for _, c := range precheckCases() {
		if len(c) < 1000 {
			f.Add([]byte(c))
		}
	}
	v, err := NewValidator(OpenRPC)
	if err != nil {
		f.Fatal(err)
	}
	m := v.methods["sync.run"]
	m.params = append([]param(nil), m.params...)
	for i := range m.params {
		if m.params[i].maxItems >= 0 {
			m.params[i].maxItems = 2 // small enough for the fuzzer to reach
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want := scans(m, b)
		if got := m.precheck(b); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%q: precheck says %v, the scans %v", b, got, want)
		}
	})
}
