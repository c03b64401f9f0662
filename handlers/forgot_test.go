package handlers

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// linksTo returns the reset link of every email of a kind to someone, oldest first.
func (a *testApp) linksTo(to, kind string) []string {
	a.t.Helper()
	a.h.Wait()
	msgs, _ := a.st.ListMessages(0, 200)
	var out []string
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := msgs[i]; m.To == to && m.Kind == kind {
			text := a.sent(m).Text
			for _, re := range []string{portalLink.String(), staffResetLink.String()} {
				if l := regexpFind(re, text); l != "" {
					out = append(out, l)
				}
			}
		}
	}
	return out
}

// TestForgotPerEmailLimitIsSilent: three "forgot password" requests for
// someone's email, made by someone else from other addresses, spend that
// email's emails for a while; the owner asking next from their own address
// gets the same answer as ever (no error), the extra email is silently not
// sent, and each of the three sent carries a link that works. Staff and
// portal alike.
func TestForgotPerEmailLimitIsSilent(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	a.addStaff("Pat", "pat@example.org", "practitioner")
	for _, tc := range []struct{ path, email, kind, resetPrefix string }{
		{"/portal/forgot", "eloise@example.org", "portal_reset", "/portal/reset/"},
		{"/signin/forgot", "pat@example.org", "staff_reset", "/signin/reset/"},
	} {
		for i, ip := range []string{"198.51.100.1:1", "198.51.100.2:1", "2001:db8:1::1"} {
			other := a.browser()
			other.ip = ip
			if strings.Contains(ip, "::") {
				other.ip = "[" + ip + "]:1"
			}
			if r := other.post(tc.path, formOf("email", tc.email)); r.Code != http.StatusOK {
				t.Fatalf("%s request %d from elsewhere: %d", tc.path, i, r.Code)
			}
		}
		real := a.browser()
		real.ip = "203.0.113.7:1"
		r := real.post(tc.path, formOf("email", tc.email))
		if r.Code != http.StatusOK {
			t.Fatalf("%s: the owner got %d after someone else's requests:\n%s", tc.path, r.Code, abbreviate(r.body))
		}
		unknown := a.browser()
		unknown.ip = "203.0.113.8:1"
		u := unknown.post(tc.path, formOf("email", "nobody@example.org"))
		if csrfValue.ReplaceAllString(strings.ReplaceAll(r.body, tc.email, "X"), "") != csrfValue.ReplaceAllString(strings.ReplaceAll(u.body, "nobody@example.org", "X"), "") {
			t.Fatalf("%s: the owner's answer differs from the usual one", tc.path)
		}
		links := a.linksTo(tc.email, tc.kind)
		if len(links) != 3 {
			t.Fatalf("%s: %d emails sent, want 3", tc.path, len(links))
		}
		for _, l := range links {
			if !strings.HasPrefix(l, tc.resetPrefix) {
				t.Fatalf("link %q", l)
			}
			if r := a.browser().get(l); r.Code != http.StatusOK {
				t.Fatalf("%s: a link sent does not work: %d", tc.path, r.Code)
			}
		}
		// The first one sets the password; the others are void after it.
		if r := a.browser().post(links[0], formOf("password", "a brand new password here")); r.Code != http.StatusSeeOther {
			t.Fatalf("%s: reset with the first link: %d %s", tc.path, r.Code, abbreviate(r.body))
		}
		if r := a.browser().get(links[2]); r.Code != http.StatusNotFound {
			t.Fatalf("%s: another link outlived the password change: %d", tc.path, r.Code)
		}
	}
}

// csrfValue is the CSRF token of a page, which differs per browser.
var csrfValue = regexp.MustCompile(`[A-Za-z0-9_-]{43}`)

func regexpFind(re, text string) string {
	if m := regexp.MustCompile(re).FindStringSubmatch(text); m != nil {
		return m[1]
	}
	return ""
}
