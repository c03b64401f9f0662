// Command load measures a running-from-scratch Foyer the way bench/run reports
// it: time from start to the first 200 (and the server's CPU time until then),
// idle anonymous memory before and after a burst of sign-ins, staff list
// partials, and public pages under load next to a plain net/http handler
// writing a page of the same size. It prints a Markdown table.
//
//	load -foyer ./foyer -data 10k=/tmp/d10k -data 100k=/tmp/d100k [-c 50] [-d 5s]
//	load plain -addr 127.0.0.1:9000 -size 3700   (the plain handler, as its own process)
//
// It talks to loopback only.
package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "plain" {
		plain(os.Args[2:])
		return
	}
	var dirs multiFlag
	foyer := flag.String("foyer", "./foyer", "Foyer binary to measure")
	flag.Var(&dirs, "data", "label=data directory made by foyer demo -scale (repeat)")
	conns := flag.Int("c", 50, "connections for the public page load")
	dur := flag.Duration("d", 5*time.Second, "how long each public page is loaded")
	rounds := flag.Int("rounds", 3, "how many times each public page and its plain handler are loaded, in turn")
	password := flag.String("password", "foyer demo 2026", "the demo staff password")
	flag.Parse()
	if len(dirs) == 0 {
		fmt.Fprintln(os.Stderr, "load: give at least one -data label=dir")
		os.Exit(2)
	}
	self, err := os.Executable()
	check(err)
	r := &runner{foyer: *foyer, self: self, conns: *conns, dur: *dur, rounds: *rounds, password: *password}
	for i, d := range dirs {
		label, dir, _ := strings.Cut(d, "=")
		r.measure(label, dir, i == len(dirs)-1)
	}
	r.print()
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// plain serves a fixed page: the fastest answer Go's HTTP stack gives.
func plain(args []string) {
	fs := flag.NewFlagSet("plain", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "address")
	size := fs.Int("size", 3700, "page size in bytes")
	check(fs.Parse(args))
	body := []byte(strings.Repeat("x", *size))
	ln, err := net.Listen("tcp", *addr)
	check(err)
	fmt.Println(ln.Addr().String())
	check(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		_, _ = w.Write(body)
	})))
}

type runner struct {
	foyer, self string
	conns       int
	dur         time.Duration
	rounds      int
	password    string
	rows        [][]string
	public      [][]string
}

func (r *runner) row(cells ...string) { r.rows = append(r.rows, cells) }

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer ln.Close()
	return ln.Addr().String()
}

// measure starts Foyer on dir and takes every figure of one data size; the
// public pages are loaded once, on the last (largest) one.
func (r *runner) measure(label, dir string, public bool) {
	addr := freeAddr()
	base := "http://" + addr
	cmd := exec.Command(r.foyer, "-data", dir, "-addr", addr, "-base-url", base)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	start := time.Now()
	check(cmd.Start())
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	c := &http.Client{Timeout: 10 * time.Second}
	for {
		resp, err := c.Get(base + "/portal")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 30*time.Second {
			check(errors.New("no answer from Foyer within 30 s"))
		}
		time.Sleep(time.Millisecond)
	}
	r.row(label, "start to first 200 (GET /portal)", ms(time.Since(start)))
	r.row(label, "start to first 200, CPU of the server", ms(threadsCPU(cmd.Process.Pid)))
	time.Sleep(time.Second)
	r.row(label, "idle RssAnon after start", rssAnon(cmd.Process.Pid))

	// A burst of portal sign-ins with wrong passwords: each runs argon2.
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			jar, _ := cookiejar.New(nil)
			bc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
			token := csrfToken(bc, base+"/portal")
			resp, err := bc.PostForm(base+"/portal", url.Values{"_csrf": {token}, "email": {fmt.Sprintf("nobody%d@example.org", i)}, "password": {"not the password"}})
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	time.Sleep(2 * time.Second)
	r.row(label, "idle RssAnon after 16 sign-ins", rssAnon(cmd.Process.Pid))

	staff := signIn(base, "admin@demo.foyer.test", r.password)
	for _, p := range []struct{ name, path, target string }{
		{"client search, a last name", "/clients?q=dupont", "client-results"},
		{"client search, phone digits", "/clients?q=06+99+00+12", "client-results"},
		{"client search, two words", "/clients?q=anne+mart", "client-results"},
		// The first letter typed: too short for the trigram index, so every search block is read.
		{"client search, one letter", "/clients?q=d", "client-results"},
		{"client list, no query", "/clients", "client-results"},
		{"prospects, a name", "/prospects?q=martin", "prospect-results"},
		{"prospects, all", "/prospects", "prospect-results"},
		{"start page (prospect count, agenda)", "/", ""},
	} {
		lat := sequential(staff, base+p.path, p.target, 100)
		r.row(label, p.name+" (median / p99)", ms(lat[len(lat)/2])+" / "+ms(lat[len(lat)*99/100]))
	}
	if public {
		for _, path := range []string{"/portal", "/portal/signup"} {
			r.loadPublic(base+path, path, cmd.Process.Pid)
		}
		docs, preso := shareLinks(staff, base)
		r.loadPublic(base+docs, "/s/… (documents)", cmd.Process.Pid)
		r.loadPublic(base+preso, "/s/… (preso)", cmd.Process.Pid)
	}
}

