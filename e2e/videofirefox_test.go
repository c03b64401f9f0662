package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// firefoxSide runs e2e/firefox/room.mjs: one side of a session in Firefox
// ESR, driven over WebDriver BiDi by puppeteer-core.
type firefoxSide struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	steps chan map[string]any
}

var npmOnce sync.Once

// startFirefox starts the script with args; without Firefox or Node it
// skips, except under CI.
func startFirefox(t *testing.T, args ...string) *firefoxSide {
	t.Helper()
	ff := os.Getenv("FOYER_FIREFOX")
	if ff == "" {
		ff = "/usr/bin/firefox-esr"
	}
	if _, err := os.Stat(ff); err != nil {
		skipOrFail(t, "Firefox ESR is missing (apt-get install firefox-esr, or set FOYER_FIREFOX)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFail(t, "Node.js is missing (apt-get install nodejs npm)")
	}
	dir, _ := filepath.Abs("firefox")
	npmOnce.Do(func() {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", "puppeteer-core")); err == nil {
			return
		}
		cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PUPPETEER_SKIP_DOWNLOAD=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("npm ci: %v\n%s", err, out)
		}
	})
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "puppeteer-core")); err != nil {
		skipOrFail(t, "puppeteer-core is not installed: run npm ci in e2e/firefox")
	}
	f := &firefoxSide{t: t, steps: make(chan map[string]any, 16)}
	f.cmd = exec.Command("node", append([]string{filepath.Join(dir, "room.mjs")}, args...)...)
	f.cmd.Env = append(os.Environ(), "FOYER_FIREFOX="+ff)
	f.cmd.Stderr = os.Stderr
	out, err := f.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if f.stdin, err = f.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := f.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.stdin.Close()
		done := make(chan struct{})
		go func() { f.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			f.cmd.Process.Kill()
		}
	})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				f.steps <- m
			}
		}
		close(f.steps)
	}()
	return f
}

// expect waits for the script's next step and checks it is want.
func (f *firefoxSide) expect(want string) map[string]any {
	f.t.Helper()
	select {
	case m, ok := <-f.steps:
		if !ok {
			f.t.Fatalf("Firefox ended before %q", want)
		}
		if m["step"] != want {
			f.t.Fatalf("Firefox: %v, want %q", m, want)
		}
		return m
	case <-time.After(90 * time.Second):
		f.t.Fatalf("Firefox: no %q after 90 s", want)
	}
	return nil
}

// TestVideoFirefoxInterop: a session between Firefox ESR and Chromium, each
// way round (Firefox as the client, then as the practitioner): both decode
// the other's video and hear their sound, and grade the line.
func TestVideoFirefoxInterop(t *testing.T) {
	t.Run("firefox client", func(t *testing.T) {
		srv := startFoyer(t)
		staff := &page{t: t, ctx: newMediaBrowser(t), base: srv.base}
		bookVideoSession(staff, "Éloïse", "Durand", "eloise@example.org", "bienvenue au cabinet")
		staff.enterRoom()
		ff := startFirefox(t, srv.base, "client", "eloise@example.org", "bienvenue au cabinet")
		joined := ff.expect("joined")
		if ua, _ := joined["userAgent"].(string); !strings.Contains(ua, "Firefox/") {
			t.Fatalf("not Firefox: %v", joined)
		}
		staff.expectIn("#room-knock", "Éloïse Durand est en salle d’attente.")
		staff.click(`#room-admit`)
		t.Logf("Firefox decodes Chromium's video: %v", ff.expect("media"))
		staff.eventually("Chromium decodes Firefox's video", framesJS+`.then(n => n > 30)`)
		t.Logf("Firefox grades the line: %v", ff.expect("quality"))
		staff.waitFor(15*time.Second, "Chromium shows Firefox's grade", `["good", "fair", "poor"].includes(document.getElementById("q-theirs").dataset.q)`)
	})
	t.Run("firefox practitioner", func(t *testing.T) {
		srv := startFoyer(t)
		owner := &page{t: t, ctx: newBrowser(t), base: srv.base}
		room := bookVideoSession(owner, "Éloïse", "Durand", "eloise@example.org", "bienvenue au cabinet")
		owner.do(chromedp.Navigate(srv.base + "/"))
		client := &page{t: t, ctx: newMediaBrowser(t), base: srv.base}
		clientToRoom(client, "eloise@example.org", "bienvenue au cabinet")
		client.enterRoom()
		ff := startFirefox(t, srv.base, "staff", "owner@example.org", "correct horse battery staple", room)
		ff.expect("joined")
		ff.expect("admitted")
		t.Logf("Firefox decodes Chromium's video: %v", ff.expect("media"))
		client.eventually("Chromium decodes Firefox's video", framesJS+`.then(n => n > 30)`)
		client.expectIn("#room-status", "Connecté.")
		t.Logf("Firefox grades the line: %v", ff.expect("quality"))
	})
}
