package handlers

import (
	"strings"

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
func displayPhone(e164, region string) string {
	n, err := phonenumbers.Parse(e164, region)
	if err != nil {
		return e164
	}
	if phonenumbers.GetRegionCodeForNumber(n) == region {
		return phonenumbers.Format(n, phonenumbers.NATIONAL)
	}
	return phonenumbers.Format(n, phonenumbers.INTERNATIONAL)
}
