package handlers

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"foyer/journal"
	"foyer/privacy"
	"foyer/store"
)

// journalEntries lists the journal, newest first.
func (a *testApp) journalEntries(f store.JournalFilter) []store.JournalEntry {
	a.t.Helper()
	if f.Limit == 0 {
		f.Limit = 500
	}
	list, _, err := a.journal.List(f)
	if err != nil {
		a.t.Fatal(err)
	}
	return list
}

// hasEntry reports whether the journal holds an entry of action by staff about client.
func hasEntry(list []store.JournalEntry, action journal.Action, staff, client uint64) bool {
	for _, e := range list {
		if e.Action == string(action) && e.StaffID == staff && e.ClientID == client {
			return true
		}
	}
	return false
}

// TestJournalRecordsWhoOpenedWhat: a practitioner's look at and change to a
// record, their receipt download and sign-ins are journaled with who, which
// client and the address; owners and admins read the Journal, filter it and
// export it (an export journaled too), practitioners cannot.
func TestJournalRecordsWhoOpenedWhat(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	pat := a.addStaff("Pat Practitioner", "pat@example.org", store.RolePractitioner)
	a.addStaff("Ada Admin", "ada@example.org", store.RoleAdmin)
	path := owner.newClient("practitioner", itoa(pat.ID), "first_name", "Inès", "last_name", "Moreau")
	// A client's name a spreadsheet would take for a formula.
	formula := owner.newClient("first_name", "=HYPERLINK(1)", "last_name", "Evil")
	owner.get(formula)
	id := strings.TrimPrefix(path, "/clients/")

	// A wrong password for Pat, then Pat signs in from another address.
	bad := a.browser()
	bad.ip = "198.51.100.4:5555"
	bad.post("/signin", formOf("email", "pat@example.org", "password", "not the password"))
	pb := a.signIn("pat@example.org", staffPassword)
	pb.get(path)
	pb.post(path, formOf("first_name", "Inès", "last_name", "Moreau", "email", "ines@example.org", "lang", "fr", "practitioner", itoa(pat.ID)))
	pb.post(path+"/appointments", formOf("date", "2026-11-20", "time", "09:30", "minutes", "50", "kind", "in_person", "fee", "60", "practitioner", itoa(pat.ID)))
	pb.post("/appointments/1/status", formOf("action", "paid"))
	if r := pb.get("/appointments/1/receipt.pdf"); r.Code != http.StatusOK {
		t.Fatalf("receipt: %d", r.Code)
	}

	cid := parseID(id)
	list := a.journalEntries(store.JournalFilter{})
	for _, want := range []struct {
		action journal.Action
		staff  uint64
		client uint64
	}{{journal.SignInFailed, pat.ID, 0}, {journal.SignIn, pat.ID, 0}, {journal.RecordRead, pat.ID, cid}, {journal.RecordChange, pat.ID, cid},
		{journal.AppointmentChange, pat.ID, cid}, {journal.ReceiptRead, pat.ID, cid}, {journal.RecordChange, 1, cid}} {
		if !hasEntry(list, want.action, want.staff, want.client) {
			t.Errorf("no %s entry by staff %d about client %d", want.action, want.staff, want.client)
		}
	}
	for _, e := range list {
		if e.Action == string(journal.SignInFailed) && e.Addr != "198.51.100.4" {
			t.Errorf("the failed sign-in's address: %q", e.Addr)
		}
	}

	// Practitioners do not see the journal.
	if r := pb.get("/journal"); r.Code != http.StatusForbidden {
		t.Fatalf("practitioner on /journal: %d", r.Code)
	}
	if r := pb.get(path+"/journal", "HX-Request", "true"); r.Code != http.StatusForbidden {
		t.Fatalf("practitioner on who opened: %d", r.Code)
	}
	ada := a.signIn("ada@example.org", staffPassword)
	r := ada.get("/journal?client=" + id)
	// One look at the record, with the lists its page shows.
	mustContain(t, r, "Opened the record", "(sessions, presos, documents shared)", "Pat Practitioner", "Inès Moreau", "Downloaded a receipt", "192.0.2.10")
	mustNotContain(t, r, "Signed in") // narrowed to the client
	r = ada.get("/journal?staff=" + itoa(pat.ID))
	mustContain(t, r, "Failed sign-in", "198.51.100.4", "Signed in")
	r = ada.get("/journal?from=2026-12-01")
	mustContain(t, r, "No entry matches.")
	r = ada.get("/journal?from=2026-12-01&to=2026-11-01")
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("to before from: %d", r.Code)
	}
	mustContain(t, r, "Choose a date on or after the start date.")
	// "Who opened this record", on the record, for admins.
	mustContain(t, ada.get(path), `data-hx-get="`+path+`/journal"`)
	mustNotContain(t, pb.get(path), `data-hx-get="`+path+`/journal"`)
	r = ada.get(path+"/journal", "HX-Request", "true")
	mustContain(t, r, "Pat Practitioner", "Changed the record", "/journal?client="+id)

	// The CSV holds what the filter selects, and the export is journaled.
	r = ada.get("/journal.csv?client=" + id)
	if r.Code != http.StatusOK || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %s", r.Code, r.Header().Get("Content-Type"))
	}
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) < 5 || rows[0][1] != "When" || rows[0][2] != "Who" {
		t.Fatalf("csv rows: %v %v", rows, err)
	}
	for _, row := range rows[1:] {
		if row[3] != id {
			t.Fatalf("a row of another client: %v", row)
		}
	}
	if !hasEntry(a.journalEntries(store.JournalFilter{}), journal.JournalExport, 3, 0) {
		t.Fatal("the journal export is not journaled")
	}
	r = ada.get("/journal.csv")
	if !strings.Contains(r.body, "'=HYPERLINK(1) Evil") || strings.Contains(r.body, ",=HYPERLINK") {
		t.Fatalf("a formula in the CSV:\n%s", r.body)
	}

	// Check the chain from the page.
	r = ada.get("/journal/verify")
	mustContain(t, r, "The chain is intact")
}

