package certificate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"

	"foyer/certificate/tsatest"
	"foyer/store"
)

func TestIDsReadBackAsTyped(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		id := NewID()
		if len(id) != idLen || seen[id] {
			t.Fatalf("ID %q: wrong length or repeated", id)
		}
		seen[id] = true
		printed := FormatID(id)
		if strings.Count(printed, "-") != 4 {
			t.Fatalf("printed %q: want five groups", printed)
		}
		typed := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(printed, "0", "o"), "1", "l"))
		if got, ok := ParseID(" " + typed + " "); !ok || got != id {
			t.Fatalf("ParseID(%q) = %q, %v; want %q", typed, got, ok, id)
		}
	}
	for _, bad := range []string{"", "7ZK4P-3M9QX", strings.Repeat("U", idLen), strings.Repeat("Z", idLen), strings.Repeat("0", idLen+1)} {
		if _, ok := ParseID(bad); ok {
			t.Errorf("ParseID(%q) accepted", bad)
		}
	}
	// A refused ID of the right length was mistyped; a shorter or longer one is no ID.
	for s, shaped := range map[string]bool{"7zk4p-3m9qx-tv2ha-0b8cn-6rwd4z": true, strings.Repeat("Z", idLen): true, "7ZK4P-3M9QX": false, strings.Repeat("0", idLen+1): false} {
		if IDShaped(s) != shaped {
			t.Errorf("IDShaped(%q) = %v", s, !shaped)
		}
	}
}

func FuzzParseID(f *testing.F) {
	f.Add("7ZK4P-3M9QX-TV2HA-0B8CN-6RWD4M")
	f.Fuzz(func(t *testing.T, s string) {
		if id, ok := ParseID(s); ok {
			if again, ok := ParseID(FormatID(id)); !ok || again != id {
				t.Fatalf("%q does not read back", id)
			}
		}
	})
}

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// The seal is made once and kept: a second load, or a new start of the
// store, gives the same key; its key is sealed in the data file, never there
// in the clear.
func TestSealIsKept(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s1, err := loadSeal(st, "Cabinet Lumière", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	s2, err := loadSeal(st, "Another name", time.Now())
	if err != nil || !s2.Cert.Equal(s1.Cert) || !s2.key.Equal(s1.key) {
		t.Fatalf("second load made another seal: %v", err)
	}
	st.Close()
	raw, err := os.ReadFile(filepath.Join(dir, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(s1.key)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, der) || bytes.Contains(raw, []byte(base64.StdEncoding.EncodeToString(der))) {
		t.Error("the seal's key is in the data file in the clear")
	}
	st, err = store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	s3, err := loadSeal(st, "", time.Now())
	if err != nil || !s3.key.Equal(s1.key) {
		t.Fatalf("after a restart: %v", err)
	}
	if s1.Cert.Subject.CommonName != "Cabinet Lumière (Foyer)" || s1.Cert.NotAfter.Year() != 9999 {
		t.Errorf("certificate: %s until %s", s1.Cert.Subject, s1.Cert.NotAfter)
	}
}

// A seal with a timestamp from OpenSSL's timestamp authority: the token is
// kept in the .p7s, checks here, and openssl ts -verify accepts it for the
// signature value; a stamp that did not come leaves a plain seal.
func TestSealWithTimestamp(t *testing.T) {
	tsa := tsatest.Start(t)
	seal, err := loadSeal(openStore(t), "Cabinet", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4 a certificate\n")
	ask := func(d []byte) ([]byte, error) { return askTSA(context.Background(), http.DefaultClient, tsa.URL, d) }
	p7s, stamped, stampErr, err := seal.sign(pdf, ask)
	if err != nil || !stamped || stampErr != nil {
		t.Fatalf("sign: %v %v %v", stamped, stampErr, err)
	}
	p7, err := seal.verify(pdf, p7s)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := stampOf(p7)
	if !ok || st.By != "Test TSA" || time.Since(st.At) > time.Minute {
		t.Fatalf("stamp: %+v %v", st, ok)
	}
	// OpenSSL reads the token for the signature value's SHA-256.
	si := p7.Signers[0]
	sum := sha256.Sum256(si.EncryptedDigest)
	var token asn1.RawValue
	for _, a := range si.UnauthenticatedAttributes {
		if a.Type.Equal(oidTimeStampToken) {
			if _, err := asn1.Unmarshal(a.Value.Bytes, &token); err != nil {
				t.Fatal(err)
			}
		}
	}
	path := filepath.Join(t.TempDir(), "token.der")
	if err := os.WriteFile(path, token.FullBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tsatest.Openssl(t), "ts", "-verify", "-token_in", "-in", path, "-digest", hex.EncodeToString(sum[:]), "-CAfile", tsa.CAFile).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
	// A token for another digest is refused.
	if _, _, err := readToken(token.FullBytes, make([]byte, 32)); err == nil {
		t.Error("a token for another digest was accepted")
	}
	// The authority down: the seal is made all the same, without a stamp.
	tsa.Down.Store(true)
	p7s, stamped, stampErr, err = seal.sign(pdf, ask)
	if err != nil || stamped || stampErr == nil {
		t.Fatalf("sign with the authority down: %v %v %v", stamped, stampErr, err)
	}
	if p7, err := seal.verify(pdf, p7s); err != nil {
		t.Fatal(err)
	} else if _, ok := stampOf(p7); ok {
		t.Error("a stamp without an authority")
	}
}

// A .p7s made by another key, or for other bytes, does not verify.
func TestSealRefusesOthers(t *testing.T) {
	mine, err := loadSeal(openStore(t), "A", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := loadSeal(openStore(t), "A", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.4 x")
	p7s, _, _, err := theirs.sign(pdf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mine.verify(pdf, p7s); err == nil {
		t.Error("another practice's seal verified")
	}
	p7s, _, _, _ = mine.sign(pdf, nil)
	if _, err := mine.verify(append(pdf, ' '), p7s); err == nil {
		t.Error("a seal verified other bytes")
	}
	if _, err := mine.verify(pdf, []byte("junk")); err == nil {
		t.Error("junk verified")
	}
	if _, err := pkcs7.Parse(p7s); err != nil {
		t.Error(err)
	}
}
