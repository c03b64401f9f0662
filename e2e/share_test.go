package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"foyer/delivery/deliverytest"
)

// fakeSMS is a Twilio-compatible Messages API on loopback that keeps what it is sent.
type fakeSMS struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sent []url2body
}

type url2body struct{ To, Body string }

func newFakeSMS(t *testing.T) *fakeSMS {
	f := &fakeSMS{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
			http.NotFound(w, r)
			return
		}
		if user, _, ok := r.BasicAuth(); !ok || user != "AC123" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_ = r.ParseForm()
		f.mu.Lock()
		f.sent = append(f.sent, url2body{To: r.PostForm.Get("To"), Body: r.PostForm.Get("Body")})
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"sid": "SM1", "status": "queued"}`))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSMS) url() string {
	return strings.Replace(f.srv.URL, "http://", "http://AC123:token@", 1)
}

// waitCode waits for a text to a number and returns the 6-digit code in it.
func (f *fakeSMS) waitCode(t *testing.T, to string, n int) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		f.mu.Lock()
		var got []string
		for _, s := range f.sent {
			if s.To == to {
				got = append(got, s.Body)
			}
		}
		f.mu.Unlock()
		if len(got) >= n {
			if c := sixDigits.FindString(got[n-1]); c != "" {
				return c
			}
			t.Fatalf("no code in %q", got[n-1])
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no text message to %s", to)
	return ""
}

var (
	sixDigits = regexp.MustCompile(`\b\d{6}\b`)
	shareLink = regexp.MustCompile(`http://[^/\s]+/s/[A-Za-z0-9_-]{43}`)
)

// fetchBytes downloads a URL with the page's cookies and returns the bytes.
func (p *page) fetchBytes(path string) []byte {
	p.t.Helper()
	b64, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`fetch(`+"`"+path+"`"+`).then(r => r.arrayBuffer()).then(b => { let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatal(err)
	}
	out, _ := base64.StdEncoding.DecodeString(b64)
	return out
}

// shareFiles opens the Share documents dialog on the client record and sends files.
func shareFiles(staff *page, paths []string, fields ...string) {
	staff.t.Helper()
	staff.openDialog(`a[href$="/shares/new"]`)
	staff.axe()
	var steps []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(`#dialog [name="`+fields[i]+`"]`), fields[i+1]))
	}
	steps = append(steps, chromedp.SetUploadFiles(chromedp.CSS(`#f-files`), paths, chromedp.NodeReady))
	staff.do(steps...)
	staff.screenshot("share-dialog")
	staff.click(`#dialog form[data-upload] button.primary`)
}

