package handlers

import (
	"archive/zip"
	"bytes"
	"crypto/rand"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"foyer/share"
	"foyer/store"
)

type upFile struct {
	name string
	data []byte
}

// shareUpload posts the Share documents dialog as the no-JavaScript form does:
// the fields first, then the files.
func (b *browser) shareUpload(clientPath string, fields []string, files ...upFile) *resp {
	b.app.t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	token := b.csrf()
	go func() {
		for i := 0; i+1 < len(fields); i += 2 {
			_ = mw.WriteField(fields[i], fields[i+1])
		}
		for _, f := range files {
			h := textproto.MIMEHeader{}
			// Written by hand: CreateFormFile would escape the hostile names we test.
			h.Set("Content-Disposition", `form-data; name="files"; filename="`+strings.NewReplacer(`"`, `%22`, "\r", "%0D", "\n", "%0A", "\x00", "%00").Replace(f.name)+`"`)
			h.Set("Content-Type", "application/octet-stream")
			w, _ := mw.CreatePart(h)
			_, _ = w.Write(f.data)
		}
		pw.CloseWithError(mw.Close())
	}()
	// As the page's form sends it: the token in the URL, not in the body.
	req := httptest.NewRequest(http.MethodPost, clientPath+"/shares?_csrf="+token, pr)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	r := b.do(req)
	_, _ = io.Copy(io.Discard, pr) // let the writer finish when the handler stopped reading
	return r
}

var docLinkRe = regexp.MustCompile(`http://localhost:8080/s/([A-Za-z0-9_-]{43})`)

// lastShareToken is the token of the newest share link emailed to someone.
func (a *testApp) lastShareToken(to string) string {
	a.t.Helper()
	msgs, _ := a.st.ListMessages(0, 200)
	for _, m := range msgs {
		if m.To == to {
			if l := docLinkRe.FindStringSubmatch(a.sent(m).Text); l != nil {
				return l[1]
			}
		}
	}
	a.t.Fatalf("no share link emailed to %s", to)
	return ""
}

var codeRe = regexp.MustCompile(`\b(\d{6})\b`)

// lastCode is the newest security code sent to a number or an address.
func (a *testApp) lastCode(to string) string {
	a.t.Helper()
	msgs, _ := a.st.ListMessages(0, 200)
	for _, m := range msgs {
		if m.To == to {
			if c := codeRe.FindStringSubmatch(a.sent(m).Text); c != nil {
				return c[1]
			}
		}
	}
	a.t.Fatalf("no code sent to %s", to)
	return ""
}

func (a *testApp) countMessages() int {
	msgs, _ := a.st.ListMessages(0, 1000)
	return len(msgs)
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// sharedClient sets up a practice, a client (English, one mobile) and a share of two files to them.
// shareToClient shares one small file with the client of clientPath, a
// code required, and fails the test if the share is refused.
func (b *browser) shareToClient(clientPath string) {
	b.app.t.Helper()
	if r := b.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"a.pdf", []byte("A")}); r.Code != http.StatusSeeOther {
		b.app.t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
	}
}

func sharedClient(t *testing.T) (a *testApp, owner *browser, clientPath, token string, files []upFile) {
	a = newTestApp(t)
	owner = a.setUp()
	clientPath = owner.newClient("lang", "en", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin")
	files = []upFile{{"Compte rendu séance.pdf", randomBytes(t, 700<<10)}, {"notes.txt", []byte("hello")}}
	r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1", "message", "As promised."}, files...)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
	}
	return a, owner, clientPath, a.lastShareToken("ana@example.org"), files
}

// verify gets a code by SMS and enters it; it returns the recipient's browser.
func verify(t *testing.T, a *testApp, token string) *browser {
	t.Helper()
	b := a.browser()
	if r := b.post("/s/"+token+"/code", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("send code: %d %s", r.Code, abbreviate(r.body))
	}
	r := b.post("/s/"+token+"/verify", formOf("code", a.lastCode("+33612345678")))
	if r.Code != http.StatusSeeOther || !strings.HasSuffix(r.Header().Get("Location"), "/files") {
		t.Fatalf("verify: %d %s", r.Code, abbreviate(r.body))
	}
	return b
}

