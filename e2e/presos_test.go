package e2e

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"foyer/delivery/deliverytest"
	"foyer/receipt/receipttest"
)

// smsProvider is a Twilio-compatible Messages API on loopback that keeps what it is sent.
type smsProvider struct {
	*httptest.Server
	mu   sync.Mutex
	sent []struct{ To, Body string }
}

func newSMSProvider(t *testing.T) *smsProvider {
	p := &smsProvider{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if user, pass, ok := r.BasicAuth(); !ok || user != "AC123" || pass != "secret" || !strings.HasSuffix(r.URL.Path, "/Accounts/AC123/Messages.json") {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		p.mu.Lock()
		p.sent = append(p.sent, struct{ To, Body string }{r.FormValue("To"), r.FormValue("Body")})
		p.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"sid":"SM1","status":"queued"}`))
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *smsProvider) url() string {
	return strings.Replace(p.URL, "http://", "http://AC123:secret@", 1)
}

var presoCodeRe = regexp.MustCompile(`\b\d{6}\b`)

// waitCode waits for a text message to a number and returns the code in it.
func (p *smsProvider) waitCode(t *testing.T, to string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for i := len(p.sent) - 1; i >= 0; i-- {
			if p.sent[i].To == to {
				code := presoCodeRe.FindString(p.sent[i].Body)
				p.sent = p.sent[:0]
				p.mu.Unlock()
				return code
			}
		}
		p.mu.Unlock()
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no text message to %s", to)
	return ""
}

// typeInto replaces a field's value and fires the input event the page listens to.
func (p *page) typeInto(sel, value string) {
	p.t.Helper()
	p.do(chromedp.SetValue(chromedp.CSS(sel), value))
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.querySelector(`+strconv.Quote(sel)+`).dispatchEvent(new Event("input", {bubbles: true}))`)); err != nil {
		p.t.Fatal(err)
	}
}

