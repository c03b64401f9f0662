package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"foyer/receipt/receipttest"
	"foyer/store"
)

// signTyped signs slide 3 (the signing slide of sharePreso) with a typed name.
func signTyped(t *testing.T, v *browser, link, name string) {
	t.Helper()
	signTypedIn(t, v, link, name, "en")
}

// signTypedIn is signTyped by a visitor who chose the language lang.
func signTypedIn(t *testing.T, v *browser, link, name, lang string) {
	t.Helper()
	v.cookies["foyer_lang"] = &http.Cookie{Name: "foyer_lang", Value: lang}
	if r := v.post(link+"/sign", formOf("slide", "3", "name", name, "typed_only", "1", "consent", "1")); r.Code != http.StatusSeeOther {
		t.Fatalf("sign as %q: %d %s", name, r.Code, abbreviate(r.body))
	}
}

// certificateText downloads a signature's certificate and reads its text.
func certificateText(t *testing.T, owner *browser, presoID, sigID uint64) string {
	t.Helper()
	r := owner.get(presoPath(presoID, fmt.Sprintf("/signatures/%d/certificate.pdf", sigID)))
	if r.Code != http.StatusOK {
		t.Fatalf("certificate: %d", r.Code)
	}
	// pdftotext breaks lines where the PDF does; one space between words is enough to compare.
	return strings.Join(strings.Fields(receipttest.Text(t, []byte(r.body))), " ")
}

// A code verified Mia; the typed name is Bob's. The record, the Signing panel
// and the certificate say who was verified and where the code went, and that
// the typed name is not hers. The same viewing, or Mia on a new visit with a
// new code, cannot add a second signature.
func TestPresoSignRecordsVerifiedContactOnce(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	bob := a.addClient("Bob", "Smith", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33698765432", Mobile: true})
	id, link := sharePreso(t, a, owner, "contacts", mia, bob)

	visitor := a.browser()
	verifyByCode(t, a, visitor, link, 0)
	// The signing slide says what the signature proves: no more than the code.
	mustContain(t, visitor.get(link+"/slides/2"), "it does not prove who you are beyond the code you received")
	signTypedIn(t, visitor, link, "Bob Smith", "fr")
	sigs, _ := a.st.ShareSignatures(1)
	if len(sigs) != 1 {
		t.Fatalf("signatures: %+v", sigs)
	}
	s := sigs[0]
	if s.Name != "Bob Smith" || s.ContactID != mia.ID || s.ContactName != "Mia Martin" || s.VerifiedTo != "••• ••• 678" || s.Verification != "sms" {
		t.Fatalf("signature record: %+v", s)
	}

	// A second signing from the same viewing: the signed state, no new record.
	signTyped(t, visitor, link, "Mia Again")
	mustContain(t, visitor.get(link+"/slides/2"), "Signed by Bob Smith", "You can close this page.")
	// Mia again, in another browser with a new code: still one signature.
	other := a.browser()
	verifyByCode(t, a, other, link, 0)
	mustContain(t, other.get(link+"/slides/2"), "Signed by Bob Smith")
	signTyped(t, other, link, "Mia Martin")
	if sigs, _ := a.st.ShareSignatures(1); len(sigs) != 1 {
		t.Fatalf("second signature recorded: %+v", sigs)
	}
	// Bob, verified by his own code, signs once too.
	bobs := a.browser()
	verifyByCode(t, a, bobs, link, 1)
	signTyped(t, bobs, link, "bob  SMITH")
	if sigs, _ := a.st.ShareSignatures(1); len(sigs) != 2 || sigs[1].ContactName != "Bob Smith" || sigs[1].NameDiffers() {
		t.Fatalf("Bob's signature: %+v", sigs)
	}

	r := owner.get(presoPath(id, "/share"))
	mustContain(t, r, "<strong>Bob Smith</strong>",
		"Mia Martin, verified by a code sent by text message to the mobile ending in 678",
		"The typed name differs from the name of the verified contact.",
		"Bob Smith, verified by a code sent by text message to the mobile ending in 432")
	if n := strings.Count(r.body, "The typed name differs"); n != 1 {
		t.Errorf("%d name warnings, want 1 (Mia's only)", n)
	}
	// The certificate is in the language the signer signed in (French here),
	// and quotes the consent box as they read it.
	text := certificateText(t, owner, id, s.ID)
	for _, want := range []string{"Nom saisi par le", "Bob Smith",
		"Identité Mia Martin, vérifié par un code envoyé par SMS au mobile qui finit par 678",
		"Attention Le nom saisi diffère de celui du contact vérifié.",
		"Consentement le signataire a coché la case « J’ai lu cette présentation et j’accepte de la signer électroniquement. »"} {
		if !strings.Contains(text, want) {
			t.Errorf("certificate lacks %q:\n%s", want, text)
		}
	}
	if text := certificateText(t, owner, id, sigs[0].ID+1); strings.Contains(text, "diffère") {
		t.Errorf("Bob's certificate warns of a name he typed right:\n%s", text)
	}
}

// On an "anyone" link, nobody is verified: a name picked from the list, a
// name given by a visitor not on it, and an anonymous visitor are each said
// plainly, never "verified".
func TestPresoSignAnyoneSaysNotVerified(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)

	picked := a.browser()
	picked.get(link)
	picked.post(link+"/open", formOf("who", "0"), "User-Agent", "curl/7.88.1") // a browser with no system known
	// Asked no code, they read that the signature does not prove who they are.
	r := picked.get(link + "/slides/2")
	mustContain(t, r, "as no code was asked of you, it does not prove who you are")
	mustNotContain(t, r, "the code you received")
	signTypedIn(t, picked, link, "Claire Martin", "fr")
	declared := a.browser()
	declared.get(link)
	declared.post(link+"/open", formOf("name", "Zoé Durand", "email", "zoe@example.org"))
	signTyped(t, declared, link, "Zoé Durand")
	anon := a.browser()
	anon.get(link)
	anon.post(link+"/open", formOf("anonymous", "1"))
	signTypedIn(t, anon, link, "Mia Martin", "fr")

	r = owner.get(presoPath(id, "/share"))
	mustContain(t, r, "Not verified: the name Mia Martin was picked from the list without a code",
		"The typed name differs from the name picked from the list.",
		"Not verified: a visitor not on the list, who gave the name Zoé Durand",
		"Not verified: an anonymous visitor")
	mustNotContain(t, r, "verified by a code")
	sigs, _ := a.st.ShareSignatures(1)
	if len(sigs) != 3 {
		t.Fatalf("signatures: %+v", sigs)
	}
	// The browser line has no separator left dangling ("curl 7 ·").
	if text := certificateText(t, owner, id, sigs[0].ID); !strings.Contains(text, "Navigateur et système curl 7 Adresse IP") {
		t.Errorf("browser line:\n%s", text)
	}
	text := certificateText(t, owner, id, sigs[2].ID)
	if !strings.Contains(text, "Identité Non vérifié : une personne anonyme") || strings.Contains(text, "Attention") {
		t.Errorf("anonymous certificate:\n%s", text)
	}
}

