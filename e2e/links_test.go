package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
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
	staff.click(`form[action="/presos"] button`)
	staff.expect("Diapositives", "Mia Martin")
	staff.typeInto("#f-title", "Votre plan")
	staff.expectIn("#save-state", "Enregistré")

	staff.do(chromedp.Navigate(srv.base + "/presos/1/share"))
	staff.click(`form[action="/presos/1/share"] button`)
	staff.expect("Lien à envoyer à vos clients", "Partagée le")
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
	staff.expect("Faire expirer ce lien maintenant ?", "Présentation sans titre", "Garder le lien")
	staff.axe()
	staff.screenshot("preso-share-expire")
	staff.click(`.share-box a.button[href="/presos/1/share"]`)
	staff.expect("Lien à envoyer à vos clients")
	staff.click(`a[href="/presos/1/share/1/expire"]`)
	staff.click(`form[action="/presos/1/share/1/expire"] button`)
	staff.expect("Créer le lien", "expiré")
	staff.axe()
	staff.screenshot("preso-share-page")

	client := newTab(t, browser, srv.base)
	client.do(chromedp.Navigate(link))
	client.expectIn("body", "This link no longer works")
}
