package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"foyer/markdown"
	"foyer/store"
)

// addClient puts a client record in the store for a practitioner.
func (a *testApp) addClient(first, last string, practitioner uint64, phones ...store.Phone) store.Client {
	a.t.Helper()
	cl := &store.Client{FirstName: first, LastName: last, Lang: "en", PractitionerID: practitioner, Phones: phones}
	if err := a.st.CreateClient(cl); err != nil {
		a.t.Fatal(err)
	}
	return *cl
}

// newPreso creates a preso through the form and returns its ID.
func (b *browser) newPreso(t testing.TB, fields ...string) uint64 {
	t.Helper()
	r := b.post("/presos", formOf(fields...))
	if r.Code != http.StatusSeeOther || !strings.HasPrefix(r.Header().Get("Location"), "/presos/") {
		t.Fatalf("create preso: %d %s", r.Code, abbreviate(r.body))
	}
	var id uint64
	fmt.Sscanf(r.Header().Get("Location"), "/presos/%d", &id)
	return id
}

func presoPath(id uint64, rest string) string { return fmt.Sprintf("/presos/%d%s", id, rest) }

func TestPresoAutosaveRefusesStaleRevision(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	id := owner.newPreso(t, "title", "Retirement plan")
	r := owner.get(presoPath(id, ""))
	mustContain(t, r, "Retirement plan", "Welcome", `name="rev" id="slide-rev" value="1"`, "Share Visibility", "Activity", "Created by Olive Owner")

	save := func(rev, body string) *resp {
		return owner.post(presoPath(id, "/slides/1"), formOf("title", "Welcome", "body", body, "rev", rev), "HX-Request", "true")
	}
	r = save("1", "First tab's text")
	if r.Code != http.StatusOK {
		t.Fatalf("autosave: %d %s", r.Code, r.body)
	}
	mustContain(t, r, "Saved at 11:00", `id="slide-rev" value="2" data-hx-swap-oob="true"`, `id="slide-list"`)
	// The second tab still holds revision 1: its save is refused, and says why.
	r = save("1", "Second tab's text")
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("stale save: %d", r.Code)
	}
	mustContain(t, r, "changed elsewhere")
	p, _ := a.st.Preso(id)
	if p.Slides[0].Body != "First tab's text" || p.Slides[0].Rev != 2 {
		t.Fatalf("slide after stale save: %+v", p.Slides[0])
	}
	// Without JavaScript the same refusal re-shows the form with the text typed.
	r = owner.post(presoPath(id, "/slides/1"), formOf("title", "Welcome", "body", "No-JS text", "rev", "1"))
	if r.Code != http.StatusConflict {
		t.Fatalf("stale plain save: %d", r.Code)
	}
	mustContain(t, r, "No-JS text", "changed elsewhere")
	// A text over the limit: the autosave names the limit, as the full page does.
	r = save("2", strings.Repeat("x", markdown.MaxSource+1))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("too long autosave: %d", r.Code)
	}
	mustContain(t, r, fmt.Sprintf("at most %d characters", markdown.MaxSource))
	// Saving the same text again does not count as a change.
	before := p.Content
	save("2", "First tab's text")
	if p2, _ := a.st.Preso(id); p2.Content != before {
		t.Fatalf("content count moved on a no-op save: %d → %d", before, p2.Content)
	}
}

func TestPresoMarkdownComesOutInert(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	id := owner.newPreso(t)
	body := "Hello **there**\n\n<script>alert('x')</script>\n\n[click](javascript:alert(1)) <a href=\"javascript:alert(2)\">two</a> <img src=x onerror=alert(3)>"
	r := owner.post(presoPath(id, "/slides/1"), formOf("title", "T", "body", body, "rev", "1"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.Code, abbreviate(r.body))
	}
	for _, path := range []string{presoPath(id, ""), presoPath(id, "/preview")} {
		r = owner.get(path)
		mustContain(t, r, "<strong>there</strong>")
		mustNotContain(t, r, "<script>alert", `href="javascript`, "<img src=x onerror", "<img src=\"x\"")
	}
}

