package share

import "strings"

// Browser names the browser and operating system of a User-Agent header, for
// the access history ("" when unknown): "Chrome 131", "Windows".
//
// A few substring tests do: the history needs the common browsers and
// systems, not every device ever made. The parser library used before built a
// trie of 5.4 MB (and 30 ms of CPU) on the first share landing and kept it for
// the life of the process.
func Browser(ua string) (browser, os string) {
	if ua == "" || len(ua) > 1024 {
		return "", ""
	}
	return browserOf(ua), osOf(ua)
}

// browsers are tested in order: Chromium-based browsers also say "Chrome/"
// and "Safari/", Chrome also says "Safari/", so the more specific come first.
var browsers = []struct{ token, name string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"OPT/", "Opera"}, {"Opera Mini/", "Opera Mini"},
	{"SamsungBrowser/", "Samsung Browser"}, {"YaBrowser/", "Yandex Browser"},
	{"Vivaldi/", "Vivaldi"}, {"HuaweiBrowser/", "Huawei Browser"}, {"Silk/", "Amazon Silk"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chrome"},
	{"MSIE ", "IE"}, {"Opera/", "Opera"},
}

func browserOf(ua string) string {
	for _, b := range browsers {
		if i := strings.Index(ua, b.token); i >= 0 {
			return withMajor(b.name, ua[i+len(b.token):])
		}
	}
	if strings.Contains(ua, "Trident/") {
		if i := strings.Index(ua, "rv:"); i >= 0 {
			return withMajor("IE", ua[i+3:])
		}
		return "IE"
	}
	// Safari gives its version after "Version/"; so did Android's own
	// browser before Chrome replaced it.
	if strings.Contains(ua, "Safari/") {
		name := "Safari"
		if strings.Contains(ua, "Android") {
			name = "Android Browser"
		}
		if i := strings.Index(ua, "Version/"); i >= 0 {
			return withMajor(name, ua[i+len("Version/"):])
		}
	}
	// An iOS app showing a page uses Safari's engine and gives no version.
	if strings.Contains(ua, "AppleWebKit/") && strings.Contains(ua, "like Mac OS X") {
		return "Safari"
	}
	return ""
}

// withMajor appends the major version that starts rest, if any: "Chrome 131".
func withMajor(name, rest string) string {
	n := 0
	for n < len(rest) && n < 6 && rest[n] >= '0' && rest[n] <= '9' {
		n++
	}
	if n == 0 {
		return name
	}
	return name + " " + rest[:n]
}

// systems are tested in order: iOS says "like Mac OS X", Android and
// ChromeOS say "Linux".
var systems = []struct{ token, name string }{
	{"Windows", "Windows"},
	{"iPhone", "iOS"}, {"iPad", "iOS"}, {"iPod", "iOS"},
	{"Android", "Android"}, {"CrOS", "ChromeOS"},
	{"Macintosh", "MacOS"}, {"Mac OS X", "MacOS"},
	{"FreeBSD", "FreeBSD"}, {"OpenBSD", "OpenBSD"},
	{"Linux", "Linux"},
}

func osOf(ua string) string {
	for _, s := range systems {
		if strings.Contains(ua, s.token) {
			return s.name
		}
	}
	return ""
}