func TestShareDocumentsEndToEnd(t *testing.T) {
	t.Parallel()
	a, owner, clientPath, token, files := sharedClient(t)
	msgs, _ := a.st.ListMessages(0, 10)
	mail := a.sent(msgs[0])
	if !strings.Contains(mail.Text, "Hello Ana Martin") || !strings.Contains(mail.Text, "As promised.") || !strings.Contains(mail.Text, "will be deleted on December\u00a015, 2026") {
		t.Fatalf("share email:\n%s", mail.Text)
	}
	r := owner.get(clientPath)
	mustContain(t, r, "Shared documents", "Compte rendu séance.pdf", "notes.txt", "Active", "Copy link", "Expire now", "Extend", "Send again")

	// Opening the link sends nothing and records nothing: mail scanners open links.
	before := a.countMessages()
	b := a.browser()
	r = b.get("/s/" + token)
	mustContain(t, r, "Your secure documents", "ending in 678", "Send security code")
	if a.countMessages() != before {
		t.Fatal("opening the link sent a message")
	}
	evs, _ := a.st.ShareEvents(1)
	if len(evs) != 1 {
		t.Fatalf("opening the link recorded %d events", len(evs)-1)
	}
	// Without a code, nothing behind the landing opens.
	for _, p := range []string{"/files", "/files/1", "/all", "/history", "/delete"} {
		if r := b.get("/s/" + token + p); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/s/"+token {
			t.Errorf("%s without a code: %d %s", p, r.Code, r.Header().Get("Location"))
		}
	}
	// Code by SMS; a wrong one, then the right one.
	if r := b.post("/s/"+token+"/code", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("send code: %d", r.Code)
	}
	code := a.lastCode("+33612345678")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r = b.post("/s/"+token+"/verify", formOf("code", wrong))
	mustContain(t, b.follow(r, "/s/"+token+"/code"), "This code is not right.", "4 tries left.")
	r = b.post("/s/"+token+"/verify", formOf("code", code))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("right code: %d %s", r.Code, abbreviate(r.body))
	}
	r = b.get("/s/" + token + "/files")
	mustContain(t, r, "Download your documents", "Compte rendu séance.pdf", "700\u00a0KiB", "notes.txt", "Download all (zip)", "deleted on December\u00a015, 2026", "As promised.")

	// Each file, byte for byte, with safe headers.
	for i, f := range files {
		r := b.get(fmt.Sprintf("/s/%s/files/%d", token, i+1), "User-Agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36")
		if r.Code != http.StatusOK || !bytes.Equal(r.Body.Bytes(), f.data) {
			t.Fatalf("download %d: %d, %d bytes", i+1, r.Code, r.Body.Len())
		}
		hd := r.Header()
		if hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Cache-Control") != "no-store" || !strings.HasPrefix(hd.Get("Content-Disposition"), "attachment;") {
			t.Errorf("download headers: %v", hd)
		}
	}
	if cd := b.get("/s/" + token + "/files/1").Header().Get("Content-Disposition"); !strings.Contains(cd, "filename*=UTF-8''Compte%20rendu%20s%C3%A9ance.pdf") {
		t.Errorf("Content-Disposition %q", cd)
	}
	// Range: the middle of the first file, across a chunk boundary.
	r = b.get("/s/"+token+"/files/1", "Range", "bytes=262100-262200")
	if r.Code != http.StatusPartialContent || !bytes.Equal(r.Body.Bytes(), files[0].data[262100:262201]) {
		t.Fatalf("range: %d, %d bytes", r.Code, r.Body.Len())
	}
	// Download all: a zip of both.
	r = b.get("/s/" + token + "/all")
	zr, err := zip.NewReader(bytes.NewReader(r.Body.Bytes()), int64(r.Body.Len()))
	if err != nil || len(zr.File) != 2 {
		t.Fatalf("zip: %v", err)
	}
	for i, zf := range zr.File {
		rc, _ := zf.Open()
		got, _ := io.ReadAll(rc)
		if zf.Name != files[i].name || !bytes.Equal(got, files[i].data) {
			t.Errorf("zip entry %q: %d bytes", zf.Name, len(got))
		}
	}
	// The history shows the downloads with browser and OS.
	r = b.get("/s/" + token + "/history")
	mustContain(t, r, "Access and download history", "Downloaded Compte rendu séance.pdf", "Chrome 118", "Windows", "Security code requested")
	// The sender was told of the first download, once.
	a.h.Wait()
	n := 0
	msgs, _ = a.st.ListMessages(0, 100)
	for _, m := range msgs {
		if m.To == "owner@example.org" && strings.Contains(a.sent(m).Subject, "downloaded") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d first-download emails", n)
	}
	// Delete these documents: the bytes leave the store at once.
	mustContain(t, b.get("/s/"+token+"/delete"), "Delete the documents")
	if r := b.post("/s/"+token+"/delete", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Code)
	}
	r = b.get("/s/" + token)
	if r.Code != http.StatusGone {
		t.Fatalf("deleted link: %d", r.Code)
	}
	mustContain(t, r, "These documents were deleted", "at the request of the person they were sent to")
	for _, id := range []uint64{1, 2} {
		if _, err := a.st.Blob(id); err == nil {
			t.Fatalf("blob %d survived the deletion", id)
		}
	}
	mustContain(t, owner.get(clientPath), "Deleted by the recipient", "Documents deleted by the recipient")
}

func TestShareCodeExpiresAfterTenMinutes(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	b := a.browser()
	b.post("/s/"+token+"/code", nil)
	code := a.lastCode("+33612345678")
	a.advance(10*time.Minute + time.Second)
	r := b.follow(b.post("/s/"+token+"/verify", formOf("code", code)), "/s/"+token+"/code")
	mustContain(t, r, "This code has expired.", "Not received a text message?")
	r = b.get("/s/" + token + "/code?new=1")
	// Text messages are not set up: the new code waits at the practice, and the page says so.
	mustContain(t, r, "A new code for •••\u00a0•••\u00a0678 will wait at the practice: Cabinet Lumière has not set up sending yet.", "Request new code")
	mustNotContain(t, r, "will be sent to")
	if r := b.post("/s/"+token+"/code", formOf("to", "0")); r.Code != http.StatusSeeOther {
		t.Fatalf("new code: %d %s", r.Code, abbreviate(r.body))
	}
	code2 := a.lastCode("+33612345678")
	a.advance(10*time.Minute - time.Second)
	if r := b.post("/s/"+token+"/verify", formOf("code", code2)); r.Code != http.StatusSeeOther {
		t.Fatalf("code at 9:59: %d %s", r.Code, abbreviate(r.body))
	}
}

func TestShareFiveWrongCodesAndResendLimits(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	b := a.browser()
	b.post("/s/"+token+"/code", nil)
	code := a.lastCode("+33612345678")
	// A second code within the minute is refused, in the page's words.
	r := b.follow(b.post("/s/"+token+"/code", nil), "/s/"+token+"/code")
	mustContain(t, r, "less than a minute ago", "Security code")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range share.MaxTries {
		r = b.post("/s/"+token+"/verify", formOf("code", wrong))
	}
	// The fifth wrong entry says why the code in the text message stops working.
	r = b.follow(r, "/s/"+token+"/code")
	mustContain(t, r, "Five wrong codes were entered, so the code sent is void now, even the right one. Ask for a new code below.")
	mustNotContain(t, r, "This code no longer works.")
	r = b.post("/s/"+token+"/verify", formOf("code", code))
	mustContain(t, b.follow(r, "/s/"+token+"/code"), "This code no longer works.")
}

