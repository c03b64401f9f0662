package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/auth"
	"foyer/store"
)

// shareCookies are the share-visit cookies a browser holds.
func (b *browser) shareCookies() map[string]*http.Cookie {
	out := map[string]*http.Cookie{}
	for n, c := range b.cookies {
		if strings.HasPrefix(n, shareCookiePrefix) {
			out[n] = c
		}
	}
	return out
}

// follow checks that r redirects to want (303) and gets it.
func (b *browser) follow(r *resp, want string) *resp {
	b.app.t.Helper()
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != want {
		b.app.t.Fatalf("%d to %q, want 303 to %q: %s", r.Code, r.Header().Get("Location"), want, abbreviate(r.body))
	}
	return b.get(want)
}

// verifyShare asks for a code sent to "to" and enters it, in this browser.
func (b *browser) verifyShare(token, to string) {
	b.app.t.Helper()
	if r := b.post("/s/"+token+"/code", nil); r.Code != http.StatusSeeOther {
		b.app.t.Fatalf("send code: %d %s", r.Code, abbreviate(r.body))
	}
	r := b.post("/s/"+token+"/verify", formOf("code", b.app.lastCode(to)))
	if r.Code != http.StatusSeeOther || !strings.HasSuffix(r.Header().Get("Location"), "/files") {
		b.app.t.Fatalf("verify: %d %s", r.Code, abbreviate(r.body))
	}
}

func TestShareSessionsOfSeveralLinksAtOnce(t *testing.T) {
	t.Parallel()
	a, owner, clientPath, tokenA, _ := sharedClient(t)
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"b.pdf", []byte("B")}); r.Code != http.StatusSeeOther {
		t.Fatalf("second share: %d", r.Code)
	}
	tokenB := a.lastShareToken("ana@example.org")
	b := verify(t, a, tokenA)
	a.advance(time.Minute)
	// The same browser verifies link B: it stays in A.
	b.verifyShare(tokenB, "+33612345678")
	for _, tok := range []string{tokenA, tokenB} {
		if r := b.get("/s/" + tok + "/files"); r.Code != http.StatusOK {
			t.Fatalf("files of %s…: %d", tok[:4], r.Code)
		}
	}
	cks := b.shareCookies()
	if len(cks) != 2 {
		t.Fatalf("%d share cookies", len(cks))
	}
	for n, c := range cks {
		if c.Path != "/s/" || c.MaxAge != 1800 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Errorf("cookie %s: path %q max-age %d", n, c.Path, c.MaxAge)
		}
		if strings.Contains(n, tokenA) || strings.Contains(n, tokenB) || strings.Contains(n, "1") && len(n) < 10 {
			t.Errorf("cookie name %q gives the share away", n)
		}
	}
	// A's session, put under B's cookie name, opens nothing of B.
	nameA, nameB := a.h.shareCookieName(1), a.h.shareCookieName(2)
	mallory := a.browser()
	mallory.cookies[nameB] = &http.Cookie{Name: nameB, Value: b.cookies[nameA].Value}
	if r := mallory.get("/s/" + tokenB + "/files"); r.Code != http.StatusSeeOther {
		t.Fatalf("A's session under B's name: %d", r.Code)
	}
	// Each visit idles out on its own: A is left for 30 minutes while B goes on.
	for range 3 {
		a.advance(10 * time.Minute)
		if r := b.get("/s/" + tokenB + "/files"); r.Code != http.StatusOK {
			t.Fatalf("B while A idles: %d", r.Code)
		}
	}
	if r := b.get("/s/" + tokenA + "/files"); r.Code != http.StatusSeeOther {
		t.Fatalf("A after 30 idle minutes: %d", r.Code)
	}
	// Deleting B's documents drops B's cookie only.
	if r := b.post("/s/"+tokenB+"/delete", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("delete B: %d", r.Code)
	}
	if _, ok := b.cookies[nameB]; ok {
		t.Fatal("B's cookie kept after deletion")
	}
}

func TestShareCookiesStayFew(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	b := a.browser()
	// The browser holds 25 cookies of other links: 5 of ended visits, 20 live
	// ones seen at different times.
	for i := range 25 {
		sid := auth.NewToken()
		name := fmt.Sprintf("%sx%02d", shareCookiePrefix, i)
		b.cookies[name] = &http.Cookie{Name: name, Value: sid}
		if i < 5 {
			continue
		}
		seen := a.now().Add(-time.Duration(25-i) * time.Minute)
		if err := a.st.SaveShareSession(sid, store.ShareSession{ShareID: uint64(100 + i), CreatedAt: seen, LastSeen: seen}); err != nil {
			t.Fatal(err)
		}
	}
	b.verifyShare(token, "+33612345678")
	cks := b.shareCookies()
	if len(cks) != maxShareCookies {
		t.Fatalf("%d share cookies after one more link, want %d", len(cks), maxShareCookies)
	}
	if _, ok := cks[a.h.shareCookieName(1)]; !ok {
		t.Fatal("the new link's cookie is missing")
	}
	// The ended ones went, then the least recently used live one.
	for i := range 6 {
		if _, ok := cks[fmt.Sprintf("%sx%02d", shareCookiePrefix, i)]; ok {
			t.Errorf("cookie %d kept", i)
		}
	}
}

