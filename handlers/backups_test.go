package handlers

import (
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"foyer/backup"
	"foyer/backup/s3test"
	"foyer/journal"
	"foyer/mail"
	"foyer/store"
)

// TestBackupsPageWithoutStorage: the page says backups are off and how to
// turn them on, where the key is, and keeps the retention the owner sets.
func TestBackupsPageWithoutStorage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	r := owner.get("/settings/backups")
	mustContain(t, r, "Off-site backups are not set up", "FOYER_BACKUP_URL", a.st.KeyID(), a.st.KeyFile(), `href="/settings/key"`,
		`value="24"`, `value="30"`, `value="12"`)
	mustContain(t, owner.get("/settings"), `href="/settings/backups"`, `href="/settings/key"`,
		"encrypted with the practice&#39;s secret key", "It opens only with the secret key "+a.st.KeyID()+", kept in "+a.st.KeyFile())

	for _, tc := range []struct {
		hourly, daily, monthly, field, want string
	}{
		{"-1", "30", "12", "keep_hourly", "Enter a number from 0 to 1000."},
		{"24", "lots", "12", "keep_daily", "Enter a number from 0 to 1000."},
		{"24", "30", "1001", "keep_monthly", "Enter a number from 0 to 1000."},
		{"0", "0", "0", "keep_hourly", "Keep at least one copy."},
	} {
		r := owner.post("/settings/backups", formOf("keep_hourly", tc.hourly, "keep_daily", tc.daily, "keep_monthly", tc.monthly))
		if r.Code != http.StatusUnprocessableEntity {
			t.Fatalf("%+v: %d", tc, r.Code)
		}
		// Beside the field, with what was typed kept.
		mustContain(t, r, `id="e-`+tc.field+`">`+tc.want, `value="`+tc.daily+`"`)
	}
	if r := owner.post("/settings/backups", formOf("keep_hourly", "48", "keep_daily", "7", "keep_monthly", "0")); r.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.Code, r.body)
	}
	p, _ := a.st.Practice()
	if p.BackupKeep == nil || *p.BackupKeep != (store.Retention{Hourly: 48, Daily: 7, Monthly: 0}) {
		t.Fatalf("kept %+v", p.BackupKeep)
	}
	mustContain(t, owner.get("/settings/backups"), `value="48"`, `value="7"`)
	// Back up now needs a storage.
	if r := owner.post("/settings/backups/now", nil); r.Code != http.StatusNotFound {
		t.Fatalf("back up now without storage: %d", r.Code)
	}
	// Owners only.
	admin := a.addStaff("Ada Admin", "ada@example.org", store.RoleAdmin)
	other := a.signIn(admin.Email, staffPassword)
	for _, path := range []string{"/settings/backups", "/settings/key"} {
		if r := other.get(path); r.Code != http.StatusForbidden && r.Code != http.StatusNotFound {
			t.Errorf("an admin opened %s: %d", path, r.Code)
		}
	}
}

// TestRefusedBackupsShowEverywhere runs backups against a real S3 server
// that refuses the key: Settings says so in the owner's words (in English
// and French) with the storage's own, every staff page has a banner from
// the second failure, the owner's email goes out in their language, and it
// is withdrawn if backups work again before it is sent.
func TestRefusedBackupsShowEverywhere(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t)
	a := newTestApp(t)
	owner := a.setUp()
	target, err := backup.ParseURL(strings.Replace(s3test.URL(srv.Addr, "p"), s3test.Secret, "a-wrong-secret", 1))
	if err != nil {
		t.Fatal(err)
	}
	b, err := backup.New(a.st, target, 0, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	a.h.cfg.Backups = b
	pract := a.addStaff("Paul Practitioner", "paul@example.org", store.RolePractitioner)
	paul := a.signIn(pract.Email, staffPassword)

	b.Once(t.Context())
	r := owner.get("/settings/backups")
	mustContain(t, r, target.String(), "None yet", "The storage refused the access key or the secret of FOYER_BACKUP_URL.", "SignatureDoesNotMatch")
	mustNotContain(t, r, "a-wrong-secret")
	mustNotContain(t, owner.get("/clients"), "Off-site backups have been failing")

	b.Once(t.Context())
	mustContain(t, owner.get("/clients"), "Off-site backups have been failing since", `href="/settings/backups"`)
	mustContain(t, paul.get("/clients"), "The practice owner has been told by email.")
	owner.post("/lang", formOf("lang", "fr", "next", "/"))
	mustContain(t, owner.get("/settings/backups"), "Le stockage a refusé la clé d’accès ou le secret de FOYER_BACKUP_URL.", "Les 2 dernières sauvegardes ont échoué")

	msgs, _ := a.st.ListMessages(0, 10)
	var m store.Message
	for _, x := range msgs {
		if x.Kind == mail.BackupFailed {
			m = x
		}
	}
	if m.To != "owner@example.org" {
		t.Fatalf("no email to the owner: %+v", msgs)
	}
	out, err := a.h.mail.Render(m, "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.Subject, "Cabinet Lumière") || !strings.Contains(out.Text, "refused the access key") || !strings.Contains(out.Text, "/settings/backups") {
		t.Fatalf("email: %s\n%s", out.Subject, out.Text)
	}
	if !a.h.mail.StillValid(m, "") {
		t.Fatal("the email is void while backups fail")
	}
	a.st.UpdateBackupStatus(func(s *store.BackupStatus) { s.Failures = 0 })
	if a.h.mail.StillValid(m, "") {
		t.Fatal("the email still goes out after backups work again")
	}
}

