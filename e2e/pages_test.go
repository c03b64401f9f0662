package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"
)

// TestPagesAsStaffSeeThem looks at what outside testing found wrong on
// staff pages, on a desktop and on a phone: the practice name cut in the
// header, slide numbers alone on their line, a preso made without asking its
// title, "drop them here" on a phone, recovery codes with no way to keep them.
func TestPagesAsStaffSeeThem(t *testing.T) {
	ctx := newBrowser(t)
	srv := startFoyer(t)
	p := &page{t: t, ctx: ctx, base: srv.base}
	// A practice name of the length many have (30 characters), in French, the longer menu.
	p.do(chromedp.Navigate(srv.base + "/setup"))
	p.submit(`form[action="/lang"]`)
	p.submit(`form[action="/setup"]`, "practice_name", "Cabinet de psychologie Lumière", "default_lang", "fr",
		"name", "Olive Owner", "email", "owner@example.org", "password", "correct horse battery staple")
	p.expect("Bienvenue, Olive Owner")

	// The header shows the whole name at 1280 px and on a phone.
	for _, w := range []int64{1280, 375} {
		p.do(chromedp.EmulateViewport(w, 800))
		p.eventually("the header menu settles", `(m => !m || m.open === window.matchMedia("(min-width: 75rem)").matches)(document.querySelector("details.menu"))`)
		cut := js[bool](p, `(e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1)(document.querySelector(".practice-name"))`)
		if cut {
			t.Errorf("the practice name is cut in the header at %d px: %q", w, js[string](p, `document.querySelector(".practice-name").getBoundingClientRect().width + " px"`))
		}
		if h := js[float64](p, `document.querySelector("header.top").getBoundingClientRect().height`); h >= 64 && w == 375 {
			t.Errorf("the header is %v px high on a phone", h)
		}
		p.screenshot("header")
	}
	p.restoreViewport()

	// A client, and a preso for her: the button asks the title first.
	p.do(chromedp.Navigate(srv.base + "/clients/new"))
	p.submit(`main form`, "first_name", "Mia", "last_name", "Martin", "email", "mia@example.org", "phone_0", "06 12 34 56 78")
	p.expect("Mia Martin", "Présentations")
	client := p.location()
	p.openDialog(`a[href$="/presos/new"]`)
	p.expectIn("#dialog", "Nouvelle présentation pour Mia Martin", "Nom")
	if focus := js[string](p, `document.activeElement.name || ""`); focus != "title" {
		t.Errorf("the focus is on %q, not on the title", focus)
	}
	p.axe()
	p.screenshot("new-preso-dialog")
	p.click(`#dialog form button[type="submit"]`)
	p.expectIn("#dialog", "Donnez un nom à la présentation.")
	if p.location() != client {
		t.Errorf("an untitled preso was made: at %s", p.location())
	}
	p.screenshot("new-preso-dialog-error")
	p.submit(`#dialog form`, "title", "Bilan du premier trimestre et objectifs")
	p.expect("Bilan du premier trimestre et objectifs", "Diapositives", "Mia Martin")

	// Slide numbers stay on the line of their title, however long the title.
	p.typeInto("#f-title", "Où en sommes-nous après trois mois de suivi ensemble")
	p.expectIn("#save-state", "Enregistré")
	for range 10 {
		p.submit(`form[action$="/slides"]`)
	}
	p.expectIn("#slide-list", "11.")
	for _, w := range []int64{1280, 375} {
		p.do(chromedp.EmulateViewport(w, 900))
		bad := js[[]string](p, `Array.from(document.querySelectorAll("#slide-list .n")).filter(n => {
			var r = n.getBoundingClientRect(), lh = parseFloat(getComputedStyle(n).lineHeight);
			var t = n.nextElementSibling.getBoundingClientRect();
			return r.height > lh * 1.3 || Math.abs(r.top - t.top) > 2;
		}).map(n => n.textContent)`)
		if len(bad) > 0 {
			t.Errorf("at %d px, slide numbers off their title's first line: %v", w, bad)
		}
	}
	p.restoreViewport()
	p.screenshot("preso-screen")

	// On a phone (a touch screen, no mouse to drag with), the share dialog
	// does not say "drop them here"; on a desktop it does.
	p.do(chromedp.Navigate(srv.base + client))
	p.openDialog(`a[href$="/shares/new"]`)
	if !strings.Contains(p.text("#h-files"), "déposer") {
		t.Errorf("on a desktop the files hint does not offer to drop files: %q", p.text("#h-files"))
	}
	p.do(chromedp.EmulateViewport(375, 800, chromedp.EmulateMobile, chromedp.EmulateTouch))
	p.eventually("the page sees a touch screen", `matchMedia("(pointer: coarse)").matches`)
	if s := js[string](p, `document.querySelector("#h-files").innerText`); strings.Contains(s, "déposer") {
		t.Errorf("on a phone the files hint says %q", s)
	}
	p.screenshot("share-dialog-phone")
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: false})
		return err
	}))
	p.restoreViewport()

	// The recovery codes: Copy, Download and Print.
	p.do(chromedp.Navigate(srv.base + "/account/2fa"))
	secret := strings.ReplaceAll(p.text("#totp-secret"), " ", "")
	code, _ := totp.GenerateCode(secret, time.Now())
	p.submit(`form[action="/account/2fa"]`, "code", code)
	p.expect("Vos codes de secours")
	codes := regexp.MustCompile(`[a-z2-7]{5}-[a-z2-7]{5}`).FindAllString(p.text("#recovery-codes"), -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	for _, b := range []string{`button[data-copy="recovery-codes"]`, `button[data-print]`, `a[download]`} {
		p.do(chromedp.WaitVisible(chromedp.CSS(b)))
	}
	p.axe()
	p.screenshot("recovery-codes")
	dir := t.TempDir()
	p.do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	}))
	p.click(`a[download]`)
	var got []byte
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(filepath.Join(dir, "foyer-recovery-codes.txt")); err == nil && len(b) > 0 {
			got = b
			break
		}
	}
	if got == nil {
		entries, _ := os.ReadDir(dir)
		t.Fatalf("no file downloaded: %v", entries)
	}
	for _, c := range codes {
		if !strings.Contains(string(got), c) {
			t.Errorf("the downloaded file lacks %s:\n%s", c, got)
		}
	}
	if !strings.Contains(string(got), "Cabinet de psychologie Lumière") || !strings.Contains(string(got), "owner@example.org") {
		t.Errorf("the file does not say whose codes they are:\n%s", got)
	}
}
