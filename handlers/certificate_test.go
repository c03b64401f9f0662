package handlers

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"foyer/certificate/tsatest"
	"foyer/journal"
	"foyer/receipt/receipttest"
	"foyer/store"
)

const firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"

// scriptedSignature plays a whole viewing of a "contacts only" link: the link
// opened, a code sent, a wrong code, the right one, two slides viewed, and a
// signature, in lang. It returns the preso and the signature.
func scriptedSignature(t *testing.T, a *testApp, lang string) (owner *browser, presoID, sigID uint64) {
	t.Helper()
	owner = a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	id, link := sharePreso(t, a, owner, "contacts", mia)
	v := a.browser()
	v.cookies["foyer_lang"] = &http.Cookie{Name: "foyer_lang", Value: lang}
	a.advance(time.Minute)
	v.get(link, "User-Agent", firefox)
	a.h.Wait() // the opening is recorded after the answer
	a.advance(time.Minute)
	if r := v.post(link+"/code", formOf("who", "0"), "User-Agent", firefox); r.Code != http.StatusSeeOther {
		t.Fatalf("send code: %d", r.Code)
	}
	a.advance(30 * time.Second)
	v.post(link+"/verify", formOf("who", "0", "code", "000000"), "User-Agent", firefox)
	msgs, _ := a.st.ListMessages(0, 10)
	code, err := a.st.Unseal(msgs[0].Sealed)
	if err != nil {
		t.Fatal(err)
	}
	a.advance(30 * time.Second)
	if r := v.post(link+"/verify", formOf("who", "0", "code", code), "User-Agent", firefox); r.Code != http.StatusSeeOther {
		t.Fatalf("verify: %d", r.Code)
	}
	viewing := viewingRe.FindStringSubmatch(v.get(link+"/slides/1", "User-Agent", firefox).body)[1]
	a.advance(65 * time.Second)
	if r := v.post(link+"/beacon", beaconForm(v, viewing, 1, 65000)); r.Code != http.StatusNoContent {
		t.Fatalf("beacon: %d", r.Code)
	}
	a.advance(20 * time.Second)
	v.get(link+"/slides/2", "User-Agent", firefox)
	if r := v.post(link+"/sign", formOf("slide", "3", "name", "Mia Martin", "typed_only", "1", "consent", "1"), "User-Agent", firefox); r.Code != http.StatusSeeOther {
		t.Fatalf("sign: %d %s", r.Code, abbreviate(r.body))
	}
	sigs, _ := a.st.ShareSignatures(1)
	if len(sigs) != 1 {
		t.Fatalf("signatures: %+v", sigs)
	}
	return owner, id, sigs[0].ID
}

// download gets a staff download and its bytes.
func download(t *testing.T, b *browser, path string) []byte {
	t.Helper()
	r := b.get(path)
	if r.Code != http.StatusOK {
		t.Fatalf("%s: %d", path, r.Code)
	}
	return []byte(r.body)
}

