// Package e2e drives Debian's Chromium against the real Foyer binary on
// loopback: the flows a new practice goes through on its first day.
package e2e

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

//go:embed testdata/axe.min.js
var axeSource string

// findBrowser returns Chromium's path. Without one the test skips, except
// under CI, where a missing browser is a failure: browser tests must run there.
func findBrowser(t *testing.T) string {
	if p := os.Getenv("FOYER_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but no Chromium was found: install it (apt-get install chromium) or set FOYER_CHROMIUM")
	}
	t.Skip("browser tests skipped: Chromium not found (apt-get install chromium, or set FOYER_CHROMIUM)")
	return ""
}

// server is the Foyer binary running on a free loopback port.
type server struct {
	base string
	data string
	log  string
	cmd  *exec.Cmd
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// foyerBinary builds the binary once for the whole package.
func foyerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "foyer-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "foyer")
		build := exec.Command("go", "build", "-o", binPath, "..")
		build.Stderr = os.Stderr
		buildErr = build.Run()
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return binPath
}

// startFoyer starts the binary with env on top of a fresh data directory.
func startFoyer(t *testing.T, env ...string) *server {
	t.Helper()
	return startFoyerIn(t, filepath.Join(t.TempDir(), "data"), env...)
}

func startFoyerIn(t *testing.T, data string, env ...string) *server {
	t.Helper()
	return startFoyerAt(t, data, freePort(t), env...)
}

// startFoyerAt starts the binary on data, listening on addr: a restart
// keeps the address the browsers have open.
func startFoyerAt(t *testing.T, data, addr string, env ...string) *server {
	t.Helper()
	bin := foyerBinary(t)
	dir := t.TempDir()
	s := &server{base: "http://" + addr, data: data}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = append(os.Environ(), "FOYER_ADDR="+addr, "FOYER_DATA="+s.data, "FOYER_BASE_URL="+s.base)
	s.cmd.Env = append(s.cmd.Env, env...)
	logf, _ := os.Create(filepath.Join(dir, "foyer.log"))
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.log = logf.Name()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Signal(os.Interrupt)
			s.cmd.Wait()
		}
		if t.Failed() {
			log, _ := os.ReadFile(logf.Name())
			t.Logf("server log:\n%s", log)
		}
	})
	for i := 0; ; i++ {
		resp, err := http.Get(s.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if i > 100 {
			t.Fatal("Foyer did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// newBrowser starts a headless Chromium with the flags this network needs.
func newBrowser(t *testing.T) context.Context {
	path := findBrowser(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// page wraps a browser tab with the steps the tests repeat.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string
	shot int
}

func (p *page) do(steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		html, _ := chromedp.Run(p.ctx, chromedp.OuterHTML(chromedp.CSS("main")))
		loc, _ := chromedp.Run(p.ctx, chromedp.Location())
		p.t.Fatalf("browser step failed: %v\nat %s\n%s", err, loc, html)
	}
}

func (p *page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		p.t.Fatalf("text of %s: %v", sel, err)
	}
	// French text has non-breaking spaces; tests write plain ones.
	return strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s)
}

func (p *page) location() string {
	loc, _ := chromedp.Run(p.ctx, chromedp.Location())
	return strings.TrimPrefix(loc, p.base)
}

// fill sets form fields by name and submits with the form's submit button.
func (p *page) submit(form string, fields ...string) {
	p.t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		steps = append(steps, chromedp.SetValue(chromedp.CSS(form+` [name="`+fields[i]+`"]`), fields[i+1]))
	}
	p.do(steps...)
	// Mark this document, so the wait below can tell when the next one has
	// replaced it: a step taken before that would cancel the form's request.
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`window.__foyerBefore = true`)); err != nil {
		p.t.Fatalf("mark the page: %v", err)
	}
	p.click(form + ` button[type="submit"]`)
	// A form sent by HTMX stays on the same document: wait at most 5 s.
	ctx, cancel := context.WithTimeout(p.ctx, 5*time.Second)
	chromedp.Run(ctx, chromedp.Poll[bool](`!window.__foyerBefore`))
	cancel()
	p.do(chromedp.WaitReady(chromedp.CSS("body")))
}

