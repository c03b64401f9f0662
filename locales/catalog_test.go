package locales

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf8"
)

// TestCatalogsMatch fails on a message missing or empty in either language,
// and on plural messages without the forms each language needs.
func TestCatalogsMatch(t *testing.T) {
	all := map[string]map[string]any{}
	for _, lang := range Supported {
		m, err := Messages(lang)
		if err != nil {
			t.Fatal(err)
		}
		all[lang] = m
	}
	// CLDR: English has one/other; French has one/many/other ("many" for 1 000 000 and up).
	needs := map[string][]string{"en": {"one", "other"}, "fr": {"one", "many", "other"}}
	for _, lang := range Supported {
		for id, v := range all[lang] {
			for _, other := range Supported {
				if _, ok := all[other][id]; !ok {
					t.Errorf("%s is in %s but missing in %s", id, lang, other)
				}
			}
			switch v := v.(type) {
			case string:
				if strings.TrimSpace(v) == "" {
					t.Errorf("%s: %s is empty", lang, id)
				}
			case map[string]any:
				for _, form := range needs[lang] {
					if s, _ := v[form].(string); strings.TrimSpace(s) == "" {
						t.Errorf("%s: plural %s lacks the %q form", lang, id, form)
					}
				}
			default:
				t.Errorf("%s: %s has an unexpected type %T", lang, id, v)
			}
		}
	}
}

// quebecWords are Quebec's words for email and text message.
var quebecWords = regexp.MustCompile(`(?i)courriels?|textos?\b`)

// frenchSlips are what French typography forbids in a text as a reader gets
// it: an ordinary or wrong space (or none) before ; ! ? : », after «, between
// a number and its unit, and a straight apostrophe.
var frenchSlips = map[string]*regexp.Regexp{
	"a narrow no-break space before ; ! ? »": regexp.MustCompile(`(?:[ \x{00a0}\x{2009}]|[\p{L}\p{N})\]”’])[;!?](?:[ \n)]|$)|[^\x{202f}]»`),
	"a no-break space before :":              regexp.MustCompile(`(?:[ \x{202f}\x{2009}]|[\p{L}\p{N})\]»”’]):(?:[ \n]|$)`),
	"a narrow no-break space after «":        regexp.MustCompile(`«[^\x{202f}]`),
	"a no-break space before a unit":         regexp.MustCompile(`\d[ \x{202f}](?:minutes?|min|s|h|heures?|jours?|semaines?|mois|ans?|octets?|[KMGT]i?o|px|%|€)(?:[^\p{L}’']|$)`),
	"’ for a straight apostrophe":            regexp.MustCompile(`'`),
}

// TestFrenchTypography: every French message, as pages, emails and PDFs get
// it from the localizer (arguments filled with a number, then a name), has
// French typography, whatever spaces the file holds.
func TestFrenchTypography(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	fr := c.Get("fr")
	msgs, _ := Messages("fr")
	placeholder := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
	checked := 0
	for id, v := range msgs {
		forms := map[string]any{"other": v}
		if p, ok := v.(map[string]any); ok {
			forms = p
		}
		var names []string
		for _, f := range forms {
			s, _ := f.(string)
			for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
				names = append(names, m[1])
			}
		}
		for _, value := range []any{12, "Zoé"} {
			var args []any
			for _, n := range names {
				args = append(args, n, value)
			}
			texts := []string{fr.T(id, args...)}
			if _, plural := v.(map[string]any); plural {
				texts = []string{fr.N(id, 1, args...), fr.N(id, 2, args...), fr.N(id, 1000000, args...)}
			}
			for _, s := range texts {
				checked++
				for want, slip := range frenchSlips {
					if bad := slip.FindString(s); bad != "" {
						t.Errorf("fr %s: %q needs %s (at %q)", id, s, want, bad)
					}
				}
				// France's French says "e-mail" and "SMS" (PRODUCT.md), as the rest of the pages do.
				if w := quebecWords.FindString(s); w != "" {
					t.Errorf("fr %s: %q says %q: write e-mail or SMS", id, s, w)
				}
			}
		}
	}
	if checked < 1000 {
		t.Fatalf("only %d French texts checked", checked)
	}
}

