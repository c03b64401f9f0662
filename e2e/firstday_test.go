package e2e

import (
	"context"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"foyer/delivery/deliverytest"
)

// TestFirstDay: setup → sign-in → enrol 2FA → sign out → sign in with a TOTP
// code → switch to French → invite a colleague (email read back from a real
// SMTP server) → the colleague sets a password and signs in. axe-core runs on every page.
// The server runs with FOYER_SECRET_KEY, so the authenticator seed is sealed with it.
func TestFirstDay(t *testing.T) {
	ctx := newBrowser(t)
	smtp := deliverytest.NewSMTPServer(t, "foyer", "mail-pass")
	srv := startFoyer(t, "FOYER_SMTP_URL="+smtp.URL(), "FOYER_MAIL_FROM=Cabinet <noreply@example.org>",
		"FOYER_SECRET_KEY=first day key, long enough to be accepted")
	p := &page{t: t, ctx: ctx, base: srv.base}

	// First start: every page leads to setup.
	p.do(chromedp.Navigate(srv.base + "/"))
	if p.location() != "/setup" {
		t.Fatalf("first page is %s, want /setup", p.location())
	}
	p.expect("Set up your practice")
	p.axe()
	p.screenshot("setup")
	p.submit(`form[action="/setup"]`, "practice_name", "Cabinet Lumière", "default_lang", "fr",
		"name", "Olive Owner", "email", "owner@example.org", "password", "correct horse battery staple")
	p.expect("Welcome, Olive Owner", "Your practice is ready")
	p.axe()
	p.screenshot("home")

	// Enrol two-step verification.
	p.do(chromedp.Navigate(srv.base + "/account/2fa"))
	p.expect("Turn on two-step verification")
	p.axe()
	p.screenshot("enrol")
	secret := strings.ReplaceAll(p.text("#totp-secret"), " ", "")
	code, _ := totp.GenerateCode(secret, time.Now())
	p.submit(`form[action="/account/2fa"]`, "code", code)
	p.expect("Your recovery codes")
	codes := regexp.MustCompile(`[a-z2-7]{5}-[a-z2-7]{5}`).FindAllString(p.text("#recovery-codes"), -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown", len(codes))
	}
	p.axe()

	// Sign out, then in again with a fresh TOTP code (the enrol code is spent).
	p.submit(`form[action="/signout"]`)
	if p.location() != "/signin" {
		t.Fatalf("after sign-out at %s", p.location())
	}
	p.expect("You are signed out")
	p.axe()
	p.screenshot("signin")
	p.submit(`form[action="/signin"]`, "email", "owner@example.org", "password", "correct horse battery staple")
	p.expect("Enter the 6-digit code")
	p.axe()
	next, _ := totp.GenerateCode(secret, time.Now().Add(30*time.Second))
	p.submit(`form[action="/signin/2fa"]`, "code", next)
	p.expect("Welcome, Olive Owner")

	// Switch to French: the page text changes, and stays French.
	p.submit(`form[action="/lang"]`)
	p.expect("Bienvenue, Olive Owner")
	if lang, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "fr" {
		t.Fatalf("html lang = %q", lang)
	}
	p.axe()

	// Invite a colleague; the email arrives at the SMTP server, in French.
	p.do(chromedp.Navigate(srv.base + "/staff"))
	p.expect("Inviter un collègue")
	p.axe()
	p.screenshot("staff")
	p.submit(`form[action="/staff/invite"]`, "name", "Chloé Collègue", "email", "chloe@example.org", "role", "practitioner", "lang", "fr")
	p.expect("L’invitation est envoyée", "Chloé Collègue", "Invité")
	msg, err := smtp.WaitFor("chloe@example.org", 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.Subject, "Cabinet Lumière") || !strings.Contains(msg.Text, "Choisir mon mot de passe") {
		t.Fatalf("invitation email: %q\n%s", msg.Subject, msg.Text)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(srv.base) + `/invite/[A-Za-z0-9_-]{43}`).FindString(msg.Text)
	if link == "" {
		t.Fatalf("no link in the email:\n%s", msg.Text)
	}
	p.do(chromedp.Navigate(srv.base + "/outbox"))
	p.expect("chloe@example.org", "Envoyé")
	// Each attempt at a message is listed with its time and outcome.
	p.click(`li.message summary`)
	p.expectIn(`li.message ol.tries`, " : envoyé")
	p.axe()
	p.reflow()
	p.screenshot("outbox")
	// Off-site backups not set up: the page shows an example storage
	// address, which must wrap on a phone.
	p.do(chromedp.Navigate(srv.base + "/settings/backups"))
	p.expectIn("main", "s3://ACCESS_KEY:SECRET@s3.example.org")
	p.axe()
	p.screenshot("backups-off")
	p.do(chromedp.Navigate(srv.base + "/settings"))
	p.axe()
	p.screenshot("settings")
	// The logo picker speaks the page's language, not the browser's, and
	// shows the chosen file's name before it is sent.
	if got := p.text(`.file-button`) + " / " + p.text(`.file-name`); got != "Choisir un fichier / Aucun fichier choisi" {
		t.Fatalf("logo picker reads %q", got)
	}
	logo := filepath.Join(t.TempDir(), "logo.png")
	writePNG(t, logo)
	p.do(chromedp.SetUploadFiles(chromedp.CSS(`#f-logo`), []string{logo}))
	if got := p.text(`.file-name`); got != "logo.png" {
		t.Fatalf("chosen file shows as %q", got)
	}
	p.submit(`form[action^="/settings/logo"]`)
	p.expect("Le logo est enregistré.")
	p.do(chromedp.WaitVisible(chromedp.CSS(`img.logo-preview`)))
	p.axe()
	p.screenshot("settings-logo")
	p.do(chromedp.Navigate(srv.base + "/account"))
	p.axe()
	p.screenshot("account")
	p.submit(`form[action="/signout"]`)

	// The colleague follows the link, chooses a password and signs in.
	p.do(chromedp.Navigate(link))
	p.expect("Choisissez votre mot de passe", "chloe@example.org")
	p.axe()
	p.screenshot("invite")
	p.submit(`main form`, "password", "le jardin de ma grand-mère")
	if p.location() != "/signin" {
		t.Fatalf("after setting the password at %s", p.location())
	}
	p.expect("Votre mot de passe est enregistré")
	p.submit(`form[action="/signin"]`, "email", "chloe@example.org", "password", "le jardin de ma grand-mère")
	p.expect("Bienvenue, Chloé Collègue")
	p.axe()
	// A practitioner has no staff page.
	p.do(chromedp.Navigate(srv.base + "/staff"))
	p.expect("Accès refusé")
	p.axe()
	p.screenshot("forbidden")
}

// TestSignInWithoutJavaScript: the sign-in form is a plain form that works with scripts off.
func TestSignInWithoutJavaScript(t *testing.T) {
	ctx := newBrowser(t)
	srv := startFoyer(t)
	p := &page{t: t, ctx: ctx, base: srv.base}
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	p.do(chromedp.Navigate(srv.base + "/setup"))
	p.submit(`form[action="/setup"]`, "practice_name", "Cabinet", "default_lang", "en", "name", "Sam", "email", "sam@example.org", "password", "correct horse battery staple")
	p.expect("Welcome, Sam")
	p.submit(`form[action="/signout"]`)
	p.submit(`form[action="/signin"]`, "email", "sam@example.org", "password", "wrong password here")
	p.expect("The email or password is incorrect.")
	p.submit(`form[action="/signin"]`, "email", "sam@example.org", "password", "correct horse battery staple")
	p.expect("Welcome, Sam")
}

// writePNG writes a small image file for upload tests.
func writePNG(t *testing.T, path string) {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 48, 24))
	for x := 0; x < 48; x++ {
		img.Set(x, 12, color.RGBA{R: 47, G: 93, B: 98, A: 255})
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