func TestShareLocksAtHundredFailuresAndStaffUnlocks(t *testing.T) {
	t.Parallel()
	a, owner, clientPath, token, _ := sharedClient(t)
	b := a.browser()
	b.post("/s/"+token+"/code", nil)
	// 99 failures already counted (the share engine's test makes them one by one).
	if _, err := a.st.ChangeShare(1, func(ch *store.ShareChange) error { ch.Share.Failures = share.MaxFailures - 1; return nil }); err != nil {
		t.Fatal(err)
	}
	code := a.lastCode("+33612345678")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	r := b.follow(b.post("/s/"+token+"/verify", formOf("code", wrong)), "/s/"+token)
	if r.Code != http.StatusForbidden {
		t.Fatalf("100th failure: %d", r.Code)
	}
	mustContain(t, r, "This secure link is locked")
	mustContain(t, b.get("/s/"+token), "This secure link is locked")
	mustContain(t, owner.get(clientPath), "Locked", "Unlock")
	if r := owner.post("/shares/1/unlock", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("unlock: %d", r.Code)
	}
	a.advance(time.Minute)
	verify(t, a, token)
}

func TestSharePurgedAtTwentyDays(t *testing.T) {
	t.Parallel()
	a, _, clientPath, token, _ := sharedClient(t)
	b := verify(t, a, token)
	a.advance(18*24*time.Hour - time.Minute)
	a.sweepShares()
	if r := b.get("/s/" + token); r.Code != http.StatusOK && r.Code != http.StatusSeeOther {
		t.Fatalf("before expiry: %d", r.Code)
	}
	// Two days before, the undownloaded share's recipient is reminded once.
	before := a.countMessages()
	a.advance(2 * time.Minute)
	a.sweepShares()
	a.sweepShares()
	if a.countMessages() != before+1 {
		t.Fatalf("%d reminders", a.countMessages()-before)
	}
	a.advance(2 * 24 * time.Hour)
	a.sweepShares()
	r := b.get("/s/" + token)
	if r.Code != http.StatusGone {
		t.Fatalf("after 20 days: %d", r.Code)
	}
	mustContain(t, r, "This secure link is no longer active", "Contact Cabinet Lumière")
	for _, id := range []uint64{1, 2} {
		if _, err := a.st.Blob(id); err == nil {
			t.Fatalf("blob %d survived the expiry", id)
		}
	}
	owner := a.signIn("owner@example.org", ownerPassword)
	mustContain(t, owner.get(clientPath), "Expired", "Files deleted from the server")
}

func TestShareSessionOpensOneShareOnly(t *testing.T) {
	t.Parallel()
	a, owner, clientPath, tokenA, _ := sharedClient(t)
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"b.pdf", []byte("B")}); r.Code != http.StatusSeeOther {
		t.Fatalf("second share: %d", r.Code)
	}
	tokenB := a.lastShareToken("ana@example.org")
	if tokenA == tokenB {
		t.Fatal("same token twice")
	}
	b := verify(t, a, tokenA)
	if r := b.get("/s/" + tokenA + "/files"); r.Code != http.StatusOK {
		t.Fatalf("A: %d", r.Code)
	}
	if r := b.get("/s/" + tokenB + "/files/1"); r.Code != http.StatusSeeOther {
		t.Fatalf("A's session opened B: %d", r.Code)
	}
	// Idle for 30 minutes, the session ends.
	a.advance(30 * time.Minute)
	if r := b.get("/s/" + tokenA + "/files"); r.Code != http.StatusSeeOther {
		t.Fatalf("idle session: %d", r.Code)
	}
}

func TestShareIDOR(t *testing.T) {
	t.Parallel()
	a, owner, clientPath, token, _ := sharedClient(t)
	other := a.addStaff("Paul Other", "paul@example.org", store.RolePractitioner)
	_ = other
	paul := a.signIn("paul@example.org", staffPassword)
	for _, p := range []string{clientPath + "/shares/new", "/shares/1/link", "/shares/1/again", "/shares/1/expire"} {
		if r := paul.get(p); r.Code != http.StatusNotFound {
			t.Errorf("another practitioner GET %s: %d", p, r.Code)
		}
	}
	for _, p := range []string{"/shares/1/expire", "/shares/1/extend", "/shares/1/unlock", "/shares/1/again", clientPath + "/shares/preview"} {
		if r := paul.post(p, nil); r.Code != http.StatusNotFound {
			t.Errorf("another practitioner POST %s: %d", p, r.Code)
		}
	}
	if r := paul.shareUpload(clientPath, []string{"recipient", "client"}, upFile{"x.pdf", []byte("x")}); r.Code != http.StatusNotFound {
		t.Errorf("another practitioner uploads: %d", r.Code)
	}
	// Anonymous visitors are sent to sign in.
	anon := a.browser()
	for _, p := range []string{clientPath + "/shares/new", "/shares/1/link"} {
		if r := anon.get(p); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin" {
			t.Errorf("anonymous GET %s: %d", p, r.Code)
		}
	}
	// A portal client of another record cannot touch this share.
	_, mallory := a.clientWithPortal(owner, "mallory@example.org", "a long password here")
	if r := mallory.post("/portal/shares/1/not-me", nil); r.Code != http.StatusNotFound {
		t.Errorf("portal client of another record: %d", r.Code)
	}
	if r := mallory.get("/portal/shares/1/not-me?line=1"); r.Code != http.StatusNotFound {
		t.Errorf("portal client of another record, confirmation page: %d", r.Code)
	}
	mustNotContain(t, mallory.get("/portal/account"), "Compte rendu")
	// Unknown tokens: 404, then 429 for that address.
	probe := a.browser()
	probe.ip = "198.51.100.7:1"
	for i := range 10 {
		if r := probe.get("/s/" + strings.Repeat("A", 42) + strconv.Itoa(i%10)); r.Code != http.StatusNotFound {
			t.Fatalf("miss %d: %d", i, r.Code)
		}
	}
	for range 3 {
		if r := probe.get("/s/" + strings.Repeat("B", 43)); r.Code != http.StatusTooManyRequests {
			t.Fatalf("a miss past the limit: %d", r.Code)
		}
	}
	if r := probe.get("/s/" + token); r.Code != http.StatusOK {
		t.Fatalf("a good token after the misses: %d", r.Code)
	}
}

