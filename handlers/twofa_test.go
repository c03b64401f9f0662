package handlers

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"foyer/auth"
	"foyer/store"
)

func TestTwoFactor(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	r := owner.get("/account/2fa")
	mustContain(t, r, `src="/account/2fa/qr.png"`, `id="totp-secret"`)
	qr := owner.get("/account/2fa/qr.png")
	if qr.Code != http.StatusOK || qr.Header().Get("Content-Type") != "image/png" || len(qr.body) < 100 {
		t.Fatalf("QR code: %d %s", qr.Code, qr.Header().Get("Content-Type"))
	}
	// A wrong code does not turn 2FA on.
	if r := owner.post("/account/2fa", formOf("code", "000000")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong enrol code: %d", r.Code)
	}
	secret, codes := owner.enrol2FA()
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	if r := owner.get("/account/2fa/qr.png"); r.Code != http.StatusNotFound {
		t.Errorf("QR code still served after enrolment: %d", r.Code)
	}
	// The seed is sealed in the record, and no copy of the data file holds it
	// in the clear, not even from the session during enrolment.
	st, err := a.st.StaffByEmail("owner@example.org")
	if err != nil || !strings.HasPrefix(st.TOTPSecret, "s1:") {
		t.Fatalf("stored seed %q, %v", st.TOTPSecret, err)
	}
	var file bytes.Buffer
	if _, err := a.st.WriteBackup(&file); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(file.Bytes(), []byte(secret)) {
		t.Error("the data file holds the TOTP seed in the clear")
	}
	// The code used to enrol is spent: it cannot sign anyone in.
	enrolCode, _ := totp.GenerateCode(secret, a.now())

	b := a.browser()
	r = b.post("/signin", formOf("email", "owner@example.org", "password", ownerPassword))
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin/2fa" {
		t.Fatalf("password step: %d %s", r.Code, r.Header().Get("Location"))
	}
	if r := b.get("/"); r.Code != http.StatusSeeOther {
		t.Fatalf("signed in before the code: %d", r.Code)
	}
	if r := b.post("/signin/2fa", formOf("code", enrolCode)); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("replayed enrol code: %d", r.Code)
	} else {
		mustContain(t, r, "already used")
	}
	a.advance(30 * time.Second)
	code, _ := totp.GenerateCode(secret, a.now())
	if r := b.post("/signin/2fa", formOf("code", code)); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/" {
		t.Fatalf("right code: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, b.get("/"), "Welcome, Olive Owner")

	// The same code a second time, from another browser: refused.
	c := a.browser()
	c.post("/signin", formOf("email", "owner@example.org", "password", ownerPassword))
	if r := c.post("/signin/2fa", formOf("code", code)); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("replayed code: %d", r.Code)
	}
	// A recovery code works once. (The codes typed so far, at enrolment and
	// here, drew on the owner's one bucket: let it refill a little.)
	a.advance(2 * time.Minute)
	if r := c.post("/signin/2fa", formOf("code", codes[0])); r.Code != http.StatusSeeOther {
		t.Fatalf("recovery code: %d %s", r.Code, abbreviate(r.body))
	}
	d := a.browser()
	d.post("/signin", formOf("email", "owner@example.org", "password", ownerPassword))
	if r := d.post("/signin/2fa", formOf("code", codes[0])); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("reused recovery code: %d", r.Code)
	}
	mustContain(t, owner.get("/account"), "9 recovery codes left")

	// The second step expires.
	e := a.browser()
	e.post("/signin", formOf("email", "owner@example.org", "password", ownerPassword))
	a.advance(6 * time.Minute)
	code, _ = totp.GenerateCode(secret, a.now())
	if r := e.post("/signin/2fa", formOf("code", code)); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/signin" {
		t.Fatalf("late second step: %d %s", r.Code, r.Header().Get("Location"))
	}
}

func TestTwoFactorRateLimit(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.enrol2FA()
	b := a.browser()
	b.post("/signin", formOf("email", "owner@example.org", "password", ownerPassword))
	var last *resp
	for range 6 {
		last = b.post("/signin/2fa", formOf("code", "123456"))
	}
	if last.Code != http.StatusTooManyRequests {
		t.Fatalf("6 wrong codes: %d, want 429", last.Code)
	}
}