func (p *page) value(sel string) string {
	p.t.Helper()
	v, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.querySelector(`+strconv.Quote(sel)+`).value`))
	if err != nil {
		p.t.Fatal(err)
	}
	return v
}

var viewedLine = regexp.MustCompile(`- (.+?)[\s\x{00a0}]*:[\s\x{00a0}]*(\d+)[\s\x{00a0}]s`)

// TestPresoShareViewAndSign: staff make a preso of three slides and leave one
// out, share it with anyone with the link; a client opens it in another
// browser, picks their name and views the slides with known pauses, and the
// owner's email (read from a real SMTP server) lists the slides with those
// times. Then contacts only: staff edit a slide (the dot shows), refresh the
// link, and the client comes in with a code sent by SMS and signs; the
// certificate names the signer.
func TestPresoShareViewAndSign(t *testing.T) {
	browser := newBrowser(t)
	smtp := deliverytest.NewSMTPServer(t, "", "")
	sms := newSMSProvider(t)
	srv := startFoyer(t, "FOYER_SMTP_URL="+smtp.URL(), "FOYER_MAIL_FROM=Cabinet <noreply@example.org>",
		"FOYER_SMS_URL="+sms.url(), "FOYER_SMS_FROM=+33700000000", "FOYER_VIEWING_REPORT_AFTER=8s")
	staff := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(staff)

	staff.do(chromedp.Navigate(srv.base + "/clients/new"))
	staff.submit(`main form`, "first_name", "Mia", "last_name", "Martin", "email", "mia@example.org", "phone_0", "06 12 34 56 78")
	staff.expect("Mia Martin", "Présentations")
	staff.openDialog(`a[href$="/presos/new"]`)
	staff.submit(`#dialog form`, "title", "Le plan de Mia")
	staff.expect("Le plan de Mia", "Diapositives", "Visibilité du partage", "Mia Martin")
	staff.typeInto("#f-title", "Votre plan")
	staff.typeInto("#f-body", "Nous allons **épargner**.")
	staff.expectIn("#save-state", "Enregistré")
	staff.click(`button[value="content"]`)
	staff.expect("Diapositive 2")
	staff.typeInto("#f-title", "Brouillon interne")
	staff.expectIn("#save-state", "Enregistré")
	staff.click(`button[value="signing"]`)
	staff.expect("Diapositive 3")
	staff.click(`#slide-list li[data-id="2"] button[formaction$="/include"]`)
	staff.expectIn("#slide-list", "Laissée de côté")
	staff.axe()
	staff.screenshot("preso-screen")

	staff.openDialog(".share-button")
	staff.click(`#dialog form[action$="/share"] button`)
	staff.expectIn("#dialog", "Lien à envoyer à vos clients", "Copier le lien", "Faire expirer")
	link := staff.value("#share-link")
	if !strings.HasPrefix(link, srv.base+"/s/") {
		t.Fatalf("link: %q", link)
	}
	staff.axe()
	staff.screenshot("preso-share-box")

	// The client, in another browser context, on a phone.
	client := newTab(t, browser, srv.base)
	client.do(chromedp.EmulateViewport(390, 844), chromedp.Navigate(link))
	// The pages are in her language (French, as staff chose) though her
	// browser says English; the switch gives English, and French again.
	client.expect("Mia Martin", "Vous n’êtes pas dans la liste ?")
	client.submit(`form[action="/lang"]`)
	client.expect("Mia Martin", "Not on the list?")
	client.submit(`form[action="/lang"]`)
	client.expect("Mia Martin", "Vous n’êtes pas dans la liste ?")
	client.axe()
	client.screenshot("preso-landing")
	client.click(`form[action$="/open"] button.name`)
	client.expect("Votre plan", "épargner")
	client.expectIn(".v-nav", "Diapositive 1 sur 2")
	time.Sleep(2 * time.Second)
	client.click(`a[rel="next"]`)
	client.expect("Votre signature")
	client.expectIn(".v-nav", "Diapositive 2 sur 2")
	time.Sleep(3 * time.Second)
	client.do(chromedp.Navigate("about:blank")) // pagehide sends the last beacon

	msg, err := smtp.WaitFor("owner@example.org", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, m := range viewedLine.FindAllStringSubmatch(msg.Text, -1) {
		got[strings.TrimSpace(m[1])], _ = strconv.Atoi(m[2])
	}
	for title, pause := range map[string]int{"Votre plan": 2, "Votre signature": 3} {
		if s, ok := got[title]; !ok || s < pause-2 || s > pause+2 {
			t.Errorf("email says %d s on %q (paused %d s):\n%s", s, title, pause, msg.Text)
		}
	}
	if _, ok := got["Brouillon interne"]; ok || !strings.Contains(msg.Subject, "Mia Martin") {
		t.Errorf("email: %s\n%s", msg.Subject, msg.Text)
	}
	// Numbers: the viewing's chart, times written for people.
	staff.do(chromedp.Navigate(srv.base + "/presos/1/share/1"))
	staff.expect("Mia Martin", "en tout", "Votre signature")
	staff.axe()
	staff.screenshot("preso-numbers")

	// Contacts only; an edit puts the dot on Share; Refresh link keeps the URL.
	staff.do(chromedp.Navigate(srv.base + "/presos/1?slide=1"))
	staff.click("#vis-contacts")
	staff.submit(`form[action$="/visibility"]`)
	staff.expectIn(".visibility-now", "Contacts de la présentation uniquement")
	staff.typeInto("#f-body", "Nous allons **épargner davantage**.")
	staff.expectIn("#save-state", "Enregistré")
	staff.eventually("the dot on Share", `document.querySelector("#share-dot .dot") !== null`)
	staff.expectIn(".share-button", "pas à jour")
	staff.openDialog(".share-button")
	staff.expectIn("#dialog", "La présentation a changé")
	staff.click(`#dialog form[action$="/refresh"] button`)
	staff.expectIn("#dialog", "Lien à envoyer à vos clients", "Vérifier les numéros ou changer la visibilité")
	if again := staff.value("#share-link"); again != link {
		t.Fatalf("refresh changed the link: %s → %s", link, again)
	}

	client.do(chromedp.Navigate(link))
	client.expect("Mia Martin")
	client.click(`a.name`)
	client.expect("qui finit par 678", "Envoyer le code de sécurité")
	client.axe()
	client.click(`form[action$="/code"] button[type="submit"]`)
	code := sms.waitCode(t, "+33612345678")
	client.expect("Saisissez votre code de sécurité")
	client.axe()
	client.screenshot("preso-code")
	client.submit(`form[action$="/verify"]`, "code", code)
	client.expect("épargner davantage")
	client.axe()
	client.screenshot("preso-viewer")
	client.click(`a[rel="next"]`)
	client.expect("Votre nom complet")
	client.axe()
	client.screenshot("preso-signing")
	client.do(chromedp.SetValue(chromedp.CSS("#f-name"), "Mia Martin"))
	client.click("#f-typed_only")
	client.click("#f-consent")
	client.click(`.v-sign button[type="submit"]`)
	client.expect("Signé par Mia Martin")

	staff.do(chromedp.Navigate(srv.base + "/presos/1"))
	staff.openDialog(".share-button")
	staff.expectIn("#dialog", "Mia Martin", "vérifié par un code envoyé par SMS au mobile qui finit par 678")
	staff.axe()
	staff.screenshot("preso-signatures")
	b64, err := chromedp.Run(staff.ctx, chromedp.Evaluate[string](`fetch(document.querySelector("#dialog a[href$='certificate.pdf']").getAttribute("href")).then(r => r.arrayBuffer()).then(b => { let s = ""; new Uint8Array(b).forEach(c => s += String.fromCharCode(c)); return btoa(s); })`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := base64.StdEncoding.DecodeString(b64)
	text := receipttest.Text(t, pdf)
	for _, want := range []string{"Certificat de signature", "Mia Martin", "SMS"} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate lacks %q:\n%s", want, text)
		}
	}

	// Mia archived: her viewer is told her own access ended, not that the
	// link expired, in her language.
	staff.do(chromedp.Navigate(srv.base + "/clients/1"))
	staff.submit(`form[action="/clients/1/archive"]`)
	client.do(chromedp.Navigate(link + "/slides/1"))
	client.expect("Ce lien ne s’ouvre plus pour vous", "Votre accès à ce qu’il présente a pris fin")
	client.axe()
	client.screenshot("preso-access-ended")
}
