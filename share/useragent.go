package share

import (
	"sync"

	useragent "github.com/medama-io/go-useragent"
)

var (
	uaOnce   sync.Once
	uaParser *useragent.Parser
)

// Browser names the browser and operating system of a User-Agent header, for
// the access history ("" when unknown). The parser is built once, on first use.
func Browser(ua string) (browser, os string) {
	if ua == "" {
		return "", ""
	}
	uaOnce.Do(func() { uaParser = useragent.NewParser() })
	a := uaParser.Parse(ua)
	browser = string(a.Browser())
	if v := a.BrowserVersionMajor(); browser != "" && v != "" {
		browser += " " + v
	}
	return browser, string(a.OS())
}