var (
	clientLinkRe = regexp.MustCompile(`href="/clients/(\d+)"`)
	shareIDRe    = regexp.MustCompile(`#share-(\d+)$`)
	presoIDRe    = regexp.MustCompile(`^/presos/(\d+)$`)
	linkRe       = regexp.MustCompile(`https?://[^/"<]+(/s/[A-Za-z0-9_-]{20,})`)
)

// post sends a form as the signed-in staff member and returns the answer's
// Location (redirects are not followed) and body.
func post(c *http.Client, u, contentType string, body io.Reader, headers ...string) (string, string) {
	req, err := http.NewRequest(http.MethodPost, u, body)
	check(err)
	req.Header.Set("Content-Type", contentType)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.Do(req)
	check(err)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		check(fmt.Errorf("POST %s: %s", u, resp.Status))
	}
	return resp.Header.Get("Location"), string(b)
}

func postForm(c *http.Client, u string, v url.Values, headers ...string) (string, string) {
	return post(c, u, "application/x-www-form-urlencoded", strings.NewReader(v.Encode()), headers...)
}

// shareLinks makes, as staff, a documents share (a small file, with a code
// to verify) for the first client listed and a preso share open to anyone,
// and returns the paths of their links: the landing pages a recipient opens.
func shareLinks(staff *http.Client, base string) (docs, preso string) {
	resp, err := staff.Get(base + "/clients")
	check(err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := clientLinkRe.FindSubmatch(page)
	if m == nil {
		check(errors.New("no client listed"))
	}
	client := string(m[1])
	token := csrfToken(staff, base+"/clients/"+client+"/shares/new")

	var body strings.Builder
	mw := multipart.NewWriter(&body)
	check(mw.WriteField("recipient", "client"))
	check(mw.WriteField("verify", "1"))
	fw, err := mw.CreateFormFile("files", "Compte rendu.pdf")
	check(err)
	_, _ = fw.Write([]byte("%PDF-1.4 load"))
	check(mw.Close())
	loc, _ := post(staff, base+"/clients/"+client+"/shares?_csrf="+url.QueryEscape(token), mw.FormDataContentType(), strings.NewReader(body.String()))
	sm := shareIDRe.FindStringSubmatch(loc)
	if sm == nil {
		check(fmt.Errorf("no share made (went to %q)", loc))
	}
	resp, err = staff.Get(base + "/shares/" + sm[1] + "/link")
	check(err)
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if m = linkRe.FindSubmatch(page); m == nil {
		check(errors.New("no link on the Copy link page"))
	}
	docs = string(m[1])

	loc, _ = postForm(staff, base+"/presos", url.Values{"_csrf": {token}, "title": {"Pension plan"}})
	pm := presoIDRe.FindStringSubmatch(loc)
	if pm == nil {
		check(fmt.Errorf("no preso made (went to %q)", loc))
	}
	p := base + "/presos/" + pm[1]
	postForm(staff, p+"/slides", url.Values{"_csrf": {token}, "kind": {"content"}})
	postForm(staff, p+"/slides/1", url.Values{"_csrf": {token}, "title": {"Hello"}, "body": {"Your plan, step by step."}, "rev": {"1"}})
	postForm(staff, p+"/contacts", url.Values{"_csrf": {token}, "client": {client}})
	postForm(staff, p+"/visibility", url.Values{"_csrf": {token}, "visibility": {"anyone"}})
	_, box := postForm(staff, p+"/share", url.Values{"_csrf": {token}}, "HX-Request", "true")
	if m = linkRe.FindSubmatch([]byte(box)); m == nil {
		check(errors.New("no link in the preso's sharing box"))
	}
	return docs, string(m[1])
}

// loadPublic loads one public page of Foyer, then a plain handler serving a
// page of the same size, with the same connections and duration, rounds
// times in turn: two processes sharing a machine with their load generator
// give rates that move by several percent from one run to the next, so the
// row kept is the round of median ratio, and the ratios of every round are
// shown beside it.
func (r *runner) loadPublic(u, path string, foyerPID int) {
	resp, err := http.Get(u)
	check(err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cmd := exec.Command(r.self, "plain", "-size", strconv.Itoa(len(body)))
	out, err := cmd.StdoutPipe()
	check(err)
	check(cmd.Start())
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	check(err)
	plainURL := "http://" + strings.TrimSpace(line) + "/"
	type round struct {
		fRate, pRate float64
		fP99, pP99   time.Duration
		fPer, pPer   time.Duration
	}
	var rounds []round
	for range max(r.rounds, 1) {
		var rd round
		var fN, pN int
		fCPU := cpuTime(foyerPID)
		rd.fRate, rd.fP99, fN = hammer(u, r.conns, r.dur)
		fCPU = cpuTime(foyerPID) - fCPU
		pCPU := cpuTime(cmd.Process.Pid)
		rd.pRate, rd.pP99, pN = hammer(plainURL, r.conns, r.dur)
		pCPU = cpuTime(cmd.Process.Pid) - pCPU
		// Server CPU per request is what a busy shared machine does not blur:
		// on a machine of its own, a server's rate is the inverse.
		rd.fPer, rd.pPer = fCPU/time.Duration(max(fN, 1)), pCPU/time.Duration(max(pN, 1))
		rounds = append(rounds, rd)
	}
	ratio := func(rd round) float64 { return rd.fRate / rd.pRate }
	var all []string
	for _, rd := range rounds {
		all = append(all, fmt.Sprintf("%.0f", 100*ratio(rd)))
	}
	slices.SortFunc(rounds, func(a, b round) int { return cmp.Compare(ratio(a), ratio(b)) })
	m := rounds[len(rounds)/2]
	r.public = append(r.public, []string{path, strconv.Itoa(len(body)),
		fmt.Sprintf("%.0f", m.fRate), fmt.Sprintf("%.0f", m.pRate), fmt.Sprintf("%.0f %%", 100*ratio(m)), strings.Join(all, " / ") + " %",
		us(m.fPer), us(m.pPer), fmt.Sprintf("%.0f %%", 100*float64(m.pPer)/float64(m.fPer)),
		ms(m.fP99), ms(m.pP99), fmt.Sprintf("%.1f×", float64(m.fP99)/float64(m.pP99))})
}

// cpuTime is the user and system CPU a process has used (Linux /proc).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // clock ticks: 100 a second on Linux
}

// threadsCPU is the CPU time all threads of a process have run, to the
// nanosecond (Linux /proc/PID/task/*/schedstat): on a busy machine a start's
// wall time mostly measures waiting for a core, its CPU time does not.
func threadsCPU(pid int) time.Duration {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	var total time.Duration
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			ns, _ := strconv.ParseInt(f[0], 10, 64)
			total += time.Duration(ns)
		}
	}
	return total
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Nanoseconds())/1000) }

