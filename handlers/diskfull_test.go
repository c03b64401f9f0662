package handlers

import (
	"crypto/rand"
	"fmt"
	"html"
	"net/http"
	"os"
	"strings"
	"testing"

	"foyer/store"
	"foyer/testtool"
)

// TestDiskFullSaidPlainly runs the app on a small file system filled up:
// an upload, a new client and the hot backup are answered "the server's
// disk is full, nothing was saved" (507, in the visitor's language), with
// what was typed kept, and the owner sees a banner until space is back.
func TestDiskFullSaidPlainly(t *testing.T) {
	t.Parallel()
	dir := testtool.SmallDisk(t, 16<<20)
	a := newTestAppIn(t, Config{}, "", dir)
	owner := a.setUp()
	cl := &store.Client{FirstName: "Mia", LastName: "Martin", Email: "mia@example.org", Lang: "en", PractitionerID: a.ownerID()}
	if err := a.st.CreateClient(cl); err != nil {
		t.Fatal(err)
	}
	a.addStaff("Sam Smith", "sam@example.org", store.RolePractitioner)
	sam := a.signIn("sam@example.org", staffPassword)
	en := a.h.catalog.Get("en")
	presoID := owner.newPreso(t, "title", "Retirement plan")
	rev := revRe.FindStringSubmatch(owner.get(presoPath(presoID, "")).body)[1]
	if r := owner.get("/"); strings.Contains(r.body, `class="banner alert"`) {
		t.Fatal("a disk banner before the disk is full")
	}
	filler := testtool.FillDisk(t, dir)

	// Documents shared from the client record, sent by the page's script.
	doc := make([]byte, 3<<20)
	rand.Read(doc)
	clientPath := fmt.Sprintf("/clients/%d", cl.ID)
	r := owner.shareUpload(clientPath, []string{"recipient", "other", "other_name", "Maître Durand", "other_email", "durand@example.org", "message", "Les pièces du dossier."},
		upFile{"dossier.pdf", doc})
	if r.Code != http.StatusInsufficientStorage {
		t.Fatalf("upload on a full disk: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, r, html.EscapeString(en.T("share.disk_full")), "Maître Durand", "durand@example.org", "Les pièces du dossier.")
	if shares, _ := a.st.SharesOfClient(cl.ID); len(shares) != 0 {
		t.Errorf("a share was made on a full disk: %+v", shares)
	}

	// New clients, their notes long, until the data file needs room to grow.
	notes := strings.Repeat("Séance du mardi : point sur le sommeil. ", 120)
	var last string
	for i := range 400 {
		last = fmt.Sprintf("Roux-%d", i)
		r = owner.post("/clients", formOf("first_name", "Léa", "last_name", last, "email", "lea@example.org", "lang", "fr", "practitioner", fmt.Sprint(a.ownerID()), "notes", notes))
		if r.Code != http.StatusSeeOther {
			break
		}
	}
	if r.Code != http.StatusInsufficientStorage {
		t.Fatalf("new client on a full disk: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, r, html.EscapeString(en.T("error.disk_full.form")), `value="`+last+`"`, `value="lea@example.org"`, "point sur le sommeil", en.T("clients.new"))
	if found, _, _ := a.st.SearchClients(store.ClientFilter{Query: store.ParseQuery(last), Limit: 5}); len(found) != 0 {
		t.Errorf("the client refused was saved: %+v", found)
	}

	// A slide saved as it is typed: the editor says so and keeps the text.
	r = owner.post(presoPath(presoID, "/slides/1"), formOf("rev", rev, "title", "Where we stand", "body", notes), "HX-Request", "true")
	if r.Code != http.StatusInsufficientStorage {
		t.Fatalf("autosave on a full disk: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, r, `id="save-state" class="save-state error" role="alert"`, html.EscapeString(en.T("error.disk_full.form")))

	// The hot backup.
	r = owner.get("/backup")
	if r.Code != http.StatusInsufficientStorage || r.Header().Get("Content-Disposition") != "" {
		t.Fatalf("backup on a full disk: %d %v", r.Code, r.Header())
	}
	mustContain(t, r, html.EscapeString(en.T("error.disk_full.title")), html.EscapeString(en.T("error.disk_full.body")))

	// The owner is told on every page, the others are not (they cannot free space).
	banner := html.EscapeString(en.T("disk.banner_owner", "Since", "November\u00a025, 2026"))
	banner = banner[:strings.Index(banner, "2026")]
	for _, path := range []string{"/", "/clients", clientPath} {
		mustContain(t, owner.get(path), `class="banner alert" role="alert"`, banner)
	}
	mustNotContain(t, sam.get("/"), `class="banner alert"`)

	// Space comes back: the next save works, and the banner goes.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	r = owner.post("/clients", formOf("first_name", "Léa", "last_name", last, "email", "lea@example.org", "lang", "fr", "practitioner", fmt.Sprint(a.ownerID()), "notes", notes))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("new client once space is back: %d %s", r.Code, abbreviate(r.body))
	}
	mustNotContain(t, owner.get("/"), `class="banner alert"`)
}
