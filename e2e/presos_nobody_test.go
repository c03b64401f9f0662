package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A link whose only contact was removed opens for nobody: the sharing box says
// so, in French, and offers no Copy link. On the viewer, "Change person" sends
// a shared computer back to the names.
func TestPresoLinkForNobodyAndChangePerson(t *testing.T) {
	browser := newBrowser(t)
	srv := startFoyer(t)
	staff := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(staff)
	for _, name := range [][2]string{{"Anne", "Arnaud"}, {"Bruno", "Blanc"}, {"Claire", "Colin"}} {
		staff.do(chromedp.Navigate(srv.base + "/clients/new"))
		staff.submit(`main form`, "first_name", name[0], "last_name", name[1], "email", name[0]+"@example.org")
		staff.expect(name[0] + " " + name[1])
	}
	staff.do(chromedp.Navigate(srv.base + "/clients/1"))
	staff.openDialog(`a[href$="/presos/new"]`)
	staff.submit(`#dialog form`, "title", "Deux contacts")
	staff.expect("Deux contacts", "Anne Arnaud")
	staff.typeInto("#f-title", "Bonjour")
	staff.expectIn("#save-state", "Enregistré")
	staff.do(chromedp.Navigate(srv.base + "/presos/1?q=Bruno#contacts"))
	staff.submit(`form[action="/presos/1/contacts"]`)
	staff.expectIn("#contacts", "Bruno Blanc")
	staff.openDialog(".share-button")
	staff.click(`#dialog form[action$="/share"] button`)
	staff.expectIn("#dialog", "Copier le lien")
	link := staff.value("#share-link")

	// On a family computer: Anne, then "Change person", then Bruno.
	family := newTab(t, browser, srv.base)
	family.do(chromedp.EmulateViewport(375, 800), chromedp.Navigate(link))
	family.click(`form[action$="/open"] button.name`)
	family.expect("Vous n’êtes pas Anne Arnaud", "Changer de personne")
	family.axe()
	family.phone()
	family.reflow()
	family.screenshot("preso-viewer-change-person")
	family.click(`form.v-leave button`)
	family.expect("Bruno Blanc", "Vous n’êtes pas dans la liste")

	// Both contacts removed: the link opens for nobody, and the box says so.
	for range 2 {
		staff.do(chromedp.Navigate(srv.base + "/presos/1"))
		staff.submit(`form[action$="/remove"]`)
	}
	staff.expectIn("#share", "ne s’ouvre pour personne")
	staff.openDialog(".share-button")
	staff.expectIn("#dialog", "Ce lien ne s’ouvre plus pour personne", "Ajoutez un contact")
	if n := staff.text(`#dialog`); strings.Contains(n, "Copier le lien") {
		t.Fatalf("the box still offers Copy link:\n%s", n)
	}
	staff.axe()
	staff.screenshot("preso-share-box-nobody")

	// Claire, whom the link was not made for, added: still nobody until
	// Refresh link, which opens the same link again, as the box says.
	staff.do(chromedp.Navigate(srv.base + "/presos/1?q=Claire#contacts"))
	staff.submit(`form[action="/presos/1/contacts"]`)
	staff.expectIn("#contacts", "Claire Colin")
	staff.openDialog(".share-button")
	staff.click(`#dialog form[action$="/refresh"] button`)
	staff.expectIn("#dialog", "Le lien s’ouvre de nouveau, à la même adresse.", "Copier le lien")
	if again := staff.value("#share-link"); again != link {
		t.Fatalf("refresh changed the link: %s → %s", link, again)
	}
	staff.axe()
	staff.screenshot("preso-share-box-reopened")
	fresh := newTab(t, browser, srv.base)
	fresh.do(chromedp.Navigate(link))
	fresh.expect("Claire Colin")
	// Anne's time on her slide was reported before Change person ended her session.
	log, _ := os.ReadFile(srv.log)
	if !strings.Contains(string(log), "route=/s/:token/beacon status=204") || strings.Contains(string(log), "route=/s/:token/beacon status=403") {
		t.Error("the time on the slide left by Change person was not counted")
	}
}
