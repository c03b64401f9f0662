package e2e

import (
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"foyer/delivery/deliverytest"
)

// TestQueuedMailLeavesAtOnceAfterAKill: Foyer is killed (SIGKILL) while an
// email is on its way to an SMTP server that never answers; started again
// with a working server, it sends the email within seconds, not once the
// claim the killed process held would have run out (90 s).
func TestQueuedMailLeavesAtOnceAfterAKill(t *testing.T) {
	data := filepath.Join(t.TempDir(), "demo")
	if out, err := run(t, "demo", "-data", data); err != nil {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	// A server that takes the connection and says nothing: the send hangs.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	connected := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			connected <- c
		}
	}()
	srv := startFoyerIn(t, data, "FOYER_SMTP_URL=smtp://"+hung.Addr().String()+"?tls=none", "FOYER_MAIL_FROM=Cabinet <noreply@example.org>")
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	form := url.Values{"email": {"owner@demo.foyer.test"}, "_csrf": {pageToken(t, client, srv.base+"/signin/forgot")}}
	resp, err := client.PostForm(srv.base+"/signin/forgot", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case c := <-connected:
		defer c.Close()
	case <-time.After(20 * time.Second):
		t.Fatal("the reset email never reached the SMTP server")
	}
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	srv.cmd.Wait()

	smtp := deliverytest.NewSMTPServer(t, "", "")
	start := time.Now()
	startFoyerIn(t, data, "FOYER_SMTP_URL="+smtp.URL(), "FOYER_MAIL_FROM=Cabinet <noreply@example.org>")
	if _, err := smtp.WaitFor("owner@demo.foyer.test", 15*time.Second); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("the email left %v after the restart, want within 5 s", took.Round(time.Millisecond))
	} else {
		t.Logf("the email left %v after the restart", took.Round(time.Millisecond))
	}
}