// TestShareDocuments: staff share two files; the email reaches a real SMTP
// server; the recipient gets a code by text message, enters a wrong one then
// the right one, downloads both files intact, sees the history and deletes the
// documents. Then, in French, a client without a mobile gets the code by
// email, and finds the share on the portal's Documents.
func TestShareDocuments(t *testing.T) {
	browser := newBrowser(t)
	smtp := deliverytest.NewSMTPServer(t, "", "")
	sms := newFakeSMS(t)
	srv := startFoyer(t, "FOYER_SMTP_URL="+smtp.URL(), "FOYER_MAIL_FROM=Cabinet <noreply@example.org>",
		"FOYER_SMS_URL="+sms.url(), "FOYER_SMS_FROM=+33600000000")
	staff := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(staff)

	dir := t.TempDir()
	pdf := make([]byte, 600<<10)
	_, _ = rand.Read(pdf)
	paths := []string{filepath.Join(dir, "Compte rendu séance.pdf"), filepath.Join(dir, "notes.txt")}
	contents := [][]byte{pdf, []byte("Notes de séance\n")}
	for i, p := range paths {
		if err := os.WriteFile(p, contents[i], 0o600); err != nil {
			t.Fatal(err)
		}
	}

	// An English-speaking client with a mobile.
	staff.do(chromedp.Navigate(srv.base + "/clients/new"))
	staff.submit(`main form`, "first_name", "Ana", "last_name", "Martin", "email", "ana@example.org", "phone_0", "06 12 34 56 78", "lang", "en")
	staff.expect("Ana Martin")
	shareFiles(staff, paths, "message", "Comme convenu.")
	staff.expect("Les documents sont partagés", "Documents partagés", "Compte rendu séance.pdf", "notes.txt", "Actif")
	staff.axe()
	staff.screenshot("share-timeline")

	mail, err := smtp.WaitFor("ana@example.org", 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	link := shareLink.FindString(mail.Text)
	if link == "" || !strings.Contains(mail.Text, "Comme convenu.") || !strings.Contains(mail.Subject, "shared documents") {
		t.Fatalf("share email %q:\n%s", mail.Subject, mail.Text)
	}
	path := strings.TrimPrefix(link, srv.base)

	ana := newTab(t, browser, srv.base)
	ana.do(chromedp.EmulateViewport(375, 812), chromedp.Navigate(link))
	ana.expect("Your secure documents", "ending in 678")
	ana.axe()
	ana.reflow()
	ana.screenshot("share-landing")
	ana.submit(`form[action$="/code"]`)
	ana.expect("Enter your security code", "••• ••• 678")
	code := sms.waitCode(t, "+33612345678", 1)
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	ana.submit(`form[action$="/verify"]`, "code", wrong)
	ana.expect("This code is not right.", "4 tries left.")
	ana.axe()
	ana.screenshot("share-code-wrong")
	ana.click(`a[href$="/code?new=1"]`)
	ana.expect("Get a new security code", "••• ••• 678")
	ana.axe()
	ana.reflow()
	ana.screenshot("share-new-code")
	ana.do(chromedp.Navigate(link + "/code"))
	ana.expect("Enter your security code")
	ana.submit(`form[action$="/verify"]`, "code", code)
	ana.expect("Download your documents", "Compte rendu séance.pdf", "notes.txt", "Download all (zip)", "deleted on")
	ana.axe()
	ana.reflow()
	ana.screenshot("share-files")
	// Back after verifying lands on a real page (the code steps redirect to
	// GET pages), never on "Confirm Form Resubmission".
	ana.do(chromedp.NavigateBack())
	ana.expect("Download your documents")
	for i := range paths {
		got := ana.fetchBytes(path + "/files/" + string(rune('1'+i)))
		if !bytes.Equal(got, contents[i]) {
			t.Fatalf("file %d: %d bytes, want %d", i+1, len(got), len(contents[i]))
		}
	}
	ana.click(`a[href$="/history"]`)
	ana.expect("Access and download history", "Downloaded Compte rendu séance.pdf", "Downloaded notes.txt", "Chrome")
	ana.axe()
	ana.reflow()
	ana.screenshot("share-history")
	ana.click(`a[href$="/files"]`)
	ana.expect("Download all (zip)")
	ana.click(`a[href$="/delete"]`)
	ana.expect("Delete the documents", "will stop working")
	ana.axe()
	ana.submit(`form[action$="/delete"]`)
	ana.expect("These documents were deleted")
	ana.axe()

	// The sender was told of the first download, at the real SMTP server.
	notice, err := smtp.WaitFor("owner@example.org", 15*time.Second)
	if err != nil || !strings.Contains(notice.Subject, "Ana Martin") {
		t.Fatalf("first-download notice: %v %q", err, notice.Subject)
	}

	// In French, a client without a mobile, with a portal account: the code goes by email.
	staff.do(chromedp.Navigate(srv.base + "/clients/new"))
	staff.submit(`main form`, "first_name", "Éloïse", "last_name", "Durand", "email", "eloise@example.org", "lang", "fr")
	staff.expect("Éloïse Durand")
	staff.submit(`form[action$="/portal"]`, "portal_email", "eloise@example.org", "portal_password", "bienvenue au cabinet")
	shareFiles(staff, paths[1:])
	staff.expect("Les documents sont partagés")
	// Setting her portal access emailed her too: the share email is the one with a link.
	link = ""
	for deadline := time.Now().Add(15 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, m := range smtp.Messages() {
			if l := shareLink.FindString(m.Text); l != "" && len(m.To) == 1 && m.To[0] == "eloise@example.org" {
				mail, link = m, l
			}
		}
	}
	if !strings.Contains(mail.Text, "Bonjour Éloïse Durand") || !strings.Contains(mail.Text, "seront supprimés le") {
		t.Fatalf("French share email:\n%s", mail.Text)
	}
	eloise := newTab(t, browser, srv.base)
	eloise.do(chromedp.EmulateViewport(375, 812), chromedp.Navigate(link))
	// The pages are in the language of her email, French, though her browser
	// says English; the switch still gives English, and French again.
	eloise.expect("Vos documents sécurisés", "adresse e-mail e•••@example.org")
	eloise.submit(`form[action="/lang"]`)
	eloise.expect("Your secure documents")
	eloise.submit(`form[action="/lang"]`)
	eloise.expect("Vos documents sécurisés", "adresse e-mail e•••@example.org")
	eloise.axe()
	eloise.screenshot("share-landing-fr")
	before := len(smtp.Messages())
	eloise.submit(`form[action$="/code"]`)
	eloise.expect("Saisissez votre code de sécurité", "Vous n’avez pas reçu d’e-mail ?")
	var codeMail deliverytest.Message
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if msgs := smtp.Messages(); len(msgs) > before {
			codeMail = msgs[len(msgs)-1]
			break
		}
	}
	code = sixDigits.FindString(codeMail.Text)
	if code == "" || !strings.Contains(codeMail.Subject, "code de sécurité") {
		t.Fatalf("code email %q:\n%s", codeMail.Subject, codeMail.Text)
	}
	eloise.axe()
	eloise.submit(`form[action$="/verify"]`, "code", code)
	eloise.expect("Téléchargez vos documents", "notes.txt")
	eloise.axe()
	eloise.screenshot("share-files-fr")

	// Her portal lists the share and its history.
	eloise.do(chromedp.Navigate(srv.base + "/portal"))
	eloise.submit(`form[action="/portal"]`, "email", "eloise@example.org", "password", "bienvenue au cabinet")
	eloise.expect("Documents", "notes.txt", "Vérifié par le code de sécurité", "Ce n’était pas moi")
	eloise.axe()
	eloise.reflow()
	eloise.screenshot("portal-documents")
	// This wasn't me asks first, naming the access and what will happen.
	eloise.click(`a.not-me`)
	eloise.expect("Ce n’était pas vous", "L’accès que vous signalez", "les documents sont supprimés du serveur")
	eloise.axe()
	eloise.reflow()
	eloise.screenshot("portal-not-me")
}