// click scrolls the element to the middle of its scrolling box and clicks it
// there. Chromium's own scroll-into-view sometimes leaves a button below the
// fold inside the fixed, scrolling dialog overlay, and the click then lands
// outside the window.
func (p *page) click(sel string) {
	p.t.Helper()
	js, _ := json.Marshal(sel)
	p.do(chromedp.WaitVisible(chromedp.CSS(sel)))
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`(function(){var e=document.querySelector(`+string(js)+`); e.scrollIntoView({block: "center"}); return true})()`)); err != nil {
		p.t.Fatalf("scroll to %s: %v", sel, err)
	}
	// Then wait until the element stays put for two looks 40 ms apart: a
	// viewport just restored or a late style can still move it, and a click
	// aimed at where it was would land beside it. (Go waits, not the page:
	// a page without JavaScript runs no timers.)
	last := ""
	for range 50 {
		time.Sleep(40 * time.Millisecond)
		now, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`(function(){var b=document.querySelector(`+string(js)+`).getBoundingClientRect(); return [b.x, b.y, b.width, b.height, window.innerWidth, window.innerHeight].join()})()`))
		if err != nil {
			p.t.Fatalf("find %s: %v", sel, err)
		}
		if now == last {
			break
		}
		last = now
	}
	p.do(chromedp.Click(chromedp.CSS(sel)))
}

func (p *page) expect(want ...string) {
	p.t.Helper()
	p.expectIn("main", want...)
}

// expectIn waits up to 10 s for the element's text to contain every string:
// after a click, the next page or the swapped partial may take a moment.
func (p *page) expectIn(sel string, want ...string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		cancel()
		// French text has non-breaking spaces; tests write plain ones.
		s = strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(s)
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if err == nil && missing == "" {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("page %s: %s lacks %q (%v):\n%s", p.location(), sel, missing, err, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// eventually waits up to 10 s for a JavaScript expression to be true.
func (p *page) eventually(what, js string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js)); err != nil {
		p.t.Fatalf("page %s: %s: %v", p.location(), what, err)
	}
}

type axeViolation struct {
	ID     string     `json:"id"`
	Impact string     `json:"impact"`
	Help   string     `json:"help"`
	Nodes  [][]string `json:"nodes"`
}

// axe runs axe-core on the page and fails on any serious or critical violation.
func (p *page) axe() {
	p.t.Helper()
	if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](axeSource+";true")); err != nil {
		p.t.Fatalf("load axe: %v", err)
	}
	out, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target)}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("run axe: %v", err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		p.t.Fatal(err)
	}
	for _, v := range vs {
		if v.Impact == "serious" || v.Impact == "critical" {
			p.t.Errorf("axe on %s: %s (%s): %s at %v", p.location(), v.ID, v.Impact, v.Help, v.Nodes)
		}
	}
	p.reflow()
	p.phone()
}

// restoreViewport goes back to the window's own size, and waits for the page
// to settle there: the page keeps the emulated size for a moment after the
// call returns (a click aimed then lands beside its target), and on a wide
// screen app.js opens the header menu again.
func (p *page) restoreViewport() {
	p.t.Helper()
	p.do(chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.ClearDeviceMetricsOverride, cdp.Empty{})
		return err
	}))
	p.eventually("the window's own width", `window.innerWidth === window.outerWidth`)
	p.eventually("the header menu settles", `(m => !m || m.open === window.matchMedia("(min-width: 75rem)").matches)(document.querySelector("details.menu"))`)
}