// hammer sends GETs on conns keep-alive connections for d and returns the
// rate and the 99th percentile latency. Each connection keeps its cookies,
// as a browser does.
func hammer(u string, conns int, d time.Duration) (rate float64, p99 time.Duration, n int) {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	lats := make([][]time.Duration, conns)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range conns {
		wg.Go(func() {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Transport: tr, Jar: jar}
			for ctx.Err() == nil {
				t := time.Now()
				resp, err := c.Get(u)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					lats[i] = append(lats[i], time.Since(t))
				}
			}
		})
	}
	wg.Wait()
	all := slices.Concat(lats...)
	slices.Sort(all)
	if len(all) == 0 {
		return 0, 0, 0
	}
	return float64(len(all)) / time.Since(start).Seconds(), all[len(all)*99/100], len(all)
}

// sequential GETs a staff page n times, one after the other, as HTMX asks for
// a partial, and returns the sorted latencies.
func sequential(c *http.Client, u, target string, n int) []time.Duration {
	var out []time.Duration
	for range n {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		if target != "" {
			req.Header.Set("HX-Request", "true")
			req.Header.Set("HX-Target", target)
		}
		t := time.Now()
		resp, err := c.Do(req)
		check(err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			check(fmt.Errorf("%s: %s", u, resp.Status))
		}
		out = append(out, time.Since(t))
	}
	slices.Sort(out)
	return out
}

var csrfRe = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func csrfToken(c *http.Client, u string) string {
	resp, err := c.Get(u)
	check(err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfRe.FindSubmatch(body)
	if m == nil {
		check(fmt.Errorf("no CSRF token on %s", u))
	}
	return string(m[1])
}

// signIn signs a staff member in and returns a client holding the session.
func signIn(base, email, password string) *http.Client {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	token := csrfToken(c, base+"/signin")
	resp, err := c.PostForm(base+"/signin", url.Values{"_csrf": {token}, "email": {email}, "password": {password}})
	check(err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		check(fmt.Errorf("staff sign-in as %s: %s", email, resp.Status))
	}
	return c
}

func rssAnon(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "n/a"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "RssAnon:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return fmt.Sprintf("%.1f MB", float64(kb)/1024)
		}
	}
	return "n/a"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

func (r *runner) print() {
	fmt.Println("| data | measure | value |")
	fmt.Println("|---|---|---|")
	for _, row := range r.rows {
		fmt.Printf("| %s |\n", strings.Join(row, " | "))
	}
	if len(r.public) > 0 {
		fmt.Printf("\nPublic pages, %d connections for %s each, then a plain net/http handler writing a page of the same size, %d rounds in turn; the round of median ratio is shown, with the ratio of every round:\n\n", r.conns, r.dur, max(r.rounds, 1))
		fmt.Println("| page | bytes | Foyer req/s | plain req/s | Foyer / plain | rounds | Foyer CPU/req | plain CPU/req | Foyer / plain by CPU | Foyer p99 | plain p99 | p99 ratio |")
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
		for _, row := range r.public {
			fmt.Printf("| %s |\n", strings.Join(row, " | "))
		}
	}
}