// Misses and wrong codes from one address (a phone carrier's NAT, an office's
// Wi-Fi) must not lock out a recipient with a good link behind it.
func TestShareMissesDoNotLockOutGoodLinksOnTheSameAddress(t *testing.T) {
	t.Parallel()
	a, _, _, token, files := sharedClient(t)
	const office = "198.51.100.9:1"
	recipient := verify(t, a, token)
	recipient.ip = office
	scanner := a.browser()
	scanner.ip = office
	for range 30 {
		scanner.get("/s/" + strings.Repeat("C", 43))
	}
	if r := scanner.get("/s/" + strings.Repeat("D", 43)); r.Code != http.StatusTooManyRequests {
		t.Fatalf("the scan is not throttled: %d", r.Code)
	}
	if r := recipient.get("/s/" + token + "/files/2"); r.Code != http.StatusOK || r.body != string(files[1].data) {
		t.Fatalf("a verified download behind the scanned address: %d", r.Code)
	}
	newcomer := a.browser()
	newcomer.ip = office
	if r := newcomer.get("/s/" + token); r.Code != http.StatusOK {
		t.Fatalf("a good link's landing behind the scanned address: %d", r.Code)
	}
	// Wrong codes from one address are throttled, across links.
	guesser := a.browser()
	guesser.ip = office
	guesser.post("/s/"+token+"/code", nil)
	for range 30 {
		guesser.post("/s/"+token+"/verify", formOf("code", "00000x"))
	}
	r := guesser.follow(guesser.post("/s/"+token+"/verify", formOf("code", "00000x")), "/s/"+token+"/code")
	mustContain(t, r, "Too many attempts")
}

func TestShareHostileFileNames(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	names := []string{`"><svg onload=alert(1)>.pdf`, "../../etc/passwd", "evil\r\nSet-Cookie: x=1.pdf", "invoice\u202Efdp.exe", "nul\x00byte.pdf", strings.Repeat("n", 4096) + ".pdf"}
	var files []upFile
	for _, n := range names {
		files = append(files, upFile{n, []byte(n)})
	}
	r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, files...)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", r.Code, abbreviate(r.body))
	}
	r = owner.get(clientPath)
	mustNotContain(t, r, "<svg onload", "\u202E", "../")
	mustContain(t, r, "&gt;&lt;svg onload=alert(1)&gt;.pdf", "passwd", "invoicefdp.exe")
	token := a.lastShareToken("ana@example.org")
	b := verify(t, a, token)
	for i := range names {
		r := b.get(fmt.Sprintf("/s/%s/files/%d", token, i+1))
		cd := r.Header().Get("Content-Disposition")
		if r.Code != http.StatusOK || strings.ContainsAny(cd, "\r\n\x00") || strings.Contains(cd, "/") || len(r.Header()["Set-Cookie"]) > 0 {
			t.Errorf("file %d: %d %q", i+1, r.Code, cd)
		}
	}
}

func TestShareRefusesA51MiBFile(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	big := make([]byte, 51<<20)
	r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"small.pdf", []byte("ok")}, upFile{"big.bin", big})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("51 MiB: %d", r.Code)
	}
	mustContain(t, r, "“big.bin” is larger than 50\u00a0MiB, the limit for each file. Nothing was sent")
	if ids, _ := a.st.AbandonedBlobs(a.now().Add(time.Hour)); len(ids) != 0 {
		t.Fatalf("%d blobs stored", len(ids))
	}
	if shares, _ := a.st.SharesOfClient(1); len(shares) != 0 {
		t.Fatal("a share was made")
	}
}

func TestShareDialogErrorsKeepTheFiles(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	r := owner.shareUpload(clientPath, []string{"recipient", "other", "other_name", "", "other_email", "not an email", "other_mobile", "01 42 00 00 00", "other_lang", "en"}, upFile{"a.pdf", []byte("A")})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad fields: %d", r.Code)
	}
	mustContain(t, r, "Enter an email address", "not a mobile phone", `name="keep" value="1"`, "a.pdf")
	// Sent again with the kept file: the share goes to the lawyer, in French, by email code.
	r = owner.shareUpload(clientPath, []string{"recipient", "other", "other_name", "Maître Roux", "other_email", "roux@example.org", "other_lang", "fr", "verify", "1", "keep", "1"})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("with kept file: %d %s", r.Code, abbreviate(r.body))
	}
	token := a.lastShareToken("roux@example.org")
	// The pages are in the language staff chose for the recipient (whatever
	// the browser's): the email was.
	b := a.browser()
	mustContain(t, b.get("/s/"+token), "Vos documents sécurisés", "r•••@example.org")
	b.post("/s/"+token+"/code", nil)
	if r := b.post("/s/"+token+"/verify", formOf("code", a.lastCode("roux@example.org"))); r.Code != http.StatusSeeOther {
		t.Fatalf("email code: %d", r.Code)
	}
	mustContain(t, b.get("/s/"+token+"/files"), "Téléchargez vos documents", "a.pdf")
}