// TestSecretKeyShownAfterThePassword: the key is on the recovery sheet only
// after the owner's password; wrong passwords are limited.
func TestSecretKeyShownAfterThePassword(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	key := store.FormatSecretKey(a.st.SecretKey())
	r := owner.get("/settings/key")
	mustContain(t, r, "Secret key", a.st.KeyID(), `type="password"`)
	mustNotContain(t, r, key)
	r = owner.post("/settings/key", formOf("password", "not my password at all"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong password: %d", r.Code)
	}
	mustContain(t, r, "This password is not correct.")
	mustNotContain(t, r, key)
	r = owner.post("/settings/key", formOf("password", ownerPassword))
	if r.Code != http.StatusOK || r.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("right password: %d %v", r.Code, r.Header())
	}
	mustContain(t, r, "Recovery sheet of Cabinet Lumière", key, a.st.KeyID(), a.st.KeyFile(), "foyer restore", "age -d", "data-print")
	owner.post("/lang", formOf("lang", "fr", "next", "/"))
	mustContain(t, owner.post("/settings/key", formOf("password", ownerPassword)), "Fiche de secours de Cabinet Lumière", "Identifiant de la clé", key)
	for i := 0; i < 10; i++ {
		r = owner.post("/settings/key", formOf("password", "guess "+string(rune('a'+i))))
	}
	if r.Code != http.StatusTooManyRequests {
		t.Fatalf("ten wrong passwords in a row: %d", r.Code)
	}
	if r = owner.post("/settings/key", formOf("password", ownerPassword)); r.Code != http.StatusTooManyRequests {
		t.Fatalf("the right password while limited: %d", r.Code)
	}
	mustNotContain(t, r, key)
}

// TestSecretKeyShowingIsJournaled: showing the secret key, which opens the
// data file and every backup, is in the access journal with the key's ID,
// and so is each wrong password and each try refused for too many; the
// Journal page and its CSV name them in both languages.
func TestSecretKeyShowingIsJournaled(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.post("/settings/key", formOf("password", "not my password at all"))
	if r := owner.post("/settings/key", formOf("password", ownerPassword)); r.Code != http.StatusOK {
		t.Fatalf("right password: %d", r.Code)
	}
	var r *resp
	for i := 0; i < 10; i++ {
		r = owner.post("/settings/key", formOf("password", "guess "+string(rune('a'+i))))
	}
	if r.Code != http.StatusTooManyRequests {
		t.Fatalf("ten wrong passwords in a row: %d", r.Code)
	}
	count := map[string]int{}
	for _, e := range a.journalEntries(store.JournalFilter{}) {
		if e.StaffID != 1 || e.Addr != "192.0.2.10" {
			continue
		}
		switch journal.Action(e.Action) {
		case journal.SecretKeyShown:
			if e.Detail != a.st.KeyID() {
				t.Errorf("the key shown: %q, want %q", e.Detail, a.st.KeyID())
			}
			count["shown"]++
		case journal.SecretKeyFailed:
			count["failed "+e.Detail]++
		}
	}
	// The limit lets a few wrong passwords be checked (the first one, then
	// more), and refuses the rest unchecked.
	if count["shown"] != 1 || count["failed "] < 2 || count["failed limited"] < 1 || count["failed "]+count["failed limited"] != 11 {
		t.Fatalf("journaled: %v", count)
	}
	r = owner.get("/journal")
	mustContain(t, r, "Showed the secret key (recovery sheet)", "key "+a.st.KeyID(), "Wrong password to show the secret key", "refused: too many tries")
	r = owner.get("/journal.csv")
	if !strings.Contains(r.body, "Showed the secret key (recovery sheet),key "+a.st.KeyID()) {
		t.Fatalf("csv:\n%s", r.body)
	}
	owner.post("/lang", formOf("lang", "fr", "next", "/"))
	mustContain(t, owner.get("/journal"), "A affiché la clé secrète (fiche de secours)", "clé "+a.st.KeyID(),
		"Mot de passe erroné pour afficher la clé secrète", "refusé\u00a0: trop de tentatives")
}
