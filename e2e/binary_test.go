package e2e

import (
	"bytes"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"foyer/store"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return runEnv(t, nil, args...)
}

// runEnv runs the binary with env on top of this process's environment.
func runEnv(t *testing.T, env []string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(foyerBinary(t), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

var csrfInPage = regexp.MustCompile(`"X-CSRF-Token": "([A-Za-z0-9_-]+)"`)

// pageToken fetches a page, as a browser would before posting its form, and
// returns the CSRF token it carries.
func pageToken(t *testing.T, client *http.Client, page string) string {
	t.Helper()
	resp, err := client.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := csrfInPage.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no CSRF token in %s (%d)", page, resp.StatusCode)
	}
	return string(m[1])
}

// TestSecretKey: data sealed with FOYER_SECRET_KEY opens only with that key,
// and each mistake gets a message that says what to do.
func TestSecretKey(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	key := "FOYER_SECRET_KEY=q4xUuS1tG5b0Xw2yR8nC7mVdJ3kLzP6hA9eTf0iBoQs="
	if out, err := runEnv(t, []string{key}, "demo", "-data", data); err != nil {
		t.Fatalf("demo with a key: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		env  string
		want string
	}{
		{"FOYER_SECRET_KEY=", "set FOYER_SECRET_KEY to the same key"},
		{"FOYER_SECRET_KEY=another key that is long enough to be accepted", "not the key the data"},
		{"FOYER_SECRET_KEY=short", "use at least 32"},
	} {
		out, err := runEnv(t, []string{tc.env}, "serve", "-data", data, "-addr", freePort(t))
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("serve with %s: %v, %q", tc.env, err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(data, store.KeyFileName)); !os.IsNotExist(err) {
		t.Errorf("a key given as FOYER_SECRET_KEY, or a failed start, wrote secret.key")
	}
	if out, err := runEnv(t, []string{key}, "backup", "-data", data, filepath.Join(t.TempDir(), "b.db")); err != nil {
		t.Fatalf("backup with the key: %v\n%s", err, out)
	}
}

// TestSecretKeyFile: by default the key is written to secret.key beside the
// data file at the first start; without it the next start stops, says which
// key it needs and where, and changes nothing.
func TestSecretKeyFile(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	if out, err := run(t, "demo", "-data", data); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	keyFile := filepath.Join(data, store.KeyFileName)
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret.key: %v %v", fi, err)
	}
	key, err := store.ReadKeyFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	kept := filepath.Join(t.TempDir(), "kept.key")
	if err := os.Rename(keyFile, kept); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(filepath.Join(data, store.FileName))
	out, err := run(t, "serve", "-data", data, "-addr", freePort(t))
	if err == nil || !strings.Contains(out, keyFile+" is missing") || !strings.Contains(out, store.SecretKeyID(key)) || !strings.Contains(out, "Nothing was changed") {
		t.Fatalf("start without secret.key: %v %q", err, out)
	}
	after, _ := os.ReadFile(filepath.Join(data, store.FileName))
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) || !bytes.Equal(before, after) {
		t.Fatal("the failed start changed the data or wrote a key")
	}
	// The key typed back from the recovery sheet, in groups, opens it.
	if err := os.WriteFile(keyFile, []byte(store.FormatSecretKey(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := startFoyerIn(t, data)
	if resp, err := http.Get(srv.base + "/signin"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("after the key came back: %v", err)
	}
}

// TestRefusesWhatCannotWork: settings that cannot work, or a data
// directory that holds no store, stop the command with a message naming
// the problem, and nothing is created.
func TestRefusesWhatCannotWork(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want string
	}{
		{"FOYER_MAIL_FROM=not an address", "FOYER_MAIL_FROM"},
		{"FOYER_IDLE_TIMEOUT=-5m", "FOYER_IDLE_TIMEOUT"},
		{"FOYER_IDLE_TIMEOUT=soon", "FOYER_IDLE_TIMEOUT"},
		{"FOYER_LOG_FORMAT=xml", "FOYER_LOG_FORMAT"},
	} {
		data := filepath.Join(t.TempDir(), "data")
		out, err := runEnv(t, []string{tc.env, "FOYER_ADDR=" + freePort(t)}, "serve", "-data", data)
		if err == nil || !strings.Contains(out, tc.want) {
			t.Errorf("%s: %v, %q", tc.env, err, out)
		}
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Errorf("%s: the failed start created %s", tc.env, data)
		}
	}
	typo := filepath.Join(t.TempDir(), "foyer-dta")
	dest := filepath.Join(t.TempDir(), "b.db")
	out, err := run(t, "backup", "-data", typo, dest)
	if err == nil || !strings.Contains(out, "no Foyer data in") {
		t.Errorf("backup of a mistyped directory: %v, %q", err, out)
	}
	for _, p := range []string{typo, dest} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("backup of a mistyped directory created %s", p)
		}
	}
}

