package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"foyer/delivery/deliverytest"
)

// TestStandaloneSharePage: the sharing box opened as a page of its own (a
// new tab from the preso's Share): Create link, Refresh link and Expire
// work there, and Expire asks first.
func TestStandaloneSharePage(t *testing.T) {
	browser := newBrowser(t)
	srv := startFoyer(t)
	staff := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(staff)
	staff.do(chromedp.Navigate(srv.base + "/clients/new"))
	staff.submit(`main form`, "first_name", "Mia", "last_name", "Martin", "email", "mia@example.org", "phone_0", "06 12 34 56 78")
	staff.expect("Mia Martin", "Présentations")
	staff.openDialog(`a[href$="/presos/new"]`)
	staff.submit(`#dialog form`, "title", "Le plan de Mia")
	staff.expect("Diapositives", "Mia Martin")
	staff.typeInto("#f-title", "Votre plan")
	staff.expectIn("#save-state", "Enregistré")

	staff.do(chromedp.Navigate(srv.base + "/presos/1/share"))
	staff.click(`form[action="/presos/1/share"] button`)
	staff.expect("Lien à envoyer à vos clients", "Lien créé le", "Personne ne l’a encore vue")
	link := staff.value("#share-link")
	if !strings.HasPrefix(link, srv.base+"/s/") {
		t.Fatalf("link: %q", link)
	}
	staff.eventually("the box has the focus", `document.activeElement.classList.contains("share-box")`)

	staff.do(chromedp.Navigate(srv.base + "/presos/1"))
	staff.typeInto("#f-body", "Nous allons **épargner**.")
	staff.expectIn("#save-state", "Enregistré")
	staff.do(chromedp.Navigate(srv.base + "/presos/1/share"))
	staff.expect("La présentation a changé")
	staff.click(`form[action$="/refresh"] button`)
	staff.eventually("the box swapped", `!document.querySelector("form[action$='/refresh']")`)
	staff.expect("Lien à envoyer à vos clients")
	if again := staff.value("#share-link"); again != link {
		t.Fatalf("refresh changed the link: %s → %s", link, again)
	}
	if strings.Contains(staff.text("main"), "La présentation a changé") {
		t.Fatal("still out of date after Refresh link")
	}

	staff.click(`a[href="/presos/1/share/1/expire"]`)
	staff.expect("Faire expirer ce lien maintenant ?", "Le plan de Mia", "Garder le lien")
	staff.axe()
	staff.screenshot("preso-share-expire")
	staff.click(`.share-box a.button[href="/presos/1/share"]`)
	staff.expect("Lien à envoyer à vos clients")
	staff.click(`a[href="/presos/1/share/1/expire"]`)
	staff.click(`form[action="/presos/1/share/1/expire"] button`)
	staff.expect("Créer le lien", "expiré")
	staff.axe()
	staff.screenshot("preso-share-page")

	// The expired link's page speaks its landing's language: Mia's French,
	// whatever the browser's.
	client := newTab(t, browser, srv.base)
	client.do(chromedp.Navigate(link))
	client.expectIn("body", "Ce lien ne fonctionne plus")

	// In English, a new link, and Expire's question again.
	staff.submit(`form[action="/lang"]`)
	staff.click(`form[action="/presos/1/share"] button`)
	staff.expect("Link to send to your clients")
	staff.screenshot("preso-share-page-en")
	staff.click(`a[href="/presos/1/share/2/expire"]`)
	staff.expect("Expire this link now?", "Keep the link")
	staff.screenshot("preso-share-expire-en")
}

