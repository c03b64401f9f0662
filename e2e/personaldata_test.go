package e2e

import (
	"os"
	"testing"

	"github.com/chromedp/chromedp"
)

// shotAt375 saves the page at 375 px (a phone) and 1280 px wide when
// FOYER_SCREENSHOTS names a folder, and gives the window its own size back.
func (p *page) shotAt375(name string) {
	if os.Getenv("FOYER_SCREENSHOTS") == "" {
		return
	}
	defer p.restoreViewport()
	p.saveShots(name, shotSize{"375", 375, 812}, shotSize{"desktop", 1280, 900})
}

// TestPersonalData walks the personal-data pages in a real browser, in both
// languages: the record's "Who opened this record", the Journal, My data in
// the portal (the zip downloads), /privacy, Settings → Personal data, and
// the erasure of an archived client. axe-core runs on each page, which
// must fit 320 px without scrolling sideways.
func TestPersonalData(t *testing.T) {
	browser := newBrowser(t)
	srv := startFoyer(t)
	staff := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(staff)

	staff.do(chromedp.Navigate(srv.base + "/clients/new"))
	staff.submit(`form[action="/clients"]`, "first_name", "Inès", "last_name", "Moreau", "email", "ines@example.org",
		"lang", "fr", "notes", "Préfère le matin.")
	record := staff.location()
	staff.submit(`form[action="`+record+`/appointments"]`, "date", "2026-11-20", "time", "09:30", "fee", "60")
	staff.submit(`form[action="`+record+`/portal"]`, "portal_email", "ines@example.org", "portal_password", "a long enough client password")

	// The record: its personal data card, and who opened it (loaded after the page).
	staff.do(chromedp.Navigate(srv.base + record))
	staff.expectIn("#personal-data", "Exporter les données de ce client")
	staff.expectIn("#who-opened", "A ouvert la fiche", "Olive Owner")
	staff.axe()
	staff.shotAt375("record-fr")

	// The Journal, in French then English.
	staff.do(chromedp.Navigate(srv.base + "/journal"))
	staff.expect("A ouvert la fiche", "A modifié la fiche", "Inès Moreau", "127.0.0.1")
	staff.axe()
	staff.shotAt375("journal-fr")
	staff.submit(`form[action="/journal/verify"]`) // a GET: the language switch below comes back to it
	staff.expect("La chaîne est intacte")
	staff.submit(`form[action="/lang"]`)
	staff.expect("Opened the record", "The chain is intact")
	staff.axe()
	staff.shotAt375("journal-en")

	// Showing the secret key is journaled, and so is a wrong password before it.
	staff.do(chromedp.Navigate(srv.base + "/settings/key"))
	staff.submit(`form[action="/settings/key"]`, "password", "not my password")
	staff.expect("This password is not correct.")
	staff.submit(`form[action="/settings/key"]`, "password", "correct horse battery staple")
	staff.expect("Recovery sheet of Cabinet Lumière")
	staff.do(chromedp.Navigate(srv.base + "/journal"))
	staff.expect("Showed the secret key (recovery sheet)", "Wrong password to show the secret key")
	staff.axe()
	staff.shotAt375("journal-key-en")

	// The client's own data, from My Account.
	client := newTab(t, browser, srv.base)
	client.do(chromedp.Navigate(srv.base + "/portal"))
	client.expect("How we handle your personal data") // the browser speaks English; the account, French
	client.submit(`form[action="/portal"]`, "email", "ines@example.org", "password", "a long enough client password")
	client.expectIn("#mydata", "Mes données", "Télécharger mes données (zip)")
	client.axe()
	client.shotAt375("mydata-fr")
	got, err := chromedp.Run(client.ctx, chromedp.Evaluate[string](`fetch("/portal/mydata").then(r => r.arrayBuffer()).then(b => { const a = new Uint8Array(b); return String.fromCharCode(a[0], a[1]) + ":" + a.length })`, chromedp.EvalAwaitPromise))
	if err != nil || len(got) < 3 || got[:2] != "PK" {
		t.Fatalf("My data download: %q %v", got, err)
	}
	client.submit(`form[action="/lang"]`)
	client.expectIn("#mydata", "My data", "Download my data (zip)")
	client.shotAt375("mydata-en")

	// The information notice, for anyone, in both languages.
	visitor := newTab(t, browser, srv.base)
	visitor.do(chromedp.Navigate(srv.base + "/privacy"))
	visitor.submit(`form[action="/lang"]`) // the browser speaks English: to French
	visitor.expect("Comment Cabinet Lumière traite vos données personnelles", "Vos droits", "10 ans après votre dernière séance")
	visitor.axe()
	visitor.shotAt375("privacy-fr")
	visitor.submit(`form[action="/lang"]`)
	visitor.expect("How Cabinet Lumière handles your personal data", "Your rights")
	visitor.axe()
	visitor.shotAt375("privacy-en")

	// Settings → Personal data and the register entry.
	staff.do(chromedp.Navigate(srv.base + "/settings/privacy"))
	staff.expect("Retention", "Information notice", "Due for erasure")
	staff.axe()
	staff.shotAt375("settings-privacy-en")
	staff.do(chromedp.Navigate(srv.base + "/settings/privacy/register"))
	staff.expect("Register of processing activities")
	staff.axe()
	staff.shotAt375("register-en")

	// A preso Inès signs, then is taken off: the erasure lists what she did there all the same.
	staff.do(chromedp.Navigate(srv.base + record))
	staff.openDialog(`a[href$="/presos/new"]`)
	staff.submit(`#dialog form`, "title", "Le plan d’Inès")
	staff.expect("Share Visibility")
	preso := staff.location()
	staff.click(`button[value="signing"]`)
	staff.expect("Slide 2")
	staff.openDialog(".share-button")
	staff.click(`#dialog form[action$="/share"] button`)
	staff.expectIn("#dialog", "Link to send to your clients")
	link := staff.value("#share-link")
	signer := newTab(t, browser, srv.base)
	signer.do(chromedp.Navigate(link))
	signer.click(`form[action$="/open"] button.name`)
	signer.click(`a[rel="next"]`)
	signer.expect("Votre nom complet")
	signer.do(chromedp.SetValue(chromedp.CSS("#f-name"), "Inès Moreau"))
	signer.click("#f-typed_only")
	signer.click("#f-consent")
	signer.click(`.v-sign button[type="submit"]`)
	signer.expect("Signé par Inès Moreau")
	staff.do(chromedp.Navigate(srv.base + preso))
	staff.submit(`form[action$="/contacts/1/remove"]`)

	// Archive, then erase: the confirmation page, in both languages.
	staff.do(chromedp.Navigate(srv.base + record))
	staff.submit(`form[action="` + record + `/archive"]`)
	staff.do(chromedp.Navigate(srv.base + record + "/erase"))
	staff.expect("Erase Inès Moreau", "1 session.", "1 viewing of a preso", "1 signature on a preso, with its signing certificate.", "What stays")
	staff.axe()
	staff.shotAt375("erase-en")
	staff.submit(`form[action="/lang"]`)
	staff.expect("Effacer Inès Moreau", "1 signature d’une présentation, avec son certificat de signature.", "Ce qui reste")
	staff.axe()
	staff.shotAt375("erase-fr")
	staff.submit(`form[action="`+record+`/erase"]`, "confirm_name", "Ines Moreau")
	staff.expect("Le client est effacé")
	staff.do(chromedp.Navigate(srv.base + "/journal"))
	staff.expect("A effacé le client", "(effacé)")
}