func TestShareTemplatesSettings(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.lang = "en"
	valid := "Dear [[RECIPIENT_NAME]], [[SECURE_SHARE_LINK]] [[SECURE_SHARE_DISCLAIMER]]"
	base := []string{"share_days", "20", "code_minutes", "10", "download_mail", "1", "template_fr", "Bonjour [[SECURE_SHARE_LINK]]"}
	post := func(tmpl string) *resp {
		return owner.post("/settings/shares", formOf(append(base, "template_en", tmpl)...))
	}
	mustContain(t, post("Hello [[NAME]] [[SECURE_SHARE_LINK]]"), "This merge field does not exist", "[[NAME]]")
	mustContain(t, post("Hello, no link"), "must contain [[SECURE_SHARE_LINK]]")
	if r := owner.post("/settings/shares", formOf("share_days", "20", "code_minutes", "20", "template_en", valid, "template_fr", valid)); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("code minutes 20: %d", r.Code)
	}
	r := owner.post("/settings/shares/preview", formOf(append(base, "template_en", valid, "lang", "en")...))
	mustContain(t, r, "Dear Ana Martin, http://localhost:8080/s/(the secure link)", "the documents will be deleted on")
	if r := post(valid); r.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.Code, abbreviate(r.body))
	}
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin")
	r = owner.post(clientPath+"/shares/preview", formOf("recipient", "client", "message", "Hi"))
	mustContain(t, r, "Dear Ana Martin, http://localhost:8080/s/(the secure link)")
	owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"a.pdf", []byte("A")})
	msgs, _ := a.st.ListMessages(0, 5)
	if got := a.sent(msgs[0]).Text; !strings.HasPrefix(got, "Dear Ana Martin, http://localhost:8080/s/") {
		t.Fatalf("the email does not follow the template:\n%s", got)
	}
}

func TestSharePortalDocumentsAndNotMe(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath, client := a.clientWithPortal(owner, "ana@example.org", "a long password here", "lang", "en")
	owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"bilan.pdf", []byte("A")})
	// A share about the client but sent to their lawyer is not on their portal.
	owner.shareUpload(clientPath, []string{"recipient", "other", "other_name", "Maître Roux", "other_email", "roux@example.org", "other_lang", "fr", "verify", "1"}, upFile{"lawyer.pdf", []byte("L")})
	token := a.lastShareToken("ana@example.org")
	b := a.browser()
	b.post("/s/"+token+"/code", nil)
	r := client.get("/portal/account")
	mustContain(t, r, "Documents", "bilan.pdf", "Security code requested", "This wasn’t me")
	mustNotContain(t, r, "lawyer.pdf")
	if r := client.post("/portal/shares/1/not-me", formOf("line", "x")); r.Code != http.StatusSeeOther {
		t.Fatalf("not me: %d", r.Code)
	}
	if r := b.get("/s/" + token); r.Code != http.StatusGone {
		t.Fatalf("link after This wasn't me: %d", r.Code)
	}
	if r := client.post("/portal/shares/2/not-me", nil); r.Code != http.StatusNotFound {
		t.Fatalf("not me on the lawyer's share: %d", r.Code)
	}
	found := false
	msgs, _ := a.st.ListMessages(0, 50)
	for _, m := range msgs {
		found = found || (m.To == "owner@example.org" && strings.Contains(a.sent(m).Subject, "was not theirs"))
	}
	if !found {
		t.Fatal("the practitioner was not emailed")
	}
}

