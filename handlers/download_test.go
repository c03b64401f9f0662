package handlers

import (
	"bufio"
	"crypto/rand"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"foyer/store"
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
