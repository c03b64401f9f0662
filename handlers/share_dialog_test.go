package handlers

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The share dialog's field errors say their limit (it once read "<no value>").
func TestShareDialogTooLongSaysTheLimit(t *testing.T) {
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
// refuses the part's header) brings the dialog back with a message beside
// Files and what was typed; nothing is stored.
func TestShareFileNameWithRawNUL(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	clientPath := owner.newClient("lang", "en", "email", "ana@example.org")
	var body bytes.Buffer
	fmt.Fprint(&body, "--B\r\nContent-Disposition: form-data; name=\"recipient\"\r\n\r\nclient\r\n")
	fmt.Fprint(&body, "--B\r\nContent-Disposition: form-data; name=\"message\"\r\n\r\nKept words.\r\n")
	fmt.Fprint(&body, "--B\r\nContent-Disposition: form-data; name=\"files\"; filename=\"nul\x00byte.txt\"\r\nContent-Type: text/plain\r\n\r\n")
	body.Write(bytes.Repeat([]byte("z"), 20<<10))
	fmt.Fprint(&body, "\r\n--B--\r\n")
	req := httptest.NewRequest(http.MethodPost, clientPath+"/shares?_csrf="+owner.csrf(), &body)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
	r := owner.do(req)
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("NUL in a file name: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, r, `id="share-dialog"`, "A file name could not be read", "Kept words.")
	if ids, _ := a.st.AbandonedBlobs(a.now().Add(time.Hour)); len(ids) != 0 {
		t.Fatalf("%d blobs stored", len(ids))
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
