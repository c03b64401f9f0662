package handlers

import (
	"fmt"
	"strings"
	"testing"

	"foyer/store"
)

func TestParseMoney(t *testing.T) {
	t.Parallel()
	cases := map[string]int64{"80": 8000, "80.5": 8050, "80,50": 8050, "1 234,56": 123456, "€95": 9500, "0,05": 5, ",5": 50}
	for in, want := range cases {
		if got, ok := parseMoney(in); !ok || got != want {
			t.Errorf("parseMoney(%q) = %d %v, want %d", in, got, ok, want)
		}
	}
	for _, bad := range []string{"", "abc", "1.2.3", "-5", "80,555", "1e5", "99999999", "12,", "+3"} {
		if got, ok := parseMoney(bad); ok {
			t.Errorf("parseMoney(%q) accepted as %d", bad, got)
		}
	}
}

func TestParsePhone(t *testing.T) {
	t.Parallel()
	cases := []struct {
		raw, region, e164 string
		mobile, ok        bool
	}{
		{"06 12 34 56 78", "FR", "+33612345678", true, true},
		{"+33 1 42 00 00 00", "FR", "+33142000000", false, true},
		{"01 42 00 00 00", "FR", "+33142000000", false, true},
		{"(514) 555-0123", "CA", "+15145550123", true, true},
		{"+1 438 555 0199", "FR", "+14385550199", true, true},
		{"0612", "FR", "", false, false},
		{"not a number", "FR", "", false, false},
		{strings.Repeat("1", 50), "FR", "", false, false},
	}
	for _, tc := range cases {
		e164, mobile, ok := parsePhone(tc.raw, tc.region)
		if ok != tc.ok || (ok && (e164 != tc.e164 || mobile != tc.mobile)) {
			t.Errorf("parsePhone(%q, %s) = %q %v %v", tc.raw, tc.region, e164, mobile, ok)
		}
	}
	if got := displayPhone("+33612345678", "FR"); got != "06 12 34 56 78" {
		t.Errorf("display FR = %q", got)
	}
	if got := displayPhone("+41223456789", "FR"); got != "+41 22 345 67 89" {
		t.Errorf("display CH from FR = %q", got)
	}
}

// TestDisplayPhoneCache: a number shown again reads the same from the cache,
// per region, and the cache stays within its size however many numbers pass.
func TestDisplayPhoneCache(t *testing.T) {
	t.Parallel()
	for range 2 { // the second pass answers from the cache
		for _, tc := range []struct{ e164, region, want string }{
			{"+33612345678", "FR", "06 12 34 56 78"},
			{"+33612345678", "CH", "+33 6 12 34 56 78"},
			{"+41223456789", "CH", "022 345 67 89"},
			{"not a number", "FR", "not a number"},
		} {
			if got := displayPhone(tc.e164, tc.region); got != tc.want {
				t.Errorf("displayPhone(%q, %s) = %q, want %q", tc.e164, tc.region, got, tc.want)
			}
		}
	}
	for i := range 3 * phoneDisplays.max {
		e164 := fmt.Sprintf("+336%08d", i)
		if got, want := displayPhone(e164, "FR"), formatPhone(e164, "FR"); got != want {
			t.Fatalf("displayPhone(%q) = %q, formatted %q", e164, got, want)
		}
		phoneDisplays.mu.Lock()
		n := len(phoneDisplays.m)
		phoneDisplays.mu.Unlock()
		if n > phoneDisplays.max {
			t.Fatalf("the cache holds %d numbers, more than %d", n, phoneDisplays.max)
		}
	}
}

// FuzzParsers throws arbitrary text at the parsers of typed input.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{"80,50", "06 12 34 56 78", "+33 (0)1 42", "éloïse dupont", "\xff\xfe", "1 234,5 €", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if cents, ok := parseMoney(s); ok && (cents < 0 || cents > 100_000_099) {
			t.Fatalf("parseMoney(%q) = %d", s, cents)
		}
		if e164, _, ok := parsePhone(s, "FR"); ok && !strings.HasPrefix(e164, "+") {
			t.Fatalf("parsePhone(%q) = %q", s, e164)
		}
		q := store.ParseQuery(s)
		_ = q.Empty()
		_ = store.Fold(s)
	})
}
