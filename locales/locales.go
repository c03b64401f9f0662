// Package locales holds Foyer's French and English messages and the
// language rules: which languages exist, how one is chosen, how dates read.
package locales

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/pelletier/go-toml/v2"
	"golang.org/x/text/language"
)

//go:embed active.en.toml active.fr.toml
var files embed.FS

// Supported lists the languages Foyer speaks, the fallback first.
var Supported = []string{"en", "fr"}

var matcher = language.NewMatcher([]language.Tag{language.English, language.French})

// IsSupported reports whether lang is one of Supported.
func IsSupported(lang string) bool { return lang == "en" || lang == "fr" }

// matched remembers Match's answer per header: browsers send a handful of
// distinct headers, and parsing one costs more than the rest of a public page.
var matched = struct {
	sync.RWMutex
	m map[string]string
}{m: map[string]string{}}

// maxMatched bounds the memory of Match: past it the remembered answers are dropped.
const maxMatched = 1024

// Match picks the best supported language from an Accept-Language header, or "" when none fits.
func Match(acceptLanguage string) string {
	if len(acceptLanguage) > 512 {
		acceptLanguage = acceptLanguage[:512]
	}
	matched.RLock()
	lang, ok := matched.m[acceptLanguage]
	matched.RUnlock()
	if ok {
		return lang
	}
	lang = match(acceptLanguage)
	matched.Lock()
	if len(matched.m) >= maxMatched {
		matched.m = map[string]string{}
	}
	matched.m[strings.Clone(acceptLanguage)] = lang
	matched.Unlock()
	return lang
}

func match(acceptLanguage string) string {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return ""
	}
	_, idx, conf := matcher.Match(tags...)
	if conf == language.No {
		return ""
	}
	return Supported[idx]
}

// Catalog holds one localizer per supported language, all parsed by Load.
type Catalog struct {
	locs map[string]*Localizer
}

// Load parses every language's messages file: one that does not parse
// stops the start. The languages are parsed side by side (about 5 ms each).
func Load() (*Catalog, error) { return loadFS(files) }

func loadFS(fsys fs.ReadFileFS) (*Catalog, error) {
	locs := make([]*Localizer, len(Supported))
	errs := make([]error, len(Supported))
	var wg sync.WaitGroup
	for i, lang := range Supported {
		wg.Go(func() { locs[i], errs[i] = load(fsys, lang) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c := &Catalog{locs: make(map[string]*Localizer, len(Supported))}
	for i, lang := range Supported {
		c.locs[lang] = locs[i]
	}
	return c, nil
}

// Get returns the localizer for lang, English when lang is not supported.
func (c *Catalog) Get(lang string) *Localizer {
	if l, ok := c.locs[lang]; ok {
		return l
	}
	return c.locs[Supported[0]]
}

// load parses one language's messages file.
func load(fsys fs.ReadFileFS, lang string) (*Localizer, error) {
	name := "active." + lang + ".toml"
	raw, err := fsys.ReadFile(name)
	if err != nil {
		return nil, fmt.Errorf("locales: %w", err)
	}
	f, err := i18n.ParseMessageFileBytes(raw, name, map[string]i18n.UnmarshalFunc{"toml": toml.Unmarshal})
	if err != nil {
		return nil, fmt.Errorf("locales: %s: %w", name, err)
	}
	l := &Localizer{Lang: lang, cache: map[string]string{}}
	// The language's typography is applied once, here, to the messages as
	// typed: every page, email and PDF reads them through l.
	for _, m := range f.Messages {
		for _, form := range []*string{&m.Zero, &m.One, &m.Two, &m.Few, &m.Many, &m.Other} {
			*form = l.Typeset(*form)
		}
	}
	// go-i18n only gets the messages it has work to do on (arguments, plural
	// forms): the plain ones, five in six, are answered from the cache, and
	// go-i18n's structures for them took about 1 MB per language.
	// Each language has its bundle, so loading one never touches another's
	// maps while it serves; every message exists in both (TestCatalogsMatch).
	b := i18n.NewBundle(language.English)
	if err := b.AddMessages(f.Tag, l.warm(f.Messages)...); err != nil {
		return nil, fmt.Errorf("locales: %w", err)
	}
	l.l = i18n.NewLocalizer(b, lang)
	l.months = strings.Split(l.T("format.months"), ",")
	l.weekdays = strings.Split(l.T("format.weekdays"), ",")
	l.timeLayout = l.T("format.time_layout")
	return l, nil
}

// Localizer translates message IDs for one language.
type Localizer struct {
	Lang       string
	l          *i18n.Localizer
	months     []string
	weekdays   []string // Sunday first, as time.Weekday counts
	timeLayout string
	// cache holds messages without arguments; filled at Load, read-only afterwards.
	cache map[string]string
}

// T returns the message id, filled with the key/value pairs in args
// (T("x", "Name", n) fills {{.Name}}). A missing message returns its ID,
// which the catalog test keeps from ever reaching a page.
func (l *Localizer) T(id string, args ...any) string {
	s, plain := l.cache[id]
	if plain && len(args) == 0 {
		return s
	}
	data := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			data[k] = args[i+1]
		}
	}
	if !plain {
		var err error
		if s, err = l.l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data}); err != nil {
			return id
		}
	}
	if l.Lang == "fr" {
		s = elide(s, data)
	}
	return s
}