// phone measures the page at 375 CSS pixels (a common phone): the header
// stays under 64 px, and every tap target is at least 44×44 px (WCAG 2.5.5).
// Links inside a sentence are exempt, as WCAG exempts them; a checkbox or radio
// counts with its label, which takes the tap too.
func (p *page) phone() {
	p.t.Helper()
	p.do(chromedp.EmulateViewport(375, 800))
	defer p.restoreViewport()
	out, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`(function(){
		var bad = [];
		var top = document.querySelector("header.top");
		if (top && top.getBoundingClientRect().height >= 64) bad.push("header " + Math.round(top.getBoundingClientRect().height) + " px high");
		var name = function (e) { return e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className ? "." + e.className.trim().split(/\s+/).join(".") : "") + " “" + (e.textContent || e.value || e.name || "").trim().slice(0, 30) + "”"; };
		document.querySelectorAll("a[href], button, input:not([type=hidden]), select, textarea, summary").forEach(function (e) {
			if (e.closest(".sr-only, [hidden]") || e.classList.contains("sr-only") || e.classList.contains("skip")) return;
			var r = e.getBoundingClientRect();
			// Not shown: a folded menu's links are laid out (in the folded
			// box) but not drawn.
			if ((r.width === 0 && r.height === 0) || (e.checkVisibility && !e.checkVisibility({contentVisibilityAuto: true}))) return;
			if (e.tagName === "A" && e.closest("p, dd, .hint, .pre")) return;
			if (e.type === "checkbox" || e.type === "radio") {
				var l = e.closest("label") || (e.id && document.querySelector("label[for='" + e.id + "']"));
				if (l) { var lr = l.getBoundingClientRect(); r = {width: Math.max(r.right, lr.right) - Math.min(r.left, lr.left), height: Math.max(r.bottom, lr.bottom) - Math.min(r.top, lr.top)}; }
			}
			if (r.width < 43.5 || r.height < 43.5) bad.push(name(e) + " " + Math.round(r.width) + "×" + Math.round(r.height));
		});
		return bad.slice(0, 12);
	})()`))
	if err != nil {
		p.t.Fatalf("phone check: %v", err)
	}
	if len(out) > 0 {
		p.t.Errorf("%s at 375 px: %v", p.location(), out)
	}
}

// reflow fails when the page scrolls sideways at 320 CSS pixels wide, the
// width WCAG 1.4.10 asks pages to fit (a small phone), and names what sticks out.
func (p *page) reflow() {
	p.t.Helper()
	p.do(chromedp.EmulateViewport(320, 700))
	defer p.restoreViewport()
	out, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](`document.documentElement.scrollWidth <= window.innerWidth ? [] :
		Array.from(document.querySelectorAll("body *")).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).
		map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") + (typeof e.className === "string" && e.className ? "." + e.className.split(" ").join(".") : "")).slice(0, 8)`))
	if err != nil {
		p.t.Fatalf("reflow check: %v", err)
	}
	if len(out) > 0 {
		p.t.Errorf("%s scrolls sideways at 320 px; too wide: %v", p.location(), out)
	}
}

// screenshot saves the page at phone and desktop width when FOYER_SCREENSHOTS names a folder.
func (p *page) screenshot(name string) {
	p.shot++
	p.saveShots(fmt.Sprintf("%02d-%s", p.shot, name), shotSize{"phone", 390, 844}, shotSize{"desktop", 1280, 900})
}

// shotSize is a viewport a screenshot is taken at, and the file name's suffix.
type shotSize struct {
	suffix string
	w, h   int64
}

// saveShots saves the whole page at each size as name-suffix.png in the
// folder FOYER_SCREENSHOTS names (nothing when it names none).
func (p *page) saveShots(name string, sizes ...shotSize) {
	dir := os.Getenv("FOYER_SCREENSHOTS")
	if dir == "" {
		return
	}
	for _, vp := range sizes {
		if err := chromedp.Do(p.ctx, chromedp.EmulateViewport(vp.w, vp.h)); err != nil {
			p.t.Logf("viewport: %v", err)
			return
		}
		buf, err := chromedp.Run(p.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			p.t.Logf("screenshot: %v", err)
			return
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			p.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+vp.suffix+".png"), buf, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
