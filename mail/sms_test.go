package mail

import (
	"slices"
	"strings"
	"testing"

	"foyer/gsm7"
	"foyer/store"
)

// TestEveryTextFitsOneGSM7Segment: every kind of message that can go as a
// text, in both languages, for a practice whose name takes 40 characters with
// letters French typography and names bring (ê ô ç œ, elision before a vowel),
// is written in the GSM 7-bit alphabet alone and fits one segment of 160: a
// code costs one message. A name of 100 characters, the longest Settings
// takes, is shortened to fit, the code kept whole.
func TestEveryTextFitsOneGSM7Segment(t *testing.T) {
	e := newEnv(t)
	all := samples(e.clock())
	texts := 0
	for _, name := range []string{"Atelier Hélène Côté & Françoise Bœuf-Roy", strings.Repeat("Cabinet Hélène Côté ", 5)} {
		if n := len([]rune(name)); n != 40 && n != 100 {
			t.Fatalf("%q has %d characters", name, n)
		}
		p, _ := e.st.Practice()
		p.Name = strings.TrimSpace(name)
		if err := e.st.SavePractice(p); err != nil {
			t.Fatal(err)
		}
		for _, kind := range kindNames() {
			if !slices.Contains(kinds[kind].Channels, store.ChannelSMS) {
				continue
			}
			m := all[kind]
			if m.Channel != store.ChannelSMS {
				t.Fatalf("%s: the sample is no text message", kind)
			}
			for _, lang := range []string{"en", "fr"} {
				m.Lang = lang
				out, err := e.mailer.Render(m, m.Secret)
				if err != nil {
					t.Fatalf("%s in %s: %v", kind, lang, err)
				}
				texts++
				n, ok := gsm7.Septets(out.Text)
				if !ok {
					var bad []string
					for _, r := range out.Text {
						if _, in := gsm7.Septets(string(r)); !in && !slices.Contains(bad, string(r)) {
							bad = append(bad, string(r))
						}
					}
					t.Errorf("%s in %s: %q are not GSM-7 in %q", kind, lang, bad, out.Text)
				}
				if n > gsm7.Segment {
					t.Errorf("%s in %s: %d septets, more than one segment: %q", kind, lang, n, out.Text)
				}
				if !strings.Contains(out.Text, m.Secret) {
					t.Errorf("%s in %s: the code is not in %q", kind, lang, out.Text)
				}
				if len([]rune(p.Name)) == 40 && !strings.Contains(out.Text, "Hélène Coté & Francoise Boeuf-Roy") {
					t.Errorf("%s in %s: the practice's name is not whole in %q", kind, lang, out.Text)
				}
				t.Logf("%s %s, %d septets: %s", kind, lang, n, out.Text)
			}
		}
	}
	if texts < 8 {
		t.Fatalf("only %d texts written: the kinds that go by text are not found", texts)
	}
}