func TestRequire2FA(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.enrol2FA()
	f := formOf("name", "Cabinet Lumière", "default_lang", "fr", "time_zone", "Europe/Paris", "phone_region", "FR", "brand_color", "#2f5d62", "currency", "EUR", "require_2fa", "1")
	if r := owner.post("/settings", f); r.Code != http.StatusSeeOther {
		t.Fatalf("save settings: %d %s", r.Code, abbreviate(r.body))
	}
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	pat := a.signIn("pat@example.org", staffPassword)
	for _, path := range []string{"/", "/account"} {
		if r := pat.get(path); r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/account/2fa" {
			t.Errorf("GET %s without 2FA: %d %s", path, r.Code, r.Header().Get("Location"))
		}
	}
	mustContain(t, pat.get("/account/2fa"), "requires two-step verification")
	pat.enrol2FA()
	if r := pat.get("/"); r.Code != http.StatusOK {
		t.Fatalf("after enrolling: %d", r.Code)
	}
	// Required 2FA cannot be turned off.
	if r := pat.post("/account/2fa/disable", formOf("disable_password", staffPassword)); r.Code != http.StatusForbidden {
		t.Fatalf("disable while required: %d", r.Code)
	}
}

func TestDisable2FA(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	owner.enrol2FA()
	if r := owner.post("/account/2fa/disable", formOf("disable_password", "wrong password")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("wrong password: %d", r.Code)
	}
	if r := owner.post("/account/2fa/disable", formOf("disable_password", ownerPassword)); r.Code != http.StatusSeeOther {
		t.Fatalf("disable: %d", r.Code)
	}
	st, _ := a.st.StaffByEmail("owner@example.org")
	if st.TOTPEnabled || st.TOTPSecret != "" || len(st.RecoveryHashes) != 0 {
		t.Fatalf("2FA left behind: %+v", st)
	}
}

// TestTwoFactorHardening: recovery codes are stored under the store's HMAC
// key (older SHA-256 ones still work), turning 2FA off is rate limited, and
// wrong codes count in one bucket per member wherever they are typed.
func TestTwoFactorHardening(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	_, codes := owner.enrol2FA()
	st, _ := a.st.StaffByEmail("owner@example.org")
	if !bytes.Equal(st.RecoveryHashes[0], a.st.Hash(auth.RecoveryCodeInput(codes[0]))) || bytes.Equal(st.RecoveryHashes[0], auth.LegacyRecoveryHash(codes[0])) {
		t.Fatal("recovery codes are not stored under the store's key")
	}
	// A code stored the old way is still accepted, once.
	a.st.UpdateStaff(st.ID, func(x *store.Staff) error { x.RecoveryHashes[1] = auth.LegacyRecoveryHash(codes[1]); return nil })
	b := a.browser()
	b.post("/signin", formOf("email", "owner@example.org", "password", ownerPassword))
	if r := b.post("/signin/2fa", formOf("code", codes[1])); r.Code != http.StatusSeeOther {
		t.Fatalf("legacy recovery code: %d", r.Code)
	}
	// Turning 2FA off guesses the password: limited like changing it.
	var last *resp
	for range 6 {
		last = owner.post("/account/2fa/disable", formOf("disable_password", "not the password"))
	}
	if last.Code != http.StatusTooManyRequests {
		t.Fatalf("6 wrong passwords to turn 2FA off: %d", last.Code)
	}
	if st, _ := a.st.StaffByEmail("owner@example.org"); !st.TOTPEnabled {
		t.Fatal("2FA was turned off")
	}

	// Pat's wrong codes while enrolling and while signing in share a bucket.
	a.addStaff("Pat", "pat@example.org", store.RolePractitioner)
	pat := a.signIn("pat@example.org", staffPassword)
	patSecret, _ := pat.enrol2FA()
	a.st.UpdateStaff(2, func(x *store.Staff) error { x.TOTPEnabled, x.TOTPSecret = false, ""; return nil })
	pat.get("/account/2fa")
	for range 4 {
		pat.post("/account/2fa", formOf("code", "000000"))
	}
	a.st.UpdateStaff(2, func(x *store.Staff) error { x.TOTPEnabled = true; return nil })
	sealed, _ := a.st.Seal(patSecret)
	a.st.UpdateStaff(2, func(x *store.Staff) error { x.TOTPSecret = sealed; return nil })
	c := a.browser()
	c.post("/signin", formOf("email", "pat@example.org", "password", staffPassword))
	c.post("/signin/2fa", formOf("code", "000000"))
	if r := c.post("/signin/2fa", formOf("code", "000000")); r.Code != http.StatusTooManyRequests {
		t.Fatalf("wrong codes at enrolment and sign-in are counted apart: %d", r.Code)
	}
}
