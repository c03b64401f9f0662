package privacy

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"foyer/journal"
	"foyer/locales"
	"foyer/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

type fixture struct {
	t   *testing.T
	dir string
	st  *store.Store
	jr  *journal.Journal
	svc *Service
	c   *clock
	n   int
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)}
	jr := journal.New(st, c.now)
	if err := st.CreateStaff(&store.Staff{Name: "Pat Practitioner", Email: "pat@example.org", Role: store.RolePractitioner, Active: true}); err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, dir: dir, st: st, jr: jr, svc: New(st, jr, c.now), c: c}
}

// seeded is a client with something of every kind Foyer keeps, each piece
// carrying the client's tag.
type seeded struct {
	client store.Client
	preso  store.Preso
	share  store.Share
}

func (f *fixture) check(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// seed makes a client whose every field, file name, message, preso and
// signature holds tag (but the name, when named is false).
func (f *fixture) seed(tag string, named bool) seeded {
	f.t.Helper()
	f.n++
	now := f.c.now()
	first, last := "Ann", fmt.Sprintf("Client%d", f.n)
	if named {
		first, last = tag+"first", tag+"last"
	}
	cl := &store.Client{FirstName: first, LastName: last, Email: tag + "@example.org", Lang: "fr", BirthDate: "1980-02-03",
		Address: tag + " road", Notes: tag + " session notes", PractitionerID: 1, CreatedAt: now,
		Phones: []store.Phone{{Type: store.PhoneMobile, Number: fmt.Sprintf("+3361234560%d", f.n), Mobile: true}}}
	f.check(f.st.CreateClient(cl))
	_, _, err := f.st.SetClientCredentials(cl.ID, tag+"-portal@example.org", "hash-"+tag, "fr")
	f.check(err)
	for i, paid := range []bool{true, false} {
		ap := &store.Appointment{ClientID: cl.ID, PractitionerID: 1, Start: now.Add(time.Duration(i-2) * 24 * time.Hour), Minutes: 50,
			Kind: store.KindInPerson, FeeCents: 7000, Currency: "EUR"}
		f.check(f.st.CreateAppointment(ap))
		if paid {
			_, err := f.st.UpdateAppointment(ap.ID, func(a *store.Appointment) error { a.Paid, a.PaidAt = true, now; return nil })
			f.check(err)
		}
	}
	blob := &store.Blob{Name: tag + "-report.pdf", Type: "application/pdf", StaffID: 1, CreatedAt: now}
	f.check(f.st.CreateBlob(blob, strings.NewReader(tag+" file content"), 1<<20))
	f.check(f.st.AttachBlobs([]uint64{blob.ID}))
	rcp := []store.ShareRecipient{{Name: cl.Name(), Email: cl.Email, Mobiles: []string{cl.Phones[0].Number}, Lang: "fr", ClientID: cl.ID}}
	sh := &store.Share{Kind: store.ShareFiles, ClientID: cl.ID, StaffID: 1, Recipients: rcp, Visibility: store.VisibilityContacts,
		Message: tag + " share message", Snapshot: []uint64{blob.ID}, State: store.ShareActive, CreatedAt: now, ExpiresAt: now.Add(20 * 24 * time.Hour)}
	msg := &store.Message{Channel: store.ChannelEmail, To: cl.Email, Lang: "fr", Kind: "share_link", Args: map[string]string{"Name": cl.Name()}, Secret: "token-" + tag}
	f.check(f.st.CreateShare(sh, "token-"+tag, []store.ShareEvent{{At: now, Type: "sent", Recipient: 0, Detail: tag + "-report.pdf"}}, []*store.Message{msg}))
	// A practitioner told of the client's download: the message names them.
	f.check(f.st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "pat@example.org", Lang: "fr", Kind: "share_staff",
		Args: map[string]string{"Recipient": cl.Name() + " (" + cl.Email + ")", "Event": "first_download"}}))
	p := &store.Preso{Title: tag + " care plan", OwnerID: 1, ContactIDs: []uint64{cl.ID}, CreatedAt: now,
		Slides: []store.Slide{{ID: 1, Kind: store.SlideContent, Title: tag + " slide", Body: tag + " slide body"}, {ID: 2, Kind: store.SlideSigning, Title: "Sign"}}}
	f.check(f.st.CreatePreso(p, 1))
	f.presoShare(*p, []store.Client{*cl})
	f.jr.Record(journal.Entry{StaffID: 1, ClientID: cl.ID, Action: journal.RecordRead, Addr: "192.0.2.1"})
	f.check(f.jr.Flush())
	return seeded{client: *cl, preso: *p, share: *sh}
}