func TestHelpListsConfiguration(t *testing.T) {
	out, err := run(t, "--help")
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	for _, want := range []string{"FOYER_ADDR", "FOYER_DATA", "FOYER_BASE_URL", "FOYER_SMTP_URL", "FOYER_SMS_URL", "FOYER_IDLE_TIMEOUT", "FOYER_TRUSTED_PROXIES", "FOYER_SECRET_KEY", "backup", "demo"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %s", want)
		}
	}
}

// TestOneProcessPerDataDirectory: a second server on the same data exits at once with a clear message.
func TestOneProcessPerDataDirectory(t *testing.T) {
	srv := startFoyer(t)
	start := time.Now()
	out, err := run(t, "serve", "-data", srv.data, "-addr", freePort(t))
	if err == nil {
		t.Fatal("a second server started on the same data")
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("the second server took %v to give up", time.Since(start))
	}
	if !strings.Contains(out, "in use by another Foyer process") {
		t.Fatalf("unclear message: %s", out)
	}
	// The offline backup refuses too, and says what to do instead.
	out, err = run(t, "backup", "-data", srv.data, filepath.Join(t.TempDir(), "b.db"))
	if err == nil || !strings.Contains(out, "stop it first") {
		t.Fatalf("backup while running: %v %s", err, out)
	}
}

// TestShutdownAndBackup: SIGTERM stops the server cleanly; then the offline backup works.
func TestShutdownAndBackup(t *testing.T) {
	srv := startFoyer(t)
	resp, err := http.Get(srv.base + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	srv.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- srv.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit 20 s after SIGTERM")
	}
	log, _ := os.ReadFile(srv.log)
	if !strings.Contains(string(log), "stopped") {
		t.Fatalf("log:\n%s", log)
	}
	dir := t.TempDir()
	out, err := run(t, "backup", "-data", srv.data, dir)
	if err != nil {
		t.Fatalf("backup: %v %s", err, out)
	}
	keyFile := filepath.Join(srv.data, store.KeyFileName)
	if !strings.Contains(out, "needs the secret key") || !strings.Contains(out, keyFile) || !strings.Contains(out, "foyer restore -from") {
		t.Errorf("the backup command does not say how to restore, that it needs the key, and where it is: %s", out)
	}
	// An encrypted copy, as the off-site ones: it opens only through a restore with the key.
	copies, _ := filepath.Glob(filepath.Join(dir, "foyer-*.db.zst.age"))
	if len(copies) != 1 {
		t.Fatalf("foyer backup DIR wrote %v", copies)
	}
	if err := store.CheckPages(copies[0]); err == nil {
		t.Fatal("the backup is a plain data file")
	}
	restored := filepath.Join(t.TempDir(), "restored")
	if out, err := run(t, "restore", "-from", copies[0], "-data", restored, "-key-file", keyFile); err != nil {
		t.Fatalf("restore of the backup: %v %s", err, out)
	}
	s, err := store.Open(restored)
	if err != nil {
		t.Fatalf("the restored backup does not open: %v", err)
	}
	defer s.Close()
	if v, _ := s.SchemaVersion(); v != store.CurrentSchema {
		t.Fatalf("backup schema %d", v)
	}
}

