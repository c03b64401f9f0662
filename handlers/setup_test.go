package handlers

import (
	"net/http"
	"testing"
)

func TestSetupGate(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browser()
	for _, path := range []string{"/", "/signin", "/staff", "/settings", "/account", "/outbox"} {
		r := b.get(path)
		if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/setup" {
			t.Errorf("before setup GET %s = %d → %q, want 303 → /setup", path, r.Code, r.Header().Get("Location"))
		}
	}
	if r := b.get("/healthz"); r.Code != http.StatusOK {
		t.Errorf("healthz before setup = %d", r.Code)
	}
	r := b.get("/setup")
	mustContain(t, r, "Set up your practice", `name="practice_name"`)

	owner := a.setUp()
	r = owner.get("/")
	mustContain(t, r, "Olive Owner", "Your practice is ready")
	for _, who := range []*browser{owner, a.browser()} {
		if r := who.get("/setup"); r.Code != http.StatusNotFound {
			t.Errorf("GET /setup after setup = %d, want 404", r.Code)
		}
		if r := who.post("/setup", formOf("practice_name", "Evil", "default_lang", "en", "name", "X", "email", "x@example.org", "password", ownerPassword)); r.Code != http.StatusNotFound {
			t.Errorf("POST /setup after setup = %d, want 404", r.Code)
		}
	}
	p, _ := a.st.Practice()
	if p.Name != "Cabinet Lumière" || p.DefaultLang != "fr" {
		t.Errorf("practice = %+v", p)
	}
	// A visitor without a language preference gets the practice default.
	anon := a.browser()
	anon.lang = ""
	mustContain(t, anon.get("/signin"), `<html lang="fr">`, "Connexion de l’équipe")
}

func TestSetupValidation(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	b := a.browser()
	valid := map[string]string{"practice_name": "P", "default_lang": "en", "name": "N", "email": "n@example.org", "password": ownerPassword}
	cases := []struct {
		name, field, value, want string
	}{
		{"empty practice", "practice_name", "", "This field is required."},
		{"bad email", "email", "not-an-email", "Enter an email address"},
		{"email with name", "email", "Bob <bob@example.org>", "Enter an email address"},
		{"short password", "password", "short", "at least 8 characters"},
		{"common password", "password", "password123", "among the most common"},
		{"wrong language", "default_lang", "de", "Choose one of the options"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := formOf()
			for k, v := range valid {
				f.Set(k, v)
			}
			f.Set(tc.field, tc.value)
			r := b.post("/setup", f)
			if r.Code != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", r.Code)
			}
			mustContain(t, r, tc.want, `aria-invalid="true"`)
			// What was typed elsewhere is kept.
			if tc.field != "practice_name" {
				mustContain(t, r, `value="P"`)
			}
		})
	}
	if ok, _ := a.st.HasStaff(); ok {
		t.Fatal("an invalid setup created an account")
	}
	// Any Unicode is a fine password, and long ones are allowed.
	f := formOf("practice_name", "Cabinet Été", "default_lang", "fr", "name", "Zoé", "email", "zoe@example.org", "password", "мой пароль для фойе 🏠🏠")
	if r := b.post("/setup", f); r.Code != http.StatusSeeOther {
		t.Fatalf("unicode password refused: %d %s", r.Code, abbreviate(r.body))
	}
}