// Every code step answers with a redirect to a GET page (Post/Redirect/Get):
// reloading a page never posts again, and what the page must say travels in
// a signed note of the share's, read once.
func TestShareCodeStepsRedirectToPages(t *testing.T) {
	t.Parallel()
	a, owner, clientPath, token, _ := sharedClient(t)
	base := "/s/" + token
	b := a.browser()
	before := a.countMessages()
	r := b.follow(b.post(base+"/code", nil), base+"/code")
	// Text messages are not set up here: the code waits at the practice, and the page says only that.
	mustContain(t, r, "Enter your security code", "your code is waiting at the practice")
	mustNotContain(t, r, "We have asked for a 6-digit code to be sent to")
	// Reloading the code page sends nothing.
	b.get(base + "/code")
	b.get(base + "/code")
	if n := a.countMessages() - before; n != 1 {
		t.Fatalf("%d messages for one Send security code and two reloads", n)
	}
	code := a.lastCode("+33612345678")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	// Nothing typed, then a wrong code: the page says so beside the field, once.
	mustContain(t, b.follow(b.post(base+"/verify", formOf("code", "")), base+"/code"), `aria-invalid="true"`, "This field is required.")
	r = b.post(base+"/verify", formOf("code", wrong))
	if loc := r.Header().Get("Location"); strings.Contains(loc, "?") || strings.Contains(loc, wrong) {
		t.Fatalf("the redirect carries something: %q", loc)
	}
	note := b.cookies[a.h.codeNoteCookie(1)]
	mustContain(t, b.follow(r, base+"/code"), "This code is not right.", "4 tries left.", `aria-invalid="true"`)
	mustNotContain(t, b.get(base+"/code"), "This code is not right.", `aria-invalid="true"`)
	// The note cannot be moved to another share, altered, or kept for later.
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"b.pdf", []byte("B")}); r.Code != http.StatusSeeOther {
		t.Fatalf("second share: %d", r.Code)
	}
	tokenB := a.lastShareToken("ana@example.org")
	mallory := a.browser()
	mallory.cookies[a.h.codeNoteCookie(2)] = &http.Cookie{Name: a.h.codeNoteCookie(2), Value: note.Value}
	mustNotContain(t, mallory.get("/s/"+tokenB+"/code"), "This code is not right.")
	payload, mac, _ := strings.Cut(note.Value, ".")
	mallory.cookies[note.Name] = &http.Cookie{Name: note.Name, Value: payload[:len(payload)-2] + "fQ." + mac}
	mustNotContain(t, mallory.get(base+"/code"), "This code is not right.")
	mallory.cookies[note.Name] = note
	a.advance(3 * time.Minute)
	mustNotContain(t, mallory.get(base+"/code"), "This code is not right.")
	// A code asked for again within the minute: the code page says why.
	b2 := a.browser()
	b2.post(base+"/code", nil)
	mustContain(t, b2.follow(b2.post(base+"/code", nil), base+"/code"), "less than a minute ago", `id="f-code"`)
	// The right code: the files; Back to the code page goes on to the files.
	b.follow(b.post(base+"/verify", formOf("code", a.lastCode("+33612345678"))), base+"/files")
	if r := b.get(base + "/code"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != base+"/files" {
		t.Fatalf("code page once in: %d %q", r.Code, r.Header().Get("Location"))
	}
}

// "Not received a text message?" lets the recipient pick another of the
// share's numbers; the page is titled for what it does.
func TestShareNewCodeToAnotherNumber(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin",
		"phone_1", "06 98 76 54 32", "phone_1_type", "mobile")
	owner.shareToClient(clientPath)
	base := "/s/" + a.lastShareToken("ana@example.org")
	b := a.browser()
	r := b.get(base)
	mustContain(t, r, "Choose your number:", "•••\u00a0•••\u00a0678", "•••\u00a0•••\u00a0432")
	b.follow(b.post(base+"/code", formOf("to", "1")), base+"/code")
	a.lastCode("+33698765432")
	r = b.get(base + "/code?new=1")
	mustContain(t, r, "<h1>Get a new security code</h1>", "Choose where to send it:", `value="1" checked`, "•••\u00a0•••\u00a0678")
	mustNotContain(t, r, "Enter your security code", `id="f-code"`)
	mustContain(t, r, `<a href="`+base+`/code">I have a code</a>`)
	a.advance(time.Minute)
	// Text messages are not set up here: the page says the code waits at the
	// practice; the code that opens the files is the one sent to …678.
	mustContain(t, b.follow(b.post(base+"/code", formOf("to", "0")), base+"/code"), "your code is waiting at the practice")
	b.follow(b.post(base+"/verify", formOf("code", a.lastCode("+33612345678"))), base+"/files")
}

