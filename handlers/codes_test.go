package handlers

import (
	"net/http"
	"testing"
	"time"

	"foyer/store"
)

// A contact asking for a code is held back only by the codes of their own
// number: another contact's code a few seconds before is none of theirs,
// and the page says the truth about whose number a limit is of.
func TestPresoCodeLimitsArePerContact(t *testing.T) {
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
	mustContain(t, r, "•••\u00a0•••\u00a0432")
	leoCode := a.lastCode("+33611111432")
	a.advance(46 * time.Second)
	r = leoV.follow(leoV.post(link+"/code", formOf("who", "1")), link+"/code?who=1")
	mustContain(t, r, "A code was sent to •••\u00a0•••\u00a0432 less than a minute ago")
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