// TestJournalPageInFrench: the Journal reads in French with French dates.
func TestJournalPageInFrench(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	owner.post("/lang", formOf("lang", "fr", "next", "/"))
	path := owner.newClient()
	owner.get(path)
	r := owner.get("/journal")
	mustContain(t, r, "A ouvert la fiche", "Éloïse Durand", "25\u00a0novembre 2026", "Vérifier la chaîne")
}

// TestExportFromTheRecordAndMyData: staff who may see a client export their
// data; the client downloads their own from My Account; nobody gets another's.
func TestExportFromTheRecordAndMyData(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	pat := a.addStaff("Pat Practitioner", "pat@example.org", store.RolePractitioner)
	sam := a.addStaff("Sam Other", "sam@example.org", store.RolePractitioner)
	path := owner.newClient("practitioner", itoa(pat.ID), "first_name", "Inès", "last_name", "Moreau", "email", "ines@example.org", "notes", "Anxious about exams.")
	other := owner.newClient("practitioner", itoa(sam.ID), "first_name", "Omar", "last_name", "Benali", "email", "omar@example.org", "notes", "Omar's own notes.")
	owner.post(path+"/appointments", formOf("date", "2026-11-20", "time", "09:30", "minutes", "50", "kind", "in_person", "fee", "60", "practitioner", itoa(pat.ID)))
	owner.post("/appointments/1/status", formOf("action", "paid"))
	owner.post(path+"/portal", formOf("portal_email", "ines@example.org", "portal_password", "a long enough client password"))

	pb := a.signIn("pat@example.org", staffPassword)
	r := pb.get(path + "/export")
	if r.Code != http.StatusOK || r.Header().Get("Content-Type") != "application/zip" || !strings.Contains(r.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("staff export: %d %v", r.Code, r.Header())
	}
	files := unzipBody(t, r.body)
	mustHold(t, files, "data.json", "Anxious about exams.", "ines@example.org", "\"receipt_no\": 1")
	mustHold(t, files, "README.txt", "data.json", "receipts/")
	if _, ok := files["receipts/receipt-1.pdf"]; !ok || !bytes.HasPrefix(files["receipts/receipt-1.pdf"], []byte("%PDF")) {
		t.Fatalf("the receipt PDF: %v", keys(files))
	}
	for name, data := range files {
		if bytes.Contains(data, []byte("Omar")) {
			t.Fatalf("%s holds the other client", name)
		}
	}
	if r := pb.get(other + "/export"); r.Code != http.StatusNotFound {
		t.Fatalf("export of another practitioner's client: %d", r.Code)
	}
	if !hasEntry(a.journalEntries(store.JournalFilter{}), journal.Export, pat.ID, parseID(strings.TrimPrefix(path, "/clients/"))) {
		t.Fatal("the staff export is not journaled")
	}

	// The client, from My Account, in French.
	cb := a.browser()
	cb.lang = "fr"
	cb.post("/portal", formOf("email", "ines@example.org", "password", "a long enough client password"))
	mustContain(t, cb.get("/portal/account"), "Mes données", `href="/portal/mydata"`)
	r = cb.get("/portal/mydata")
	if r.Code != http.StatusOK {
		t.Fatalf("my data: %d %s", r.Code, abbreviate(r.body))
	}
	files = unzipBody(t, r.body)
	mustHold(t, files, "README.txt", "Cabinet Lumière", "les données d’Inès Moreau")
	var x privacy.Export
	if err := json.Unmarshal(files["data.json"], &x); err != nil || x.Client.Email != "ines@example.org" || x.Account == nil || len(x.Journal) == 0 {
		t.Fatalf("data.json: %+v %v", x, err)
	}
	// Not signed in: no data.
	if r := a.browser().get("/portal/mydata"); r.Code != http.StatusSeeOther {
		t.Fatalf("anonymous my data: %d", r.Code)
	}
}

