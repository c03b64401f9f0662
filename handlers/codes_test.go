package handlers

import (
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"foyer/share"
	"foyer/store"
)

// A contact asking for a code is held back only by the codes of their own
// number: another contact's code a few seconds before is none of theirs,
// and the page says the truth about whose number a limit is of.
func TestPresoCodeLimitsArePerContact(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	leo := a.addClient("Léo", "Lemaire", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33611111432", Mobile: true})
	_, link := sharePreso(t, a, owner, "contacts", mia, leo)

	miaV, leoV := a.browser(), a.browser()
	leoV.ip = "198.51.100.20:1"
	miaV.follow(miaV.post(link+"/code", formOf("who", "0")), link+"/code?who=0")
	a.advance(29 * time.Second)
	r := leoV.follow(leoV.post(link+"/code", formOf("who", "1")), link+"/code?who=1")
	mustNotContain(t, r, "less than a minute ago")
	// Text messages are not set up here: Léo's code waits at the practice.
	mustContain(t, r, "your code is waiting at the practice")
	leoCode := a.lastCode("+33611111432")
	a.advance(46 * time.Second)
	r = leoV.follow(leoV.post(link+"/code", formOf("who", "1")), link+"/code?who=1")
	mustContain(t, r, "A code was requested for •••\u00a0•••\u00a0432 less than a minute ago")
	// Mia's second code, 75 s after her first, goes; Léo's first still lets him in.
	r = miaV.follow(miaV.post(link+"/code", formOf("who", "0")), link+"/code?who=0")
	mustNotContain(t, r, "less than a minute ago")
	if n := a.countMessages(); n != 3 {
		t.Fatalf("%d codes sent, want Mia's two and Léo's one", n)
	}
	if r := leoV.post(link+"/verify", formOf("who", "1", "code", leoCode)); r.Code != http.StatusSeeOther || r.Header().Get("Location") != link+"/slides/1" {
		t.Fatalf("Léo's code: %d %s", r.Code, r.Header().Get("Location"))
	}
}

// Five wrong entries void the code, whichever addresses they came from: the
// right code typed then from another address opens nothing.
func TestFiveWrongEntriesVoidTheCodeFromAnyAddress(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	recipient := a.browser()
	recipient.post("/s/"+token+"/code", nil)
	code := a.lastCode("+33612345678")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := range 5 {
		guesser := a.browser()
		guesser.ip = "203.0.113." + itoa(uint64(i+1)) + ":1"
		guesser.post("/s/"+token+"/verify", formOf("code", wrong))
	}
	r := recipient.follow(recipient.post("/s/"+token+"/verify", formOf("code", code)), "/s/"+token+"/code")
	mustContain(t, r, "This code no longer works.")
	if r := recipient.get("/s/" + token + "/files"); r.Code != http.StatusSeeOther {
		t.Fatalf("files after the voided code: %d", r.Code)
	}
}

// The code pages advise what helps: while text messages are not set up the
// code waits at the practice, which can read it out (the owner can, in the
// Outbox); once they go out, the Outbox hides codes, and what helps is
// another code, the right number, or the link sent again.
func TestCodePagesAdviseWhatHelps(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	b := a.browser()
	r := b.follow(b.post("/s/"+token+"/code", nil), "/s/"+token+"/code")
	mustContain(t, r, "Cabinet Lumière has not set up the sending of text messages yet, so your code is waiting at the practice")
	// Nothing was asked of a text message service: the page does not say so.
	mustNotContain(t, r, "ask for a new code below", "they can give it to you", "We have asked for a 6-digit code")

	a.h.outbox.SMS = recorderDriver{}
	a.advance(2 * time.Minute)
	r = b.follow(b.post("/s/"+token+"/code", nil), "/s/"+token+"/code")
	mustContain(t, r, "We have asked for a 6-digit code to be sent to •••\u00a0•••\u00a0678.")
	mustContain(t, r, "Not arrived after a few minutes? Check that •••\u00a0•••\u00a0678 is your mobile number, ask for a new code below, or ask Cabinet Lumière to send you the link again.")
	mustNotContain(t, r, "waiting at the practice", "they can give it to you")
	r = b.get("/s/" + token + "/code?new=1")
	mustContain(t, r, "A new code will be sent to •••\u00a0•••\u00a0678.")
	mustNotContain(t, r, "will wait at the practice")

	// A preso's code step, in French, to the same mobile: a minute on, as
	// the number's limits count both links.
	a.advance(share.ResendEvery)
	owner := a.signIn("owner@example.org", ownerPassword)
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	_, link := sharePreso(t, a, owner, "contacts", mia)
	v := a.browser()
	v.cookies["foyer_lang"] = &http.Cookie{Name: "foyer_lang", Value: "fr"} // the visitor's own choice
	r = v.follow(v.post(link+"/code", formOf("who", "0")), link+"/code?who=0")
	mustContain(t, r, "Nous avons demandé l’envoi d’un code à 6 chiffres au •••\u00a0•••\u00a0678.")
	mustContain(t, r, "Vérifiez que le •••\u00a0•••\u00a0678 est bien votre numéro de mobile, demandez un nouveau code ci-dessous")
	a.h.outbox.SMS = nil
	r = v.get(link + "/code?who=0")
	mustContain(t, r, "Cabinet Lumière n’a pas encore mis en place l’envoi des SMS\u00a0: votre code attend au cabinet.")
	mustNotContain(t, r, "demandez un nouveau code ci-dessous", "Nous avons demandé l’envoi")
}

// Every step of a preso link speaks one language, by the landing's rule:
// the visitor's choice, else the language its contacts share (their email
// was written in it), else the browser's. The code page is no exception.
func TestPresoCodePageSpeaksTheLandingsLanguage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	lang := regexp.MustCompile(`<html lang="([a-z]+)"`)
	mobile := func(n string) store.Phone { return store.Phone{Type: store.PhoneMobile, Number: n, Mobile: true} }
	eloise := a.addClient("Éloïse", "Roux", a.ownerID(), mobile("+33612345601"))
	if _, err := a.st.UpdateClient(eloise.ID, func(cl *store.Client) error { cl.Lang = "fr"; return nil }); err != nil {
		t.Fatal(err)
	}
	bob := a.addClient("Bob", "Baker", a.ownerID(), mobile("+33612345602"))
	for _, tc := range []struct {
		name     string
		contacts []store.Client
		want     string
	}{
		{"contacts all French, English browser", []store.Client{eloise}, "fr"},
		{"contacts of two languages, English browser", []store.Client{eloise, bob}, "en"},
	} {
		_, link := sharePreso(t, a, owner, "contacts", tc.contacts...)
		v := a.browser()
		v.lang = "en"
		v.ip = "198.51.100." + strconv.Itoa(len(tc.contacts)) + ":1"
		pages := map[string]*resp{"landing": v.get(link), "person": v.get(link + "?who=0")}
		pages["code"] = v.follow(v.post(link+"/code", formOf("who", "0", "to", "0")), link+"/code?who=0")
		pages["wrong code"] = v.follow(v.post(link+"/verify", formOf("who", "0", "code", "000000")), link+"/code?who=0")
		for name, r := range pages {
			if m := lang.FindStringSubmatch(r.body); m == nil || m[1] != tc.want {
				t.Errorf("%s: the %s page speaks %v, want %s", tc.name, name, m, tc.want)
			}
		}
	}
	// Once the link no longer opens (its only contact archived), the page
	// saying so speaks the landing's language too.
	_, link := sharePreso(t, a, owner, "contacts", eloise)
	if _, err := a.st.ArchiveClient(eloise.ID, true); err != nil {
		t.Fatal(err)
	}
	v := a.browser()
	v.lang = "en"
	r := v.get(link)
	if m := lang.FindStringSubmatch(r.body); r.Code != http.StatusGone || m == nil || m[1] != "fr" {
		t.Errorf("the ended link's page: %d, speaks %v, want fr", r.Code, m)
	}
}

