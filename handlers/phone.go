package handlers

import (
	"strings"
	"sync"

	"github.com/nyaruka/phonenumbers"
)

// parsePhone reads a number as typed (national in the practice's region, or
// international with +) and returns it in E.164, and whether it is a mobile
// number, the only kind that can receive codes by SMS.
func parsePhone(raw, region string) (e164 string, mobile bool, ok bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 40 {
		return "", false, false
	}
	n, err := phonenumbers.Parse(raw, region)
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", false, false
	}
	t := phonenumbers.GetNumberType(n)
	mobile = t == phonenumbers.MOBILE || t == phonenumbers.FIXED_LINE_OR_MOBILE
	return phonenumbers.Format(n, phonenumbers.E164), mobile, true
}

// displayPhone writes an E.164 number the way people of its region read it:
// nationally when it is from the practice's region, else internationally.
// Parsing a number runs a dozen regular expressions (about 12 µs): a list
// of 25 rows spent more on its phone numbers than on its search, so recent
// answers are kept.
func displayPhone(e164, region string) string {
	key := region + " " + e164
	if s, ok := phoneDisplays.get(key); ok {
		return s
	}
	s := formatPhone(e164, region)
	phoneDisplays.put(key, s)
	return s
}

// phoneDisplays holds the numbers recently shown, as lists page through them.
var phoneDisplays = displayCache{max: 1024}

// displayCache is a small map of recent answers, emptied when it fills up:
// its size stays bounded and a page of results always fits.
type displayCache struct {
	mu  sync.Mutex
	m   map[string]string
	max int
}

func (c *displayCache) get(k string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ok := c.m[k]
	return s, ok
}

func (c *displayCache) put(k, v string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= c.max {
		c.m = make(map[string]string, c.max)
	}
	c.m[k] = v
}

func formatPhone(e164, region string) string {
	n, err := phonenumbers.Parse(e164, region)
	if err != nil {
		return e164
	}
	if phonenumbers.GetRegionCodeForNumber(n) == region {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}