// presoShare shares preso p with clients, each of whom views it and signs.
func (f *fixture) presoShare(p store.Preso, clients []store.Client) store.Share {
	f.t.Helper()
	now := f.c.now()
	snap, err := f.st.SaveSnapshot(p.ID, now)
	f.check(err)
	var rcp []store.ShareRecipient
	for _, cl := range clients {
		rcp = append(rcp, store.ShareRecipient{Name: cl.Name(), Email: cl.Email, Lang: "fr", ClientID: cl.ID})
	}
	sh := &store.Share{Kind: store.SharePreso, SubjectID: p.ID, ClientID: clients[0].ID, StaffID: 1, Recipients: rcp,
		Visibility: store.VisibilityAnyone, Snapshot: []uint64{snap.ID}, State: store.ShareActive, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	f.check(f.st.CreateShare(sh, fmt.Sprintf("preso-token-%d-%d", p.ID, len(clients)), nil, nil))
	for i, cl := range clients {
		v := &store.Viewing{ShareID: sh.ID, PresoID: p.ID, SnapshotID: snap.ID, ContactID: cl.ID, Name: cl.Name(), Email: cl.Email,
			Verification: "sms", IP: fmt.Sprintf("198.51.100.%d", cl.ID), Browser: "Firefox", StartedAt: now}
		token := fmt.Sprintf("viewing-%d-%d-%d", sh.ID, i, cl.ID)
		f.check(f.st.StartViewing(v, token))
		_, err := f.st.RecordBeacon(store.Beacon{Token: token, ShareID: sh.ID, SlideID: 1, Millis: 1500, At: now.Add(2 * time.Second)})
		f.check(err)
		sig := &store.Signature{ShareID: sh.ID, PresoID: p.ID, ViewingID: v.ID, SnapshotID: snap.ID, SnapshotSHA256: snap.SHA256,
			SlideID: 2, Name: cl.Name() + " signed", Drawing: []byte("drawn by " + cl.Email), ContactID: cl.ID, ContactName: cl.Name(),
			Verification: "sms", IP: v.IP, At: now}
		f.check(f.st.AddSignature(sig))
		f.certify(p, *sig)
	}
	return *sh
}

// signedPreso makes a preso of a content slide and a signing slide for
// clients, and a link through which each of them viewed and signed it.
func (f *fixture) signedPreso(title string, clients ...store.Client) (*store.Preso, store.Share) {
	f.t.Helper()
	p := &store.Preso{Title: title, OwnerID: 1, CreatedAt: f.c.now(),
		Slides: []store.Slide{{ID: 1, Kind: store.SlideContent, Title: "Welcome"}, {ID: 2, Kind: store.SlideSigning, Title: "Sign"}}}
	for _, cl := range clients {
		p.ContactIDs = append(p.ContactIDs, cl.ID)
	}
	f.check(f.st.CreatePreso(p, 1))
	return p, f.presoShare(*p, clients)
}

// setContacts makes ids the contacts of preso p, as staff taking someone off it do.
func (f *fixture) setContacts(p *store.Preso, ids ...uint64) {
	f.t.Helper()
	_, err := f.st.UpdatePreso(p.ID, f.c.now(), func(p *store.Preso) ([]store.PresoEvent, error) {
		p.ContactIDs = ids
		return nil, nil
	})
	f.check(err)
}

// certify issues sig's certificate as package certificate does: its PDF in
// a blob, its facts (the title and the signer's name in the clear) in the record.
func (f *fixture) certify(p store.Preso, sig store.Signature) {
	f.t.Helper()
	pdf := &store.Blob{Name: fmt.Sprintf("certificate-%d.pdf", sig.ID), Type: "application/pdf", CreatedAt: f.c.now()}
	f.check(f.st.CreateBlob(pdf, strings.NewReader("%PDF "+sig.Name), 1<<20))
	sum := sha256.Sum256([]byte(sig.Name))
	f.check(f.st.SaveCertificate(store.Certificate{SignatureID: sig.ID, Lang: "fr", BlobID: pdf.ID, Size: pdf.Size,
		PDFSHA256: hex.EncodeToString(sum[:]), IssuedAt: f.c.now(), Title: p.Title, Signature: sig}, fmt.Sprintf("CERT-%d", sig.ID), sum[:], false))
}

// docs stands for the PDFs: each names what it is for, so the test sees
// whose documents went into an export.
type docs struct{}

func (docs) Receipt(ap store.Appointment, cl store.Client) ([]byte, error) {
	return fmt.Appendf(nil, "%%PDF receipt %d for %s", ap.ReceiptNo, cl.Name()), nil
}

func (docs) Certificate(p store.Preso, sig store.Signature) ([]byte, []byte, error) {
	return fmt.Appendf(nil, "%%PDF certificate %d for %s", sig.ID, sig.Name), fmt.Appendf(nil, "p7s %d", sig.ID), nil
}

// unzip reads an export into its files.
func unzip(t *testing.T, raw []byte) map[string][]byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
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

func catalog(t *testing.T) *locales.Catalog {
	t.Helper()
	cat, err := locales.Load()
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// TestExportHoldsOneClientOnly: two clients, each with something of every
// kind, and a preso they share; each piece of the first is in the first's
// export, and nothing of the second.
func TestExportHoldsOneClientOnly(t *testing.T) {
	f := newFixture(t)
	alpha := f.seed("alphaqz", true)
	bravo := f.seed("bravoqz", true)
	joint := &store.Preso{Title: "Joint workshop", OwnerID: 1, ContactIDs: []uint64{alpha.client.ID, bravo.client.ID}, CreatedAt: f.c.now(),
		Slides: []store.Slide{{ID: 1, Kind: store.SlideContent, Title: "Welcome"}, {ID: 2, Kind: store.SlideSigning, Title: "Sign"}}}
	f.check(f.st.CreatePreso(joint, 1))
	f.presoShare(*joint, []store.Client{alpha.client, bravo.client})
	// A preso alpha signed and was taken off since: what they did there is still theirs.
	former := &store.Preso{Title: "Former group", OwnerID: 1, ContactIDs: []uint64{alpha.client.ID, bravo.client.ID}, CreatedAt: f.c.now(),
		Slides: []store.Slide{{ID: 1, Kind: store.SlideContent, Title: "Welcome"}, {ID: 2, Kind: store.SlideSigning, Title: "Sign"}}}
	f.check(f.st.CreatePreso(former, 1))
	f.presoShare(*former, []store.Client{alpha.client, bravo.client})
	_, err := f.st.UpdatePreso(former.ID, f.c.now(), func(p *store.Preso) ([]store.PresoEvent, error) {
		p.ContactIDs = []uint64{bravo.client.ID}
		return nil, nil
	})
	f.check(err)

	var buf bytes.Buffer
	f.check(f.svc.Export(&buf, alpha.client.ID, catalog(t).Get("fr"), docs{}, Actor{AccountID: alpha.client.AccountID, Addr: "192.0.2.50"}))
	files := unzip(t, buf.Bytes())
	for name, data := range files {
		if bytes.Contains(data, []byte("bravoqz")) {
			t.Errorf("%s holds something of the other client", name)
		}
	}
	var x Export
	if err := json.Unmarshal(files["data.json"], &x); err != nil {
		t.Fatal(err)
	}
	raw := string(files["data.json"])
	for _, want := range []string{"alphaqzfirst", "alphaqzlast", "alphaqz@example.org", "alphaqz road", "alphaqz session notes", "+33612345601",
		"alphaqz-portal@example.org", "alphaqz-report.pdf", "alphaqz share message", "alphaqz care plan", "alphaqz slide body",
		"alphaqzfirst alphaqzlast signed", "198.51.100.1", "Joint workshop", "Former group", "record_read", "Pat Practitioner"} {
		if !strings.Contains(raw, want) {
			t.Errorf("data.json lacks %q", want)
		}
	}
	if x.Format != ExportFormat || x.Version != ExportVersion || x.Client.ID != alpha.client.ID {
		t.Fatalf("header: %+v", x)
	}
	if len(x.Appointments) != 2 || x.Appointments[0].ReceiptFile == "" {
		t.Fatalf("appointments: %+v", x.Appointments)
	}
	if _, ok := files[x.Appointments[0].ReceiptFile]; !ok {
		t.Fatalf("the receipt %s is not in the zip", x.Appointments[0].ReceiptFile)
	}
	if len(x.Shares) != 4 { // the document share, and the three preso shares sent to them
		t.Fatalf("%d shares: %+v", len(x.Shares), x.Shares)
	}
	if len(x.Presos) != 3 {
		t.Fatalf("%d presos", len(x.Presos))
	}
	sigs := 0
	for _, p := range x.Presos {
		if len(p.Viewings) != 1 || len(p.Signatures) != 1 {
			t.Errorf("preso %q: %d viewings, %d signatures; want 1 and 1 (theirs)", p.Title, len(p.Viewings), len(p.Signatures))
		}
		for _, s := range p.Signatures {
			sigs++
			if _, ok := files[s.CertificateFile]; !ok {
				t.Errorf("certificate %s missing", s.CertificateFile)
			}
			if _, ok := files[s.SealFile]; !ok || s.SealFile == "" {
				t.Errorf("certificate's seal %q missing", s.SealFile)
			}
		}
	}
	if sigs != 3 {
		t.Fatalf("%d signatures", sigs)
	}
	if !strings.Contains(string(files["README.txt"]), "data.json") {
		t.Fatalf("README.txt: %s", files["README.txt"])
	}
	// The export is journaled as the client's own.
	list, _, err := f.jr.List(store.JournalFilter{ClientID: alpha.client.ID, Limit: 1})
	if err != nil || len(list) != 1 || list[0].Action != string(journal.ExportSelf) || list[0].AccountID != alpha.client.AccountID {
		t.Fatalf("journal: %+v %v", list, err)
	}
}

// fileHolds reports whether the data file's bytes hold s.
func (f *fixture) fileHolds(s string) bool {
	f.t.Helper()
	raw, err := os.ReadFile(filepath.Join(f.dir, store.FileName))
	f.check(err)
	return bytes.Contains(raw, []byte(s))
}

// TestEraseTakesTheClientOutOfTheFile: after erasing a client, no byte of
// theirs is left in the data file, but their receipt's name; another client
// keeps all of theirs, and a preso both were contacts of keeps the other.
func TestEraseTakesTheClientOutOfTheFile(t *testing.T) {
	f := newFixture(t)
	alpha := f.seed("alphaqz", false)
	bravo := f.seed("bravoqz", true)
	joint, jointShare := f.signedPreso("Joint workshop", alpha.client, bravo.client)
	// A preso both signed, which alpha was taken off since: their viewing,
	// signature and certificate stay until the erasure finds them by their ID.
	_, formerShare := f.signedPreso("Former group", alpha.client, bravo.client)
	former, err := f.st.Preso(formerShare.SubjectID)
	f.check(err)
	f.setContacts(&former, bravo.client.ID)
	// A code went to alpha's mobile through that link: the limits keep the number.
	mobile := alpha.client.Phones[0].Number
	_, err = f.st.ChangeShare(formerShare.ID, func(ch *store.ShareChange) error {
		ch.Code.SentTo = map[string][]time.Time{store.CodeTargetKey(store.ChannelSMS, mobile): {f.c.now()}}
		if err := ch.SetCodeSends(store.CodeTargetKey(store.ChannelSMS, mobile), []time.Time{f.c.now()}); err != nil {
			return err
		}
		ch.Code.Waiting = []store.WaitingCode{{Hash: []byte("hash"), Recipient: 0, Channel: store.ChannelSMS, Target: mobile,
			SentAt: f.c.now(), ExpiresAt: f.c.now().Add(10 * time.Minute)}}
		return nil
	})
	f.check(err)
	// The owner told of alpha's viewing under a name that is not theirs: the
	// message names its client, not their name or address.
	f.check(f.st.Enqueue(&store.Message{Channel: store.ChannelEmail, To: "pat@example.org", Lang: "fr", Kind: "preso_viewed",
		Args: map[string]string{"Viewer": "alphaqz viewer"}, ClientID: alpha.client.ID}))
	formerSigs, err := f.st.ShareSignatures(formerShare.ID)
	f.check(err)
	signed := alpha.client.Name() + " signed"
	drawn := base64.StdEncoding.EncodeToString([]byte("drawn by " + alpha.client.Email))
	if !f.fileHolds("alphaqz") || !f.fileHolds(signed) || !f.fileHolds(drawn) || len(formerSigs) != 2 {
		t.Fatal("the marker is not in the file: the test shows nothing")
	}
	if _, err := f.svc.Erase(alpha.client.ID, Actor{StaffID: 1}); !errors.Is(err, ErrNotArchived) {
		t.Fatalf("erasing an active client: %v", err)
	}
	_, err = f.st.ArchiveClient(alpha.client.ID, true)
	f.check(err)
	out, err := f.svc.Erase(alpha.client.ID, Actor{StaffID: 1, Addr: "192.0.2.9"})
	f.check(err)
	if !out.Compacted || out.Appointments != 2 || out.KeptReceipts != 1 || out.PresosDeleted != 1 || out.PresosLeft != 2 ||
		out.Shares != 2 || out.Files != 1 || out.Viewings != 3 || out.Signatures != 3 || out.Certificates != 3 || out.Messages < 2 {
		t.Fatalf("erasure: %+v", out)
	}
	if f.fileHolds("alphaqz") {
		t.Fatal("the erased client's marker is still in the data file")
	}
	if f.fileHolds(signed) || f.fileHolds(drawn) || f.fileHolds(mobile) {
		t.Fatal("the erased client's typed name, drawing or mobile is still in the data file")
	}
	sigs, err := f.st.ShareSignatures(formerShare.ID)
	f.check(err)
	if len(sigs) != 1 || sigs[0].ContactID != bravo.client.ID {
		t.Fatalf("the preso alpha was taken off keeps %d signatures: %+v", len(sigs), sigs)
	}
	for _, sig := range formerSigs {
		_, err := f.st.CertificateOf(sig.ID)
		if gone := errors.Is(err, store.ErrNotFound); gone != (sig.ContactID == alpha.client.ID) {
			t.Fatalf("certificate of signature %d (contact %d): %v", sig.ID, sig.ContactID, err)
		}
	}
	// The number's resend limits, kept across links under its keyed hash, go too.
	f.check(f.st.ReadShare(formerShare.ID, func(_ store.Share, r store.LinkTx) error {
		if sent, err := r.CodeSends(store.CodeTargetKey(store.ChannelSMS, mobile)); err != nil || len(sent) != 0 {
			t.Fatalf("the erased client's number's code sends: %v %v", sent, err)
		}
		return nil
	}))
	if sh, err := f.st.Share(formerShare.ID); err != nil || sh.Recipients[0].Email != "" || sh.Recipients[0].ClientID != 0 || sh.ClientID != bravo.client.ID {
		t.Fatalf("the share of the preso alpha was taken off: %+v %v", sh, err)
	}
	// What stays: the receipt (number, amount, name), the other client whole.
	kept, err := f.st.KeptReceipts()
	f.check(err)
	if len(kept) != 1 || kept[0].Name != alpha.client.Name() || kept[0].Cents != 7000 || kept[0].No == 0 {
		t.Fatalf("kept receipts: %+v", kept)
	}
	if _, err := f.st.Client(alpha.client.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the record: %v", err)
	}
	for _, s := range []string{"bravoqzfirst", "bravoqz session notes", "bravoqz-report.pdf", "bravoqz care plan", "bravoqz share message"} {
		if !f.fileHolds(s) {
			t.Errorf("the other client's %q went too", s)
		}
	}
	p, err := f.st.Preso(joint.ID)
	f.check(err)
	if len(p.ContactIDs) != 1 || p.ContactIDs[0] != bravo.client.ID {
		t.Fatalf("joint preso contacts: %v", p.ContactIDs)
	}
	sh, err := f.st.Share(jointShare.ID)
	f.check(err)
	if sh.ClientID != bravo.client.ID || sh.Recipients[0].Name != "" || sh.Recipients[1].ClientID != bravo.client.ID {
		t.Fatalf("joint share: %+v", sh)
	}
	views, err := f.st.ShareViewings(jointShare.ID)
	f.check(err)
	sigs, err = f.st.ShareSignatures(jointShare.ID)
	f.check(err)
	if len(views) != 1 || views[0].ContactID != bravo.client.ID || len(sigs) != 1 || sigs[0].ContactID != bravo.client.ID {
		t.Fatalf("joint share keeps %d viewings, %d signatures", len(views), len(sigs))
	}
	if _, err := f.st.CertificateOf(sigs[0].ID); err != nil {
		t.Fatalf("the other client's certificate: %v", err)
	}
	if _, err := f.st.CertificateByID("CERT-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the erased client's certificate is still found by its ID: %v", err)
	}
	if res, _, err := f.st.SearchClients(store.ClientFilter{Query: store.ParseQuery("alphaqz"), Archived: true, Limit: 10}); err != nil || len(res) != 0 {
		t.Fatalf("search still finds the erased client: %v %v", res, err)
	}
	// The journal keeps the fact, by number, and its chain holds.
	list, _, err := f.jr.List(store.JournalFilter{ClientID: alpha.client.ID, Limit: 1})
	f.check(err)
	if len(list) != 1 || list[0].Action != string(journal.Erase) || list[0].StaffID != 1 {
		t.Fatalf("journal: %+v", list)
	}
	if _, err := f.jr.Verify(); err != nil {
		t.Fatal(err)
	}
}

// TestEraseKeepsAPresoOthersSigned: a preso made for the erased client
// alone, which another client signed while they were its contact too,
// stays with that signature and its certificate; the erased client's own
// signature, viewing and place on it and its link go. A preso for them alone
// that nobody else signed goes whole.
func TestEraseKeepsAPresoOthersSigned(t *testing.T) {
	f := newFixture(t)
	alpha := f.seed("alphaqz", false)
	bravo := f.seed("bravoqz", true)
	couple, sh := f.signedPreso("Couple agreement", alpha.client, bravo.client)
	// Bravo is taken off the preso since: alpha is its only contact.
	f.setContacts(couple, alpha.client.ID)
	solo, _ := f.signedPreso("Alone plan", alpha.client)
	before, err := f.st.ShareSignatures(sh.ID)
	f.check(err)
	if len(before) != 2 {
		t.Fatalf("signatures before: %d", len(before))
	}
	_, err = f.st.ArchiveClient(alpha.client.ID, true)
	f.check(err)
	preview, err := f.svc.Preview(alpha.client.ID)
	f.check(err)
	// Deleted: the seed's care plan and the preso for alpha alone.
	if preview.PresosDeleted != 2 || preview.PresosSignedByOthers != 1 || preview.PresosLeft != 0 {
		t.Fatalf("preview: %+v", preview)
	}
	out, err := f.svc.Erase(alpha.client.ID, Actor{StaffID: 1})
	f.check(err)
	if out.PresosDeleted != 2 || out.PresosSignedByOthers != 1 || out.PresosLeft != 0 || out.Signatures != 3 || out.Certificates != 3 {
		t.Fatalf("erasure: %+v", out)
	}
	if _, err := f.st.Preso(solo.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the preso for alpha alone that nobody else signed: %v", err)
	}
	p, err := f.st.Preso(couple.ID)
	f.check(err)
	if len(p.ContactIDs) != 0 {
		t.Fatalf("the kept preso's contacts: %v", p.ContactIDs)
	}
	sigs, err := f.st.ShareSignatures(sh.ID)
	f.check(err)
	if len(sigs) != 1 || sigs[0].ContactID != bravo.client.ID {
		t.Fatalf("the kept preso's signatures: %+v", sigs)
	}
	if _, err := f.st.CertificateOf(sigs[0].ID); err != nil {
		t.Fatalf("bravo's certificate: %v", err)
	}
	kept, err := f.st.Share(sh.ID)
	f.check(err)
	if kept.ClientID != 0 || kept.Recipients[0].ClientID != 0 || kept.Recipients[0].Name != "" || kept.Recipients[1].ClientID != bravo.client.ID {
		t.Fatalf("the kept preso's link: %+v", kept)
	}
	if f.fileHolds("alphaqz") || f.fileHolds(alpha.client.Name()+" signed") {
		t.Fatal("the erased client is still in the data file")
	}
	if !f.fileHolds(bravo.client.Name() + " signed") {
		t.Fatal("bravo's signature left the data file")
	}
}

// TestRetention: who is due, who comes within a month, as the clock moves.
func TestRetention(t *testing.T) {
	now := time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)
	clients := []store.ArchivedClient{
		{ID: 1, Name: "Old", CreatedAt: now.AddDate(-12, 0, 0), LastSession: now.AddDate(-11, 0, 0)},
		{ID: 2, Name: "Soon", CreatedAt: now.AddDate(-12, 0, 0), LastSession: now.AddDate(-10, 0, 20)},
		{ID: 3, Name: "Recent", CreatedAt: now.AddDate(-3, 0, 0), LastSession: now.AddDate(-2, 0, 0)},
		{ID: 4, Name: "Never seen", CreatedAt: now.AddDate(-10, 0, 0)},
		{ID: 5, Name: "Two months", CreatedAt: now.AddDate(-12, 0, 0), LastSession: now.AddDate(-10, 2, 0)},
	}
	due, coming := Retention(clients, 10, now)
	if len(due) != 2 || due[0].ID != 1 || due[1].ID != 4 {
		t.Fatalf("due: %+v", due)
	}
	if len(coming) != 1 || coming[0].ID != 2 || !coming[0].At.Equal(now.AddDate(0, 0, 20)) {
		t.Fatalf("coming: %+v", coming)
	}
	// A month later the second is due, the fifth coming.
	due, coming = Retention(clients, 10, now.AddDate(0, 1, 1))
	if len(due) != 3 || len(coming) != 1 || coming[0].ID != 5 {
		t.Fatalf("a month later: %+v / %+v", due, coming)
	}
	// With 1 year, the recent one is due too.
	if due, _ := Retention(clients, 1, now); len(due) != 5 {
		t.Fatalf("one year: %d due", len(due))
	}
}