// The certificate holds every event of a scripted viewing, in order; the
// jobs issue it; a stock openssl verifies its .p7s against the practice's
// certificate, and refuses it once one byte of the PDF changed.
func TestCertificateTrailAndOpenssl(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lang  string
		steps []string
	}{
		{"fr", []string{"Certificat de signature", "Signature électronique simple (eIDAS)", "Lien créé par Olive Owner", "Lien ouvert",
			"Code de sécurité demandé, à envoyer par SMS au mobile ••• ••• 678", "Un code de sécurité erroné a été saisi",
			"Code de sécurité saisi : le mobile ••• ••• 678 est vérifié", "Début de la consultation",
			"Diapositive 1, « Hello », affichée 1 min 05 s", "Case d’accord cochée", "Signature faite", "adresse 192.0.2.10",
			"Ce que ce certificat prouve, et ce qu’il ne prouve pas", "Annexe : les diapositives telles que montrées",
			"Diapositive 1 sur 2 · Hello", "Body Hello", "Diapositive 2 sur 2 · Sign here"}},
		{"en", []string{"Signing certificate", "Simple electronic signature (eIDAS)", "Link created by Olive Owner", "Link opened",
			"Security code asked for, to be sent by text message to the mobile ••• ••• 678", "A wrong security code was entered",
			"Security code entered: the mobile ••• ••• 678 is verified", "Viewing began",
			"Slide 1, “Hello”, shown for 1 min 05 s", "Consent box ticked", "Signature made", "address 192.0.2.10",
			"What this certificate proves, and what it does not", "Appendix: the slides as shown",
			"Slide 1 of 2 · Hello", "Body Hello", "Slide 2 of 2 · Sign here"}},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			a := newTestApp(t)
			owner, id, sig := scriptedSignature(t, a, tc.lang)
			if n, err := a.jobs.IssueCertificates(a.now()); err != nil || n != 1 {
				t.Fatalf("the jobs issued %d: %v", n, err)
			}
			cert, err := a.st.CertificateOf(sig)
			if err != nil || cert.Lang != tc.lang {
				t.Fatalf("certificate: %+v %v", cert, err)
			}
			// The Share box and the link's Numbers list it with its .p7s.
			for _, page := range []string{presoPath(id, "/share"), presoPath(id, "/share/1")} {
				mustContain(t, owner.get(page), fmt.Sprintf("/signatures/%d/certificate.pdf", sig), fmt.Sprintf("/signatures/%d/certificate.p7s", sig))
			}
			pdf := download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.pdf", sig)))
			text := strings.Join(strings.Fields(receipttest.Text(t, pdf)), " ")
			at := 0
			for _, want := range tc.steps {
				i := strings.Index(text[at:], want)
				if i < 0 {
					t.Fatalf("certificate lacks %q after position %d:\n%s", want, at, text)
				}
				at += i + len(want)
			}
			if !strings.Contains(text, "Firefox 128 · Windows") {
				t.Errorf("no browser line:\n%s", text)
			}
			// The same bytes at every download.
			if again := download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.pdf", sig))); !bytes.Equal(again, pdf) {
				t.Error("a second download gave other bytes")
			}
			p7s := download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.p7s", sig)))
			pem := []byte(a.browser().get("/verify/practice.pem").body)
			dir := t.TempDir()
			write := func(name string, b []byte) string {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, b, 0o600); err != nil {
					t.Fatal(err)
				}
				return p
			}
			pdfPath, p7sPath, pemPath := write("c.pdf", pdf), write("c.p7s", p7s), write("practice.pem", pem)
			verify := func() (string, error) {
				out, err := exec.Command(tsatest.Openssl(t), "cms", "-verify", "-binary", "-inform", "DER", "-in", p7sPath, "-content", pdfPath,
					"-CAfile", pemPath, "-out", os.DevNull).CombinedOutput()
				return string(out), err
			}
			if out, err := verify(); err != nil || !strings.Contains(out, "Verification successful") {
				t.Fatalf("openssl refused the certificate: %v\n%s", err, out)
			}
			altered := bytes.Clone(pdf)
			altered[len(altered)/2] ^= 1
			write("c.pdf", altered)
			if out, err := verify(); err == nil || !strings.Contains(out, "Verification failure") {
				t.Fatalf("openssl accepted a changed PDF: %v\n%s", err, out)
			}
		})
	}
}

