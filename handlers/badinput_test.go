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
	t.Parallel()
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
	t.Parallel()
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

// TestBadInputClientForms covers the forms of clients, appointments and the portal:
// bad values get a 4xx with a French message beside the field, never a 500, and
// the record keeps what it had.
func TestBadInputClientForms(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.post("/lang", formOf("lang", "fr", "next", "/"))
	a.enableSignup(owner)
	path, _ := a.clientWithPortal(owner, "eloise@example.org", "bienvenue au cabinet")
	// The portal forms use another client, whose password the staff forms above do not reset.
	_, client := a.clientWithPortal(owner, "marc@example.org", "le mot de passe de marc", "first_name", "Marc", "last_name", "Dupont")
	client.post("/lang", formOf("lang", "fr", "next", "/portal/account"))
	huge := strings.Repeat("é", 1<<19)
	values := map[string]string{"empty": "", "huge": huge, "malformed": "abc\xff\xfe", "control": "a\x00b", "wrong type": "[object Object]"}
	forms := []struct {
		b      *browser
		path   string
		fields map[string]string
		// free are the fields where any text, or none, is a fine answer.
		free []string
	}{
		{owner, "/clients", map[string]string{"first_name": "A", "last_name": "B", "email": "a@example.org", "lang": "fr", "practitioner": "1",
			"phone_0": "0612345678", "phone_0_type": "mobile", "birth_date": "1990-01-01", "address": "x", "notes": "y"},
			[]string{"first_name", "last_name", "address", "notes", "email", "birth_date", "phone_0", "phone_0_type"}},
		{owner, path, map[string]string{"first_name": "A", "last_name": "B", "lang": "fr", "practitioner": "1"}, []string{"first_name", "last_name"}},
		{owner, path + "/portal", map[string]string{"portal_email": "eloise@example.org", "portal_password": "a long new password"}, []string{"portal_password"}},
		{owner, path + "/appointments", map[string]string{"date": "2026-12-01", "time": "10:00", "minutes": "50", "kind": "video", "fee": "80", "practitioner": "1"}, nil},
		{client, "/portal/account", map[string]string{"phone_0": "0612345678", "phone_0_type": "mobile", "address": "x", "lang": "fr"}, []string{"address", "phone_0", "phone_0_type"}},
		{client, "/portal/password", map[string]string{"current": "wrong", "new": "a long new password"}, nil},
		{a.browser(), "/portal/signup", map[string]string{"first_name": "Z", "last_name": "M", "email": "z@example.org", "lang": "fr", "password": "a long new password", "phone": "", "birth_date": ""},
			[]string{"first_name", "last_name", "phone", "birth_date", "password"}},
		{a.browser(), "/portal/forgot", map[string]string{"email": "z@example.org"}, nil},
	}
	for _, f := range forms {
		f.b.lang = "fr"
		for field := range f.fields {
			for kind, v := range values {
				vals := url.Values{}
				for k, fv := range f.fields {
					vals.Set(k, fv)
				}
				vals.Set(field, v)
				f.b.ip = "198.18." + itoa(uint64(len(field))) + "." + itoa(uint64(len(kind))) + ":1"
				r := f.b.post(f.path, vals)
				switch {
				case r.Code >= 500:
					t.Errorf("%s %s=%s: %d", f.path, field, kind, r.Code)
				case r.Code < 400:
					ok := false
					for _, free := range f.free {
						ok = ok || (free == field && (kind == "wrong type" || kind == "empty"))
					}
					if !ok {
						t.Errorf("%s %s=%s accepted (%d)", f.path, field, kind, r.Code)
					}
				case r.Code == http.StatusUnprocessableEntity:
					if !strings.Contains(r.body, `class="error`) {
						t.Errorf("%s %s=%s: no message beside a field", f.path, field, kind)
					}
					if strings.Contains(r.body, "This field") || strings.Contains(r.body, "is too long") || strings.Contains(r.body, "not valid") {
						t.Errorf("%s %s=%s: English message on a French page", f.path, field, kind)
					}
				}
			}
		}
	}
	if cl, _ := a.st.Client(2); cl.Email != "marc@example.org" || cl.Lang != "fr" || cl.FirstName != "Marc" || cl.AccountID == 0 {
		t.Errorf("the portal forms changed what they may not: %+v", cl)
	}
}
