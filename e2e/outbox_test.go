package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
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
	// A server that speaks SMTP up to the recipient, then never answers
	// DATA: the send hangs. Other mail may be on its way too (the demo's
	// appointment reminders, depending on the hour), so the test waits for
	// the connection that carries the reset email itself.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	connected := make(chan string, 16)
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
			go hangAtData(c, connected)
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
	deadline := time.After(20 * time.Second)
	for waiting := true; waiting; {
		select {
		case rcpt := <-connected:
			waiting = !strings.EqualFold(rcpt, "owner@demo.foyer.test")
		case <-deadline:
			t.Fatal("the reset email never reached the SMTP server")
		}
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

// hangAtData answers an SMTP client until DATA, reports each recipient on
// rcpts, and then says nothing more.
func hangAtData(c net.Conn, rcpts chan<- string) {
	fmt.Fprint(c, "220 hung ESMTP\r\n")
	r := bufio.NewReader(c)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			fmt.Fprint(c, "250 hung\r\n")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			addr := strings.Trim(strings.TrimSpace(line)[len("RCPT TO:"):], " <>")
			if i := strings.IndexAny(addr, "> "); i >= 0 {
				addr = addr[:i]
			}
			rcpts <- addr
			fmt.Fprint(c, "250 ok\r\n")
		case strings.HasPrefix(cmd, "DATA"):
			io.Copy(io.Discard, r) // hang: never answer
			return
		default:
			fmt.Fprint(c, "250 ok\r\n")
		}
	}
}
