package handlers

import (
	"archive/zip"
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/share"
	"foyer/store"
)

// Extend adds the days chosen to the link's expiry, not to now, and the
// message says the new date and time.
func TestExtendAddsToTheExpiryAndSaysWhen(t *testing.T) {
	t.Parallel()
	a, owner, clientPath, _, _ := sharedClient(t)
	sent, _ := a.st.Share(1)
	r := owner.get(clientPath)
	mustContain(t, r, `<option value="7">7 more days</option>`, `<option value="20" selected>20 more days</option>`, `<option value="90">90 more days</option>`,
		`<label for="extend-1" class="sr-only">Extend the link by</label>`)
	a.advance(2 * time.Minute)
	r = owner.post("/shares/1/extend", formOf("days", "20"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("extend: %d %s", r.Code, abbreviate(r.body))
	}
	sh, _ := a.st.Share(1)
	if want := sent.ExpiresAt.Add(20 * 24 * time.Hour); !sh.ExpiresAt.Equal(want) {
		t.Fatalf("expires %v, want %v (20 days after the old expiry)", sh.ExpiresAt, want)
	}
	when := a.h.catalog.Get("en").DateTime(sh.ExpiresAt.In(a.h.zone()))
	mustContain(t, owner.follow(r, clientPath+"#share-1"), "The secure link now expires on "+when+".")
	// Without a choice (an older page), the practice's lifetime; a length not offered is refused.
	owner.post("/shares/1/extend", nil)
	if sh2, _ := a.st.Share(1); !sh2.ExpiresAt.Equal(sh.ExpiresAt.Add(20 * 24 * time.Hour)) {
		t.Fatalf("extend without a choice: %v", sh2.ExpiresAt)
	}
	if r := owner.post("/shares/1/extend", formOf("days", "45")); r.Code != http.StatusBadRequest {
		t.Fatalf("45 days: %d", r.Code)
	}
	// At the longest already, another extension says so and records nothing.
	owner.post("/shares/1/extend", formOf("days", "90"))
	longest, _ := a.st.Share(1)
	events, _ := a.st.ShareEvents(1)
	r = owner.post("/shares/1/extend", formOf("days", "90"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("extend at the longest: %d %s", r.Code, abbreviate(r.body))
	}
	when = a.h.catalog.Get("en").DateTime(longest.ExpiresAt.In(a.h.zone()))
	page := owner.follow(r, clientPath+"#share-1")
	mustContain(t, page, "The secure link is already at its longest: it expires on "+when+". Nothing was changed.")
	mustNotContain(t, page, "now expires on")
	if after, _ := a.st.ShareEvents(1); len(after) != len(events) {
		t.Fatalf("an extension that changed nothing was recorded: %d events, %d before", len(after), len(events))
	}
}

// Send again keeps every mobile of the share: each has its field, and the
// new link's codes may go to any of them.
func TestSendAgainKeepsEveryMobile(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin",
		"phone_0", "06 12 34 56 78", "phone_0_type", "mobile", "phone_1", "06 55 44 33 22", "phone_1_type", "mobile")
	owner.shareToClient(clientPath)
	if sh, _ := a.st.Share(1); len(sh.Recipients[0].Mobiles) != 2 {
		t.Fatalf("shared to %v", sh.Recipients[0].Mobiles)
	}
	r := owner.get("/shares/1/again")
	mustContain(t, r, `name="mobile_0" type="tel" value="06 12 34 56 78"`, `name="mobile_1" type="tel" value="06 55 44 33 22"`, "Second mobile phone")
	// A mistake in the second comes back beside it, the first kept as typed.
	r = owner.post("/shares/1/again", formOf("name", "Ana Martin", "email", "ana@example.org", "lang", "en", "mobile_0", "06 12 34 56 78", "mobile_1", "01 42 00 00 00"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a landline as second mobile: %d", r.Code)
	}
	mustContain(t, r, `name="mobile_0" type="tel" value="06 12 34 56 78"`, `name="mobile_1" type="tel" value="01 42 00 00 00"`, `id="e-mobile_1">This number is not a mobile phone`)
	r = owner.post("/shares/1/again", formOf("name", "Ana Martin", "email", "ana@example.org", "lang", "en", "mobile_0", "06 12 34 56 78", "mobile_1", "06 55 44 33 22"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("send again: %d %s", r.Code, abbreviate(r.body))
	}
	sh, _ := a.st.Share(2)
	if m := sh.Recipients[0].Mobiles; len(m) != 2 || m[0] != "+33612345678" || m[1] != "+33655443322" {
		t.Fatalf("sent again to %v", m)
	}
}

// The sharing box works as a page of its own (opened in a new tab): its
// forms swap the box itself, which is on every page the box is; and Expire
// asks first, with a page that works without JavaScript.
func TestStandaloneShareBoxAndExpireAsksFirst(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	r := owner.get(presoPath(id, "/share"))
	mustContain(t, r, "<html", `data-hx-target="closest .share-box" data-hx-swap="outerHTML"`, `href="/presos/`+itoa(id)+`/share/1/expire"`)
	mustNotContain(t, r, `data-hx-target="#dialog"`, `action="/presos/`+itoa(id)+`/share/1/expire"`)
	// Expire asks: a page of its own, or the box's content for HTMX; asking expires nothing.
	r = owner.get(presoPath(id, "/share/1/expire"))
	mustContain(t, r, "<html", "Expire this link now?", "Pension plan", `action="/presos/`+itoa(id)+`/share/1/expire"`, "Expire the link", "Keep the link")
	r = owner.get(presoPath(id, "/share/1/expire"), "HX-Request", "true")
	mustContain(t, r, `class="card dialog-card share-box"`, "Expire this link now?")
	mustNotContain(t, r, "<html")
	if r := a.browser().get(link); r.Code != http.StatusOK {
		t.Fatalf("the link after the question: %d", r.Code)
	}
	if r := owner.post(presoPath(id, "/share/1/expire"), nil); r.Code != http.StatusSeeOther || r.Header().Get("Location") != presoPath(id, "/share") {
		t.Fatalf("expire: %d %s", r.Code, r.Header().Get("Location"))
	}
	if r := a.browser().get(link); r.Code != http.StatusGone {
		t.Fatalf("the link after Expire: %d", r.Code)
	}
	// Asking again about an ended link shows the box, saying so.
	mustContain(t, owner.get(presoPath(id, "/share/1/expire")), "This link no longer works")
}

// A client signed in to the portal downloads each document shared with
// them, and all of them as a zip, from My Account → Documents; each
// download is in the share's history as from the portal. Nobody else's
// share opens there, nor a share sent to someone else about them.
func TestPortalClientDownloadsTheirDocuments(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath, ana := a.clientWithPortal(owner, "ana@example.org", "a long enough password", "first_name", "Ana", "last_name", "Martin", "lang", "en")
	files := []upFile{{"Compte rendu.pdf", []byte("%PDF report")}, {"notes.txt", []byte("hello")}}
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, files...); r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
	}
	if r := owner.shareUpload(clientPath, []string{"recipient", "other", "other_name", "Maître Roux", "other_email", "roux@example.org", "other_lang", "fr", "verify", "1"},
		upFile{"pour l'avocat.pdf", []byte("lawyer")}); r.Code != http.StatusSeeOther {
		t.Fatalf("share to a lawyer: %d %s", r.Code, abbreviate(r.body))
	}
	r := ana.get("/portal/account")
	mustContain(t, r, `<a href="/portal/shares/1/files/1" download>Compte rendu.pdf</a>`, `href="/portal/shares/1/all" download>Download all (zip)</a>`)
	mustNotContain(t, r, "pour l'avocat", "/portal/shares/2/")

	r = ana.get("/portal/shares/1/files/1", "User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	if r.Code != http.StatusOK || r.body != "%PDF report" || r.Header().Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(r.Header().Get("Content-Disposition"), "attachment;") {
		t.Fatalf("file from the portal: %d %v %q", r.Code, r.Header(), r.body)
	}
	z := ana.get("/portal/shares/1/all")
	zr, err := zip.NewReader(bytes.NewReader(z.Body.Bytes()), int64(z.Body.Len()))
	if err != nil || len(zr.File) != 2 {
		t.Fatalf("zip from the portal: %d %v", z.Code, err)
	}
	evs, _ := a.st.ShareEvents(1)
	var portal []store.ShareEvent
	for _, ev := range evs {
		if ev.Type == share.EventDownloadedPortal {
			portal = append(portal, ev)
		}
	}
	if len(portal) != 2 || portal[0].Detail != "Compte rendu.pdf" || portal[0].Recipient != 0 || portal[1].Detail != "documents.zip" {
		t.Fatalf("portal downloads in the history: %+v", portal)
	}
	mustContain(t, owner.get(clientPath), "Downloaded Compte rendu.pdf from the client portal")
	// Beside their own portal downloads the client is not offered to stop
	// the link (whoever it was had the password) but to change the password.
	r = ana.get("/portal/account")
	mustContain(t, r, "Downloaded Compte rendu.pdf from the client portal",
		`<a class="not-me" href="#password">Not you? Whoever downloaded it signed in with your password: change it</a>`, `id="password"`)
	mustNotContain(t, r, "/portal/shares/1/not-me")
	for i, ev := range evs {
		if ev.Type == share.EventDownloadedPortal {
			if r := ana.get(fmt.Sprintf("/portal/shares/1/not-me?line=%d", i)); strings.Contains(r.body, "Compte rendu.pdf") {
				t.Fatalf("a portal download offered as an access to report: %s", abbreviate(r.body))
			}
		}
	}

	// Not the client's own: another client's share, a share to someone else about them.
	_, mallory := a.clientWithPortal(owner, "mallory@example.org", "another long password")
	for _, p := range []string{"/portal/shares/1/files/1", "/portal/shares/1/all"} {
		if r := mallory.get(p); r.Code != http.StatusNotFound {
			t.Errorf("another client GET %s: %d", p, r.Code)
		}
	}
	for _, p := range []string{"/portal/shares/2/files/1", "/portal/shares/2/all", "/portal/shares/1/files/3"} {
		if r := ana.get(p); r.Code != http.StatusNotFound {
			t.Errorf("Ana GET %s: %d", p, r.Code)
		}
	}
	if r := a.browser().get("/portal/shares/1/files/1"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/portal" {
		t.Errorf("signed out: %d %s", r.Code, r.Header().Get("Location"))
	}
	// Once the link ended, nothing more comes from the portal either.
	owner.post("/shares/1/expire", nil)
	if r := ana.get("/portal/shares/1/files/2"); r.Code != http.StatusGone {
		t.Errorf("after Expire: %d", r.Code)
	}
	mustNotContain(t, ana.get("/portal/account"), "/portal/shares/1/files/")
}

// A zip entry's DOS time, which unzip tools show as it is, is the
// practice's wall time (Paris: UTC+1 in winter), not UTC.
func TestZipEntriesCarryThePracticesTime(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	b := verify(t, a, token)
	r := b.get("/s/" + token + "/all")
	zr, err := zip.NewReader(bytes.NewReader(r.Body.Bytes()), int64(r.Body.Len()))
	if err != nil || len(zr.File) != 2 {
		t.Fatalf("zip: %d %v", r.Code, err)
	}
	f := zr.File[0]
	hour, minute, day := int(f.ModifiedTime>>11), int(f.ModifiedTime>>5&0x3f), int(f.ModifiedDate&0x1f)
	if hour != 11 || minute != 0 || day != 25 {
		t.Fatalf("DOS time %02d:%02d on the %d, want 11:00 on the 25th (the upload, 10:00 UTC, in Paris)", hour, minute, day)
	}
	if !f.Modified.Equal(a.now()) {
		t.Fatalf("extended time %v, want %v", f.Modified, a.now())
	}
}

// The plain filename a client that reads no filename* (curl -OJ, wget)
// saves under is the name without its accents, not underscores; the UTF-8
// name stays whole beside it.
func TestContentDispositionFallbackTransliterates(t *testing.T) {
	t.Parallel()
	for name, want := range map[string]string{
		"Relevé d’honoraires €.txt":   `filename="Releve d'honoraires EUR.txt"; filename*=UTF-8''Relev%C3%A9%20d%E2%80%99honoraires%20%E2%82%AC.txt`,
		"Cœur «été» Ørsted.pdf":       `filename="Coeur 'ete' Orsted.pdf"`,
		"Ça\u00a0va – Noël.pdf":       `filename="Ca va - Noel.pdf"`,
		"报告 \"x\";%.pdf":              `filename="__ _x___.pdf"`,
		"Äpfel und Straße.docx":       `filename="Apfel und Strasse.docx"`,
		"evil\r\nSet-Cookie: x=1.pdf": `filename="evil__Set-Cookie: x=1.pdf"`,
	} {
		if got := contentDisposition(name); !strings.HasPrefix(got, "attachment; ") || !strings.Contains(got, want) {
			t.Errorf("contentDisposition(%q) = %s, want %s", name, got, want)
		}
	}
	// Through a real download.
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "phone_0", "06 12 34 56 78", "phone_0_type", "mobile")
	owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"Relevé d’honoraires.txt", []byte("x")})
	b := verify(t, a, a.lastShareToken("ana@example.org"))
	r := b.get("/s/" + a.lastShareToken("ana@example.org") + "/files/1")
	if cd := r.Header().Get("Content-Disposition"); !strings.Contains(cd, `filename="Releve d'honoraires.txt"`) {
		t.Fatalf("download: %s", cd)
	}
}