func TestPresoSlidesReorderAndLeaveOut(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	id := owner.newPreso(t)
	owner.post(presoPath(id, "/slides"), formOf("kind", "content"))
	owner.post(presoPath(id, "/slides"), formOf("kind", "signing"))
	for i, title := range []string{"One", "Two", "Three"} {
		r := owner.post(presoPath(id, fmt.Sprintf("/slides/%d", i+1)), formOf("title", title, "rev", "1"))
		if r.Code != http.StatusSeeOther {
			t.Fatalf("title %d: %d", i, r.Code)
		}
	}
	order := func() string {
		p, _ := a.st.Preso(id)
		var s []string
		for _, sl := range p.Slides {
			s = append(s, sl.Title)
		}
		return strings.Join(s, ",")
	}
	owner.post(presoPath(id, "/slides/3/move"), formOf("dir", "up"))
	if got := order(); got != "One,Three,Two" {
		t.Fatalf("after move up: %s", got)
	}
	owner.post(presoPath(id, "/slides/1/move"), formOf("dir", "up")) // already first: nothing moves
	if got := order(); got != "One,Three,Two" {
		t.Fatalf("after moving the first up: %s", got)
	}
	r := owner.post(presoPath(id, "/order"), formOf("order", "2,1,3"))
	if r.Code != http.StatusSeeOther || order() != "Two,One,Three" {
		t.Fatalf("drag order: %d %s", r.Code, order())
	}
	if r := owner.post(presoPath(id, "/order"), formOf("order", "2,1")); r.Code != http.StatusConflict {
		t.Fatalf("order missing a slide: %d", r.Code)
	}
	if r := owner.post(presoPath(id, "/order"), formOf("order", "2,2,1")); r.Code != http.StatusConflict {
		t.Fatalf("order with a repeat: %d", r.Code)
	}
	owner.post(presoPath(id, "/slides/1/include"), nil)
	r = owner.get(presoPath(id, "/preview"))
	mustContain(t, r, "Slide 1 of 2", "Two", `rel="next"`)
	r = owner.get(presoPath(id, "/preview?n=2"))
	mustContain(t, r, "Slide 2 of 2", "Three", `rel="prev"`)
	mustNotContain(t, r, `rel="next"`)
	if r := owner.get(presoPath(id, "/preview?n=3")); r.Code != http.StatusNotFound {
		t.Fatalf("past the last slide: %d", r.Code)
	}
	p, _ := a.st.Preso(id)
	if !p.HasSigning() {
		t.Fatal("the signing slide is not seen")
	}
	owner.post(presoPath(id, "/slides/3/delete"), nil)
	if got := order(); got != "Two,One" {
		t.Fatalf("after delete: %s", got)
	}
}