// TestEraseDueOnTheClock: the owner's confirmation erases the clients shown
// and still due; automatic erasure does nothing until turned on.
func TestEraseDueOnTheClock(t *testing.T) {
	f := newFixture(t)
	old := f.seed("oldqz", true)
	young := f.seed("youngqz", true)
	active := f.seed("activeqz", true)
	for _, s := range []seeded{old, young} {
		_, err := f.st.ArchiveClient(s.client.ID, true)
		f.check(err)
	}
	// old's last session was yesterday (seed); young has one five years later.
	last := f.c.now().Add(-24 * time.Hour)
	ap := &store.Appointment{ClientID: young.client.ID, PractitionerID: 1, Start: f.c.now().AddDate(5, 0, 0), Minutes: 50, Kind: store.KindInPerson}
	f.check(f.st.CreateAppointment(ap))
	f.c.set(last.AddDate(10, 0, 0).Add(-24 * time.Hour))
	due, coming, years, err := f.svc.DueList()
	f.check(err)
	if years != DefaultRetentionYears || len(due) != 0 || len(coming) != 1 || coming[0].ID != old.client.ID {
		t.Fatalf("a day before: due %v, coming %v", due, coming)
	}
	f.c.set(f.c.now().Add(48 * time.Hour))
	if n, err := f.svc.AutoErase(); err != nil || n != 0 {
		t.Fatalf("automatic erasure while off: %d %v", n, err)
	}
	// The owner confirms a list holding an active client's ID: only the due one goes.
	out, err := f.svc.EraseDue([]uint64{old.client.ID, active.client.ID}, Actor{StaffID: 1, Addr: "192.0.2.3"})
	f.check(err)
	if len(out) != 1 || out[0].ClientID != old.client.ID || !out[0].Compacted {
		t.Fatalf("erased: %+v", out)
	}
	if _, err := f.st.Client(active.client.ID); err != nil {
		t.Fatal("the active client went")
	}
	// Turned on, the job erases young once due.
	_, err = f.st.UpdatePrivacySettings(func(ps *store.PrivacySettings) error { ps.AutoErase = true; return nil })
	f.check(err)
	if n, err := f.svc.AutoErase(); err != nil || n != 0 {
		t.Fatalf("nothing due yet: %d %v", n, err)
	}
	f.c.set(f.c.now().AddDate(5, 0, 1))
	if n, err := f.svc.AutoErase(); err != nil || n != 1 {
		t.Fatalf("automatic erasure: %d %v", n, err)
	}
	if _, err := f.st.Client(young.client.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("young client: %v", err)
	}
	// The journal shows the owner's confirmation and both erasures.
	list, _, err := f.jr.List(store.JournalFilter{Limit: 10})
	f.check(err)
	var erased, confirmed int
	for _, e := range list {
		switch journal.Action(e.Action) {
		case journal.Erase:
			erased++
		case journal.RetentionConfirm:
			confirmed++
		}
	}
	if erased != 2 || confirmed != 1 {
		t.Fatalf("journal: %d erasures, %d confirmations", erased, confirmed)
	}
}

