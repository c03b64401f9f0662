package share

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCheckTemplate(t *testing.T) {
	var unknown *UnknownFieldError
	for _, tc := range []struct {
		tmpl string
		ok   bool
	}{
		{"Hello [[RECIPIENT_NAME]],\n[[SECURE_SHARE_LINK]]\n[[SECURE_SHARE_DISCLAIMER]]", true},
		{"no link at all", false},
		{"[[SECURE_SHARE_LINK]] [[FOO]]", false},
		{"[[SECURE_SHARE_LINK]] [[MESSAGE", false},
		{"[[secure_share_link]]", false},
	} {
		err := CheckTemplate(tc.tmpl)
		if (err == nil) != tc.ok {
			t.Errorf("%q: %v", tc.tmpl, err)
		}
	}
	if err := CheckTemplate("[[SECURE_SHARE_LINK]] [[FOO]]"); !errors.As(err, &unknown) || unknown.Field != "FOO" {
		t.Errorf("unknown field: %v", err)
	}
	if err := CheckTemplate("plain"); !errors.Is(err, ErrNoLink) {
		t.Errorf("no link: %v", err)
	}
}

func TestMergeDoesNotExpandValues(t *testing.T) {
	got := Merge("Hi [[RECIPIENT_NAME]]: [[MESSAGE]] — [[SECURE_SHARE_LINK]]",
		map[string]string{FieldRecipient: "Ana", FieldMessage: "see [[SECURE_SHARE_LINK]]", FieldLink: "https://x/s/t"})
	if got != "Hi Ana: see [[SECURE_SHARE_LINK]] — https://x/s/t" {
		t.Fatalf("%q", got)
	}
}

func FuzzMerge(f *testing.F) {
	f.Add("Hello [[RECIPIENT_NAME]] [[SECURE_SHARE_LINK]]", "Ana [[MESSAGE]]")
	f.Add("[[[[SECURE_SHARE_LINK]]]]", "]]")
	f.Add("[[", "[[")
	f.Fuzz(func(t *testing.T, tmpl, value string) {
		vals := map[string]string{}
		for _, k := range Fields {
			vals[k] = value
		}
		vals[FieldLink] = "LINK"
		out := Merge(tmpl, vals)
		if CheckTemplate(tmpl) == nil {
			if !strings.Contains(out, "LINK") {
				t.Fatalf("a checked template lost its link: %q → %q", tmpl, out)
			}
			// Every field of a checked template is replaced.
			for _, k := range Fields {
				if strings.Contains(tmpl, "[["+k+"]]") && !strings.Contains(value, "[["+k+"]]") && strings.Contains(out, "[["+k+"]]") &&
					!strings.Contains(strings.ReplaceAll(tmpl, "[["+k+"]]", ""), "[["+k+"]]") {
					t.Fatalf("field %s left in %q", k, out)
				}
			}
		}
		if len(out) > len(tmpl)+len(Fields)*len(value)*(strings.Count(tmpl, "[[")+1)+4*(strings.Count(tmpl, "[[")+1) {
			t.Fatalf("output grew beyond its values: %d from %d", len(out), len(tmpl))
		}
	})
}

func TestCleanNameHostile(t *testing.T) {
	long := strings.Repeat("é", 3000) + ".pdf"
	for in, want := range map[string]string{
		`"><svg onload=alert(1)>.pdf`: `><svg onload=alert(1)>.pdf`,
		"../../etc/passwd":            "passwd",
		`C:\Users\ana\report.pdf`:     "report.pdf",
		"evil\r\nSet-Cookie: x.pdf":   "evilSet-Cookie: x.pdf",
		"invoice\u202Efdp.exe":        "invoicefdp.exe",
		"nul\x00byte.pdf":             "nulbyte.pdf",
		"...":                         "document",
		"":                            "document",
		".hidden":                     "hidden",
		"Compte rendu séance.pdf":     "Compte rendu séance.pdf",
	} {
		if got := CleanName(in, "document"); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
	got := CleanName(long, "document")
	if len(got) > 255 || !strings.HasSuffix(got, ".pdf") || !utf8.ValidString(got) {
		t.Errorf("long name: %d bytes, %q…", len(got), got[:10])
	}
}

func FuzzCleanName(f *testing.F) {
	for _, s := range []string{`"><svg onload=alert(1)>.pdf`, "../../etc/passwd", "a\r\nb", "\u202Excod.exe", "\x00", strings.Repeat("a", 4096)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := CleanName(in, "document")
		if out == "" || len(out) > maxNameBytes || !utf8.ValidString(out) {
			t.Fatalf("CleanName(%q) = %q", in, out)
		}
		if strings.ContainsAny(out, "/\\\"") || strings.HasPrefix(out, ".") || out != strings.TrimSpace(out) {
			t.Fatalf("CleanName(%q) = %q", in, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) {
				t.Fatalf("CleanName(%q) keeps %U", in, r)
			}
		}
		if CleanName(out, "document") != out {
			t.Fatalf("not stable: %q → %q", out, CleanName(out, "document"))
		}
	})
}
