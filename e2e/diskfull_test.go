package e2e

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"foyer/testtool"
)

// TestDiskFull runs the real binary with its data on a small file system
// (a tmpfs) and fills it: documents shared, a new client and the hot backup
// are answered "the server's disk is full, nothing was saved" (507, in
// French), the forms keep what was typed, the owner sees a banner; once
// space is freed, the same form saves and the banner goes.
func TestDiskFull(t *testing.T) {
	disk := testtool.SmallDisk(t, 24<<20)
	ctx := newBrowser(t)
	srv := startFoyerIn(t, filepath.Join(disk, "data"))
	p := &page{t: t, ctx: ctx, base: srv.base}
	setUpPractice(p)
	p.do(chromedp.Navigate(srv.base + "/clients/new"))
	p.submit(`main form`, "first_name", "Mia", "last_name", "Martin", "email", "mia@example.org")
	p.expect("Mia Martin")
	client := p.location()
	p.do(chromedp.Navigate(srv.base + "/presos"))
	p.submit(`form.new-preso`, "title", "Bilan")
	p.expect("Bilan", "Diapositive 1")
	preso := p.location()

	doc := filepath.Join(t.TempDir(), "dossier.pdf")
	data := make([]byte, 4<<20)
	rand.Read(data)
	if err := os.WriteFile(doc, data, 0o600); err != nil {
		t.Fatal(err)
	}
	filler := testtool.FillDisk(t, disk)

	// Documents shared: the dialog comes back with the message, as typed.
	p.do(chromedp.Navigate(srv.base + client))
	shareFiles(p, []string{doc}, "message", "Les pièces du dossier, comme convenu.")
	p.expectIn("#dialog", "Le disque du serveur est plein : les fichiers n’ont pas été enregistrés.")
	if got := p.value(`#dialog [name="message"]`); got != "Les pièces du dossier, comme convenu." {
		t.Errorf("the message typed became %q", got)
	}
	p.screenshot("disk-full-share")
	p.axe()

	// New clients until the data file has no room left inside to grow into.
	u := &httpUser{t: t, base: srv.base, c: &http.Client{Jar: p.cookieJar(t), CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	notes := strings.Repeat("Séance du mardi : point sur le sommeil. ", 120)
	token := js[string](p, `document.querySelector("input[name=_csrf]").value`)
	refused := false
	for i := 0; i < 400 && !refused; i++ {
		resp, err := u.c.PostForm(srv.base+"/clients", url.Values{"_csrf": {token}, "first_name": {"Client"}, "last_name": {fmt.Sprint("Client-", i)}, "email": {"client@example.org"}, "lang": {"fr"}, "practitioner": {"1"}, "notes": {notes}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		switch resp.StatusCode {
		case http.StatusSeeOther:
		case http.StatusInsufficientStorage:
			refused = true
		default:
			t.Fatalf("new client on a full disk: %d", resp.StatusCode)
		}
	}
	if !refused {
		t.Fatal("400 clients saved on a full disk")
	}
	p.do(chromedp.Navigate(srv.base + "/clients/new"))
	p.submit(`main form`, "first_name", "Léa", "last_name", "Roux", "email", "lea@example.org", "notes", notes)
	p.expect("Le disque du serveur est plein : rien n’a été enregistré. Ce que vous avez saisi est toujours là")
	for field, want := range map[string]string{"first_name": "Léa", "last_name": "Roux", "email": "lea@example.org", "notes": strings.TrimSpace(notes)} {
		if got := p.value(`main form [name="` + field + `"]`); got != want {
			t.Errorf("the field %s came back as %q", field, got)
		}
	}
	p.expectIn(".banner.alert", "Le disque du serveur est plein depuis le")
	p.axe()
	p.screenshot("disk-full-client")

	// A slide typed in the editor: not saved, said so, the text kept.
	p.do(chromedp.Navigate(srv.base + preso))
	p.typeInto("#f-body", notes)
	p.expectIn("#save-state", "Le disque du serveur est plein")
	if got := p.value("#f-body"); got != notes {
		t.Errorf("the slide's text became %q", got)
	}
	p.screenshot("disk-full-slide")

	// The hot backup.
	resp, err := u.c.Get(srv.base + "/backup")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInsufficientStorage || resp.Header.Get("Content-Disposition") != "" {
		t.Fatalf("backup on a full disk: %d %v", resp.StatusCode, resp.Header)
	}
	p.do(chromedp.Navigate(srv.base + "/backup"))
	p.expect("Le disque du serveur est plein", "Rien n’a été enregistré.")
	p.screenshot("disk-full-backup")

	// Space is freed: the same form saves, and the banner goes.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	p.do(chromedp.Navigate(srv.base + "/clients/new"))
	p.submit(`main form`, "first_name", "Léa", "last_name", "Roux", "email", "lea@example.org", "notes", notes)
	p.expect("La fiche client est créée.", "Léa Roux")
	p.do(chromedp.Navigate(srv.base + client))
	p.expect("Mia Martin")
	if n := js[int](p, `document.querySelectorAll(".banner.alert").length`); n != 0 {
		t.Errorf("the disk banner stays once space is back")
	}
	log, _ := os.ReadFile(srv.log)
	if !strings.Contains(string(log), "the disk is full") {
		t.Errorf("the log does not say the disk is full:\n%s", log)
	}
}

// cookieJar holds the tab's cookies for base: plain HTTP requests made as
// the person signed in there.
func (p *page) cookieJar(t *testing.T) http.CookieJar {
	t.Helper()
	res, err := chromedp.Call(p.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{p.base}})
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	var cs []*http.Cookie
	for _, c := range res.Cookies {
		cs = append(cs, &http.Cookie{Name: c.Name, Value: c.Value, Path: c.Path})
	}
	b, _ := url.Parse(p.base)
	jar.SetCookies(b, cs)
	return jar
}
