package handlers

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// The share dialog's field errors say their limit (it once read "<no value>").
func TestShareDialogTooLongSaysTheLimit(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	r := owner.shareUpload(clientPath, []string{"recipient", "other", "other_name", strings.Repeat("n", 150), "other_email", "x@example.org",
		"other_lang", "en", "message", strings.Repeat("m", 4000)}, upFile{"a.txt", []byte("a")})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("too long: %d", r.Code)
	}
	mustContain(t, r, "at most 100 characters", "at most 2000 characters")
	mustNotContain(t, r, "no value")
}

// A message far too long, or any field over what is read of one, comes back
// beside its field as typed; the dialog is not lost to a bare 400 page.
func TestShareDialogLongMessageKeepsTheForm(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	long := strings.Repeat("Dear Ana, ", 1000) // 10,000 characters
	r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1", "message", long, "extra", strings.Repeat("x", 100_000)}, upFile{"a.txt", []byte("a")})
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("long message: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, r, `id="e-message"`, "at most 2000 characters", strings.TrimSpace(long), `name="keep"`, "a.txt")
}

// A raw NUL in a file name (no browser sends one; Go's multipart reader
// would refuse the part's header) is dropped, as a bidirectional override
// is: the file is shared under the rest of its name, its bytes (NULs
// included) intact.
func TestShareFileNameWithRawNUL(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	data := append(bytes.Repeat([]byte{0, 'z', 0}, 10<<10), "\r\n--C\r\n\r\n"...)
	var body bytes.Buffer
	fmt.Fprint(&body, "--B\r\nContent-Disposition: form-data; name=\"recipient\"\r\n\r\nclient\r\n")
	fmt.Fprint(&body, "--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"nul\x00byte.txt\"\r\nContent-Type: text/plain\r\n\r\n")
	body.Write(data)
	fmt.Fprint(&body, "\r\n--B--\r\n")
	req := httptest.NewRequest(http.MethodPost, clientPath+"/shares?_csrf="+owner.csrf(), &body)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
	if r := owner.do(req); r.Code != http.StatusSeeOther {
		t.Fatalf("NUL in a file name: %d %s", r.Code, abbreviate(r.body))
	}
	b, err := a.st.Blob(1)
	if err != nil || b.Name != "nulbyte.txt" || b.Size != int64(len(data)) {
		t.Fatalf("stored as %q (%d bytes) %v", b.Name, b.Size, err)
	}
	got := verify(t, a, a.lastShareToken("ana@example.org")).get("/s/" + a.lastShareToken("ana@example.org") + "/files/1")
	if !bytes.Equal(got.Body.Bytes(), data) {
		t.Fatal("the file's bytes changed")
	}
}

// headerNULs drops NULs from part headers alone, whatever the reads' sizes.
func TestHeaderNULsLeavesPartBodies(t *testing.T) {
	t.Parallel()
	const boundary = "xYz--b0undary"
	part := func(name string, data []byte) []byte {
		return append([]byte("\r\n--"+boundary+"\r\nContent-Disposition: form-data; name=\"files\"; filename=\""+name+"\"\r\n\r\n"), data...)
	}
	data1 := bytes.Repeat([]byte("\x00\r\n--xYz-\r\r\n\r\n\x00"), 500)
	data2 := randomBytes(t, 100<<10)
	raw := append([]byte("preamble\x00"), part("a\x00.bin", data1)...)
	raw = append(raw, part("b.bin", data2)...)
	raw = append(raw, "\r\n--"+boundary+"--\r\n"...)
	for _, wrap := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.OneByteReader, iotest.HalfReader} {
		mr := multipart.NewReader(newHeaderNULs(wrap(bytes.NewReader(raw)), boundary), boundary)
		for i, want := range []struct {
			name string
			data []byte
		}{{"a.bin", data1}, {"b.bin", data2}} {
			p, err := mr.NextPart()
			if err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			got, err := io.ReadAll(p)
			if err != nil || p.FileName() != want.name || !bytes.Equal(got, want.data) {
				t.Fatalf("part %d: %q, %d bytes (want %d), equal %v, %v", i, p.FileName(), len(got), len(want.data), bytes.Equal(got, want.data), err)
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Fatalf("after the last part: %v", err)
		}
	}
}

// stallingBody sends the start of a multipart upload, then nothing more
// until the test ends, as a phone losing its signal does.
type stallingBody struct {
	head []byte
	stop chan struct{}
}

func (s *stallingBody) Read(p []byte) (int, error) {
	if len(s.head) > 0 {
		n := copy(p, s.head)
		s.head = s.head[n:]
		return n, nil
	}
	<-s.stop
	return 0, io.ErrUnexpectedEOF
}

// A stalled upload is cut after the stall timeout with the dialog back and a
// message in it (408), a warning in the log and nothing stored — never a 500.
func TestShareStalledUpload(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	var logs bytes.Buffer
	a.h.log = slog.New(slog.NewTextHandler(&logs, nil))
	a.h.stallTimeout = 300 * time.Millisecond
	srv := httptest.NewServer(a.e)
	defer srv.Close()

	var head bytes.Buffer
	fmt.Fprint(&head, "--B\r\nContent-Disposition: form-data; name=\"recipient\"\r\n\r\nclient\r\n")
	fmt.Fprint(&head, "--B\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nKept words.\r\n")
	fmt.Fprint(&head, "--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n")
	head.Write(bytes.Repeat([]byte("p"), 600<<10))
	body := &stallingBody{head: head.Bytes(), stop: make(chan struct{})}
	defer close(body.stop)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+clientPath+"/shares?_csrf="+owner.csrf(), body)
	req.ContentLength = int64(head.Len()) + 4<<20
	req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
	for _, c := range owner.cookies {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("stalled upload: %d %s", resp.StatusCode, abbreviate(string(page)))
	}
	for _, want := range []string{"The upload stalled: nothing was sent", "Kept words.", `id="share-dialog"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("no %q in the answer", want)
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "level=WARN msg=\"upload stalled") {
		t.Errorf("log: %s", logs.String())
	}
	if ids, _ := a.st.AbandonedBlobs(a.now().Add(time.Hour)); len(ids) != 0 {
		t.Fatalf("%d blobs stored", len(ids))
	}
	if shares, _ := a.st.SharesOfClient(1); len(shares) != 0 {
		t.Fatal("a share was made")
	}
}

// "Someone else" gets the practice's language by default, not the first option.
func TestShareOtherLanguageDefaultsToThePractice(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp() // Cabinet Lumière speaks French
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	mustContain(t, owner.get(clientPath+"/shares/new"), `<option value="fr" lang="fr" selected>`)
	p, _ := a.st.Practice()
	p.DefaultLang = "en"
	if err := a.st.SavePractice(p); err != nil {
		t.Fatal(err)
	}
	if err := a.h.reloadPractice(); err != nil {
		t.Fatal(err)
	}
	r := owner.get(clientPath + "/shares/new")
	mustContain(t, r, `<option value="en" lang="en" selected>`)
	mustNotContain(t, r, `<option value="fr" lang="fr" selected>`)
}

// The share email: no blank lines where an empty message was, and the
// deletion time says whose clock it is.
func TestShareEmailWithoutMessageAndWithTheZone(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin")
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"a.txt", []byte("a")}); r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d", r.Code)
	}
	msgs, _ := a.st.ListMessages(0, 5)
	mail := a.sent(msgs[0])
	if strings.Contains(mail.Text, "\n\n\n") {
		t.Errorf("blank lines left by the empty message:\n%s", mail.Text)
	}
	if !strings.Contains(mail.Text, "(Paris time).") {
		t.Errorf("no time zone:\n%s", mail.Text)
	}
	// The French time zone's wording: TestInZone in package mail.
}

// Settings → Secure share: each bad value gets its own message, and only that.
func TestShareSettingsOwnMessages(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	valid := "Dear [[RECIPIENT_NAME]], [[SECURE_SHARE_LINK]]"
	r := owner.post("/settings/shares", formOf("share_days", "20.5", "code_minutes", "10", "template_en", valid, "template_fr", valid))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("20.5 days: %d", r.Code)
	}
	mustContain(t, r, "Enter a number of days from 1 to 90.")
	mustNotContain(t, r, "Correct the template", "This is too long")
	r = owner.post("/settings/shares", formOf("share_days", "20", "code_minutes", "10", "template_en", valid+" and [[", "template_fr", valid))
	mustContain(t, r, "must be followed by a merge field’s name", "Correct the template")
}

// An ended share: Extend says so, Copy link answers that the link ended.
func TestShareEndedActionsSaySo(t *testing.T) {
	t.Parallel()
	a, _, clientPath, _, _ := sharedClient(t)
	sh, _ := a.st.Share(1)
	a.advance(sh.ExpiresAt.Sub(a.now()) + time.Minute) // past its date, not yet swept
	owner := a.signIn("owner@example.org", ownerPassword)
	if r := owner.post("/shares/1/extend", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("extend: %d", r.Code)
	}
	mustContain(t, owner.get(clientPath), "This secure link has ended: nothing was changed.")
	if sh2, _ := a.st.Share(1); !sh2.ExpiresAt.Equal(sh.ExpiresAt) {
		t.Fatal("an ended share was extended")
	}
	r := owner.get("/shares/1/link", "HX-Request", "true")
	if r.Code != http.StatusGone || strings.Contains(r.body, "/s/") {
		t.Fatalf("copy link of an ended share: %d", r.Code)
	}
	mustContain(t, r, "This link has ended")
}

// "This wasn't me" tells the practitioner which access was reported.
func TestShareNotMeNamesTheLine(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath, client := a.clientWithPortal(owner, "ana@example.org", "a long password here", "lang", "en", "first_name", "Ana", "last_name", "Martin")
	if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"bilan.pdf", []byte("A")}); r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d", r.Code)
	}
	token := a.lastShareToken("ana@example.org")
	b := verify(t, a, token)
	b.get("/s/" + token + "/files/1")
	page := client.get("/portal/account")
	m := regexp.MustCompile(`href="(/portal/shares/1/not-me\?line=(\d+))"`).FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no line to report: %s", abbreviate(page.body))
	}
	// A page asks first, says which access and what will happen; nothing happened yet.
	confirm := client.get(m[1])
	mustContain(t, confirm, "This wasn’t you?", "The access you are reporting: November\u00a025, 2026 at", "the documents are deleted from the server",
		`name="line" value="`+m[2]+`"`, "It wasn’t me: stop the link")
	if sh, _ := a.st.Share(1); !sh.Live() {
		t.Fatal("the confirmation page stopped the link")
	}
	if r := client.post("/portal/shares/1/not-me", formOf("line", m[2])); r.Code != http.StatusSeeOther {
		t.Fatalf("not me: %d", r.Code)
	}
	msgs, _ := a.st.ListMessages(0, 20)
	for _, msg := range msgs {
		if msg.Kind == "share_staff" && msg.Args["Event"] == "not_me" {
			if text := a.sent(msg).Text; !strings.Contains(text, "The access they reported: November\u00a025, 2026 at") {
				t.Fatalf("the notice does not say which access:\n%s", text)
			}
			return
		}
	}
	t.Fatal("no notice")
}

// Files of the same name become "same (2).txt" in the zip: the suffix before
// the extension, so the copy still opens.
func TestShareZipNamesDuplicatesBeforeTheExtension(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"},
		upFile{"same.txt", []byte("1")}, upFile{"same.txt", []byte("2")}, upFile{"Same.TXT", []byte("3")}, upFile{"README", []byte("4")}, upFile{"README", []byte("5")})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d", r.Code)
	}
	b := verify(t, a, a.lastShareToken("ana@example.org"))
	z := b.get("/s/" + a.lastShareToken("ana@example.org") + "/all")
	zr, err := zip.NewReader(bytes.NewReader(z.Body.Bytes()), int64(z.Body.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	if got := strings.Join(names, "|"); got != "same.txt|same (2).txt|Same (3).TXT|README|README (2)" {
		t.Fatalf("zip names: %s", got)
	}
}

// Expire now asks first, on a page of its own (no JavaScript needed).
func TestShareExpireNowAsksFirst(t *testing.T) {
	t.Parallel()
	a, owner, clientPath, token, _ := sharedClient(t)
	record := owner.get(clientPath)
	mustContain(t, record, `href="/shares/1/expire"`)
	mustNotContain(t, record, `action="/shares/1/expire"`)
	r := owner.get("/shares/1/expire")
	mustContain(t, r, "Expire this link now?", "Ana Martin", "its files are deleted from the server", `action="/shares/1/expire"`, "Keep the link")
	if r := a.browser().get("/s/" + token); r.Code != http.StatusOK {
		t.Fatalf("the confirmation page stopped the link: %d", r.Code)
	}
	if r := owner.post("/shares/1/expire", nil); r.Code != http.StatusSeeOther {
		t.Fatalf("expire: %d", r.Code)
	}
	if r := a.browser().get("/s/" + token); r.Code != http.StatusGone {
		t.Fatalf("after Expire now: %d", r.Code)
	}
	// Once ended, the page says so instead of asking.
	if r := owner.get("/shares/1/expire"); r.Code != http.StatusSeeOther {
		t.Fatalf("confirmation of an ended share: %d", r.Code)
	}
}
