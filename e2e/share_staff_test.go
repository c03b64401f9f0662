package e2e

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestShareStaffPagesWithoutDelivery: with no email or SMS set up, the staff
// side of sharing says what waits, in French then in English: the banner,
// the dialog (its hint with the limits), the flash pointing to Copy link, the
// Expire now confirmation and the settings' own messages.
func TestShareStaffPagesWithoutDelivery(t *testing.T) {
	browser := newBrowser(t)
	srv := startFoyer(t, "FOYER_MAX_UPLOAD=5MiB")
	staff := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(staff)
	dir := t.TempDir()
	file := filepath.Join(dir, "Bilan.pdf")
	if err := os.WriteFile(file, []byte("%PDF-1.4 bilan"), 0o600); err != nil {
		t.Fatal(err)
	}
	staff.do(chromedp.Navigate(srv.base + "/clients/new"))
	staff.submit(`main form`, "first_name", "Ana", "last_name", "Martin", "email", "ana@example.org", "phone_0", "06 12 34 56 78", "lang", "en")
	staff.expect("Ana Martin")

	for _, lang := range []struct{ code, flash, dialog, confirm, days string }{
		{"fr", "l’e-mail avec le lien attend dans la boîte d’envoi", "Jusqu’à 20 fichiers",
			"Faire expirer ce lien maintenant", "Indiquez un nombre de jours"},
		{"en", "the email with the link waits in the outbox", "Up to 20 files",
			"Expire this link now?", "Enter a number of days from 1 to 90."},
	} {
		staff.do(chromedp.Navigate(srv.base + "/clients/1"))
		shareFiles(staff, []string{file})
		staff.expect(lang.flash)
		staff.axe()
		staff.screenshot("share-waiting-" + lang.code)
		staff.openDialog(`a[href$="/shares/new"]`)
		staff.expectIn("#dialog", lang.dialog)
		staff.screenshot("share-dialog-" + lang.code)
		staff.do(chromedp.Navigate(srv.base + "/shares/1/expire"))
		staff.expect(lang.confirm)
		staff.axe()
		staff.screenshot("share-expire-" + lang.code)
		staff.do(chromedp.Navigate(srv.base + "/settings/shares"))
		staff.do(chromedp.SetValue(chromedp.CSS(`#f-share_days`), "20.5"))
		staff.click(`form#share-settings button.primary`)
		staff.expect(lang.days)
		staff.axe()
		staff.screenshot("share-settings-" + lang.code)
		if lang.code == "fr" {
			staff.submit(`form[action="/lang"]`)
		}
	}
}