func unzipBody(t *testing.T, body string) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(strings.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	return out
}

func mustHold(t *testing.T, files map[string][]byte, name string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !bytes.Contains(files[name], []byte(w)) {
			t.Errorf("%s lacks %q", name, w)
		}
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// fileHolds reports whether the data file holds s, in any case.
func (a *testApp) fileHolds(s string) bool {
	a.t.Helper()
	raw, err := os.ReadFile(filepath.Join(a.dir, store.FileName))
	if err != nil {
		a.t.Fatal(err)
	}
	return bytes.Contains(bytes.ToLower(raw), []byte(strings.ToLower(s)))
}

// TestErasureLeavesNoTraceInTheFile is the marker test: a unique marker in
// a client's fields, search entries, file names, share message, preso text
// and outbox messages, written through the pages as staff do; the owner
// archives and erases the client; no byte of the marker is left in
// foyer.db. A second client with the marker in their name (no receipt)
// leaves no trace either; the first one's receipt keeps their name.
func TestErasureLeavesNoTraceInTheFile(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	const marker, named = "zqmarkq7", "zqnamemarkq7"
	path := owner.newClient("first_name", "Jeanne", "last_name", "Martin", "email", marker+"@example.org", "lang", "en",
		"notes", marker+" notes", "address", marker+" road", "phone_0", "06 12 34 56 78")
	cid := parseID(strings.TrimPrefix(path, "/clients/"))
	owner.post(path+"/appointments", formOf("date", "2026-11-20", "time", "09:30", "minutes", "50", "kind", "in_person", "fee", "60", "practitioner", "1"))
	owner.post("/appointments/1/status", formOf("action", "paid"))
	if r := owner.shareUpload(path, []string{"recipient", "client", "verify", "1", "message", marker + " message"},
		upFile{marker + "-report.pdf", []byte("content")}); r.Code != http.StatusSeeOther {
		t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
	}
	// The client opens the link and downloads: the practitioner's notice names them.
	token := a.lastShareToken(marker + "@example.org")
	visitor := verify(t, a, token)
	visitor.get("/s/" + token + "/files/1")
	pid := owner.newPreso(t, "title", marker+" plan", "client", itoa(cid))
	owner.post(presoPath(pid, "/slides/1"), formOf("title", marker+" slide", "body", marker+" body", "rev", "1"))
	if r := owner.post(presoPath(pid, "/share"), nil); r.Code != http.StatusSeeOther {
		t.Fatalf("preso link: %d %s", r.Code, abbreviate(r.body))
	}
	other := owner.newClient("first_name", "Zqnamemarkq7", "last_name", "Dupont", "email", "dupont@example.org", "phone_0", "06 98 76 54 32")
	if r := owner.shareUpload(other, []string{"recipient", "client", "verify", "1"}, upFile{"bilan.pdf", []byte("x")}); r.Code != http.StatusSeeOther {
		t.Fatalf("second share: %d", r.Code)
	}
	a.h.Wait()
	if !a.fileHolds(marker) || !a.fileHolds(named) {
		t.Fatal("the markers are not in the file: the test shows nothing")
	}
	msgs, _ := a.st.ListMessages(0, 100)
	found := false
	for _, m := range msgs {
		found = found || m.To == marker+"@example.org"
	}
	if !found {
		t.Fatal("no message to the client in the outbox: the test shows less than it says")
	}

	// Only the owner erases, only an archived client, only with the name typed.
	admin := a.addStaff("Ada Admin", "ada@example.org", store.RoleAdmin)
	ab := a.signIn(admin.Email, staffPassword)
	if r := ab.get(path + "/erase"); r.Code != http.StatusForbidden {
		t.Fatalf("admin on erase: %d", r.Code)
	}
	r := owner.get(path + "/erase")
	mustContain(t, r, "Only an archived client can be erased")
	mustNotContain(t, r, "Erase for good")
	r = owner.post(path+"/erase", formOf("confirm_name", "Jeanne Martin"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("erasing an active client: %d", r.Code)
	}
	mustContain(t, r, "Only an archived client can be erased")
	owner.post(path+"/archive", nil)
	owner.post(other+"/archive", nil)
	r = owner.get(path + "/erase")
	mustContain(t, r, "1 session.", "1 receipt, as accounting requires", "Erase for good", "To confirm, type the client’s name: Jeanne Martin")
	r = owner.post(path+"/erase", formOf("confirm_name", "Jeanne Marton"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong name: %d", r.Code)
	}
	mustContain(t, r, "This is not the client’s name as shown above.", `value="Jeanne Marton"`)
	if _, err := a.st.Client(cid); err != nil {
		t.Fatal("a refused erasure erased")
	}
	r = owner.post(path+"/erase", formOf("confirm_name", "  jeanne   MARTIN "))
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/clients?archived=1" {
		t.Fatalf("erase: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, owner.get("/clients?archived=1"), "The client is erased, and their data is gone from the data file.")
	r = owner.post(other+"/erase", formOf("confirm_name", "Zqnamemarkq7 Dupont"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("erase the second: %d", r.Code)
	}

	if a.fileHolds(marker) {
		t.Fatal("the marker is still in foyer.db after the erasure")
	}
	if a.fileHolds(named) {
		t.Fatal("the second client's name is still in foyer.db")
	}
	if r := owner.get(path); r.Code != http.StatusNotFound {
		t.Fatalf("the record after erasure: %d", r.Code)
	}
	kept, err := a.st.KeptReceipts()
	if err != nil || len(kept) != 1 || kept[0].Name != "Jeanne Martin" || kept[0].No != 1 {
		t.Fatalf("kept receipts: %+v %v", kept, err)
	}
	mustContain(t, owner.get("/settings/privacy"), "Jeanne Martin", "60.00")
	// The journal keeps the fact, by number; the chain holds.
	r = owner.get("/journal?client=" + itoa(cid))
	mustContain(t, r, "Erased the client", "no. "+itoa(cid)+" (erased)")
	if _, err := a.journal.Verify(); err != nil {
		t.Fatal(err)
	}
}

// TestPrivacySettingsNoticeAndSignUp: the owner sets the notice up; /privacy
// reads it in both languages; a change gives it a new version, which
// sign-up records.
func TestPrivacySettingsNoticeAndSignUp(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	owner.post("/settings", formOf("name", "Cabinet Lumière", "default_lang", "fr", "time_zone", "Europe/Paris", "phone_region", "FR",
		"currency", "EUR", "brand_color", "#2f5d62", "allow_signup", "1", "contact_email", "contact@lumiere.example", "vat_note", "x"))
	r := owner.post("/settings/privacy", formOf("retention_years", "31", "journal_months", "5"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("out of range: %d", r.Code)
	}
	mustContain(t, r, "Enter a whole number of years from 1 to 30.", "Enter a whole number of months from 6 to 36.", `value="31"`)
	r = owner.post("/settings/privacy", formOf("retention_years", "20", "journal_months", "24", "hosting", "OVHcloud, Roubaix (France), HDS",
		"email_provider", "Brevo (France)", "sms_provider", "Twilio (USA)", "dpo", "Claire DPO, dpo@lumiere.example", "extra_fr", "Texte en plus.", "extra_en", "More text."))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("save: %d %s", r.Code, abbreviate(r.body))
	}
	ps, _ := a.st.PrivacySettings()
	if ps.RetentionYears != 20 || ps.JournalMonths != 24 || ps.NoticeVersion != 2 {
		t.Fatalf("settings: %+v", ps)
	}
	// Saving the same again keeps the version.
	owner.post("/settings/privacy", formOf("retention_years", "20", "journal_months", "24", "hosting", "OVHcloud, Roubaix (France), HDS",
		"email_provider", "Brevo (France)", "sms_provider", "Twilio (USA)", "dpo", "Claire DPO, dpo@lumiere.example", "extra_fr", "Texte en plus.", "extra_en", "More text."))
	if ps, _ := a.st.PrivacySettings(); ps.NoticeVersion != 2 {
		t.Fatalf("an unchanged save moved the version to %d", ps.NoticeVersion)
	}

	en := a.browser()
	r = en.get("/privacy")
	mustContain(t, r, "How Cabinet Lumière handles your personal data", "Version 2", "OVHcloud, Roubaix (France), HDS", "Brevo (France)",
		"Twilio (USA)", "Claire DPO", "20 years after your last session", "kept 24 months", "contact@lumiere.example", "More text.", "CNIL")
	mustNotContain(t, r, "Texte en plus.")
	fr := a.browser()
	fr.lang = "fr"
	r = fr.get("/privacy")
	mustContain(t, r, "Comment Cabinet Lumière traite vos données personnelles", "20\u00a0ans après votre dernière séance", "Texte en plus.", "Vos droits")
	// Linked from the portal sign-in and sign-up, and every page's footer.
	mustContain(t, en.get("/portal"), `href="/privacy"`)
	mustContain(t, en.get("/portal/signup"), `href="/privacy"`, "the information notice")
	// The register entry, printable.
	mustContain(t, owner.get("/settings/privacy/register"), "Register of processing activities", "Brevo (France)", "data-print", "argon2id")

	// A sign-up records the version shown, and when.
	r = en.post("/portal/signup", formOf("first_name", "Léa", "last_name", "Petit", "email", "lea@example.org", "lang", "en", "password", "a long enough client password"))
	if r.Code != http.StatusOK {
		t.Fatalf("signup: %d %s", r.Code, abbreviate(r.body))
	}
	acct, err := a.st.AccountByEmail("lea@example.org")
	if err != nil || acct.SignUp.NoticeVersion != 2 || !acct.SignUp.NoticeShown.Equal(a.now()) {
		t.Fatalf("sign-up: %+v %v", acct.SignUp, err)
	}
	// Emails' footers link the notice.
	msgs, _ := a.st.ListMessages(0, 5)
	out := a.sent(msgs[0])
	if !strings.Contains(out.Text, "http://localhost:8080/privacy") || !strings.Contains(out.HTML, `href="http://localhost:8080/privacy"`) {
		t.Fatalf("email footer: %s", out.Text)
	}
}

// TestRetentionListAndConfirmation: an archived client past the period is
// listed a month ahead, then due; the owner's confirmation erases them.
func TestRetentionListAndConfirmation(t *testing.T) {
	a := newTestApp(t)
	owner := a.setUp()
	path := owner.newClient("first_name", "Old", "last_name", "Timer")
	owner.post(path+"/appointments", formOf("date", "2026-11-24", "time", "09:30", "minutes", "50", "kind", "in_person", "fee", "60", "practitioner", "1"))
	owner.post(path+"/archive", nil)
	r := owner.get("/settings/privacy")
	mustContain(t, r, "No client is due for erasure.", "No client becomes due within a month.")
	// Ten years after the last session less three weeks: coming.
	a.mu.Lock()
	a.clock = time.Date(2036, 11, 3, 9, 0, 0, 0, time.UTC)
	a.mu.Unlock()
	owner = a.signIn("owner@example.org", ownerPassword)
	r = owner.get("/settings/privacy")
	mustContain(t, r, "No client is due for erasure.", "Old Timer", "November\u00a024, 2036")
	a.mu.Lock()
	a.clock = time.Date(2036, 11, 25, 9, 0, 0, 0, time.UTC)
	a.mu.Unlock()
	owner = a.signIn("owner@example.org", ownerPassword)
	r = owner.get("/settings/privacy")
	mustContain(t, r, "Erase this client", "Old Timer")
	r = owner.post("/settings/privacy/erase", formOf("ids", strings.TrimPrefix(path, "/clients/")))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("confirm: %d", r.Code)
	}
	if _, err := a.st.Client(parseID(strings.TrimPrefix(path, "/clients/"))); err == nil {
		t.Fatal("the due client is still there")
	}
	mustContain(t, owner.get("/settings/privacy"), "No client is due for erasure.")
}

// TestExportAndErasureOfASignature: a client's export carries their signing
// certificate as issued, the same PDF and .p7s staff download; erasing the
// client takes the certificate too.
func TestExportAndErasureOfASignature(t *testing.T) {
	a := newTestApp(t)
	owner, id, sig := scriptedSignature(t, a, "en")
	if n, err := a.jobs.IssueCertificates(a.now()); err != nil || n != 1 {
		t.Fatalf("the jobs issued %d: %v", n, err)
	}
	pdf := download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.pdf", sig)))
	p7s := download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.p7s", sig)))
	r := owner.get("/clients/1/export")
	if r.Code != http.StatusOK {
		t.Fatalf("export: %d", r.Code)
	}
	files := unzipBody(t, r.body)
	name := fmt.Sprintf("certificates/certificate-%d", sig)
	if !bytes.Equal(files[name+".pdf"], pdf) || !bytes.Equal(files[name+".p7s"], p7s) {
		t.Fatalf("the export's certificate differs from the one issued (files: %v)", keys(files))
	}
	mustHold(t, files, "data.json", `"certificate_file": "`+name+`.pdf"`, `"certificate_seal_file": "`+name+`.p7s"`, `"typed_name": "Mia Martin"`)

	owner.post("/clients/1/archive", nil)
	if r := owner.post("/clients/1/erase", formOf("confirm_name", "Mia Martin")); r.Code != http.StatusSeeOther {
		t.Fatalf("erase: %d %s", r.Code, abbreviate(r.body))
	}
	if _, err := a.st.CertificateOf(sig); err == nil {
		t.Fatal("the erased client's certificate is still there")
	}
}

// signatureDrawing is a drawn signature as the signing page sends it: a PNG data URL.
func signatureDrawing(t *testing.T) string {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 40, 12))
	for x := 2; x < 38; x++ {
		img.SetGray(x, 6+x%4, color.Gray{})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

// TestErasureFindsTheSignatureOfAContactTakenOff: a client signs a preso
// (typed name, drawing), its practitioner then takes them off the preso's
// contacts, as one does once they are done with it; erasing the client
// takes their signature, viewing and certificate all the same: the erase
// page lists the signature, the share box no longer shows it, its
// certificate no longer downloads, and foyer.db holds nothing of it.
func TestErasureFindsTheSignatureOfAContactTakenOff(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := &store.Client{FirstName: "Mia", LastName: "Martin", Email: "zqmia8@example.org", Lang: "en", PractitionerID: a.ownerID()}
	if err := a.st.CreateClient(mia); err != nil {
		t.Fatal(err)
	}
	leo := a.addClient("Léo", "Durand", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", *mia, leo)
	v := a.browser()
	v.get(link)
	if r := v.post(link+"/open", formOf("who", "0")); r.Code != http.StatusSeeOther {
		t.Fatalf("pick a name: %d", r.Code)
	}
	v.get(link + "/slides/2")
	const typed = "Mia Martin zqsig8"
	drawing := signatureDrawing(t)
	if r := v.post(link+"/sign", formOf("slide", "3", "name", typed, "drawing", drawing, "consent", "1")); r.Code != http.StatusSeeOther {
		t.Fatalf("sign: %d %s", r.Code, abbreviate(r.body))
	}
	if n, err := a.jobs.IssueCertificates(a.now()); err != nil || n != 1 {
		t.Fatalf("the jobs issued %d: %v", n, err)
	}
	sigs, _ := a.st.ShareSignatures(1)
	if len(sigs) != 1 {
		t.Fatalf("signatures: %+v", sigs)
	}
	cert := presoPath(id, fmt.Sprintf("/signatures/%d/certificate.pdf", sigs[0].ID))
	download(t, owner, cert)
	if r := owner.post(presoPath(id, fmt.Sprintf("/contacts/%d/remove", mia.ID)), nil); r.Code != http.StatusSeeOther {
		t.Fatalf("take Mia off: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, owner.get(presoPath(id, "/share")), typed)
	drawn := strings.TrimPrefix(drawing, "data:image/png;base64,")
	for _, s := range []string{typed, mia.Email, drawn} {
		if !a.fileHolds(s) {
			t.Fatalf("%.20q is not in the file: the test shows nothing", s)
		}
	}

	path := fmt.Sprintf("/clients/%d", mia.ID)
	owner.post(path+"/archive", nil)
	mustContain(t, owner.get(path+"/erase"), "1 signature on a preso, with its signing certificate.")
	if r := owner.post(path+"/erase", formOf("confirm_name", "Mia Martin")); r.Code != http.StatusSeeOther {
		t.Fatalf("erase: %d %s", r.Code, abbreviate(r.body))
	}
	for _, s := range []string{typed, mia.Email, drawn} {
		if a.fileHolds(s) {
			t.Errorf("%.20q is still in foyer.db after the erasure", s)
		}
	}
	mustNotContain(t, owner.get(presoPath(id, "/share")), typed, "Mia Martin")
	if r := owner.get(cert); r.Code != http.StatusNotFound {
		t.Fatalf("the erased client's certificate: %d", r.Code)
	}
	// Léo, still a contact, keeps his place on the preso and its link.
	mustContain(t, owner.get(presoPath(id, "")), "Léo Durand")
}

// TestErasureEmptiesTheOutboxOfTheClient: the messages that went to a
// client leave the outbox with them, whatever address they went to: the
// sign-up's confirmation, the email saying the account was linked, a reset
// link, "where to sign in" under an address changed since, a reminder to
// the record's former email. Archiving ended the account, so its addresses
// are no longer on the record; another client's messages stay.
func TestErasureEmptiesTheOutboxOfTheClient(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.enableSignup(owner)
	path := owner.newClient("first_name", "Léa", "last_name", "Petit", "email", "zqold9@example.org", "lang", "en")
	if err := a.st.CreateAppointment(&store.Appointment{ClientID: 1, PractitionerID: 1, Start: a.now().Add(20 * time.Hour), Minutes: 50,
		Kind: store.KindInPerson}); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.jobs.SendReminders(a.now()); n != 1 {
		t.Fatal("no reminder")
	}
	if r := owner.post(path, formOf("first_name", "Léa", "last_name", "Petit", "email", "zqrec9@example.org", "lang", "en",
		"practitioner", "1")); r.Code != http.StatusSeeOther {
		t.Fatalf("new email: %d %s", r.Code, abbreviate(r.body))
	}
	a.browser().post("/portal/signup", formOf("first_name", "Léa", "last_name", "Petit", "email", "zqsignup9@example.org", "lang", "en",
		"password", "a long enough client password"))
	owner.post("/prospects/1/verify", nil)
	if r := owner.post("/prospects/1/associate", formOf("client_id", "1")); r.Header().Get("Location") != path {
		t.Fatalf("link the sign-up: %d %s", r.Code, r.Header().Get("Location"))
	}
	a.browser().post("/portal/forgot", formOf("email", "zqsignup9@example.org"))
	for _, email := range []string{"zqportal9a@example.org", "zqportal9b@example.org"} {
		if r := owner.post(path+"/portal", formOf("portal_email", email, "portal_password", "bienvenue au cabinet")); r.Code != http.StatusSeeOther {
			t.Fatalf("portal access %s: %d %s", email, r.Code, abbreviate(r.body))
		}
	}
	a.clientWithPortal(owner, "other9@example.org", "bienvenue au cabinet", "first_name", "Marc", "last_name", "Petit")
	kinds := func(prefix string) []string {
		msgs, err := a.st.ListMessages(0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range msgs {
			if strings.HasPrefix(m.To, prefix) {
				out = append(out, m.Kind+" "+m.To)
			}
		}
		slices.Sort(out)
		return out
	}
	want := []string{"portal_access zqportal9a@example.org", "portal_access zqportal9b@example.org", "portal_linked zqsignup9@example.org",
		"portal_reset zqsignup9@example.org", "portal_verify zqsignup9@example.org", "reminder zqold9@example.org"}
	if got := kinds("zq"); !slices.Equal(got, want) {
		t.Fatalf("the outbox holds %q, want %q: the test shows less than it says", got, want)
	}

	owner.post(path+"/archive", nil)
	if r := owner.post(path+"/erase", formOf("confirm_name", "Léa Petit")); r.Code != http.StatusSeeOther {
		t.Fatalf("erase: %d %s", r.Code, abbreviate(r.body))
	}
	if got := kinds("zq"); len(got) != 0 {
		t.Fatalf("the outbox still holds %q", got)
	}
	for _, s := range []string{"zqsignup9", "zqportal9", "zqold9"} {
		if a.fileHolds(s) {
			t.Errorf("%q is still in foyer.db", s)
		}
	}
	if got := kinds("other9"); len(got) != 1 {
		t.Fatalf("the other client's messages: %q", got)
	}
}
