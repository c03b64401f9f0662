package e2e

import (
	"bytes"
	"crypto/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"foyer/backup/s3test"
	"foyer/store"
)

// TestBackupPagesInBrowser: the owner of a practice whose storage refuses
// its key sees why under Settings → Off-site backups, a banner on every page
// from the second failure, and prints the recovery sheet after typing their
// password; each page is checked with axe, at 320 and 375 px.
func TestBackupPagesInBrowser(t *testing.T) {
	s3 := s3test.Start(t)
	data := filepath.Join(t.TempDir(), "demo")
	if out, err := run(t, "demo", "-data", data); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	wrong := strings.Replace(s3test.URL(s3.Addr, "cabinet"), s3test.Secret, "not-the-secret", 1)
	srv := startFoyerIn(t, data, "FOYER_BACKUP_URL="+wrong)
	owner := &page{t: t, ctx: newBrowser(t), base: srv.base}
	owner.do(chromedp.Navigate(srv.base + "/signin"))
	owner.submit(`main form`, "email", "owner@demo.foyer.test", "password", "foyer demo 2026")

	// The first copy is taken at start, and fails.
	owner.eventuallyOn("/settings/backups", "Le stockage a refusé la clé d’accès")
	owner.expect("SignatureDoesNotMatch", "la clé secrète", "foyer restore")
	owner.submit(`form[action="/settings/backups/now"]`)
	owner.eventuallyOn("/settings/backups", "Les 2 dernières sauvegardes ont échoué")
	owner.expectIn("body", "Les sauvegardes externes échouent depuis le")
	owner.axe()
	owner.screenshot("backups-failing")

	owner.do(chromedp.Navigate(srv.base + "/settings/key"))
	owner.expect("Clé secrète", "Votre mot de passe")
	owner.axe()
	owner.submit(`main form`, "password", "foyer demo 2026")
	key, err := store.ReadKeyFile(filepath.Join(data, store.KeyFileName))
	if err != nil {
		t.Fatal(err)
	}
	owner.expect("Fiche de secours de Cabinet Lumière", store.FormatSecretKey(key), store.SecretKeyID(key), "Imprimer")
	owner.axe()
	owner.screenshot("recovery-sheet")

	owner.do(chromedp.Navigate(srv.base + "/settings/backups"))
	owner.submit(`.top form[action="/lang"]`)
	owner.expect("The storage refused the access key", "Back up now")
	owner.axe()
	owner.screenshot("backups-failing-en")
}

// eventuallyOn loads path until its main text holds want (work running
// in the background shows on a later load), for up to 20 s.
func (p *page) eventuallyOn(path, want string) {
	p.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		p.do(chromedp.Navigate(p.base + path))
		if strings.Contains(p.text("main"), want) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s never showed %q:\n%s", path, want, p.text("main"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// TestKilledDuringUploadThenRestored: a Foyer killed (kill -9) while its
// backup goes up leaves no copy on the storage and nothing in its data
// directory; started again, it takes a whole copy and clears the
// unfinished upload; foyer backups lists it, and foyer restore brings it
// back into a new directory that Foyer serves.
func TestKilledDuringUploadThenRestored(t *testing.T) {
	s3 := s3test.Start(t)
	proxy := s3test.StartProxy(t, s3.Addr)
	data := filepath.Join(t.TempDir(), "data")
	st, err := store.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	doc := make([]byte, 48<<20)
	rand.Read(doc)
	if err := st.CreateBlob(&store.Blob{Name: "scan.pdf", CreatedAt: time.Now()}, bytes.NewReader(doc), 1<<30); err != nil {
		t.Fatal(err)
	}
	st.Close()
	url := s3test.URL(proxy.Addr, "cabinet")

	// Slow enough that the upload takes seconds: killed in the middle.
	proxy.Limit(8 << 20)
	srv := startFoyerIn(t, data, "FOYER_BACKUP_URL="+url)
	deadline := time.Now().Add(60 * time.Second)
	for proxy.Sent.Load() < 24<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("the upload did not start (%s sent)", s3test.Size(proxy.Sent.Load()))
		}
		time.Sleep(50 * time.Millisecond)
	}
	srv.cmd.Process.Signal(syscall.SIGKILL)
	srv.cmd.Wait()
	objects, unfinished := s3.Objects(t)
	if len(objects) != 0 {
		t.Fatalf("a killed upload is listed: %v", objects)
	}
	t.Logf("killed after %s sent: %d unfinished upload(s) on the storage", s3test.Size(proxy.Sent.Load()), unfinished)
	entries, _ := os.ReadDir(data)
	for _, e := range entries {
		if e.Name() != store.FileName && e.Name() != store.KeyFileName {
			t.Errorf("the kill left %s in the data directory", e.Name())
		}
	}

	proxy.Limit(0)
	srv = startFoyerIn(t, data, "FOYER_BACKUP_URL="+url)
	deadline = time.Now().Add(60 * time.Second)
	for len(objects) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no copy a minute after the restart")
		}
		time.Sleep(100 * time.Millisecond)
		objects, unfinished = s3.Objects(t)
	}
	if len(objects) != 1 || unfinished != 0 {
		t.Fatalf("after the restart: %v, %d unfinished", objects, unfinished)
	}
	srv.cmd.Process.Signal(syscall.SIGTERM)
	srv.cmd.Wait()

	out, err := run(t, "backups", "-data", data, "-backup-url", url)
	if err != nil || !strings.Contains(out, "1 copy at") || !strings.Contains(out, ".db.zst.age") || !strings.Contains(out, filepath.Join(data, store.KeyFileName)) {
		t.Fatalf("foyer backups: %v\n%s", err, out)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	out, err = run(t, "restore", "-from", url, "-data", restored, "-key-file", filepath.Join(data, store.KeyFileName))
	if err != nil || !strings.Contains(out, "Restored foyer-") {
		t.Fatalf("foyer restore: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(out))
	// Over it again: refused without -force, nothing changed.
	if out, err := run(t, "restore", "-from", url, "-data", restored, "-key-file", filepath.Join(data, store.KeyFileName)); err == nil || !strings.Contains(out, "-force") {
		t.Fatalf("restore over data: %v\n%s", err, out)
	}
	// Without the key: refused.
	cmd := exec.Command(foyerBinary(t), "restore", "-from", url, "-data", filepath.Join(t.TempDir(), "x"))
	cmd.Env = append(os.Environ(), "FOYER_SECRET_KEY=")
	if b, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(b), "-key-file") {
		t.Fatalf("restore without a key: %v\n%s", err, b)
	}
	back := startFoyerIn(t, restored)
	resp, err := http.Get(back.base + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the restored practice: %v %v", resp, err)
	}
	resp.Body.Close()
	back.cmd.Process.Signal(syscall.SIGTERM)
	back.cmd.Wait()
	st, err = store.Open(restored)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r, err := st.OpenBlob(1)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var got bytes.Buffer
	if _, err := r.WriteTo(&got); err != nil || !bytes.Equal(got.Bytes(), doc) {
		t.Fatalf("the restored document differs (%v)", err)
	}
}