// Private pages and every page of a share link ask search engines not to
// list them; a slide image shown through a link is kept by no browser, like
// the rest of the link.
func TestNoindexAndSlideImagesNotStored(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	if r := owner.upload(presoPath(id, "/slides/1/image"), "image", "a.png", pngBytes(t, 8, 8)); r.Code >= 400 {
		t.Fatalf("image: %d", r.Code)
	}
	owner.post(presoPath(id, "/share/1/refresh"), nil)
	v, _ := openViewer(t, a, link, "0")
	for path, r := range map[string]*resp{
		"landing": a.browser().get(link), "slide": v.get(link + "/slides/1"), "image": v.get(link + "/images/1"),
		"a miss": a.browser().get("/s/" + strings.Repeat("A", 43)), "staff page": owner.get("/clients"), "staff sign-in": a.browser().get("/signin"),
	} {
		if got := r.Header().Get("X-Robots-Tag"); got != "noindex" {
			t.Errorf("%s: X-Robots-Tag %q", path, got)
		}
	}
	if r := v.get(link + "/images/1"); r.Code != http.StatusOK || r.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("a slide image through the link: %d, Cache-Control %q", r.Code, r.Header().Get("Cache-Control"))
	}
	for _, path := range []string{"/portal", "/portal/signup"} {
		if got := a.browser().get(path).Header().Get("X-Robots-Tag"); got != "" {
			t.Errorf("%s, a page handed out: X-Robots-Tag %q", path, got)
		}
	}
}

// A number taken off the client record (a stolen phone) is no longer shown
// where codes go: the client record's live link and Send again show the
// record's numbers, which codes go to; the stored link keeps what it had.
func TestSharePagesShowTheNumbersCodesGoTo(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin",
		"phone_0", "06 12 34 56 78", "phone_0_type", "mobile")
	owner.shareToClient(clientPath)
	sh, _ := a.st.Share(1)
	if _, err := a.st.UpdateClient(sh.ClientID, func(c *store.Client) error {
		c.Phones = []store.Phone{{Type: store.PhoneMobile, Number: "+33699887766", Mobile: true}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	r := owner.get(clientPath)
	mustContain(t, r, "06 99 88 77 66")
	mustNotContain(t, r, "06 12 34 56 78")
	r = owner.get("/shares/1/again")
	mustContain(t, r, `name="mobile_0" type="tel" value="06 99 88 77 66"`)
	mustNotContain(t, r, "06 12 34 56 78")
	if sh, _ := a.st.Share(1); sh.Recipients[0].Mobiles[0] != "+33612345678" {
		t.Fatalf("the stored link was rewritten: %v", sh.Recipients[0].Mobiles)
	}
}
