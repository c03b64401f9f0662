package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// TestFooterOnlyOnClientPages: "Client portal powered by Foyer" is said to
// clients (the portal, a share link), not on the staff's own pages.
func TestFooterOnlyOnClientPages(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	for _, path := range []string{"/", "/clients", "/presos", "/account", "/settings"} {
		r := owner.get(path)
		if r.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, r.Code)
		}
		mustNotContain(t, r, "Client portal powered by Foyer")
		mustContain(t, r, `<a href="/privacy">`)
	}
	r := a.browser().get("/signin")
	mustNotContain(t, r, "Client portal powered by Foyer")
	r = a.browser().get("/portal")
	mustContain(t, r, `class="foot"`, "Client portal powered by Foyer")
}

// TestPresoClientViewHasTitleAndImage: the preso screen's "As the client sees
// it" shows the slide as the viewer does: its title, its image, its text; and
// the answer to an autosave brings it up to date.
func TestPresoClientViewHasTitleAndImage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	id := owner.newPreso(t, "title", "Retirement plan")
	r := owner.get(presoPath(id, ""))
	rev := revRe.FindStringSubmatch(r.body)
	if rev == nil {
		t.Fatalf("no revision on the preso screen")
	}
	r = owner.post(presoPath(id, "/slides/1"), formOf("rev", rev[1], "title", "Where we stand", "body", "Savings **grow**."), "HX-Request", "true")
	if r.Code != http.StatusOK {
		t.Fatalf("autosave: %d %s", r.Code, abbreviate(r.body))
	}
	// The autosave's answer carries the client's view again, with the new title.
	view := clientViewRe.FindString(r.body)
	if !strings.Contains(view, "Where we stand") || !strings.Contains(view, "<strong>grow</strong>") {
		t.Errorf("the autosave does not bring the client's view up to date:\n%s", abbreviate(r.body))
	}
	if r := owner.upload(presoPath(id, "/slides/1/image"), "image", "x.png", pngBytes(t, 40, 30)); r.Code != http.StatusSeeOther {
		t.Fatalf("image: %d", r.Code)
	}
	r = owner.get(presoPath(id, ""))
	view = clientViewRe.FindString(r.body)
	if view == "" {
		t.Fatalf("no client's view on the preso screen:\n%s", abbreviate(r.body))
	}
	for _, want := range []string{"Where we stand", `src="/presos/` + fmt.Sprint(id) + `/slides/1/image?v=`, "<strong>grow</strong>"} {
		if !strings.Contains(view, want) {
			t.Errorf("the client's view lacks %q:\n%s", want, view)
		}
	}
	if i, j := strings.Index(view, "Where we stand"), strings.Index(view, "/image?v="); i > j {
		t.Errorf("the title comes after the image, unlike the viewer:\n%s", view)
	}
}

var (
	revRe        = regexp.MustCompile(`id="slide-rev" value="(\d+)"`)
	clientViewRe = regexp.MustCompile(`(?s)<section class="card" id="client-view".*?</section>`)
)

