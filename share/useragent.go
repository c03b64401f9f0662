package share

import (
	"strings"
	"unicode"

	"github.com/mileusna/useragent"
)

// Browser names the browser and operating system of a User-Agent header, for
// the access history ("" when unknown): "Chrome 131", "Windows".
//
// mileusna/useragent reads the header with string tests, in microseconds and
// without tables kept in memory (a trie-based parser used before held 5.4 MB
// for the life of the process after the first share page).
func Browser(ua string) (browser, os string) {
	if ua == "" || len(ua) > 1024 {
		return "", ""
	}
	u := useragent.Parse(ua)
	name := u.Name
	switch name {
	case "Trident":
		// Internet Explorer 11 names only its engine.
		name, u.Version = useragent.InternetExplorer, ""
	case "iPhone", "iPad", "iPod":
		// A page shown inside an iOS app: Safari's engine, no version.
		name = useragent.Safari
	case useragent.MobileSafari:
		name = useragent.Safari
	case "Android browser":
		name = "Android Browser"
	}
	name = clip(name, 32)
	if !strings.ContainsFunc(name, unicode.IsLetter) {
		name = "" // a header that is only numbers or signs names nothing
	}
	if major, _, _ := strings.Cut(u.Version, "."); major != "" && name != "" {
		name += " " + clip(major, 7)
	}
	return name, clip(u.OS, 20)
}

// clip keeps names short whatever a header claims (the history shows them),
// dropping a character cut in two.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