// codesTo counts the messages queued to a number or address.
func (a *testApp) codesTo(to string) int {
	a.t.Helper()
	msgs, err := a.st.ListMessages(0, 1000)
	if err != nil {
		a.t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.To == to {
			n++
		}
	}
	return n
}

// anaLinks is a client, Ana, with a documents link (sharedClient: codes by
// text message to her mobile) and a preso link for her contacts only.
type anaLinks struct {
	a           *testApp
	token, link string
}

// anaMobile is where both links send Ana's codes.
const anaMobile = "+33612345678"

func twoLinksToAna(t *testing.T) anaLinks {
	t.Helper()
	a, owner, clientPath, token, _ := sharedClient(t)
	id, err := strconv.ParseUint(clientURL.FindStringSubmatch(clientPath)[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	ana, err := a.st.Client(id)
	if err != nil {
		t.Fatal(err)
	}
	_, link := sharePreso(t, a, owner, "contacts", ana)
	return anaLinks{a: a, token: token, link: link}
}

// askDocuments and askPreso ask for a code through each link, from a new
// browser at address ip, and return the code page it leads to.
func (l anaLinks) askDocuments(ip string) *resp {
	b := l.a.browser()
	b.ip = ip + ":1"
	return b.follow(b.post("/s/"+l.token+"/code", nil), "/s/"+l.token+"/code")
}

func (l anaLinks) askPreso(ip string) *resp {
	b := l.a.browser()
	b.ip = ip + ":1"
	return b.follow(b.post(l.link+"/code", formOf("who", "0")), l.link+"/code?who=0")
}

// The limits are the number's, across every link: a preso link and a
// document share to one client's mobile get it one code a minute and five
// an hour between them, and the refusal names only the number (masked),
// nothing of the other link.
func TestCodeLimitsAreTheNumbersAcrossLinks(t *testing.T) {
	t.Parallel()
	l := twoLinksToAna(t)
	a := l.a
	ask := func(i int) *resp {
		t.Helper()
		ip := "198.51.100." + itoa(uint64(i+1))
		if i%2 == 0 {
			return l.askPreso(ip)
		}
		return l.askDocuments(ip)
	}
	mustNotContain(t, ask(0), "less than a minute ago")
	r := ask(1)
	mustContain(t, r, "A code was requested for •••\u00a0•••\u00a0678 less than a minute ago, for this link or another one, or for someone else who also uses it. A code opens only the link it was asked on")
	mustNotContain(t, r, "Pension plan")
	if n := a.codesTo(anaMobile); n != 1 {
		t.Fatalf("%d codes to the number from two links in the same second", n)
	}
	for i := 2; i < 2+share.MaxSendsPerHour-1; i++ {
		a.advance(share.ResendEvery + time.Second)
		mustNotContain(t, ask(i), "less than a minute ago", "Five codes")
	}
	a.advance(share.ResendEvery + time.Second)
	for i := range 2 {
		mustContain(t, ask(10+i), "Five codes have been requested for •••\u00a0•••\u00a0678 in the last hour, for you or for someone else who also uses it")
	}
	if n := a.codesTo(anaMobile); n != share.MaxSendsPerHour {
		t.Fatalf("%d codes to the number in the hour through two links", n)
	}
}

// Two contacts who share a phone share its limits, and the one held back
// reads what is true for them: a code went to the number, perhaps for
// someone else, not that one was sent to them.
func TestSharedNumberLimitSaysItMayBeSomeoneElses(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	family := store.Phone{Type: store.PhoneMobile, Number: "+33611223311", Mobile: true}
	anne := a.addClient("Anne", "Alpha", a.ownerID(), family)
	bruno := a.addClient("Bruno", "Beta", a.ownerID(), family)
	_, link := sharePreso(t, a, owner, "contacts", anne, bruno)
	av, bv := a.browser(), a.browser()
	bv.ip = "198.51.100.20:1"
	bv.post("/lang", formOf("lang", "fr", "next", link)) // Bruno reads French
	av.follow(av.post(link+"/code", formOf("who", "0")), link+"/code?who=0")
	a.advance(3 * time.Second)
	r := bv.follow(bv.post(link+"/code", formOf("who", "1")), link+"/code?who=1")
	mustContain(t, r, "Un code a été demandé pour le •••\u00a0•••\u00a0311 il y a moins d’une minute, pour ce lien ou un autre, ou pour une autre personne qui l’utilise aussi. Un code n’ouvre que le lien où il a été demandé\u00a0: patientez une minute")
	if n := a.codesTo(family.Number); n != 1 {
		t.Fatalf("%d codes to the shared phone", n)
	}
}

// A documents link's code pages name where the code went as French says it:
// "au" before a number, "à" before an address. A request refused by the
// number's limits is told once, by the error: the page does not also say
// a code was asked for.
func TestCodePagesNameWhereTheCodeWent(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.h.outbox.SMS, a.h.outbox.Email = recorderDriver{}, recorderDriver{}
	byNumber := owner.newClient("lang", "fr", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin")
	byAddress := owner.newClient("lang", "fr", "email", "leo@example.org", "first_name", "Léo", "last_name", "Roux", "phone_0", "")
	owner.shareToClient(byNumber)
	owner.shareToClient(byAddress)
	ask := func(token string) (*browser, string) {
		b := a.browser()
		b.cookies["foyer_lang"] = &http.Cookie{Name: "foyer_lang", Value: "fr"}
		return b, "/s/" + token
	}

	b, link := ask(a.lastShareToken("ana@example.org"))
	r := b.follow(b.post(link+"/code", nil), link+"/code")
	mustContain(t, r, "Nous avons demandé l’envoi d’un code à 6 chiffres au •••\u00a0•••\u00a0678.")
	mustContain(t, b.get(link+"/code?new=1"), "Un nouveau code va être envoyé au •••\u00a0•••\u00a0678.")
	r = b.follow(b.post(link+"/code", nil), link+"/code")
	mustContain(t, r, "Un code a été demandé pour le •••\u00a0•••\u00a0678 il y a moins d’une minute")
	mustNotContain(t, r, "Nous avons demandé l’envoi")

	a.advance(share.ResendEvery)
	b, link = ask(a.lastShareToken("leo@example.org"))
	r = b.follow(b.post(link+"/code", nil), link+"/code")
	mustContain(t, r, "Nous avons demandé l’envoi d’un code à 6 chiffres à l")
	mustNotContain(t, r, "chiffres au ")
	mustContain(t, b.get(link+"/code?new=1"), "Un nouveau code va être envoyé à l")
	r = b.follow(b.post(link+"/code", nil), link+"/code")
	mustContain(t, r, "Un code a été demandé pour l")
	mustNotContain(t, r, "Nous avons demandé l’envoi", "pour le ")
}

// One link uses only part of the number's hour: whoever holds a client's
// documents link can have three codes sent through it, and the client still
// gets a code through their preso link. The refusal says it is this link's.
func TestOneLinkUsesPartOfTheNumbersHour(t *testing.T) {
	t.Parallel()
	l := twoLinksToAna(t)
	a := l.a
	stranger := func(i int) *resp { return l.askDocuments("203.0.113." + itoa(uint64(i+1))) }
	for i := range share.MaxSendsPerLinkPerHour {
		mustNotContain(t, stranger(i), "codes have been requested")
		a.advance(share.ResendEvery + time.Second)
	}
	mustContain(t, stranger(9), "Three codes have been requested for •••\u00a0•••\u00a0678 through this link in the last hour, for you or for someone else who also uses it: no more can be requested through this link for now.")
	if n := a.codesTo(anaMobile); n != share.MaxSendsPerLinkPerHour {
		t.Fatalf("%d codes through one link in the hour", n)
	}
	// Ana, on her preso link, gets her code.
	mustNotContain(t, l.askPreso("198.51.100.7"), "codes have been requested")
	if n := a.codesTo(anaMobile); n != share.MaxSendsPerLinkPerHour+1 {
		t.Fatalf("%d codes to the number: the preso link's was refused", n)
	}
}
