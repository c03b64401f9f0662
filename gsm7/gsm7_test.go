package gsm7

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTheAlphabet: the 127 characters of the basic set (3GPP TS 23.038,
// 6.2.1) and the 9 of the extension table a message may use, as the standard
// lists them, and none more. French letters are the usual doubt: é è ù ì ò à
// and Ç are in, ê â î ô û ë ï ç œ are not.
func TestTheAlphabet(t *testing.T) {
	if n := utf8.RuneCountInString(basic); n != 128 {
		t.Fatalf("the table has %d codes, want 128", n)
	}
	if n := len(basicSet); n != 127 {
		t.Fatalf("the basic set has %d characters, want 127", n)
	}
	for i, want := range []rune(basic) {
		if i == 0x1b {
			continue
		}
		if !basicSet[want] {
			t.Errorf("0x%02X %q is not in the basic set", i, want)
		}
	}
	for _, r := range "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ ¤¡ÄÖÑÜ§¿äöñüà" {
		if n, ok := Septets(string(r)); !ok || n != 1 {
			t.Errorf("%q: %d septets, in the basic set %v", r, n, ok)
		}
	}
	for _, r := range "^{}\\[~]|€" {
		if n, ok := Septets(string(r)); !ok || n != 2 {
			t.Errorf("%q: %d septets, in the alphabet %v; want 2 (extension)", r, n, ok)
		}
	}
	for _, r := range "êâîôûëïçœŒÊÂÎÔÛ’«»…\u00a0\u202f`\t\x1b\u0301" {
		if _, ok := Septets(string(r)); ok {
			t.Errorf("%q (%U) counted as in the alphabet", r, r)
		}
	}
}

func TestText(t *testing.T) {
	for in, want := range map[string]string{
		"Cabinet Lumière : votre code est 123456.":                "Cabinet Lumière : votre code est 123456.",
		"Cabinet Lumière\u00a0: votre code":                       "Cabinet Lumière : votre code",
		"Vraiment\u202f?\u202f!\u202f;":                           "Vraiment ? ! ;",
		"la présentation d’Émilie":                                "la présentation d'Émilie",
		"«\u202fVotre bilan\u202f»":                               "\" Votre bilan \"",
		"“Votre bilan” – fin…":                                    "\"Votre bilan\" - fin...",
		"Hélène Côté, forêt, maïs, août, reçu, Noël, cœur, Œuvre": "Hélène Coté, foret, mais, aout, recu, Noel, coeur, OEuvre",
		"Ça, À, È, Ê, Î, Ô, Û, Ÿ":                                 "Ça, A, E, E, I, O, U, Y",
		"São Paulo, Łódź, Dvořák, Ærø, Smørrebrød":                "Sao Paulo, Lodz, Dvorak, Ærø, Smørrebrød",
		"e\u0301te\u0301":                                         "été",
		"ﬁn ² ½ ™":                                                "fin 2 1/2 TM",
		"tab\there, line\u2028two":                                "tab here, line\ntwo",
		"mot\u00adcoupé, zéro\u200blargeur":                       "motcoupé, zérolargeur",
		"nº 12, 20 °C":                                            "no 12, 20 oC",
		"10 € [x] {y} ~z^ a|b \\":                                 "10 € [x] {y} ~z^ a|b \\",
		"王 🙂 \x00 \xff":                                           "? ?   ?",
	} {
		got := Text(in)
		if got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
		if _, ok := Septets(got); !ok {
			t.Errorf("Text(%q) = %q is not all GSM-7", in, got)
		}
	}
}

func TestSeptets(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "10 €": 5, "[1]": 5, "é\n": 2, strings.Repeat("a", 160): 160} {
		if n, ok := Septets(s); n != want || !ok {
			t.Errorf("Septets(%q) = %d, %v; want %d, true", s, n, ok, want)
		}
	}
}

// FuzzText: whatever comes in, what comes out is all GSM-7, is left as it
// is when written again, and text already in the alphabet is never changed.
func FuzzText(f *testing.F) {
	for _, s := range []string{"Cabinet Lumière\u00a0: code 123456", "«\u202fa\u202f»", "cœur ç ê", "e\u0301", "\xff\xfe", "王🙂", "€[]{}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Text(s)
		if _, ok := Septets(got); !ok {
			t.Fatalf("Text(%q) = %q is not all GSM-7", s, got)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("Text(%q) = %q is not UTF-8", s, got)
		}
		if again := Text(got); again != got {
			t.Fatalf("Text(Text(%q)) = %q, not %q", s, again, got)
		}
		if _, ok := Septets(s); ok && got != s {
			t.Fatalf("Text(%q) changed GSM-7 text into %q", s, got)
		}
	})
}
