package e2e

import (
	"context"
	"encoding/base64"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"foyer/delivery/deliverytest"
	"foyer/receipt/receipttest"
)

// newTab opens a tab with its own cookies: another person on another device.
func newTab(t *testing.T, browser context.Context, base string) *page {
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	return &page{t: t, ctx: ctx, base: base}
}

// setUpPractice creates the practice and signs the owner in, in French.
func setUpPractice(p *page) {
	p.do(chromedp.Navigate(p.base + "/setup"))
	p.submit(`form[action="/lang"]`)
	p.submit(`form[action="/setup"]`, "practice_name", "Cabinet Lumière", "default_lang", "fr",
		"name", "Olive Owner", "email", "owner@example.org", "password", "correct horse battery staple")
	p.expect("Bienvenue, Olive Owner")
}

// openDialog clicks the button that opens a dialog over the page and waits
// until the dialog has the keyboard focus, which is also when htmx has
// settled it: clicking earlier races the autofocus scroll.
func (p *page) openDialog(button string) {
	p.t.Helper()
	p.click(button)
	p.do(chromedp.WaitVisible(chromedp.CSS(`#dialog [role="dialog"]`)))
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.activeElement.closest("#dialog [role=dialog]") !== null`)); err != nil {
		p.t.Fatalf("focus did not move into the dialog opened by %s: %v", button, err)
	}
}

// TestPortalMethod1: staff set the credentials; the client signs in, sees My
// Account, and downloads a receipt whose amount reads the French way.
func TestPortalMethod1(t *testing.T) {
	browser := newBrowser(t)
	srv := startFoyer(t)
	staff := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(staff)

	staff.do(chromedp.Navigate(srv.base + "/clients/new"))
	staff.axe()
	staff.submit(`main form`, "first_name", "Éloïse", "last_name", "Durand", "email", "eloise@example.org",
		"phone_0", "06 12 34 56 78", "birth_date", "1985-04-12", "address", "3 rue des Lilas\n75011 Paris")
	staff.expect("La fiche client est créée.", "Éloïse Durand", "reçoit les codes")
	staff.axe()
	staff.screenshot("client-record")
	staff.submit(`form[action$="/portal"]`, "portal_email", "eloise@example.org", "portal_password", "bienvenue au cabinet")
	staff.expect("L’accès au portail est enregistré", "Compte du portail : eloise@example.org", srv.base+"/portal")
	staff.submit(`form[action$="/appointments"]`, "date", "2026-11-20", "time", "09:30", "fee", "1234,5")
	staff.expect("Le rendez-vous est enregistré.", "20 novembre 2026 à 09:30", "1 234,50 €")
	staff.click(`button[value="paid"]`)
	staff.expect("Reçu nº 1")

	// Search as you type finds her.
	staff.do(chromedp.Navigate(srv.base + "/clients"))
	staff.do(chromedp.SendKeys(chromedp.CSS(`#f-q`), "06 99"))
	staff.expectIn("#client-results", "Aucun client ne correspond à cette recherche.")
	staff.do(chromedp.SendKeys(chromedp.CSS(`#f-q`), strings.Repeat(kb.Backspace, 5)+"06 12"))
	staff.expectIn("#client-results", "Durand, Éloïse", "1 client")
	if loc := staff.location(); loc != "/clients?q=06+12" && loc != "/clients?q=06%2012" {
		t.Fatalf("search did not update the address: %s", loc)
	}
	staff.axe()
	staff.screenshot("clients")

	client := newTab(t, browser, srv.base)
	client.do(chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.base+"/portal"))
	client.submit(`form[action="/lang"]`)
	client.expect("Portail client")
	client.axe()
	client.screenshot("portal-signin")
	client.submit(`form[action="/portal"]`, "email", "eloise@example.org", "password", "bienvenue au cabinet")
	client.expect("Bonjour Éloïse", "Toutes mes séances", "20 novembre 2026 à 09:30", "Reçu nº 1")
	client.axe()
	client.screenshot("portal-account")

	// She adds a second mobile: it waits for the practice before it receives codes.
	client.click(`details.add-phone summary`)
	client.submit(`form[action="/portal/account"]`, "phone_1", "06 55 44 33 22", "phone_1_type", "mobile")
	client.expect("06 55 44 33 22 : en attente de confirmation par Cabinet Lumière pour les codes de sécurité.")
	client.axe()
	staff.do(chromedp.Navigate(srv.base + "/clients/1"))
	staff.expect("à confirmer", "Ajouté par le client dans le portail : il reçoit les codes de sécurité une fois que vous l’avez confirmé.")
	staff.axe()
	staff.screenshot("client-phone-unconfirmed")
	staff.click(`form[action="/clients/1/phones/confirm"] button`)
	staff.expect("Le numéro est confirmé : il reçoit désormais les codes de sécurité.")
	staff.eventually("the number no longer waits", `!document.querySelector("main").innerText.includes("Ajouté par le client")`)

	// The receipt, fetched by the browser with the client's session.
	b64, err := chromedp.Run(client.ctx, chromedp.Evaluate[string](`fetch("/portal/receipts/1").then(r => r.arrayBuffer()).then(b => { let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := base64.StdEncoding.DecodeString(b64)
	text := receipttest.Text(t, pdf)
	for _, want := range []string{"Reçu nº 1", "Éloïse Durand", "1 234,50 €", "Cabinet Lumière"} {
		if !strings.Contains(text, want) {
			t.Errorf("receipt lacks %q:\n%s", want, text)
		}
	}

	// Staff remove the portal access: the client's session ends at once.
	staff.do(chromedp.Navigate(srv.base + "/clients/1"))
	staff.submit(`form[action$="/portal/remove"]`)
	staff.expect("L’accès au portail est supprimé")
	staff.axe()
	client.do(chromedp.Navigate(srv.base + "/portal/account"))
	if loc := client.location(); loc != "/portal" {
		t.Fatalf("the client's session outlived the removal: at %s", loc)
	}

	// An invitation is cancelled from its row: the row goes.
	staff.do(chromedp.Navigate(srv.base + "/staff"))
	staff.submit(`form[action="/staff/invite"]`, "name", "Sam Suivant", "email", "sam@example.org", "role", "practitioner", "lang", "fr")
	staff.expect("sam@example.org", "Annuler l’invitation")
	staff.axe()
	staff.click(`form[action$="/cancel"] button`)
	staff.eventually("the cancelled invitee's row is gone", `!document.querySelector("main").textContent.includes("sam@example.org")`)
}

var verifyLink = regexp.MustCompile(`http://[^/\s]+/portal/verify/[A-Za-z0-9_-]{43}`)

// TestPortalMethod2: in French, a person signs up, confirms the email from the
// SMTP server, appears as a prospect, is verified and made a client by an admin,
// and sees My Account; a second prospect is associated with an existing client.
func TestPortalMethod2(t *testing.T) {
	browser := newBrowser(t)
	smtp := deliverytest.NewSMTPServer(t, "", "")
	srv := startFoyer(t, "FOYER_SMTP_URL="+smtp.URL(), "FOYER_MAIL_FROM=Cabinet <noreply@example.org>")
	admin := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(admin)
	admin.do(chromedp.Navigate(srv.base + "/settings"))
	admin.click(`#f-allow_signup`)
	admin.submit(`main form[action="/settings"]`)
	admin.expect("Enregistré.")
	// An existing client, for the association later.
	admin.do(chromedp.Navigate(srv.base + "/clients/new"))
	admin.submit(`main form`, "first_name", "Léa", "last_name", "Petit", "email", "lea.petit@example.org", "phone_0", "06 22 22 22 22", "birth_date", "1979-02-03")

	zoe := newTab(t, browser, srv.base)
	zoe.do(chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.base+"/portal/signup"))
	zoe.submit(`form[action="/lang"]`)
	zoe.expect("Créer votre compte")
	zoe.axe()
	zoe.screenshot("signup")
	zoe.submit(`form[action="/portal/signup"]`, "first_name", "Zoé", "last_name", "Martin", "email", "zoe@example.org",
		"phone", "06 11 11 11 11", "birth_date", "1990-04-01", "lang", "fr", "password", "mon mot de passe à moi")
	zoe.expect("Consultez vos e-mails", "zoe@example.org")
	msg, err := smtp.WaitFor("zoe@example.org", 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Subject, "Confirmez votre adresse e-mail") {
		t.Fatalf("verification email subject: %q", msg.Subject)
	}
	link := verifyLink.FindString(msg.Text)
	if link == "" {
		t.Fatalf("no link in:\n%s", msg.Text)
	}
	zoe.do(chromedp.Navigate(link))
	zoe.expect("Confirmez votre adresse e-mail", "Saisissez le mot de passe que vous avez choisi")
	zoe.axe()
	zoe.submit(`main form`, "password", "pas le bon mot de passe")
	zoe.expect("Ce n’est pas le mot de passe choisi")
	zoe.axe()
	zoe.screenshot("verify-wrong-password")
	zoe.submit(`main form`, "password", "mon mot de passe à moi")
	// Confirmed with the password just typed: signed in, not asked it again.
	zoe.expect("Votre adresse e-mail est confirmée.", "Votre compte est presque prêt")
	zoe.axe()
	zoe.screenshot("portal-waiting")

	// A second person signs up and does not confirm: the admin verifies inline.
	lea := newTab(t, browser, srv.base)
	lea.do(chromedp.Navigate(srv.base + "/portal/signup"))
	lea.submit(`form[action="/portal/signup"]`, "first_name", "Lea", "last_name", "Petit", "email", "lea@example.org",
		"phone", "06 22 22 22 22", "lang", "fr", "password", "lea a un long mot de passe")

	admin.do(chromedp.Navigate(srv.base + "/prospects"))
	admin.expect("Zoé Martin", "Lea Petit", "2 prospects")
	admin.axe()
	admin.screenshot("prospects")
	admin.click(`#prospect-2 button`)
	admin.eventually("the row says verified after inline Verify",
		`(t => t.includes("vérifié") && !t.includes("non vérifié"))(document.querySelector("#prospect-2").textContent.replace(/\s+/g, " "))`)
	if loc := admin.location(); loc != "/prospects" {
		t.Fatalf("inline verify navigated to %s", loc)
	}
	// Choose Lea, then Zoé: one prospect at a time, and only the chosen row
	// shows its actions, right after it; Create client opens the pre-filled dialog.
	admin.click(`#sel-2`)
	admin.click(`#sel-1`)
	admin.do(chromedp.WaitVisible(chromedp.CSS(`#prospect-1 .action-bar`)))
	admin.eventually("one row chosen, its actions alone shown",
		`document.querySelectorAll("input[name=id]:checked").length === 1 && document.querySelector("#prospect-2 .action-bar").getBoundingClientRect().height === 0`)
	admin.axe()
	admin.openDialog(`tr:has(input:checked) .action-bar button[value="create"]`)
	if v, _ := chromedp.Run(admin.ctx, chromedp.Value(chromedp.CSS(`#dialog #f-last_name`))); v != "Martin" {
		t.Fatalf("dialog last name = %q", v)
	}
	admin.axe()
	admin.screenshot("prospect-create")
	// Escape closes the dialog; the selection stays and the dialog opens again.
	admin.do(chromedp.KeyEvent("\u001b"), chromedp.WaitNotPresent(chromedp.CSS(`#dialog [role="dialog"]`)))
	admin.openDialog(`tr:has(input:checked) .action-bar button[value="create"]`)
	admin.click(`#dialog button[type="submit"]`)
	admin.expect("Le compte du portail est lié à la fiche client.", "Compte du portail : zoe@example.org")

	zoe.do(chromedp.Navigate(srv.base + "/portal/account"))
	zoe.expect("Bonjour Zoé", "Votre prochaine séance")

	// Associate Lea with the existing client Léa Petit, suggested by phone.
	admin.do(chromedp.Navigate(srv.base + "/prospects"))
	admin.expect("1 prospect")
	admin.click(`#sel-2`)
	admin.openDialog(`tr:has(input:checked) .action-bar button[value="associate"]`)
	admin.expect("Correspondances probables", "Petit, Léa")
	admin.axe()
	admin.screenshot("prospect-associate")
	admin.click(`#dialog .picks button`)
	admin.expect("Le compte du portail est lié à la fiche client.", "Léa Petit", "Compte du portail : lea@example.org")
	admin.do(chromedp.Navigate(srv.base + "/prospects"))
	admin.expect("Aucun prospect pour le moment.")
	lea.do(chromedp.Navigate(srv.base + "/portal"))
	lea.submit(`form[action="/portal"]`, "email", "lea@example.org", "password", "lea a un long mot de passe")
	lea.expect("Bonjour Léa")

	// An unwanted sign-up is deleted after a confirmation.
	lea.do(chromedp.Navigate(srv.base + "/portal/signup"))
	lea.submit(`form[action="/portal/signup"]`, "first_name", "Spam", "last_name", "Bot", "email", "bot@example.org",
		"lang", "fr", "password", "un robot au long mot de passe")
	admin.do(chromedp.Navigate(srv.base + "/prospects"))
	admin.expect("1 prospect", "Spam Bot")
	admin.click(`#sel-3`)
	// Nobody confirmed this email: the dialogs say so, and offer no link.
	admin.openDialog(`tr:has(input:checked) .action-bar button[value="associate"]`)
	admin.expect("non vérifié", "Personne n’a encore confirmé bot@example.org")
	posts, _ := chromedp.Run(admin.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#dialog form[method="post"]').length`))
	if posts != 0 {
		t.Fatalf("the dialog of an unconfirmed sign-up offers %d link forms", posts)
	}
	admin.axe()
	admin.screenshot("prospect-associate-unverified")
	admin.do(chromedp.KeyEvent("\u001b"), chromedp.WaitNotPresent(chromedp.CSS(`#dialog [role="dialog"]`)))
	admin.openDialog(`tr:has(input:checked) .action-bar button[value="create"]`)
	admin.expect("Personne n’a encore confirmé bot@example.org")
	posts, _ = chromedp.Run(admin.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#dialog form').length`))
	if posts != 0 {
		t.Fatalf("the Add client dialog of an unconfirmed sign-up has %d forms", posts)
	}
	admin.axe()
	admin.do(chromedp.KeyEvent("\u001b"), chromedp.WaitNotPresent(chromedp.CSS(`#dialog [role="dialog"]`)))
	admin.openDialog(`tr:has(input:checked) .action-bar button[value="delete"]`)
	admin.expect("Supprimer cette inscription ?", "Spam Bot (bot@example.org)")
	admin.axe()
	admin.screenshot("prospect-delete")
	admin.click(`#dialog button[type="submit"]`)
	admin.expect("L’inscription est supprimée.", "Aucun prospect pour le moment.")
}
