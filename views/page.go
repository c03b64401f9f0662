package views

import (
	"strconv"
	"strings"
	"time"
	"unicode"

	"foyer/access"
	"foyer/locales"
	"foyer/store"
)

// Page is what every page template receives: the language, the CSRF token,
// the flash, the signed-in staff member, the practice branding, and the page's own data.
type Page struct {
	*locales.Localizer
	CSRF  string
	Path  string
	Flash string // message ID
	// FlashWhen is the moment the flash names ({{.When}}), zero for none.
	FlashWhen time.Time
	User      *store.Staff
	// Account is the signed-in client portal account, on portal pages.
	Account *store.Account
	// Username is the email of the account whose password a form on the page
	// sets or asks for (the signed-in one, or the one a link is for): the
	// "username" partial hands it to password managers, so a password saved
	// from the page goes to the right account.
	Username string
	// Portal is true on client portal pages: they show the portal's menu, not the staff one.
	Portal   bool
	Practice store.Practice
	LogoURL  string
	BrandURL string
	// Zone is the practice time zone: every time on a page is shown in it.
	Zone *time.Location
	// DeliveryWarning names the "delivery not configured" banner to show, if any.
	DeliveryWarning string
	// BackupWarning names the "off-site backups are failing" banner, failing since BackupSince.
	BackupWarning string
	BackupSince   time.Time
	// DiskFull shows the owner that the server's disk refused a write for
	// want of space, at DiskFullSince, and has no room yet.
	DiskFull      bool
	DiskFullSince time.Time
	// Title is the message ID of the page title.
	Title string
	// Form holds submitted values to re-fill; Errors maps a field to a message ID.
	Form   map[string]string
	Errors map[string]string
	// ErrArgs holds the arguments of a field's message, such as a length limit.
	ErrArgs map[string][]any
	Data    any
}

// Err returns the translated error for a field, or "".
func (p *Page) Err(field string) string {
	if id := p.Errors[field]; id != "" {
		return p.T(id, p.ErrArgs[field]...)
	}
	return ""
}

// Val returns the submitted value of a field.
func (p *Page) Val(field string) string { return p.Form[field] }

// IsAdmin reports whether the signed-in user is an owner or an admin.
func (p *Page) IsAdmin() bool { return p.User != nil && access.IsAdmin(p.User.Role) }

// IsOwner reports whether the signed-in user is the owner.
func (p *Page) IsOwner() bool { return p.User != nil && access.IsOwner(p.User.Role) }

// DateTime shows a moment as a date and time in the practice time zone.
func (p *Page) DateTime(t time.Time) string { return p.Localizer.DateTime(t.In(p.zone())) }

// Time shows the time of day of a moment in the practice time zone.
func (p *Page) Time(t time.Time) string { return p.Localizer.Time(t.In(p.zone())) }

// Date shows the day of a moment in the practice time zone.
func (p *Page) Date(t time.Time) string { return p.Localizer.Date(t.In(p.zone())) }

func (p *Page) zone() *time.Location {
	if p.Zone == nil {
		return time.UTC
	}
	return p.Zone
}

// DateOnly shows a calendar date kept as YYYY-MM-DD (a birth date: no time zone applies).
func (p *Page) DateOnly(ymd string) string {
	d, err := time.Parse("2006-01-02", ymd)
	if err != nil {
		return ymd
	}
	return p.Localizer.Date(d)
}

// Monogram is what the header shows when the practice has no logo: the
// initials of its first two words ("Cabinet Lumière" → "CL"), in capitals.
func (p *Page) Monogram() string {
	var out []rune
	for _, w := range strings.Fields(p.Practice.Name) {
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				out = append(out, unicode.ToUpper(r))
				break
			}
		}
		if len(out) == 2 {
			break
		}
	}
	if len(out) == 0 {
		return "F"
	}
	return string(out)
}

// PhonesShown is how many phone rows a form shows open: those up to the last
// one filled in or in error, and at least one. The rest wait behind "Add a phone".
func (p *Page) PhonesShown() int {
	n := 1
	for i := 0; i < 10; i++ {
		name := "phone_" + strconv.Itoa(i)
		if p.Form[name] != "" || p.Errors[name] != "" {
			n = i + 1
		}
	}
	return n
}
