package graphclient

import "testing"

func TestIsGUIDAndIsDomain(t *testing.T) {
	for _, c := range []struct {
		s            string
		guid, domain bool
	}{
		{"11111111-2222-3333-4444-555555555555", true, false},
		{"ABCDEF01-abcd-ef01-2345-6789abcdef01", true, false},
		{"11111111-2222-3333-4444-55555555555", false, false},   // one short
		{"11111111-2222-3333-4444-5555555555555", false, false}, // one long
		{"11111111x2222-3333-4444-555555555555", false, false},
		{"1111111g-2222-3333-4444-555555555555", false, false},
		{"contoso.onmicrosoft.com", false, true},
		{"Contoso.COM", false, true},
		{"a-b.example", false, true},
		{"contoso", false, false},
		{"-contoso.com", false, false},
		{"contoso-.com", false, false},
		{"contoso..com", false, false},
		{"contoso.com.", false, false},
		{"con toso.com", false, false},
		{"contoso.com/x", false, false},
		{string(make([]byte, 64)) + ".com", false, false},
		{"", false, false},
	} {
		if got := isGUID(c.s); got != c.guid {
			t.Errorf("isGUID(%q) = %v", c.s, got)
		}
		if got := isDomain(c.s); got != c.domain {
			t.Errorf("isDomain(%q) = %v", c.s, got)
		}
	}
}

func TestValidVerifier(t *testing.T) {
	long := func(n int, c byte) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = c
		}
		return string(b)
	}
	for _, c := range []struct {
		v    string
		want bool
	}{
		{long(43, 'a'), true},
		{long(128, 'Z'), true},
		{long(42, 'a'), false},
		{long(129, 'a'), false},
		{long(40, 'a') + "._~-", true},
		{long(42, 'a') + "+", false},
		{long(42, 'a') + "=", false},
		{long(42, 'a') + "é", false},
	} {
		if got := validVerifier(c.v); got != c.want {
			t.Errorf("validVerifier(%q) = %v, want %v", c.v, got, c.want)
		}
	}
}