func TestShareStaffActions(t *testing.T) {
	t.Parallel()
	a, owner, clientPath, token, _ := sharedClient(t)
	r := owner.get("/shares/1/link", "HX-Request", "true")
	mustContain(t, r, "http://localhost:8080/s/"+token)
	a.advance(24 * time.Hour)
	owner = a.signIn("owner@example.org", ownerPassword)
	sent, _ := a.st.Share(1)
	if r := owner.post("/shares/1/extend", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("extend: %d", r.Code)
	}
	sh, _ := a.st.Share(1)
	if !sh.ExpiresAt.Equal(sent.ExpiresAt.Add(share.DefaultLifetime)) {
		t.Fatalf("extended to %v", sh.ExpiresAt)
	}
	// Send again to a corrected address: a new link, the old one stops, the files stay.
	r = owner.post("/shares/1/again", formOf("name", "Ana Martin", "email", "ana.martin@example.org", "mobile_0", "06 12 34 56 79", "lang", "en"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("send again: %d %s", r.Code, abbreviate(r.body))
	}
	newToken := a.lastShareToken("ana.martin@example.org")
	if r := a.browser().get("/s/" + token); r.Code != http.StatusGone {
		t.Fatalf("old link: %d", r.Code)
	}
	a.sweepShares()
	b := a.browser()
	b.post("/s/"+newToken+"/code", nil)
	if r := b.post("/s/"+newToken+"/verify", formOf("code", a.lastCode("+33612345679"))); r.Code != http.StatusSeeOther {
		t.Fatalf("new link: %d", r.Code)
	}
	if r := b.get("/s/" + newToken + "/files/2"); r.Code != http.StatusOK || r.body != "hello" {
		t.Fatalf("file through the new link: %d", r.Code)
	}
	// Expire now: the link stops and the files go.
	owner.post("/shares/2/expire", nil)
	if r := b.get("/s/" + newToken + "/files/2"); r.Code != http.StatusGone {
		t.Fatalf("after Expire now: %d", r.Code)
	}
	if _, err := a.st.Blob(2); err == nil {
		t.Fatal("files kept after Expire now")
	}
	mustContain(t, owner.get(clientPath), "Replaced", "Expired by the practice")
}

func TestShareUploadWithoutCSRFStoresNothing(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("recipient", "client")
	fw, _ := mw.CreateFormFile("files", "a.pdf")
	_, _ = fw.Write([]byte("A"))
	_ = mw.Close()
	req := httptest.NewRequest(http.MethodPost, clientPath+"/shares", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if r := owner.do(req); r.Code != http.StatusForbidden {
		t.Fatalf("upload without a token: %d", r.Code)
	}
	if ids, _ := a.st.AbandonedBlobs(a.now().Add(time.Hour)); len(ids) != 0 {
		t.Fatalf("%d blobs stored", len(ids))
	}
}

func TestShareStrangerCannotBurnTheCode(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	client := a.browser()
	// Nothing sent yet: the code page does not claim a code went out, or
	// (text messages not being set up here) waits at the practice.
	mustNotContain(t, client.get("/s/"+token+"/code"), "asked for a 6-digit code to be sent", "your code is waiting at the practice")
	client.post("/s/"+token+"/code", nil)
	code := a.lastCode("+33612345678")
	mustContain(t, client.get("/s/"+token+"/code"), "your code is waiting at the practice")
	stranger := a.browser()
	stranger.ip = "203.0.113.9:5555"
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for range share.MaxTries + 2 {
		stranger.post("/s/"+token+"/verify", formOf("code", wrong))
	}
	// A stranger asking for a new code a minute later does not void the one on its way either.
	a.advance(time.Minute)
	stranger.post("/s/"+token+"/code", nil)
	if r := client.post("/s/"+token+"/verify", formOf("code", code)); r.Code != http.StatusSeeOther {
		t.Fatalf("the client's code after a stranger's tries: %d %s", r.Code, abbreviate(r.body))
	}
}

func TestShareEndsWhenTheClientIsArchived(t *testing.T) {
	t.Parallel()
	a, owner, clientPath, token, _ := sharedClient(t)
	b := verify(t, a, token)
	if r := owner.post(clientPath+"/archive", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("archive: %d", r.Code)
	}
	if r := b.get("/s/" + token + "/files"); r.Code != http.StatusGone {
		t.Fatalf("files of an archived client: %d", r.Code)
	}
	if r := a.browser().post("/s/"+token+"/code", nil); r.Code != http.StatusGone {
		t.Fatalf("code for an archived client: %d", r.Code)
	}

	// The share itself ended, for good: the record says so, with no action
	// but its history, and its files leave the store.
	sh, err := a.st.Share(1)
	if err != nil {
		t.Fatal(err)
	}
	if sh.State != store.ShareExpired || !sh.Purged {
		t.Fatalf("share of an archived client: %s purged=%v", sh.State, sh.Purged)
	}
	page := owner.get(clientPath)
	mustContain(t, page, "Ended: the client was archived", `state-expired`)
	for _, gone := range []string{"/shares/1/link", "/shares/1/again", clientPath + "/shares/new"} {
		if strings.Contains(page.body, `href="`+gone+`"`) {
			t.Errorf("the archived record still offers %s", gone)
		}
	}
	// Nothing new goes to an archived client, with a message saying why; no file is stored.
	if r := owner.get(clientPath + "/shares/new"); r.Code != http.StatusConflict || !strings.Contains(r.body, "This client is archived") {
		t.Fatalf("new share for an archived client: %d %s", r.Code, abbreviate(r.body))
	}
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"x.txt", []byte("x")}); r.Code != http.StatusConflict {
		t.Fatalf("share with an archived client: %d %s", r.Code, abbreviate(r.body))
	}
	if r := owner.post("/shares/1/again", formOf("name", "Ana Martin", "email", "ana@example.org", "lang", "en")); r.Code != http.StatusConflict {
		t.Fatalf("send again to an archived client: %d", r.Code)
	}
	if ids, _ := a.st.AbandonedBlobs(a.now().Add(time.Hour)); len(ids) != 0 {
		t.Fatalf("%d blobs stored", len(ids))
	}
	// Restoring the client brings the link back neither.
	if r := owner.post(clientPath+"/restore", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("restore: %d", r.Code)
	}
	if r := b.get("/s/" + token + "/files"); r.Code != http.StatusGone {
		t.Fatalf("files after the restore: %d", r.Code)
	}
}

// Once the practitioner who made a share is deactivated, its notices (first
// download, "This wasn't me") go to the practice's owners and admins: the
// portal tells the client the practice was told, so somebody must be.
func TestShareNoticesOutliveTheSender(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	paul := a.addStaff("Paul Praticien", "paul@example.org", store.RolePractitioner)
	admin := a.addStaff("Alice Admin", "alice@example.org", store.RoleAdmin)
	a.addStaff("Pierre Other", "pierre@example.org", store.RolePractitioner)
	clientPath, client := a.clientWithPortal(owner, "ana@example.org", "a long password here", "lang", "en", "practitioner", itoa(paul.ID))
	pb := a.signIn("paul@example.org", staffPassword)
	if r := pb.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"bilan.pdf", []byte("A")}); r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
	}
	token := a.lastShareToken("ana@example.org")
	if r := owner.post("/staff/"+itoa(paul.ID)+"/deactivate", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", r.Code)
	}
	b := verify(t, a, token)
	if r := b.get("/s/" + token + "/files/1"); r.Code != http.StatusOK {
		t.Fatalf("download: %d", r.Code)
	}
	if r := client.post("/portal/shares/1/not-me", formOf("line", "0")); r.Code != http.StatusSeeOther {
		t.Fatalf("not me: %d", r.Code)
	}
	got := map[string][]string{}
	msgs, _ := a.st.ListMessages(0, 50)
	for _, m := range msgs {
		if m.Kind == "share_staff" {
			got[m.To] = append(got[m.To], a.sent(m).Subject)
		}
	}
	for _, to := range []string{"owner@example.org", admin.Email} {
		if len(got[to]) != 2 || !strings.Contains(strings.Join(got[to], "|"), "was not theirs") {
			t.Errorf("%s got %q, want the first download and the report", to, got[to])
		}
	}
	if len(got) != 2 {
		t.Errorf("notices went to %v; not to the deactivated sender nor another practitioner", got)
	}
}