// TestTranslatorsTypeOrdinarySpaces: a messages file written with ordinary
// spaces and straight apostrophes, or with no space where English puts none,
// reads in French with French typography, and in English as typed.
func TestTranslatorsTypeOrdinarySpaces(t *testing.T) {
	file := `colon = "Adresse :"
colon_english = "Note: {{.Name}}: c'est tout"
question = "Mot de passe oublié ? Oui ! Non ; peut-être?"
quotes = "Cliquez sur « Envoyer » ou sur «Annuler»."
unit = "Valable {{.Minutes}} minutes, 2 Mo au plus, pendant 3 h ou 20 jours ; 45 s."
untouched = "https://example.org/?a=b à 14:05, {{.Name}} a 2 enfants, 1 000 clients."

[attempts]
one = "{{.Count}} tentative : c'est la dernière !"
other = "{{.Count}} tentatives : encore {{.Minutes}} min ?"
`
	fsys := fstest.MapFS{"active.en.toml": {Data: []byte(file)}, "active.fr.toml": {Data: []byte(file)}}
	c, err := loadFS(fsys)
	if err != nil {
		t.Fatal(err)
	}
	fr, en := c.Get("fr"), c.Get("en")
	const nb, nnb = "\u00a0", "\u202f"
	for _, tc := range []struct{ got, want string }{
		{fr.T("colon"), "Adresse" + nb + ":"},
		{fr.T("colon_english", "Name", "Zoé"), "Note" + nb + ": Zoé" + nb + ": c’est tout"},
		{fr.T("question"), "Mot de passe oublié" + nnb + "? Oui" + nnb + "! Non" + nnb + "; peut-être" + nnb + "?"},
		{fr.T("quotes"), "Cliquez sur «" + nnb + "Envoyer" + nnb + "» ou sur «" + nnb + "Annuler" + nnb + "»."},
		{fr.T("unit", "Minutes", 10), "Valable 10" + nb + "minutes, 2" + nb + "Mo au plus, pendant 3" + nb + "h ou 20" + nb + "jours" + nnb + "; 45" + nb + "s."},
		{fr.T("untouched", "Name", "Zoé"), "https://example.org/?a=b à 14:05, Zoé a 2 enfants, 1 000 clients."},
		{fr.N("attempts", 1), "1 tentative" + nb + ": c’est la dernière" + nnb + "!"},
		{fr.N("attempts", 3, "Minutes", 5), "3 tentatives" + nb + ": encore 5" + nb + "min" + nnb + "?"},
		{en.T("question"), "Mot de passe oublié ? Oui ! Non ; peut-être?"},
		{en.T("colon_english", "Name", "Zoé"), "Note: Zoé: c'est tout"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %q\nwant %q", tc.got, tc.want)
		}
	}
}

// TestTypeset: French typography changes spaces and apostrophes only, never
// inside a template action, and typesetting twice changes nothing more.
func TestTypeset(t *testing.T) {
	fr := &Localizer{Lang: "fr"}
	for in, want := range map[string]string{
		"":                           "",
		"Bonjour":                    "Bonjour",
		" :":                         "\u00a0:",
		"a\u00a0; b\u00a0? c\u202f:": "a\u202f; b\u202f? c\u00a0:",
		"«\u00a0x\u00a0»":            "«\u202fx\u202f»",
		"{{.Practice}} : code":       "{{.Practice}}\u00a0: code",
		"{{if .A}} ? {{end}}":        "{{if .A}}\u202f? {{end}}",
		"{{.X ? }}":                  "{{.X ? }}",
		"{{.X":                       "{{.X",
		"x «\ny»":                    "x «\ny\u202f»",
		"10 mineurs, 10 h’s, 10 s":   "10 mineurs, 10 h’s, 10\u00a0s",
		"?! a :)":                    "?! a\u00a0:)",
		"durée : 1 h 05":             "durée\u00a0: 1\u00a0h 05",
	} {
		if got := fr.Typeset(in); got != want {
			t.Errorf("Typeset(%q) = %q, want %q", in, got, want)
		}
	}
	if got := (&Localizer{Lang: "en"}).Typeset("Note : it's « so »"); got != "Note : it's « so »" {
		t.Errorf("English typeset: %q", got)
	}
}