// postFiles posts a multipart form to /verify, the CSRF token in the URL as the page has it.
func postFiles(b *browser, files map[string][]byte, fields ...string) *resp {
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for name, data := range files {
		fw, _ := w.CreateFormFile(name, name+".bin")
		fw.Write(data)
	}
	for i := 0; i+1 < len(fields); i += 2 {
		w.WriteField(fields[i], fields[i+1])
	}
	w.Close()
	req := httptest.NewRequest(http.MethodPost, "/verify?_csrf="+b.csrf(), &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.do(req)
}

var idRe = regexp.MustCompile(`[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{6}`)

// /verify answers authentic, altered and unknown for a file (with or without
// its .p7s), known and unknown for an ID, in the visitor's language, with
// that certificate's facts only; it takes a CSRF token and is rate-limited.
func TestVerifyPage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner, id, sig := scriptedSignature(t, a, "en")
	pdf := download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.pdf", sig)))
	p7s := download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.p7s", sig)))
	certID := idRe.Find(pdf)
	if certID == nil {
		certID = []byte(idRe.FindString(receipttest.Text(t, pdf)))
	}

	anyone := a.browser()
	mustContain(t, anyone.get("/verify"), "Check a signing certificate", "Seal certificate SHA-256 fingerprint")
	r := postFiles(anyone, map[string][]byte{"pdf": pdf, "p7s": p7s})
	mustContain(t, r, "Authentic and unchanged", "The signature file verifies", "Mia Martin", "Pension plan", string(certID),
		"verified by a code sent by text message to the mobile ending in 678")
	mustContain(t, postFiles(anyone, map[string][]byte{"pdf": pdf}), "Authentic and unchanged")
	mustNotContain(t, postFiles(anyone, map[string][]byte{"pdf": pdf}), "The signature file")

	altered := bytes.Clone(pdf)
	altered[len(altered)/3] ^= 1
	r = postFiles(anyone, map[string][]byte{"pdf": altered, "p7s": p7s})
	mustContain(t, r, "Altered", "The signature file does not verify", "Mia Martin")
	mustNotContain(t, r, "Authentic")
	// The right PDF with a .p7s of other bytes is altered too.
	mustContain(t, postFiles(anyone, map[string][]byte{"pdf": pdf, "p7s": p7s[:len(p7s)-3]}), "Altered")

	r = postFiles(anyone, map[string][]byte{"pdf": []byte("%PDF-1.4 something else")})
	mustContain(t, r, "Not known here")
	mustNotContain(t, r, "Mia Martin", "Pension plan")

	a.advance(2 * time.Minute) // the limit per address refills
	fr := a.browser()
	fr.cookies["foyer_lang"] = &http.Cookie{Name: "foyer_lang", Value: "fr"}
	mustContain(t, postFiles(fr, map[string][]byte{"pdf": pdf}), "Authentique et inchangé")

	r = anyone.post("/verify", formOf("id", strings.ToLower(string(certID))))
	mustContain(t, r, "Issued by this practice", "Mia Martin")
	r = anyone.post("/verify", formOf("id", "7ZK4P-3M9QX-TV2HA-0B8CN-6RWD4M"))
	mustContain(t, r, "Not known here")
	mustNotContain(t, r, "Mia Martin")
	r = anyone.post("/verify", formOf("id", "not an id"))
	if r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a bad ID: %d", r.Code)
	}
	mustContain(t, r, "This is not a certificate ID")
	// Its 26 characters with the last mistyped: told to check each, not that it is no ID.
	typo := string(certID)[:len(certID)-1] + "Z"
	r = anyone.post("/verify", formOf("id", typo))
	mustContain(t, r, "This ID has its 26 letters and digits, but one of them is wrong")
	mustNotContain(t, r, "This is not a certificate ID")
	mustContain(t, anyone.post("/verify", formOf()), "Choose the certificate’s PDF, or type its ID.")

	a.advance(2 * time.Minute)
	if r := anyone.post("/verify", formOf("id", string(certID), "_csrf", "forged")); r.Code != http.StatusForbidden {
		t.Errorf("no CSRF token: %d", r.Code)
	}
	// The checks one address asks for are limited; another address is not.
	limited := false
	for range 12 {
		if anyone.post("/verify", formOf("id", string(certID))).Code == http.StatusTooManyRequests {
			limited = true
		}
	}
	if !limited {
		t.Error("no limit on /verify")
	}
	other := a.browser()
	other.ip = "198.51.100.7:1234"
	mustContain(t, other.post("/verify", formOf("id", string(certID))), "Issued by this practice")

	// The practice's certificate downloads as PEM, with safe headers.
	pr := anyone.get("/verify/practice.pem")
	if pr.Code != http.StatusOK || !strings.HasPrefix(pr.body, "-----BEGIN CERTIFICATE-----") || !strings.Contains(pr.Header().Get("Content-Security-Policy"), "sandbox") {
		t.Errorf("practice.pem: %d %q", pr.Code, pr.Header())
	}
}

