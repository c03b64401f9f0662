package handlers

import (
	"bytes"
	"html/template"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/auth"
	"foyer/store"
	"foyer/views"
)

type accountData struct{ Sessions int }

func (h *Handler) accountPage(c echo.Context) (*views.Page, error) {
	user := currentUser(c)
	pg := h.page(c, "account.title")
	pg.Username = user.Email
	n, err := h.store.CountUserSessions(user.ID)
	if err != nil {
		return nil, err
	}
	pg.Data = accountData{Sessions: n}
	pg.Form["name"] = user.Name
	pg.Form["lang"] = pg.Lang
	pg.Form["professional_no"] = user.ProfessionalNo
	return pg, nil
}

// professionalNo is an RPPS number (11 digits) or an ADELI number (9
// characters: digits, with 2A or 2B for Corsica).
var professionalNo = regexp.MustCompile(`^(\d{11}|\d{9}|2[AB]\d{7})$`)

// updateProfile saves the name and language; the language also becomes the visitor's choice.
func (h *Handler) updateProfile(c echo.Context) error {
	pg, err := h.accountPage(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	name := f.name("name", 100, true)
	lang := f.choice("lang", "en", "fr")
	proNo := strings.ToUpper(strings.ReplaceAll(f.text("professional_no", 20, false), " ", ""))
	if proNo != "" && !professionalNo.MatchString(proNo) {
		f.fail("professional_no", "account.professional_no_invalid")
	}
	if !f.ok() {
		return h.invalid(c, "account", pg, f)
	}
	if _, err := h.store.UpdateStaff(currentUser(c).ID, func(st *store.Staff) error {
		st.Name, st.Lang, st.ProfessionalNo = name, lang, proNo
		return nil
	}); err != nil {
		return err
	}
	h.setLangCookie(c, lang)
	h.setFlash(c, "flash.saved")
	return h.redirect(c, "/account")
}

// passwordAgain checks the password a signed-in staff member types again
// before something that a session left open must not give (a new password,
// the secret key); wrong ones are limited per account as at sign-in. When it is not
// right it has answered with the page name, the error beside field, and
// returns false (and the error of that answer). failed, if not nil, is told
// of each wrong password and each try refused for too many (limited).
func (h *Handler) passwordAgain(c echo.Context, user *store.Staff, password, name string, pg *views.Page, f *form, field string, failed func(limited bool)) (bool, error) {
	g, ok := h.limits.guess(limited(passwordLimitKey(user.ID), limitWrongPasswords))
	if !ok {
		if failed != nil {
			failed(true)
		}
		return false, h.tooMany(c, name, pg, f, field)
	}
	if !auth.CheckPassword(user.PasswordHash, password) {
		if failed != nil {
			failed(false)
		}
		f.fail(field, "account.wrong_password")
		return false, h.invalid(c, name, pg, f)
	}
	g.right()
	return true, nil
}

// changePassword needs the current password, and ends the user's other sessions.
func (h *Handler) changePassword(c echo.Context) error {
	user := currentUser(c)
	pg, err := h.accountPage(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	current := f.password("current")
	next := f.newPassword("new")
	if !f.ok() {
		return h.invalid(c, "account", pg, f)
	}
	if ok, err := h.passwordAgain(c, user, current, "account", pg, f, "current", nil); !ok {
		return err
	}
	// Hashed before the write transaction: argon2 would hold every other writer.
	hash := auth.HashPassword(next)
	if _, err := h.store.UpdateStaff(user.ID, func(st *store.Staff) error {
		st.PasswordHash = hash
		return nil
	}); err != nil {
		return err
	}
	if _, err := h.store.DeleteUserSessions(user.ID, currentSession(c).ID); err != nil {
		return err
	}
	h.setFlash(c, "flash.password_changed")
	return h.redirect(c, "/account")
}

type enrolData struct{ Secret string }

// pendingSecret is the TOTP secret being enrolled, kept sealed in the session
// until confirmed; the first call makes it.
func (h *Handler) pendingSecret(c echo.Context) (string, error) {
	sess := currentSession(c)
	if s := str(sess.Values[sessTOTPSecret]); s != "" {
		return h.store.Unseal(s)
	}
	p, _ := h.currentPractice()
	key, err := auth.NewTOTPKey(p.Name, currentUser(c).Email)
	if err != nil {
		return "", err
	}
	sealed, err := h.store.Seal(key.Secret())
	if err != nil {
		return "", err
	}
	sess.Values[sessTOTPSecret] = sealed
	return key.Secret(), sess.Save(c.Request(), c.Response())
}

// enrolPage is the enrolment page, with the secret it shows.
func (h *Handler) enrolPage(c echo.Context) (*views.Page, string, error) {
	secret, err := h.pendingSecret(c)
	if err != nil {
		return nil, "", err
	}
	pg := h.page(c, "twofa.enrol_title")
	pg.Data = enrolData{Secret: groupBy4(secret)}
	return pg, secret, nil
}

func (h *Handler) enrol2FAForm(c echo.Context) error {
	if currentUser(c).TOTPEnabled {
		return h.redirect(c, "/account")
	}
	pg, _, err := h.enrolPage(c)
	if err != nil {
		return err
	}
	return h.render(c, http.StatusOK, "twofa_enrol", pg)
}

// enrol2FA confirms the app with a first code, then shows the recovery codes once.
func (h *Handler) enrol2FA(c echo.Context) error {
	user := currentUser(c)
	if user.TOTPEnabled {
		return h.redirect(c, "/account")
	}
	pg, secret, err := h.enrolPage(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	code := f.text("code", 32, true)
	if !f.ok() {
		return h.invalid(c, "twofa_enrol", pg, f)
	}
	g, ok := h.limits.guess(limited(twoFALimitKey(user.ID), limitWrongTwoFA))
	if !ok {
		return h.tooMany(c, "twofa_enrol", pg, f, "code")
	}
	step, ok := auth.MatchTOTP(secret, code, h.now())
	if !ok {
		f.fail("code", "twofa.wrong_code")
		return h.invalid(c, "twofa_enrol", pg, f)
	}
	g.right()
	sealed, err := h.store.Seal(secret)
	if err != nil {
		return err
	}
	codes, hashes := auth.NewRecoveryCodes(10, h.store.Hash)
	if _, err := h.store.UpdateStaff(user.ID, func(st *store.Staff) error {
		st.TOTPSecret, st.TOTPEnabled, st.TOTPLastStep, st.RecoveryHashes = sealed, true, step, hashes
		return nil
	}); err != nil {
		return err
	}
	sess := currentSession(c)
	delete(sess.Values, sessTOTPSecret)
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	pg = h.page(c, "twofa.recovery_title")
	pg.Data = recoveryData{Codes: codes, File: recoveryFile(pg, user.Email, codes, h.now())}
	return h.render(c, http.StatusOK, "twofa_recovery", pg)
}

type recoveryData struct {
	Codes []string
	// File is the codes as a text file to download, in a data: URL: they are
	// shown once and kept only hashed, so the server cannot send them again.
	File template.URL
}

// recoveryFile writes the recovery codes as a text file saying whose they are.
func recoveryFile(pg *views.Page, email string, codes []string, now time.Time) template.URL {
	var b strings.Builder
	b.WriteString(pg.T("twofa.recovery_file", "Email", email, "Practice", pg.Practice.Name, "Date", pg.Date(now)))
	b.WriteString("\n\n")
	for _, c := range codes {
		b.WriteString(c + "\n")
	}
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(b.String()))
}

// qrCode draws the otpauth:// URL of the secret being enrolled.
func (h *Handler) qrCode(c echo.Context) error {
	sealed := str(currentSession(c).Values[sessTOTPSecret])
	if sealed == "" {
		return errNotFound
	}
	secret, err := h.store.Unseal(sealed)
	if err != nil {
		return err
	}
	p, _ := h.currentPractice()
	key, err := auth.TOTPKeyURL(p.Name, currentUser(c).Email, secret)
	if err != nil {
		return err
	}
	img, err := key.Image(200, 200)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "image/png", buf.Bytes())
}

// disable2FA turns two-factor off after the password is confirmed, unless the practice requires it.
func (h *Handler) disable2FA(c echo.Context) error {
	user := currentUser(c)
	p, _ := h.currentPractice()
	if p.Require2FA {
		return errForbidden
	}
	pg, err := h.accountPage(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	pw := f.password("disable_password")
	if !f.ok() {
		return h.invalid(c, "account", pg, f)
	}
	if ok, err := h.passwordAgain(c, user, pw, "account", pg, f, "disable_password", nil); !ok {
		return err
	}
	if _, err := h.store.UpdateStaff(user.ID, func(st *store.Staff) error {
		st.TOTPSecret, st.TOTPEnabled, st.RecoveryHashes = "", false, nil
		return nil
	}); err != nil {
		return err
	}
	h.setFlash(c, "flash.twofa_off")
	return h.redirect(c, "/account")
}

// groupBy4 spaces a base32 secret for reading aloud or typing.
func groupBy4(s string) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// The limit keys of a staff member's wrong guesses, by ID wherever they are
// made: the password typed again (changing it, turning 2FA off, the secret
// key) and the second-factor code (signing in, enrolling) each draw on one
// bucket.
func passwordLimitKey(id uint64) string { return "password:" + strconv.FormatUint(id, 10) }
func twoFALimitKey(id uint64) string    { return "2fa:" + strconv.FormatUint(id, 10) }
