package handlers

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"foyer/store"
)

// TestBadInput sends empty, huge, malformed and wrongly typed values to every
// form: the answer is a 4xx with a localized message, never a 500, and nothing saved is lost.
func TestBadInput(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	owner.lang = "fr"
	owner.post("/lang", formOf("lang", "fr", "next", "/"))
	pat := a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	patID := "/staff/" + itoa(pat.ID)
	huge := strings.Repeat("é", 1<<19) // 1 MB of UTF-8
	badUTF8 := "abc\xff\xfe"
	forms := []struct {
		path   string
		fields map[string]string
	}{
		{"/account", map[string]string{"name": "Olive", "lang": "fr"}},
		{"/account/password", map[string]string{"current": ownerPassword, "new": "a new long password"}},
		{"/staff/invite", map[string]string{"name": "Kim", "email": "kim@example.org", "role": "admin", "lang": "fr"}},
		{"/settings", map[string]string{"name": "Cabinet", "default_lang": "fr", "time_zone": "Europe/Paris", "phone_region": "FR", "brand_color": "#2f5d62", "currency": "EUR"}},
		{patID + "/role", map[string]string{"role": "admin"}},
		{"/account/2fa", map[string]string{"code": "123456"}},
		{"/account/2fa/disable", map[string]string{"disable_password": "x"}},
	}
	values := map[string]string{"empty": "", "huge": huge, "malformed": badUTF8, "control": "a\x00b", "wrong type": "[object Object]"}
	for _, f := range forms {
		for field := range f.fields {
			for kind, v := range values {
				vals := url.Values{}
				for k, fv := range f.fields {
					vals.Set(k, fv)
				}
				vals.Set(field, v)
				r := owner.post(f.path, vals)
				if r.Code >= 500 {
					t.Errorf("%s %s=%s: %d", f.path, field, kind, r.Code)
					continue
				}
				if r.Code == http.StatusSeeOther {
					// Accepted: only fine for values that are legitimately free text.
					if kind != "wrong type" || (field != "name" && field != "current" && field != "new" && field != "disable_password") {
						t.Errorf("%s %s=%s accepted", f.path, field, kind)
					}
					continue
				}
				if r.Code < 400 {
					t.Errorf("%s %s=%s: %d", f.path, field, kind, r.Code)
				}
				if strings.Contains(r.body, "This field") || strings.Contains(r.body, "is too long") {
					t.Errorf("%s %s=%s: English message on a French page", f.path, field, kind)
				}
				// The role select is an inline control: a bad value gets the error page, not a field message.
				if r.Code == http.StatusUnprocessableEntity && !strings.HasSuffix(f.path, "/role") && !strings.Contains(r.body, `class="error`) {
					t.Errorf("%s %s=%s: no message beside a field", f.path, field, kind)
				}
			}
		}
	}
	// Nothing saved was lost by all that.
	p, _ := a.st.Practice()
	if p.TimeZone != "Europe/Paris" || p.PhoneRegion != "FR" || p.BrandColor != "#2f5d62" || p.DefaultLang != "fr" {
		t.Errorf("practice changed: %+v", p)
	}
	st, _ := a.st.StaffByEmail("owner@example.org")
	if st.Name != "Olive Owner" && st.Name != "[object Object]" {
		t.Errorf("owner name = %q", st.Name)
	}
	// Bodies past the limit get a localized 413.
	r := owner.post("/settings", formOf("name", strings.Repeat("x", 4<<20)))
	if r.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("4 MB body: %d", r.Code)
	}
	mustContain(t, r, "Trop de données")
	// A body that does not parse.
	req := newRawPost("/settings", "a=%zz&_csrf="+owner.csrf())
	if r := owner.do(req); r.Code != http.StatusBadRequest && r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("malformed body: %d", r.Code)
	}
}

func TestBadInputPublicForms(t *testing.T) {
	a := newTestApp(t)
	b := a.browser()
	b.lang = "fr"
	for kind, v := range map[string]string{"huge": strings.Repeat("a", 1<<20), "malformed": "\xc3\x28", "empty": ""} {
		r := b.post("/setup", formOf("practice_name", v, "default_lang", "fr", "name", "Zoé", "email", "zoe@example.org", "password", v))
		if r.Code != http.StatusUnprocessableEntity {
			t.Errorf("setup %s: %d", kind, r.Code)
		}
		mustContain(t, r, `class="error"`)
	}
	a.setUp()
	for kind, v := range map[string]string{"huge": strings.Repeat("a", 1<<20), "malformed": "\xc3\x28"} {
		r := b.post("/signin", formOf("email", v, "password", v))
		if r.Code != http.StatusUnprocessableEntity {
			t.Errorf("signin %s: %d", kind, r.Code)
		}
	}
}

// FuzzSignIn throws arbitrary form values at the sign-in and setup parsers.
func FuzzSignIn(f *testing.F) {
	f.Add("pat@example.org", "password", "fr")
	f.Add("\xff", "\x00", "")
	f.Add(strings.Repeat("@", 300), "", "en")
	a := newTestApp(f)
	b := a.browser()
	f.Fuzz(func(t *testing.T, email, password, lang string) {
		a.t = t
		for _, path := range []string{"/setup", "/signin", "/lang"} {
			r := b.post(path, formOf("email", email, "password", password, "lang", lang, "default_lang", lang, "name", email, "practice_name", password))
			if r.Code >= 500 {
				t.Fatalf("%s: %d", path, r.Code)
			}
		}
	})
}