func FuzzTypeset(f *testing.F) {
	for _, s := range []string{"Adresse : « x » ; y ? z !", "{{.N}} minutes", "c'est {{.A}}:", "«{{.T}}»", "{{", "a}}:"} {
		f.Add(s)
	}
	fr := &Localizer{Lang: "fr"}
	actions := regexp.MustCompile(`\{\{.*?\}\}`)
	plain := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", "\u2009", "", "’", "'")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		got := fr.Typeset(s)
		if again := fr.Typeset(got); again != got {
			t.Fatalf("Typeset(%q) = %q, then %q", s, got, again)
		}
		if plain.Replace(got) != plain.Replace(s) {
			t.Fatalf("Typeset(%q) = %q changed more than spaces and apostrophes", s, got)
		}
		if a, b := actions.FindAllString(s, -1), actions.FindAllString(got, -1); strings.Join(a, "") != strings.Join(b, "") {
			t.Fatalf("Typeset(%q) = %q changed a template action", s, got)
		}
	})
}

var (
	// In templates: .T "id", .N "id", and the "Label"/"Hint"/"Title" arguments of partials.
	templateIDs = regexp.MustCompile(`\.(?:T|N) "([a-z0-9_.]+)"|"(?:Label|Hint)" "([a-z0-9_.]+)"`)
	// Dynamic IDs built with printf in templates: the prefix and the values it takes.
	templatePrintf = regexp.MustCompile(`printf "([a-z0-9_.]+)%s"`)
	// In Go: any string literal that looks like a message ID of a known namespace.
	goLiteral = regexp.MustCompile(`"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)
)

// TestUsedIDsExist fails when a template or handler uses a message ID the files lack.
func TestUsedIDsExist(t *testing.T) {
	en, _ := Messages("en")
	namespaces := map[string]bool{}
	for id := range en {
		namespaces[strings.SplitN(id, ".", 2)[0]] = true
	}
	exists := func(id string) bool {
		if _, ok := en[id]; ok {
			return true
		}
		// A literal ending in "_" is the prefix of IDs completed at run time ("receipt.service_" + kind).
		if strings.HasSuffix(id, "_") {
			for known := range en {
				if strings.HasPrefix(known, id) {
					return true
				}
			}
		}
		// Error pages take their title and body from id + ".title"/".body".
		_, ok := en[id+".title"]
		return ok
	}
	used := map[string]string{}
	root := ".."
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// Test-support packages (deliverytest, receipttest) show nothing to users.
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata" || strings.HasSuffix(d.Name(), "test")) {
			return filepath.SkipDir
		}
		isTemplate := strings.HasSuffix(path, ".html") && strings.Contains(path, "views")
		isGo := strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go")
		if !isTemplate && !isGo {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if isTemplate {
			for _, m := range templateIDs.FindAllStringSubmatch(string(data), -1) {
				used[m[1]+m[2]] = path
			}
			for _, m := range templatePrintf.FindAllStringSubmatch(string(data), -1) {
				found := false
				for id := range en {
					if strings.HasPrefix(id, m[1]) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: no message starts with %q", path, m[1])
				}
			}
			return nil
		}
		for _, m := range goLiteral.FindAllStringSubmatch(string(data), -1) {
			if namespaces[strings.SplitN(m[1], ".", 2)[0]] {
				used[m[1]] = path
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(used) < 100 {
		t.Fatalf("found only %d used IDs: the scan is broken", len(used))
	}
	var missing []string
	for id, path := range used {
		if !exists(id) {
			missing = append(missing, id+" (used in "+path+")")
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error("message ID not in the catalogs: " + m)
	}
}

func TestRolesAndStatesHaveMessages(t *testing.T) {
	en, _ := Messages("en")
	for _, id := range []string{"role.owner", "role.admin", "role.practitioner", "roledesc.owner", "roledesc.admin", "roledesc.practitioner",
		"outbox.state_queued", "outbox.state_sent", "outbox.state_failed", "outbox.state_logged", "outbox.channel_email", "outbox.channel_sms"} {
		if _, ok := en[id]; !ok {
			t.Errorf("%s missing", id)
		}
	}
}

func TestMatch(t *testing.T) {
	for header, want := range map[string]string{"fr-CA,fr;q=0.9": "fr", "en-GB": "en", "de-DE": "", "de, fr;q=0.5": "fr", "": "", "*": "", ";;;": "", strings.Repeat("fr,", 1000): "fr"} {
		if got := Match(header); got != want {
			t.Errorf("Match(%q) = %q, want %q", header, got, want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("fr-CA,fr;q=0.9,en;q=0.8")
	f.Fuzz(func(t *testing.T, s string) {
		if got := Match(s); got != "" && !IsSupported(got) {
			t.Fatalf("Match(%q) = %q", s, got)
		}
	})
}

func TestPluralsAndDates(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	fr, en := c.Get("fr"), c.Get("en")
	cases := []struct {
		l    *Localizer
		n    int
		want string
	}{
		{en, 1, "1 attempt"}, {en, 2, "2 attempts"}, {en, 0, "0 attempts"},
		{fr, 0, "0 tentative"}, {fr, 1, "1 tentative"}, {fr, 2, "2 tentatives"}, {fr, 1000000, "1000000 de tentatives"},
	}
	for _, tc := range cases {
		if got := tc.l.N("outbox.attempts", tc.n); got != tc.want {
			t.Errorf("%s N(%d) = %q, want %q", tc.l.Lang, tc.n, got, tc.want)
		}
	}
	if got := fr.T("home.welcome", "Name", "Zoé"); got != "Bienvenue, Zoé" {
		t.Errorf("template data: %q", got)
	}
	for _, tc := range []struct {
		l    *Localizer
		t    time.Time
		want string
	}{
		{fr, time.Date(1990, 4, 1, 9, 5, 0, 0, time.UTC), "1er\u00a0avril 1990 à\u00a009:05"},
		{fr, time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC), "25\u00a0novembre 2026 à\u00a014:30"},
		{en, time.Date(1990, 4, 1, 9, 5, 0, 0, time.UTC), "April\u00a01, 1990 at\u00a09:05\u00a0AM"},
		{en, time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC), "November\u00a025, 2026 at\u00a02:30\u00a0PM"},
	} {
		if got := tc.l.DateTime(tc.t); got != tc.want {
			t.Errorf("%s DateTime(%s) = %q, want %q", tc.l.Lang, tc.t, got, tc.want)
		}
	}
	friday := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	if got := fr.Day(friday) + " / " + en.Day(friday); got != "vendredi 27\u00a0novembre 2026 / Friday, November\u00a027, 2026" {
		t.Errorf("Day: %q", got)
	}
	for _, l := range []*Localizer{en, fr} {
		if len(l.months) != 12 || len(l.weekdays) != 7 {
			t.Errorf("%s: %d months, %d weekdays", l.Lang, len(l.months), len(l.weekdays))
		}
	}
	// Number and unit are held together; the groups may wrap.
	for d, want := range map[time.Duration]string{
		0: "0\u00a0s", 44600 * time.Millisecond: "45\u00a0s", 59 * time.Second: "59\u00a0s", time.Minute: "1\u00a0min 00\u00a0s",
		185 * time.Second: "3\u00a0min 05\u00a0s", time.Hour + 5*time.Minute + 10*time.Second: "1\u00a0h 05\u00a0min",
		115213 * time.Second: "32\u00a0h 00\u00a0min", -time.Second: "0\u00a0s",
	} {
		for _, l := range []*Localizer{en, fr} {
			if got := l.Duration(d); got != want {
				t.Errorf("%s Duration(%s) = %q, want %q", l.Lang, d, got, want)
			}
		}
	}
	if c.Get("xx") != en {
		t.Error("unknown language does not fall back to English")
	}
}

func TestMoney(t *testing.T) {
	c, _ := Load()
	en, fr := c.Get("en"), c.Get("fr")
	cases := []struct {
		l     *Localizer
		cents int64
		cur   string
		want  string
	}{
		{en, 8000, "EUR", "€80.00"},
		{en, 123456789, "EUR", "€1,234,567.89"},
		{fr, 8050, "EUR", "80,50\u00a0€"},
		{fr, 123456, "EUR", "1\u202f234,56\u00a0€"},
		{fr, 5, "CHF", "0,05\u00a0CHF"},
		{en, 100000, "CAD", "CA$1,000.00"},
		{en, -250, "GBP", "-£2.50"},
		{en, 1000, "CHF", "CHF\u00a010.00"},
	}
	for _, tc := range cases {
		if got := tc.l.Money(tc.cents, tc.cur); got != tc.want {
			t.Errorf("%s Money(%d, %s) = %q, want %q", tc.l.Lang, tc.cents, tc.cur, got, tc.want)
		}
	}
}

// TestFrenchElision: a name after "de" elides before a vowel, not before a consonant, H or Y.
func TestFrenchElision(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	fr, en := c.Get("fr"), c.Get("en")
	for name, want := range map[string]string{"Alex": "Rôle d’Alex", "Émilie": "Rôle d’Émilie", "Bruno": "Rôle de Bruno", "Hugo": "Rôle de Hugo", "Yann": "Rôle de Yann"} {
		if got := fr.T("staff.role_of", "Name", name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if got := fr.T("prospects.associate_intro", "Name", "Eve Signup", "Email", "eve@example.org"); !strings.Contains(got, "portail d’Eve Signup") {
		t.Errorf("associate: %q", got)
	}
	if got := en.T("staff.role_of", "Name", "Alex"); strings.Contains(got, "’") {
		t.Errorf("English elided: %q", got)
	}
}

// TestPlainMessagesAreCached: every message without arguments nor plural
// forms is answered from the cache, with the text of the file.
func TestPlainMessagesAreCached(t *testing.T) {
	eachLanguage(t, func(lang string, l *Localizer, msgs map[string]any) {
		plain := 0
		for id, v := range msgs {
			s, ok := v.(string)
			if !ok || strings.Contains(s, "{{") {
				continue
			}
			plain++
			if got, ok := l.cache[id]; !ok || got != l.Typeset(s) {
				t.Errorf("%s %s: cached %q (%v), the file says %q", lang, id, got, ok, s)
			}
		}
		if plain < 100 || len(l.cache) != plain {
			t.Errorf("%s: %d messages cached, %d plain messages in the file", lang, len(l.cache), plain)
		}
	})
}

// eachLanguage calls check with each supported language's localizer and the
// messages of its file.
func eachLanguage(t *testing.T, check func(lang string, l *Localizer, msgs map[string]any)) {
	t.Helper()
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Supported {
		msgs, err := Messages(lang)
		if err != nil {
			t.Fatal(err)
		}
		check(lang, c.Get(lang), msgs)
	}
}

// TestLoadParsesEveryLanguage: Load parses every language at once; Get
// hands out the same localizer to every request.
func TestLoadParsesEveryLanguage(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range Supported {
		if l := c.locs[lang]; l == nil || l.Lang != lang || l.T("nav.home") == "nav.home" {
			t.Fatalf("%s was not parsed by Load", lang)
		}
	}
	got := make(chan *Localizer, 8)
	for range 8 {
		go func() { got <- c.Get("fr") }()
	}
	first := <-got
	for range 7 {
		if l := <-got; l != first {
			t.Fatal("two localizers for one language")
		}
	}
	if first.Lang != "fr" || first.Date(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) != "1er\u00a0novembre 2026" {
		t.Fatalf("French localizer: %s, %q", first.Lang, first.Date(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)))
	}
	if l := c.Get("de"); l.Lang != "en" || l != c.Get("en") {
		t.Fatalf("an unsupported language gave %q", l.Lang)
	}
}

// TestABrokenMessagesFileStopsTheStart: Load fails, naming the file, when
// a language's messages file does not parse or is missing.
func TestABrokenMessagesFileStopsTheStart(t *testing.T) {
	en, err := files.ReadFile("active.en.toml")
	if err != nil {
		t.Fatal(err)
	}
	for name, fsys := range map[string]fstest.MapFS{
		"active.fr.toml": {"active.en.toml": {Data: en}, "active.fr.toml": {Data: []byte("[nav\nhome = \"Accueil\"\n")}},
		"active.fr":      {"active.en.toml": {Data: en}},
	} {
		_, err := loadFS(fsys)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s broken or missing: Load gave %v", name, err)
		}
	}
}

// BenchmarkLoad is what a start spends on the messages.
func BenchmarkLoad(b *testing.B) {
	for b.Loop() {
		if _, err := Load(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEveryMessageResolves: each message of each language comes out as its
// text, whether the cache or go-i18n answers it, with or without arguments,
// and plural ones for every count.
func TestEveryMessageResolves(t *testing.T) {
	eachLanguage(t, func(lang string, l *Localizer, msgs map[string]any) {
		for id, v := range msgs {
			switch v := v.(type) {
			case string:
				for _, got := range []string{l.T(id), l.T(id, "Name", "Zoé", "N", 3), l.N(id, 2)} {
					if got == id || got == "" || strings.Contains(got, "{{") {
						t.Errorf("%s %s gave %q", lang, id, got)
					}
				}
				if !strings.Contains(v, "{{") && l.T(id, "Name", "Zoé") != l.Typeset(v) {
					t.Errorf("%s %s with an argument gave %q, not its text %q", lang, id, l.T(id, "Name", "Zoé"), v)
				}
			case map[string]any:
				for _, n := range []int{0, 1, 2, 1000000} {
					if got := l.N(id, n); got == id || got == "" || strings.Contains(got, "{{") {
						t.Errorf("%s %s (%d) gave %q", lang, id, n, got)
					}
				}
			}
		}
	})
}