// firstDownloadNotice is the newest first-download notice, rendered in its language and in French.
func (a *testApp) firstDownloadNotice() (en, fr string) {
	a.t.Helper()
	msgs, _ := a.st.ListMessages(0, 200)
	for _, m := range msgs {
		if m.Kind == "share_staff" && strings.HasPrefix(m.Args["Event"], "first_download") {
			out := a.sent(m)
			m.Lang = "fr"
			outFR := a.sent(m)
			return out.Subject + "\n" + out.Text, outFR.Subject + "\n" + outFR.Text
		}
	}
	a.t.Fatal("no first-download notice")
	return "", ""
}

// A visitor who went on without giving their name is not named after the
// recipient in the first-download notice.
func TestShareFirstDownloadBySomeoneWithoutAName(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin")
	for range 2 {
		if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "0"}, upFile{"anon.txt", []byte("A")}); r.Code != http.StatusSeeOther {
			t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
		}
	}
	msgs, _ := a.st.ListMessages(0, 10)
	var tokens []string
	for _, m := range msgs {
		if l := docLinkRe.FindStringSubmatch(a.sent(m).Text); l != nil {
			tokens = append(tokens, l[1])
		}
	}
	if len(tokens) != 2 {
		t.Fatalf("%d links", len(tokens))
	}
	// Newest first: tokens[1] is the first share.
	anon := a.browser()
	mustContain(t, anon.get("/s/"+tokens[1]), "Continue without giving my name")
	anon.follow(anon.post("/s/"+tokens[1]+"/open", formOf("who", "-1")), "/s/"+tokens[1]+"/files")
	if r := anon.get("/s/" + tokens[1] + "/files/1"); r.Code != http.StatusOK {
		t.Fatalf("download: %d", r.Code)
	}
	en, fr := a.firstDownloadNotice()
	mustHave := func(s string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(s, w) {
				t.Errorf("notice lacks %q:\n%s", w, s)
			}
		}
	}
	mustHave(en, "Someone who did not give their name downloaded the shared documents", "has just downloaded anon.txt for the first time, through the link sent to Ana Martin")
	mustHave(fr, "Une personne qui n’a pas donné son nom a téléchargé", "par le lien envoyé à Ana Martin")
	if strings.Contains(strings.SplitN(en, "\n", 2)[0], "Ana Martin downloaded") {
		t.Errorf("the anonymous download is put on the recipient: %s", en)
	}
	// Who said "I am Ana Martin" is named.
	named := a.browser()
	named.follow(named.post("/s/"+tokens[0]+"/open", formOf("who", "0")), "/s/"+tokens[0]+"/files")
	named.get("/s/" + tokens[0] + "/files/1")
	en, fr = a.firstDownloadNotice()
	mustHave(en, "Ana Martin downloaded the shared documents", "Ana Martin has just downloaded anon.txt")
	mustHave(fr, "Ana Martin a téléchargé les documents partagés")
}

// The recipient's pages are in the language staff chose for them, as their
// email was, whatever the browser says; the language switch still wins.
func TestShareLandingInTheRecipientsLanguage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	r := owner.shareUpload(clientPath, []string{"recipient", "other", "other_name", "Maître Roux", "other_email", "roux@example.org",
		"other_mobile", "06 55 44 33 22", "other_lang", "fr", "verify", "1"}, upFile{"a.pdf", []byte("A")})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
	}
	base := "/s/" + a.lastShareToken("roux@example.org")
	b := a.browser() // an English browser
	mustContain(t, b.get(base), "Vos documents sécurisés", "qui finit par 322")
	mustContain(t, b.follow(b.post(base+"/code", nil), base+"/code"), "Saisissez votre code de sécurité")
	// The switch: English from then on.
	b.follow(b.post("/lang", formOf("lang", "en", "next", base+"/code")), base+"/code")
	mustContain(t, b.get(base+"/code"), "Enter your security code")
	mustContain(t, b.get(base), "Your secure documents", "ending in 322")
}