func TestSettingsLimits(t *testing.T) {
	if RetentionYears(store.PrivacySettings{}) != 10 || RetentionYears(store.PrivacySettings{RetentionYears: 31}) != 10 ||
		RetentionYears(store.PrivacySettings{RetentionYears: 30}) != 30 || JournalMonths(store.PrivacySettings{JournalMonths: 5}) != 12 ||
		JournalMonths(store.PrivacySettings{JournalMonths: 36}) != 36 {
		t.Fatal("limits")
	}
	a := store.PrivacySettings{Controller: "A", Extra: map[string]string{"fr": "x"}}
	b := a
	b.Extra = map[string]string{"fr": "x"}
	if NoticeChanged(a, b) {
		t.Fatal("an unchanged notice counted as changed")
	}
	b.Extra = map[string]string{"fr": "y"}
	if !NoticeChanged(a, b) {
		t.Fatal("a changed text did not count")
	}
	b = a
	b.AutoErase = true
	if NoticeChanged(a, b) {
		t.Fatal("automatic erasure is not in the notice")
	}
	b.RetentionYears = 12
	if !NoticeChanged(a, b) {
		t.Fatal("the retention period is in the notice")
	}
}

// TestExportIsDatedInThePracticesTime: unzip tools and Windows show a zip
// entry's DOS time as it is, so it is the practice's time (11:00 in Paris
// for 10:00 UTC in January), as the README of the export says; data.json
// keeps UTC.
func TestExportIsDatedInThePracticesTime(t *testing.T) {
	f := newFixture(t)
	f.check(f.st.SavePractice(store.Practice{Name: "Cabinet Lumière", TimeZone: "Europe/Paris", DefaultLang: "fr"}))
	alpha := f.seed("alphaqz", true)
	var buf bytes.Buffer
	f.check(f.svc.Export(&buf, alpha.client.ID, catalog(t).Get("fr"), docs{}, Actor{StaffID: 1, Addr: "192.0.2.50"}))
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range zr.File {
		if hour, minute := e.ModifiedTime>>11, (e.ModifiedTime>>5)&0x3f; hour != 11 || minute != 0 {
			t.Errorf("%s: DOS time %02d:%02d, want the practice's 11:00", e.Name, hour, minute)
		}
	}
	files := unzip(t, buf.Bytes())
	if !strings.Contains(string(files["README.txt"]), "11:00") {
		t.Errorf("README: %s", files["README.txt"])
	}
	if !strings.Contains(string(files["data.json"]), `"exported_at": "2026-01-15T10:00:00Z"`) {
		t.Errorf("data.json is not in UTC")
	}
}