func TestPresoVisibilityNeedsEveryContactsMobile(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	ownerID := a.ownerID()
	withMobile := a.addClient("Mia", "Mobile", ownerID, store.Phone{Type: store.PhoneHome, Number: "+33612345678", Mobile: true})
	landline := a.addClient("Leo", "Landline", ownerID, store.Phone{Type: store.PhoneMobile, Number: "+33142345678"})
	id := owner.newPreso(t, "client", fmt.Sprint(withMobile.ID))

	r := owner.get(presoPath(id, ""))
	mustContain(t, r, "Mia Mobile", "06 12 34 56 78")
	if r := owner.post(presoPath(id, "/visibility"), formOf("visibility", "contacts")); r.Code != http.StatusSeeOther {
		t.Fatalf("contacts only with mobiles: %d %s", r.Code, abbreviate(r.body))
	}
	owner.post(presoPath(id, "/contacts"), formOf("client", fmt.Sprint(landline.ID)))
	owner.post(presoPath(id, "/visibility"), formOf("visibility", "anyone"))
	r = owner.post(presoPath(id, "/visibility"), formOf("visibility", "contacts"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("contacts only without a mobile: %d", r.Code)
	}
	mustContain(t, r, "needs a mobile number for every contact", fmt.Sprintf(`<a href="/clients/%d/edit">Leo Landline</a>`, landline.ID), "no mobile number")
	if p, _ := a.st.Preso(id); p.Visibility != store.VisibilityAnyone {
		t.Fatalf("visibility saved anyway: %s", p.Visibility)
	}
	if r := owner.post(presoPath(id, "/visibility"), formOf("visibility", "everyone")); r.Code != http.StatusBadRequest {
		t.Fatalf("unknown visibility: %d", r.Code)
	}
	// The client records list the preso.
	mustContain(t, owner.get(fmt.Sprintf("/clients/%d", landline.ID)), presoPath(id, ""))
}

func (a *testApp) ownerID() uint64 {
	a.t.Helper()
	all, err := a.st.ListStaff()
	if err != nil || len(all) == 0 {
		a.t.Fatal("no owner", err)
	}
	return all[0].ID
}

func TestPresoIDOR(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	ann := a.addStaff("Ann Practitioner", "ann@example.org", store.RolePractitioner)
	bob := a.addStaff("Bob Practitioner", "bob@example.org", store.RolePractitioner)
	annsClient := a.addClient("Alice", "Ann-Client", ann.ID)
	annB := a.signIn("ann@example.org", staffPassword)
	bobB := a.signIn("bob@example.org", staffPassword)
	id := annB.newPreso(t, "title", "Ann's plan", "client", fmt.Sprint(annsClient.ID))
	annB.upload(presoPath(id, "/slides/1/image"), "image", "a.png", pngBytes(t, 8, 8))
	tpl := owner.newPreso(t, "title", "House template", "as_template", "1")

	gets := []string{"", "/preview", "/slides/1/image"}
	posts := []string{"/title", "/contacts", "/contacts/1/remove", "/handover", "/visibility", "/order", "/slides", "/slides/1", "/slides/1/move", "/slides/1/include", "/slides/1/delete", "/slides/1/image"}
	for _, g := range gets {
		if r := bobB.get(presoPath(id, g)); r.Code != http.StatusNotFound {
			t.Errorf("Bob GET %s: %d", g, r.Code)
		}
		if r := annB.get(presoPath(tpl, g)); r.Code != http.StatusNotFound && g != "/slides/1/image" {
			t.Errorf("practitioner GET template %s: %d", g, r.Code)
		}
	}
	for _, p := range posts {
		r := bobB.post(presoPath(id, p), formOf("title", "x", "preso_title", "x", "client", "1", "staff", fmt.Sprint(bob.ID), "visibility", "anyone", "order", "1", "rev", "1", "dir", "up"))
		if r.Code != http.StatusNotFound {
			t.Errorf("Bob POST %s: %d", p, r.Code)
		}
	}
	// Bob cannot make a preso for Ann's client, nor add her client to his preso.
	if r := bobB.post("/presos", formOf("client", fmt.Sprint(annsClient.ID))); r.Code != http.StatusNotFound {
		t.Errorf("Bob creates for Ann's client: %d", r.Code)
	}
	bobs := bobB.newPreso(t)
	if r := bobB.post(presoPath(bobs, "/contacts"), formOf("client", fmt.Sprint(annsClient.ID))); r.Code != http.StatusNotFound {
		t.Errorf("Bob adds Ann's client: %d", r.Code)
	}
	// Bob's client page search does not offer Ann's client either.
	mustNotContain(t, bobB.get(presoPath(bobs, "?q=Alice")), "Ann-Client")
	// Bob's list does not show Ann's preso; the owner's does.
	mustNotContain(t, bobB.get("/presos"), "Ann&#39;s plan")
	mustContain(t, owner.get("/presos"), "Ann&#39;s plan", "House template")
	if p, _ := a.st.Preso(id); p.Title != "Ann's plan" || len(p.Slides) != 1 || p.OwnerID != ann.ID {
		t.Fatalf("Ann's preso changed: %+v", p)
	}
}

func TestPresoHandOverAndTemplates(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	ann := a.addStaff("Ann Practitioner", "ann@example.org", store.RolePractitioner)
	annB := a.signIn("ann@example.org", staffPassword)

	tpl := owner.newPreso(t, "title", "Onboarding", "as_template", "1")
	owner.post(presoPath(tpl, "/slides/1"), formOf("title", "How we work", "body", "Our *fees*", "rev", "1"))
	owner.post(presoPath(tpl, "/slides"), formOf("kind", "signing"))
	// A practitioner cannot make a template: the box is ignored.
	own := annB.newPreso(t, "title", "Mine", "as_template", "1")
	if p, _ := a.st.Preso(own); p.Template {
		t.Fatal("a practitioner made a template")
	}
	// ... but starts from one.
	fromTpl := annB.newPreso(t, "template", fmt.Sprint(tpl))
	p, _ := a.st.Preso(fromTpl)
	if p.Title != "Onboarding" || len(p.Slides) != 2 || p.Slides[0].Body != "Our *fees*" || p.Template || p.OwnerID != ann.ID {
		t.Fatalf("preso from template: %+v", p)
	}
	mustContain(t, annB.get("/presos"), "Onboarding")
	// A preso is not a template to start from.
	if r := annB.post("/presos", formOf("template", fmt.Sprint(own))); r.Code != http.StatusNotFound {
		t.Fatalf("start from a preso: %d", r.Code)
	}

	// The owner makes a preso and hands it over to Ann; the activity says so.
	id := owner.newPreso(t, "title", "For Ann")
	r := owner.post(presoPath(id, "/handover"), formOf("staff", fmt.Sprint(ann.ID)))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("hand over: %d %s", r.Code, abbreviate(r.body))
	}
	r = annB.get(presoPath(id, ""))
	if r.Code != http.StatusOK {
		t.Fatalf("Ann opens the handed-over preso: %d", r.Code)
	}
	mustContain(t, r, "Handed over by Olive Owner to Ann Practitioner")
	// Ann hands her own preso to the owner: she can no longer open it.
	annB.post(presoPath(own, "/handover"), formOf("staff", fmt.Sprint(a.ownerID())))
	if r := annB.get(presoPath(own, "")); r.Code != http.StatusNotFound {
		t.Fatalf("Ann after handing over: %d", r.Code)
	}
}

func TestPresoSlideImage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	id := owner.newPreso(t)
	r := owner.upload(presoPath(id, "/slides/1/image"), "image", "x.png", []byte("<svg><script>alert(1)</script></svg>"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("svg: %d", r.Code)
	}
	mustContain(t, r, "not a PNG, JPEG or WebP")
	r = owner.upload(presoPath(id, "/slides/1/image"), "image", "x.png", pngBytes(t, 7000, 2))
	mustContain(t, r, "too large")
	r = owner.upload(presoPath(id, "/slides/1/image"), "image", "x.png", pngBytes(t, 40, 30))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("png: %d %s", r.Code, abbreviate(r.body))
	}
	r = owner.get(presoPath(id, "/slides/1/image"))
	if r.Code != http.StatusOK || r.Header().Get("Content-Type") != "image/png" || !strings.Contains(r.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("image: %d %v", r.Code, r.Header())
	}
	mustContain(t, owner.get(presoPath(id, "/preview")), `class="v-image"`)
	owner.post(presoPath(id, "/slides/1/image"), formOf("remove", "1"))
	if r := owner.get(presoPath(id, "/slides/1/image")); r.Code != http.StatusNotFound {
		t.Fatalf("removed image: %d", r.Code)
	}
}