// With a timestamp authority, the certificate's seal is stamped (OpenSSL's
// authority on loopback); while it is down the certificate is issued
// without, and the jobs stamp it once it answers.
func TestCertificateTimestamp(t *testing.T) {
	t.Parallel()
	tsa := tsatest.Start(t)
	a := newTestAppTSA(t, Config{}, tsa.URL)
	tsa.Down.Store(true)
	owner, id, sig := scriptedSignature(t, a, "en")
	if _, err := a.jobs.IssueCertificates(a.now()); err != nil {
		t.Fatal(err)
	}
	cert, err := a.st.CertificateOf(sig)
	if err != nil || !cert.StampedAt.IsZero() {
		t.Fatalf("issued while the authority was down: %+v %v", cert, err)
	}
	tsa.Down.Store(false)
	if n, err := a.jobs.IssueCertificates(a.now()); err != nil || n != 1 {
		t.Fatalf("stamped %d: %v", n, err)
	}
	cert, _ = a.st.CertificateOf(sig)
	if cert.StampedAt.IsZero() || cert.TSA != "Test TSA" {
		t.Fatalf("not stamped: %+v", cert)
	}
	if n, _ := a.jobs.IssueCertificates(a.now()); n != 0 || tsa.Requests.Load() != 1 {
		t.Errorf("stamped again: %d, %d requests", n, tsa.Requests.Load())
	}
	pdf := download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.pdf", sig)))
	p7s := download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.p7s", sig)))
	mustContain(t, postFiles(a.browser(), map[string][]byte{"pdf": pdf, "p7s": p7s}), "Authentic and unchanged", "Timestamp by a third party", "by Test TSA")
}

// TestCertificateDownloadIsJournaledForTheSigner: downloading a signing
// certificate (PDF or .p7s) is one entry, "downloaded a signing
// certificate" with the signature, about the signer's client alone: the
// preso's other contacts find no read of theirs in the journal for it.
func TestCertificateDownloadIsJournaledForTheSigner(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner, id, sig := scriptedSignature(t, a, "en")
	leo := a.addClient("Léo", "Bernard", a.ownerID())
	owner.post(presoPath(id, "/contacts"), formOf("client", fmt.Sprint(leo.ID)))
	if n, err := a.jobs.IssueCertificates(a.now()); err != nil || n != 1 {
		t.Fatalf("the jobs issued %d: %v", n, err)
	}
	signature, err := a.st.Signature(sig)
	if err != nil || signature.ContactID == 0 || signature.ContactID == leo.ID {
		t.Fatalf("signature: %+v %v", signature, err)
	}
	before := a.journalEntries(store.JournalFilter{})[0].Seq
	download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.pdf", sig)))
	download(t, owner, presoPath(id, fmt.Sprintf("/signatures/%d/certificate.p7s", sig)))
	var got []string
	for _, e := range a.journalEntries(store.JournalFilter{}) {
		if e.Seq > before {
			got = append(got, fmt.Sprintf("%s client=%d item=%d %s", e.Action, e.ClientID, e.ItemID, e.Detail))
		}
	}
	want := []string{
		fmt.Sprintf("%s client=%d item=%d p7s", journal.CertificateDownload, signature.ContactID, sig),
		fmt.Sprintf("%s client=%d item=%d pdf", journal.CertificateDownload, signature.ContactID, sig),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("journaled:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	mustContain(t, owner.get(fmt.Sprintf("/journal?client=%d", signature.ContactID)), "Downloaded a signing certificate",
		fmt.Sprintf("no. %d, PDF", sig), fmt.Sprintf("no. %d, its signature (.p7s)", sig))
	owner.post("/lang", formOf("lang", "fr", "next", "/"))
	mustContain(t, owner.get(fmt.Sprintf("/journal?client=%d", signature.ContactID)), "A téléchargé un certificat de signature",
		fmt.Sprintf("n°\u00a0%d, PDF", sig), fmt.Sprintf("n°\u00a0%d, sa signature (.p7s)", sig))
}