// TestNewPresoForClientAsksTitle: "New preso for this client" opens a dialog
// asking the title; nothing is made until one is given, and the preso made
// has it and the client as its contact.
func TestNewPresoForClientAsksTitle(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	cl := a.addClient("Mia", "Martin", a.ownerID())
	page := owner.get(fmt.Sprintf("/clients/%d", cl.ID))
	dialog := fmt.Sprintf("/clients/%d/presos/new", cl.ID)
	mustContain(t, page, `href="`+dialog+`"`, `data-hx-get="`+dialog+`"`)
	mustNotContain(t, page, `<form method="post" action="/presos">`)

	// As a dialog over the record, and as a page of its own without JavaScript.
	for _, hx := range [][]string{{"HX-Request", "true"}, nil} {
		r := owner.get(dialog, hx...)
		if r.Code != http.StatusOK {
			t.Fatalf("dialog: %d", r.Code)
		}
		mustContain(t, r, `role="dialog"`, `name="title"`, "autofocus", `action="/clients/`+fmt.Sprint(cl.ID)+`/presos"`, "New preso for Mia Martin")
	}
	before := presoCount(t, a)
	r := owner.post(fmt.Sprintf("/clients/%d/presos", cl.ID), formOf("title", " "), "HX-Request", "true")
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("no title: %d", r.Code)
	}
	mustContain(t, r, `role="dialog"`, `aria-invalid="true"`)
	if n := presoCount(t, a); n != before {
		t.Fatalf("a preso was made without a title: %d → %d", before, n)
	}
	r = owner.post(fmt.Sprintf("/clients/%d/presos", cl.ID), formOf("title", "Mia's savings"))
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "/presos/") {
		t.Fatalf("create: %d %s", r.Code, abbreviate(r.body))
	}
	var id uint64
	fmt.Sscanf(r.Header().Get("Location"), "/presos/%d", &id)
	p, err := a.st.Preso(id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Title != "Mia's savings" || len(p.ContactIDs) != 1 || p.ContactIDs[0] != cl.ID {
		t.Fatalf("preso made: %+v", p)
	}
	// Someone else's client: no dialog, no preso.
	other := a.addClient("Ann", "Other", a.addStaff("Sam Smith", "sam@example.org", "practitioner").ID)
	sam := a.signIn("sam@example.org", staffPassword)
	if r := sam.get(fmt.Sprintf("/clients/%d/presos/new", cl.ID)); r.Code != http.StatusNotFound {
		t.Errorf("another practitioner's client's dialog: %d", r.Code)
	}
	if r := sam.post(fmt.Sprintf("/clients/%d/presos", cl.ID), formOf("title", "x")); r.Code != http.StatusNotFound {
		t.Errorf("a preso for another practitioner's client: %d", r.Code)
	}
	if r := sam.post(fmt.Sprintf("/clients/%d/presos", other.ID), formOf("title", "Ann's plan")); r.Code != http.StatusSeeOther {
		t.Errorf("a preso for one's own client: %d", r.Code)
	}
}

func presoCount(t *testing.T, a *testApp) int {
	t.Helper()
	n := 0
	for id := uint64(1); id < 50; id++ {
		if _, err := a.st.Preso(id); err == nil {
			n++
		}
	}
	return n
}

// TestShareDialogDropHintApart: "You can also drop them here" stands apart
// from the limits, so a phone (no mouse to drag with) can hide it.
func TestShareDialogDropHintApart(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	cl := a.addClient("Mia", "Martin", a.ownerID())
	r := owner.get(fmt.Sprintf("/clients/%d/shares/new", cl.ID), "HX-Request", "true")
	m := regexp.MustCompile(`<p class="hint" id="h-files">(.*?)</p>`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no files hint:\n%s", abbreviate(r.body))
	}
	if !strings.Contains(m[1], `<span class="drop-hint">You can also drop them here.</span>`) || strings.Count(m[1], "drop") != 2 {
		t.Errorf("the drop hint is not apart from the limits: %s", m[1])
	}
}

// TestRecoveryCodesCopyDownloadPrint: the recovery codes, shown once, can be
// copied, downloaded as a text file and printed.
func TestRecoveryCodesCopyDownloadPrint(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	_, codes, r := owner.enrol2FAPage()
	if len(codes) != 10 {
		t.Fatalf("%d codes", len(codes))
	}
	mustContain(t, r, `data-copy="recovery-codes"`, `data-print`, `download="foyer-recovery-codes.txt"`)
	m := regexp.MustCompile(`href="data:text/plain;charset=utf-8,([^"]+)" download=`).FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no download link:\n%s", abbreviate(r.body))
	}
	text, err := url.PathUnescape(strings.ReplaceAll(m[1], "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range codes {
		if !strings.Contains(text, c+"\n") {
			t.Errorf("the file lacks the code %s:\n%s", c, text)
		}
	}
	for _, want := range []string{"Cabinet Lumière", "owner@example.org"} {
		if !strings.Contains(text, want) {
			t.Errorf("the file does not say %q:\n%s", want, text)
		}
	}
}