// TestLinkPagesInBothLanguages: a client with two mobiles and a portal
// account is sent two documents. Staff extend the link by a length of
// their choice and see the new date; Send again offers both mobiles. The
// client's code page says what helps when the text message does not come;
// signed in to the portal, they download a document from My Account →
// Documents. Each page in French and English, on a phone and a desktop.
func TestLinkPagesInBothLanguages(t *testing.T) {
	browser := newBrowser(t)
	smtp := deliverytest.NewSMTPServer(t, "", "")
	sms := newFakeSMS(t)
	srv := startFoyer(t, "FOYER_SMTP_URL="+smtp.URL(), "FOYER_MAIL_FROM=Cabinet <noreply@example.org>",
		"FOYER_SMS_URL="+sms.url(), "FOYER_SMS_FROM=+33600000000")
	staff := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(staff)
	dir := t.TempDir()
	paths := []string{filepath.Join(dir, "Relevé d’honoraires.pdf"), filepath.Join(dir, "notes.txt")}
	for i, p := range paths {
		if err := os.WriteFile(p, []byte("document "+strconv.Itoa(i+1)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	staff.do(chromedp.Navigate(srv.base + "/clients/new"))
	staff.submit(`main form`, "first_name", "Ana", "last_name", "Martin", "email", "ana@example.org", "lang", "en",
		"phone_0", "06 12 34 56 78", "phone_1", "06 55 44 33 22")
	staff.expect("Ana Martin")
	staff.submit(`form[action$="/portal"]`, "portal_email", "ana@example.org", "portal_password", "a long enough password")
	shareFiles(staff, paths)
	staff.expect("Les documents sont partagés", "Prolonger le lien de", "20 jours de plus")
	staff.axe()
	staff.screenshot("share-extend-fr")
	staff.submit(`form[action="/shares/1/extend"]`, "days", "7")
	staff.expect("Le lien sécurisé expire désormais le")
	staff.screenshot("share-extended-fr")
	staff.do(chromedp.Navigate(srv.base + "/shares/1/again"))
	staff.expect("Deuxième téléphone mobile")
	if a, b := staff.value("#f-mobile_0"), staff.value("#f-mobile_1"); a != "06 12 34 56 78" || b != "06 55 44 33 22" {
		t.Fatalf("Send again's mobiles: %q %q", a, b)
	}
	staff.axe()
	staff.screenshot("share-again-fr")
	staff.submit(`form[action="/lang"]`)
	staff.expect("Second mobile phone")
	staff.screenshot("share-again-en")
	staff.do(chromedp.Navigate(srv.base + "/clients/1"))
	staff.expect("Extend the link by", "20 more days")
	staff.screenshot("share-extend-en")

	link := ""
	for deadline := time.Now().Add(15 * time.Second); link == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, m := range smtp.Messages() {
			if l := shareLink.FindString(m.Text); l != "" {
				link = l
			}
		}
	}
	if link == "" {
		t.Fatal("no share email")
	}
	ana := newTab(t, browser, srv.base)
	ana.do(chromedp.EmulateViewport(375, 812), chromedp.Navigate(link))
	ana.expect("Your secure documents")
	ana.submit(`form[action$="/code"]`)
	ana.expect("Enter your security code", "Not arrived after a few minutes? Check that ••• ••• 678 is your mobile number, ask for a new code below, or ask Cabinet Lumière to send you the link again.")
	sms.waitCode(t, "+33612345678", 1)
	ana.axe()
	ana.screenshot("share-code-advice-en")
	ana.submit(`form[action="/lang"]`)
	ana.expect("Pas arrivé au bout de quelques minutes ? Vérifiez que le ••• ••• 678 est bien votre numéro de mobile")
	ana.axe()
	ana.screenshot("share-code-advice-fr")

	portal := newTab(t, browser, srv.base)
	portal.do(chromedp.EmulateViewport(375, 812), chromedp.Navigate(srv.base+"/portal"))
	portal.submit(`form[action="/portal"]`, "email", "ana@example.org", "password", "a long enough password")
	portal.expect("Documents", "Relevé d’honoraires.pdf", "Download all (zip)")
	if got := string(portal.fetchBytes("/portal/shares/1/files/1")); got != "document 1" {
		t.Fatalf("the document from the portal: %q", got)
	}
	portal.do(chromedp.Reload())
	portal.expect("Downloaded Relevé d’honoraires.pdf from the client portal", "Not you? Whoever downloaded it signed in with your password: change it")
	portal.axe()
	portal.screenshot("portal-documents-en")
	portal.submit(`form[action="/lang"]`)
	portal.expect("Tout télécharger (zip)", "Téléchargé depuis le portail client : Relevé d’honoraires.pdf", "Pas vous ? La personne qui l’a téléchargé")
	portal.axe()
	portal.screenshot("portal-documents-fr")
}