// The landing of a documents link is rendered once per share and language and
// kept; every change to what it shows, and every way the link stops, must show
// on the next visit all the same.
func TestShareLandingKeptButNeverStale(t *testing.T) {
	t.Parallel()
	a, _, _, token, _ := sharedClient(t)
	// The language picked with the switch.
	landing := func(b *browser, lang string) *resp {
		t.Helper()
		return b.get("/s/"+token, "Cookie", "foyer_lang="+lang)
	}
	ana, bob := a.browser(), a.browser()
	first := landing(ana, "fr")
	mustContain(t, first, "Vos documents sécurisés", `action="/s/`+token+`/code"`)
	// Kept: the same page again, with each visitor's own CSRF token in it.
	again := landing(ana, "fr")
	if again.Code != http.StatusOK || again.body != first.body {
		t.Fatalf("second visit differs:\n%s\n%s", abbreviate(first.body), abbreviate(again.body))
	}
	other := landing(bob, "fr")
	mustContain(t, other, `value="`+bob.csrf()+`"`)
	mustNotContain(t, other, ana.csrf())
	// Visitor language.
	mustContain(t, landing(bob, "en"), "Your secure documents")
	mustNotContain(t, landing(bob, "en"), "Vos documents")

	// Extend moves the deletion date shown.
	a.advance(48 * time.Hour)
	owner := a.signIn("owner@example.org", ownerPassword)
	before := landing(ana, "en")
	if r := owner.post("/shares/1/extend", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("extend: %d", r.Code)
	}
	after := landing(ana, "en")
	if after.Code != http.StatusOK || after.body == before.body {
		t.Fatal("the landing still shows the old deletion date after Extend")
	}

	// Locked, then unlocked.
	if _, err := a.st.ChangeShare(1, func(ch *store.ShareChange) error { ch.Share.State = store.ShareLocked; return nil }); err != nil {
		t.Fatal(err)
	}
	if r := landing(ana, "en"); r.Code != http.StatusForbidden || !strings.Contains(r.body, "This secure link is locked") {
		t.Fatalf("locked link: %d", r.Code)
	}
	if r := owner.post("/shares/1/unlock", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("unlock: %d", r.Code)
	}
	mustContain(t, landing(ana, "en"), "Your secure documents")

	// The client record archived (in the store alone: the moment before the
	// archive's handler ends the shares), then restored.
	sh, err := a.st.Share(1)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := a.st.Client(sh.ClientID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.st.ArchiveClient(cl.ID, true); err != nil {
		t.Fatal(err)
	}
	if r := landing(ana, "en"); r.Code != http.StatusGone {
		t.Fatalf("landing of an archived client's link: %d", r.Code)
	}
	if _, err := a.st.ArchiveClient(cl.ID, false); err != nil {
		t.Fatal(err)
	}
	mustContain(t, landing(ana, "en"), "Your secure documents")

	// Past its date, before the housekeeping job marks it.
	a.advance(sh.ExpiresAt.Sub(a.now()) + time.Minute)
	if r := landing(ana, "en"); r.Code != http.StatusGone || !strings.Contains(r.body, "This secure link is no longer active") {
		t.Fatalf("landing past the expiry: %d", r.Code)
	}
}

func TestShareLandingGoneAtOnceAfterExpireNowOrDeletion(t *testing.T) {
	t.Parallel()
	a, owner, _, token, _ := sharedClient(t)
	mustContain(t, a.browser().get("/s/"+token), "Your secure documents")
	if r := owner.post("/shares/1/expire", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("expire: %d", r.Code)
	}
	if r := a.browser().get("/s/" + token); r.Code != http.StatusGone {
		t.Fatalf("landing after Expire now: %d", r.Code)
	}

	a, _, _, token, _ = sharedClient(t)
	mustContain(t, a.browser().get("/s/"+token), "Your secure documents")
	b := verify(t, a, token)
	if r := b.post("/s/"+token+"/delete", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Code)
	}
	if r := a.browser().get("/s/" + token); r.Code != http.StatusGone {
		t.Fatalf("landing after the recipient deleted the documents: %d", r.Code)
	}
}

// Many ranges in one request would decrypt a chunk per range: past a few, or
// out of order, the whole file is sent. A flood of requests adds a few lines
// to the history, not one each.
func TestShareDownloadRangesAreTamed(t *testing.T) {
	t.Parallel()
	a, _, _, token, files := sharedClient(t)
	b := verify(t, a, token)
	data := files[0].data
	var many []string
	for i := range 1000 {
		at := (i % 3) * (256 << 10)
		many = append(many, strconv.Itoa(at)+"-"+strconv.Itoa(at))
	}
	for _, c := range []struct {
		rng  string
		want int
	}{
		{"bytes=" + strings.Join(many, ","), http.StatusOK},
		{"bytes=10-19,0-4", http.StatusOK},   // backwards
		{"bytes=0-99,50-149", http.StatusOK}, // overlapping
		{"bytes=0-0,262144-262144,524288-524288", http.StatusPartialContent},
		{"bytes=100-199", http.StatusPartialContent},
		{"bytes=-10", http.StatusPartialContent},
	} {
		r := b.get("/s/"+token+"/files/1", "Range", c.rng)
		if r.Code != c.want {
			t.Fatalf("Range %.60s: %d, want %d", c.rng, r.Code, c.want)
		}
		if c.want == http.StatusOK && r.body != string(data) {
			t.Fatalf("Range %.60s: %d bytes, not the whole file", c.rng, len(r.body))
		}
	}
	if r := b.get("/s/"+token+"/files/1", "Range", "bytes=100-199"); r.body != string(data[100:200]) {
		t.Fatal("a single range serves the wrong bytes")
	}
	for range 20 {
		b.get("/s/" + token + "/files/2")
	}
	evs, err := a.st.ShareEvents(1)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == share.EventDownloaded {
			n++
		}
	}
	// One line per file for the visit: the first full request of each file.
	if n != 2 {
		t.Fatalf("%d download lines for a burst of requests on two files", n)
	}
	// Half an hour on, downloading again is another line.
	a.advance(31 * time.Minute)
	b.get("/s/" + token + "/files/2")
	if evs, _ := a.st.ShareEvents(1); len(evs) == 0 || evs[len(evs)-1].Type != share.EventDownloaded {
		t.Fatal("a download half an hour later is not in the history")
	}
}