// N returns the plural form of id for count; {{.Count}} holds the count.
func (l *Localizer) N(id string, count int, args ...any) string {
	if s, plain := l.cache[id]; plain {
		return s // one text for every count
	}
	data := map[string]any{"Count": count}
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			data[k] = args[i+1]
		}
	}
	s, err := l.l.Localize(&i18n.LocalizeConfig{MessageID: id, PluralCount: count, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// Date formats a date the way the language writes it (25 novembre 2026 / November 25, 2026).
func (l *Localizer) Date(t time.Time) string {
	day := strconv.Itoa(t.Day())
	if t.Day() == 1 {
		day = l.T("format.first_day") // French writes the first of the month "1er".
	}
	return l.T("format.date", "Day", day, "Month", l.months[int(t.Month())-1], "Year", t.Year())
}

// DateTime formats a date and time (25 novembre 2026 à 14:05 / November 25, 2026 at 2:05 PM).
func (l *Localizer) DateTime(t time.Time) string {
	return l.T("format.datetime", "Date", l.Date(t), "Time", t.Format(l.timeLayout))
}

// Day formats a date with its weekday (jeudi 27 novembre 2026 / Thursday, November 27, 2026).
func (l *Localizer) Day(t time.Time) string {
	return l.T("format.day", "Weekday", l.weekdays[t.Weekday()], "Date", l.Date(t))
}

// Time formats a time of day.
func (l *Localizer) Time(t time.Time) string { return t.Format(l.timeLayout) }

// Duration writes a length of time for people: to the second under an hour
// ("45 s", "3 min 05 s"), to the minute past it ("1 h 05 min", "32 h 00 min"),
// never as "115213 s". Number and unit are held together by non-breaking spaces.
func (l *Localizer) Duration(d time.Duration) string {
	s := int64(max(d, 0)+time.Second/2) / int64(time.Second)
	switch {
	case s < 60:
		return l.T("format.duration_s", "S", s)
	case s < 3600:
		return l.T("format.duration_min", "M", s/60, "S", fmt.Sprintf("%02d", s%60))
	}
	m := (s + 30) / 60
	return l.T("format.duration_h", "H", m/60, "M", fmt.Sprintf("%02d", m%60))
}

// Messages returns the flat message map of one language file: ID → text for
// simple messages, ID → plural forms for plural ones.
func Messages(lang string) (map[string]any, error) {
	raw, err := files.ReadFile("active." + lang + ".toml")
	if err != nil {
		return nil, err
	}
	var tree map[string]any
	if err := toml.Unmarshal(raw, &tree); err != nil {
		return nil, fmt.Errorf("locales: %s: %w", lang, err)
	}
	out := map[string]any{}
	flatten("", tree, out)
	return out, nil
}

// pluralKeys are the CLDR categories; a table made only of them is one plural message.
var pluralKeys = map[string]bool{"zero": true, "one": true, "two": true, "few": true, "many": true, "other": true, "description": true}

func flatten(prefix string, tree map[string]any, out map[string]any) {
	for k, v := range tree {
		id := prefix + k
		sub, ok := v.(map[string]any)
		if !ok {
			out[id] = v
			continue
		}
		plural := len(sub) > 0
		for sk := range sub {
			if !pluralKeys[sk] {
				plural = false
			}
		}
		if plural {
			out[id] = sub
		} else {
			flatten(id+".", sub, out)
		}
	}
}

// warm caches the messages that take no arguments and have no plural forms:
// most of a page's strings, which go-i18n would otherwise run through
// text/template on every call. It returns the other messages, for go-i18n.
func (l *Localizer) warm(msgs []*i18n.Message) []*i18n.Message {
	var rest []*i18n.Message
	for _, m := range msgs {
		plural := m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != ""
		if !plural && m.Other != "" && !strings.Contains(m.Other, "{{") {
			l.cache[m.ID] = m.Other
		} else {
			rest = append(rest, m)
		}
	}
	return rest
}

// Currencies Foyer can show amounts in.
var Currencies = []string{"EUR", "CAD", "CHF", "GBP", "USD"}

// Money formats an amount in cents the way the language writes it:
// €1,234.50 in English, 1 234,50 € in French (with non-breaking spaces).
func (l *Localizer) Money(cents int64, currency string) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	whole, frac := cents/100, cents%100
	group, dec := ",", "."
	if l.Lang == "fr" {
		group, dec = "\u202f", ","
	}
	ds := fmt.Sprint(whole)
	var b strings.Builder
	for i, r := range ds {
		if i > 0 && (len(ds)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	num := fmt.Sprintf("%s%s%02d", b.String(), dec, frac)
	sign := ""
	if neg {
		sign = "-"
	}
	if l.Lang == "fr" {
		sym := map[string]string{"EUR": "€", "CAD": "$\u00a0CA", "CHF": "CHF", "GBP": "£", "USD": "$\u00a0US"}[currency]
		if sym == "" {
			sym = currency
		}
		return sign + num + "\u00a0" + sym
	}
	sym := map[string]string{"EUR": "€", "GBP": "£", "USD": "$", "CAD": "CA$"}[currency]
	if sym == "" {
		sym = currency + "\u00a0"
	}
	return sign + sym + num
}

// elide applies French elision where a message puts a name after "de" or
// "que": "Rôle de {{.Name}}" reads "Rôle d’Alex", "Rôle de Bruno". Only the
// values passed in are looked at, so the messages' own words never change.
func elide(s string, data map[string]any) string {
	for _, v := range data {
		name, ok := v.(string)
		if !ok || !startsWithVowel(name) {
			continue
		}
		s = strings.ReplaceAll(s, "de "+name, "d’"+name)
		s = strings.ReplaceAll(s, "De "+name, "D’"+name)
		s = strings.ReplaceAll(s, "que "+name, "qu’"+name)
	}
	return s
}

// startsWithVowel reports whether a name begins with a vowel sound that
// elides. H and Y are left alone: "de Hugo", "de Yann".
func startsWithVowel(name string) bool {
	r, _ := utf8.DecodeRuneInString(name)
	return strings.ContainsRune("AEIOUÂÀÄÉÈÊËÎÏÔÖÛÙÜŒÆaeiouâàäéèêëîïôöûùüœæ", r)
}