// Signatures stay listed, with their certificates, after their link is
// expired and a new one made; the preso's activity has a line for each.
func TestPresoSignaturesOutliveTheirLink(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	id, link := sharePreso(t, a, owner, "contacts", mia)
	visitor := a.browser()
	verifyByCode(t, a, visitor, link, 0)
	signTyped(t, visitor, link, "Mia Martin")

	if r := owner.post(presoPath(id, "/share/1/expire"), nil, "HX-Request", "true"); r.Code != http.StatusOK {
		t.Fatalf("expire: %d %s", r.Code, abbreviate(r.body))
	}
	if r := owner.post(presoPath(id, "/share"), nil, "HX-Request", "true"); r.Code != http.StatusOK {
		t.Fatalf("new link: %d", r.Code)
	}
	r := owner.get(presoPath(id, "/share"))
	mustContain(t, r, "<strong>Mia Martin</strong>", "/signatures/1/certificate.pdf", "through the link of", "(expired)")
	mustNotContain(t, r, "Nobody has signed yet.")
	mustContain(t, owner.get(presoPath(id, "")), "Signed as “Mia Martin” · Mia Martin, verified by a code")
	if r := owner.get(presoPath(id, "/signatures/1/certificate.pdf")); r.Code != http.StatusOK {
		t.Fatalf("certificate after expiry: %d", r.Code)
	}
}

// A name too long says the limit, on the signing slide and on the other
// preso forms that share the message.
func TestPresoTooLongSaysTheLimit(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	visitor := a.browser()
	visitor.get(link)
	visitor.post(link+"/open", formOf("who", "0"))
	r := visitor.post(link+"/sign", formOf("slide", "3", "name", strings.Repeat("A", 5000), "typed_only", "1", "consent", "1"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("long name: %d", r.Code)
	}
	mustContain(t, r, "This is too long: at most 120 characters.")
	mustNotContain(t, r, "no value")

	r = owner.post(presoPath(id, "/title"), formOf("preso_title", strings.Repeat("T", 200)))
	mustContain(t, r, "at most 120 characters")
	r = owner.post(presoPath(id, "/slides/1"), formOf("title", strings.Repeat("T", 200), "body", "x", "rev", "2"))
	mustContain(t, r, "at most 160 characters")

	// "Not on the list?": the message comes back to the landing with its limit.
	other := a.browser()
	other.get(link)
	r = other.follow(other.post(link+"/open", formOf("name", strings.Repeat("N", 121))), link)
	mustContain(t, r, "at most 120 characters")
	mustNotContain(t, r, "no value")
	// A pasted page of text still comes back with its message: the note stays
	// under the 4 KB a browser keeps of a cookie.
	r = other.post(link+"/open", formOf("name", strings.Repeat("Ñ", 5000)))
	for _, ck := range r.Result().Cookies() {
		if len(ck.String()) > 4000 {
			t.Errorf("cookie %s is %d bytes: a browser drops it", ck.Name, len(ck.String()))
		}
	}
	mustContain(t, other.follow(r, link), "at most 120 characters")
}
