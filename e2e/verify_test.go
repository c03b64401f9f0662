package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestVerifyPageInBrowser: the public page that checks a signing
// certificate, as someone handed one sees it, in the browser's language and
// then in French: its file pickers are labelled in the page's language
// rather than the browser's, a bad identifier is answered beside its field,
// and the page is accessible and whole at 320 and 375 px.
func TestVerifyPageInBrowser(t *testing.T) {
	browser := newBrowser(t)
	srv := startFoyer(t)
	staff := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(staff)

	visitor := newTab(t, browser, srv.base)
	visitor.do(chromedp.Navigate(srv.base + "/verify"))
	visitor.expect("Check a signing certificate", "Certificate ID")
	if got := visitor.text(`label[for="f-p7s"].file-button`); got != "Choose a file" {
		t.Fatalf("the .p7s picker reads %q", got)
	}
	visitor.axe()
	visitor.screenshot("verify-en")

	visitor.submit(`form[action="/lang"]`)
	visitor.expect("Vérifier un certificat de signature", "Identifiant du certificat")
	if got := visitor.text(`label[for="f-pdf"].file-button`) + " / " + visitor.text(`#f-pdf ~ .file-name`); got != "Choisir un fichier / Aucun fichier choisi" {
		t.Fatalf("the PDF picker reads %q", got)
	}
	visitor.axe()
	visitor.screenshot("verify")
	// An identifier of the wrong shape is answered beside its field.
	visitor.submit(`main form`, "id", "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZ")
	visitor.expectIn("#e-id", "Ce n’est pas un identifiant de certificat")
	visitor.axe()
	visitor.screenshot("verify-bad-id")
}