// Edge ranges get a well-formed answer: http.ServeContent alone answered an
// empty 206 with "Content-Range: bytes 2100-2099/2100", or 416 for a last
// byte past what a number holds.
func TestTameRangeEdgeCases(t *testing.T) {
	t.Parallel()
	data := strings.Repeat("x", 2100)
	for _, c := range []struct {
		body, rng    string
		code         int
		contentRange string
		length       int
	}{
		{"", "bytes=-1", http.StatusOK, "", 0}, // an empty file: ServeContent ignores Range
		{"", "bytes=0-", http.StatusOK, "", 0},
		{data, "bytes=-0", http.StatusRequestedRangeNotSatisfiable, "bytes */2100", -1},
		{data, "bytes=0-99999999999999999999999", http.StatusPartialContent, "bytes 0-2099/2100", 2100},
		{data, "bytes=2000-99999999999999999999999", http.StatusPartialContent, "bytes 2000-2099/2100", 100},
		{data, "bytes=5000-", http.StatusRequestedRangeNotSatisfiable, "bytes */2100", -1},
		{data, "bytes=-0,0-9", http.StatusPartialContent, "bytes 0-9/2100", 10},
		{data, "bytes=100-199", http.StatusPartialContent, "bytes 100-199/2100", 100},
		{data, "bytes=-5000", http.StatusPartialContent, "bytes 0-2099/2100", 2100},
	} {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Range", c.rng)
		tameRange(req, int64(len(c.body)))
		rec := httptest.NewRecorder()
		http.ServeContent(rec, req, "", time.Time{}, strings.NewReader(c.body))
		if rec.Code != c.code || rec.Header().Get("Content-Range") != c.contentRange || c.length >= 0 && rec.Body.Len() != c.length {
			t.Errorf("%q of %d bytes: %d %q, %d bytes; want %d %q", c.rng, len(c.body), rec.Code, rec.Header().Get("Content-Range"), rec.Body.Len(), c.code, c.contentRange)
		}
	}
}

// HEAD on a download answers like GET, without the body, and records nothing.
func TestShareDownloadHead(t *testing.T) {
	t.Parallel()
	a, _, _, token, files := sharedClient(t)
	b := verify(t, a, token)
	before, err := a.st.ShareEvents(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/files/1", "/all"} {
		req := httptest.NewRequest(http.MethodHead, "/s/"+token+path, nil)
		r := b.do(req)
		if r.Code != http.StatusOK || r.body != "" || r.Header().Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.Header().Get("Content-Disposition"), "attachment") {
			t.Fatalf("HEAD %s: %d %q %v", path, r.Code, abbreviate(r.body), r.Header())
		}
		if path == "/files/1" && r.Header().Get("Content-Length") != strconv.Itoa(len(files[0].data)) {
			t.Fatalf("HEAD %s: Content-Length %q", path, r.Header().Get("Content-Length"))
		}
	}
	if after, _ := a.st.ShareEvents(1); len(after) != len(before) {
		t.Fatalf("HEAD added %d events", len(after)-len(before))
	}
	// Without a session, HEAD goes back to the landing like GET.
	if r := a.browser().do(httptest.NewRequest(http.MethodHead, "/s/"+token+"/files/1", nil)); r.Code != http.StatusSeeOther {
		t.Fatalf("HEAD without a session: %d", r.Code)
	}
}

// Coming into a link open to anyone is a session and a history line each
// time: one visitor already in adds nothing, and one address is throttled.
func TestShareOpenToAnyoneDoesNotFloodTheHistory(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin")
	if r := owner.shareUpload(clientPath, []string{"recipient", "client"}, upFile{"notes.txt", []byte("hello")}); r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
	}
	token := a.lastShareToken("ana@example.org")
	entries := func() int {
		evs, err := a.st.ShareEvents(1)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Type == share.EventAnonymous || ev.Type == share.EventIdentified {
				n++
			}
		}
		return n
	}
	in := a.browser()
	if r := in.post("/s/"+token+"/open", formOf("who", "0")); r.Code != http.StatusSeeOther {
		t.Fatalf("open: %d %s", r.Code, abbreviate(r.body))
	}
	for range 5 {
		if r := in.post("/s/"+token+"/open", formOf("who", "0")); r.Code != http.StatusSeeOther || !strings.HasSuffix(r.Header().Get("Location"), "/files") {
			t.Fatalf("open again: %d", r.Code)
		}
	}
	if n := entries(); n != 1 {
		t.Fatalf("%d entries for one visitor", n)
	}
	codes := map[int]int{}
	for range 30 {
		b := a.browser()
		codes[b.post("/s/"+token+"/open", formOf("who", "-1")).Code]++
	}
	if codes[http.StatusTooManyRequests] == 0 || entries() > 12 {
		t.Fatalf("30 entries from one address: %v, %d in the history", codes, entries())
	}
	// Another address still comes in.
	other := a.browser()
	other.ip = "203.0.113.50:1"
	if r := other.post("/s/"+token+"/open", formOf("who", "-1")); r.Code != http.StatusSeeOther {
		t.Fatalf("another address: %d", r.Code)
	}
}
