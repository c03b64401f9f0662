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

// TestFrenchTypography catches the usual slips of French text: a plain space
// (or none) before : ; ? ! where a non-breaking one belongs, and straight apostrophes.
var quebecWords = regexp.MustCompile(`(?i)courriels?|textos?\b`)

func TestFrenchTypography(t *testing.T) {
	m, _ := Messages("fr")
	bad := regexp.MustCompile(`[^\x{00a0}\x{202f}{}0-9] ?[;?!]|\w [:]`)
	for id, v := range m {
		s, ok := v.(string)
		if !ok || strings.HasPrefix(id, "format.") {
			continue
		}
		if bad.MatchString(strings.ReplaceAll(s, "{{", "")) {
			t.Errorf("fr %s: %q needs a non-breaking space before : ; ? !", id, s)
		}
		if strings.Contains(s, "'") {
			t.Errorf("fr %s: %q uses a straight apostrophe", id, s)
		}
		// France's French says "e-mail" and "SMS" (PRODUCT.md), as the rest of the pages do.
		if w := quebecWords.FindString(s); w != "" {
			t.Errorf("fr %s: %q says %q: write e-mail or SMS", id, s, w)
		}
	}
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
		{fr, time.Date(1990, 4, 1, 9, 5, 0, 0, time.UTC), "1er avril 1990 à 09:05"},
		{fr, time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC), "25 novembre 2026 à 14:30"},
		{en, time.Date(1990, 4, 1, 9, 5, 0, 0, time.UTC), "April 1, 1990 at 9:05 AM"},
		{en, time.Date(2026, 11, 25, 14, 30, 0, 0, time.UTC), "November 25, 2026 at 2:30 PM"},
	} {
		if got := tc.l.DateTime(tc.t); got != tc.want {
			t.Errorf("%s DateTime(%s) = %q, want %q", tc.l.Lang, tc.t, got, tc.want)
		}
	}
	friday := time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)
	if got := fr.Day(friday) + " / " + en.Day(friday); got != "vendredi 27 novembre 2026 / Friday, November 27, 2026" {
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
			if got, ok := l.cache[id]; !ok || got != s {
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
	if first.Lang != "fr" || first.Date(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) != "1er novembre 2026" {
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
				if !strings.Contains(v, "{{") && l.T(id, "Name", "Zoé") != v {
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