func TestDemo(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	out, err := run(t, "demo", "-data", data)
	if err != nil || !strings.Contains(out, "owner@demo.foyer.test") {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if out, err := run(t, "demo", "-data", data); err == nil {
		t.Fatalf("demo ran twice on one directory:\n%s", out)
	}
	checkDemo(t, data, "fr", "Cabinet Lumière")
	srv := startFoyerIn(t, data)
	// The printed credentials work.
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	body := "email=admin%40demo.foyer.test&password=foyer+demo+2026&_csrf=" + pageToken(t, client, srv.base+"/signin")
	req, _ := http.NewRequest("POST", srv.base+"/signin", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("demo sign-in: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// TestResetPasswordCommand: an owner locked out of everything gets a one-time
// link from the server's command line, and chooses a new password with it.
func TestResetPasswordCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	if out, err := run(t, "demo", "-data", data); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	if out, err := run(t, "reset-password", "-data", filepath.Join(t.TempDir(), "typo"), "owner@demo.foyer.test"); err == nil || !strings.Contains(out, "no Foyer data in") {
		t.Errorf("reset-password on a directory without data: %v\n%s", err, out)
	}
	if out, err := run(t, "reset-password", "-data", data, "nobody@demo.foyer.test"); err == nil || !strings.Contains(out, "no active staff account") {
		t.Errorf("reset-password for an unknown email: %v\n%s", err, out)
	}
	out, err := run(t, "reset-password", "-data", data, "-base-url", "https://portal.example.org", "owner@demo.foyer.test")
	link := regexp.MustCompile(`https://portal\.example\.org(/signin/reset/[A-Za-z0-9_-]{43})`).FindStringSubmatch(out)
	if err != nil || link == nil {
		t.Fatalf("reset-password: %v\n%s", err, out)
	}
	srv := startFoyerIn(t, data)
	if out, err := run(t, "reset-password", "-data", data, "owner@demo.foyer.test"); err == nil || !strings.Contains(out, "stop it first") {
		t.Errorf("reset-password while the server runs: %v\n%s", err, out)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(path string, form url.Values) *http.Response {
		t.Helper()
		form.Set("_csrf", pageToken(t, client, srv.base+path))
		resp, err := client.PostForm(srv.base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp, err := client.Get(srv.base + link[1])
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("open the link: %v %v", err, resp)
	}
	resp.Body.Close()
	if r := post(link[1], url.Values{"password": {"a brand new owner password"}}); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("set the password: %d", r.StatusCode)
	}
	if r := post(link[1], url.Values{"password": {"yet another owner password"}}); r.StatusCode != http.StatusNotFound {
		t.Fatalf("the link worked twice: %d", r.StatusCode)
	}
	if r := post("/signin", url.Values{"email": {"owner@demo.foyer.test"}, "password": {"a brand new owner password"}}); r.StatusCode != http.StatusSeeOther || r.Header.Get("Location") != "/" {
		t.Fatalf("sign in with the new password: %d %s", r.StatusCode, r.Header.Get("Location"))
	}
}

// checkDemo reads a demo data directory: a practice that looks real, with
// ordinary names, about 30 clients, two weeks of sessions with receipts and
// four sign-ups, one of whom matches a client.
func checkDemo(t *testing.T, data, lang, name string) {
	t.Helper()
	st, err := store.OpenFile(filepath.Join(data, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	p, _ := st.Practice()
	if p.Name != name || p.DefaultLang != lang || p.SIRET == "" || p.Address == "" {
		t.Errorf("demo practice: %+v", p)
	}
	staff, _ := st.ListStaff()
	practitioners := 0
	for _, s := range staff {
		if strings.Contains(s.Name, "Owner") || strings.Contains(s.Name, "Praticien") || strings.Contains(s.Name, "Admin") {
			t.Errorf("a made-up staff name: %s", s.Name)
		}
		if s.Role != store.RoleAdmin {
			practitioners++
		}
	}
	if practitioners != 3 {
		t.Errorf("%d practitioners", practitioners)
	}
	if _, total, _ := st.SearchClients(store.ClientFilter{Limit: 1}); total < 28 {
		t.Errorf("%d clients", total)
	}
	prospects, total, _ := st.SearchProspects(store.ProspectFilter{Limit: 10})
	if total != 4 {
		t.Errorf("%d prospects", total)
	}
	matched := 0
	for _, a := range prospects {
		if found, _, _ := st.SearchClients(store.ClientFilter{Query: store.ParseQuery(a.SignUp.LastName), Limit: 5}); len(found) > 0 && found[0].FirstName == a.SignUp.FirstName {
			matched++
		}
	}
	if matched != 1 {
		t.Errorf("%d prospects match a client, want 1", matched)
	}
	now := time.Now()
	past, _, _ := st.Agenda(now.AddDate(0, 0, -15), now, 0, 500)
	future, _, _ := st.Agenda(now, now.AddDate(0, 0, 15), 0, 500)
	if len(past) < 20 || len(future) < 20 {
		t.Errorf("%d past and %d future sessions", len(past), len(future))
	}
	paid := 0
	for _, e := range past {
		if ap, _ := st.Appointment(e.ID); ap.ReceiptNo != 0 {
			paid++
		}
	}
	if paid < 15 {
		t.Errorf("%d receipts", paid)
	}
}

// TestDemoInEnglish: -lang en makes the same practice in English.
func TestDemoInEnglish(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	if out, err := run(t, "demo", "-data", data, "-lang", "en"); err != nil {
		t.Fatalf("demo -lang en: %v\n%s", err, out)
	}
	checkDemo(t, data, "en", "Lumière Counselling")
}
