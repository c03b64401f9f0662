package handlers

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"foyer/journal"
	"foyer/store"
	"foyer/testtool"
)

// bigStore adds about 24 MiB to the store: more than loopback socket
// buffers hold, so a client that stops reading really stalls the response.
func bigStore(t *testing.T, st *store.Store) {
	t.Helper()
	if err := st.CreateBlob(&store.Blob{Name: "big.bin", Type: "application/octet-stream", StaffID: 1}, io.LimitReader(rand.Reader, 24<<20), 32<<20); err != nil {
		t.Fatal(err)
	}
}

// stalledGet sends a GET over a real connection and reads the headers only.
func stalledGet(t *testing.T, srv *httptest.Server, b *browser, path string) (net.Conn, *http.Response) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	for _, c := range b.cookies {
		req.AddCookie(c)
	}
	if err := req.Write(conn); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		t.Fatal(err)
	}
	return conn, resp
}

// A backup download comes from a snapshot: while its client stalls, no read
// transaction is open, so writes and /healthz go on; and it has a length.
func TestBackupHoldsNoTransactionWhileSending(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	bigStore(t, a.st)
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	conn, resp := stalledGet(t, srv, owner, "/backup")
	// The encrypted copy's size: a little more than the documents' (which
	// compress no further), less than the data file's.
	size := resp.ContentLength
	if resp.StatusCode != http.StatusOK || size < 24<<20 || size > a.st.BackupSize() {
		t.Fatalf("backup: %d, length %d, data file %d", resp.StatusCode, size, a.st.BackupSize())
	}
	time.Sleep(200 * time.Millisecond) // the server fills the socket and blocks
	if n := a.st.OpenReadTxs(); n != 0 {
		t.Fatalf("%d read transactions open while the client stalls", n)
	}
	if r, err := http.Get(srv.URL + "/healthz"); err != nil || r.StatusCode != 200 {
		t.Fatalf("healthz during a stalled backup: %v", err)
	}
	// The whole file still arrives to a client that reads.
	n, err := io.Copy(io.Discard, resp.Body)
	if err != nil || n != size {
		t.Fatalf("read %d of %d: %v", n, size, err)
	}
	conn.Close()
}

// A client that stops reading a long response is cut off after the stall
// timeout; one that reads slowly is not.
func TestStalledDownloadIsCut(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	bigStore(t, a.st)
	a.h.stallTimeout = 300 * time.Millisecond
	srv := httptest.NewServer(a.e)
	defer srv.Close()
	_, resp := stalledGet(t, srv, owner, "/backup")
	time.Sleep(1500 * time.Millisecond)
	n, err := io.Copy(io.Discard, resp.Body)
	if err == nil && n == resp.ContentLength {
		t.Fatalf("a client that stalled for 1.5 s got the whole response (%d bytes)", n)
	}
}

// TestBackupDownloadIsNeverResumed: every GET /backup makes a new copy, so
// a range of one joined to a range of another is no backup at all. A
// resumed download (curl -C -, wget -c, a download manager after a cut)
// asks for the rest with Range: it is refused, 409 with a page saying why
// and what to do, and no copy is made. A whole 200 would not do: wget -c
// appends what follows its bytes in the new copy. A range from the first
// byte (a download manager's probe) gets the whole file, 200, never 206.
func TestBackupDownloadIsNeverResumed(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	whole := owner.get("/backup")
	if whole.Code != http.StatusOK || whole.Header().Get("Accept-Ranges") != "none" {
		t.Fatalf("backup: %d, Accept-Ranges %q", whole.Code, whole.Header().Get("Accept-Ranges"))
	}
	downloads := func() int {
		n := 0
		for _, e := range a.journalEntries(store.JournalFilter{}) {
			if journal.Action(e.Action) == journal.BackupDownload {
				n++
			}
		}
		return n
	}
	before := downloads()
	half := whole.Body.Len() / 2
	en := a.h.catalog.Get("en")
	for _, headers := range [][]string{
		{"Range", fmt.Sprintf("bytes=%d-", half)},
		{"Range", fmt.Sprintf("bytes=%d-", half), "If-Range", whole.Header().Get("Last-Modified")},
		{"Range", "bytes=100-199"},
		{"Range", "bytes=-100"},
		{"Range", "bytes=0-99, 200-299"},
	} {
		r := owner.get("/backup", headers...)
		if r.Code != http.StatusConflict || r.Header().Get("Content-Disposition") != "" {
			t.Fatalf("%v: %d %v", headers, r.Code, r.Header())
		}
		mustContain(t, r, html.EscapeString(en.T("error.backup_resume.title")), html.EscapeString(en.T("error.backup_resume.body")))
	}
	if n := downloads(); n != before {
		t.Fatalf("refused resumes journaled %d downloads", n-before)
	}
	for _, headers := range [][]string{{"Range", "bytes=0-"}, {"Range", "bytes=0-99"}} {
		r := owner.get("/backup", headers...)
		if r.Code != http.StatusOK || r.Header().Get("Content-Range") != "" || r.Header().Get("Accept-Ranges") != "none" {
			t.Fatalf("%v: %d, Content-Range %q, Accept-Ranges %q", headers, r.Code, r.Header().Get("Content-Range"), r.Header().Get("Accept-Ranges"))
		}
		if n, _ := strconv.ParseInt(r.Header().Get("Content-Length"), 10, 64); n != int64(r.Body.Len()) ||
			!bytes.HasPrefix(r.Body.Bytes(), []byte("age-encryption.org/v1\n")) {
			t.Fatalf("%v: a body of %d bytes for a length of %d: not the whole copy", headers, r.Body.Len(), n)
		}
	}
}

// TestBackupHeadMakesNoCopy: HEAD /backup answers the download's headers
// without making a copy (as costly as the data file) or writing "backup
// downloaded" in the journal: on a full disk, where a copy cannot be made,
// HEAD still answers and GET says the disk is full.
func TestBackupHeadMakesNoCopy(t *testing.T) {
	t.Parallel()
	dir := testtool.SmallDisk(t, 16<<20)
	a := newTestAppIn(t, Config{}, "", dir)
	owner := a.setUp()
	head := func() *resp {
		t.Helper()
		r := owner.do(httptest.NewRequest(http.MethodHead, "/backup", nil))
		hd := r.Header()
		if r.Code != http.StatusOK || r.Body.Len() != 0 || hd.Get("Accept-Ranges") != "none" ||
			hd.Get("Content-Disposition") != `attachment; filename=foyer-20261125T100000Z.db.zst.age` || hd.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("HEAD /backup: %d %v, %d bytes", r.Code, hd, r.Body.Len())
		}
		return r
	}
	head()
	for _, e := range a.journalEntries(store.JournalFilter{}) {
		if journal.Action(e.Action) == journal.BackupDownload {
			t.Fatalf("HEAD /backup journaled a download: %+v", e)
		}
	}
	testtool.FillDisk(t, dir)
	head()
	if r := owner.get("/backup"); r.Code != http.StatusInsufficientStorage {
		t.Fatalf("GET /backup on a full disk: %d", r.Code)
	}
}
