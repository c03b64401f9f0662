package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/auth"
	"foyer/journal"
	"foyer/store"
	"foyer/views"
)

// pendingTTL is how long the second sign-in step may follow the first.
const pendingTTL = 5 * time.Minute

// startSession signs someone in on a fresh session ID (no fixation): key is
// sessUserID for a staff member, sessAccountID for a portal account.
func (h *Handler) startSession(c echo.Context, key string, id uint64) error {
	sess := currentSession(c)
	if sess.ID != "" {
		if err := h.store.DeleteSession(sess.ID); err != nil {
			return err
		}
	}
	sess.ID = ""
	sess.Values = map[any]any{key: strconv.FormatUint(id, 10)}
	return sess.Save(c.Request(), c.Response())
}

func (h *Handler) signInForm(c echo.Context) error {
	if currentUser(c) != nil {
		return h.redirect(c, "/")
	}
	return h.renderShared(c, "signin", "", func() *views.Page { return h.page(c, "signin.title") })
}

// signIn checks email and password; with 2FA on, it leads to the code step.
// Every failure reads the same, whether or not the email exists.
func (h *Handler) signIn(c echo.Context) error {
	var st store.Staff
	// Invited and deactivated members answer as a wrong password.
	signedIn, err := h.passwordSignIn(c, h.page(c, "signin.title"), "signin", "signin", "signin.failed", func(email string) (string, func() bool, error) {
		var err error
		st, err = h.store.StaffByEmail(email)
		return st.PasswordHash, func() bool { return st.Active }, err
	}, func() {
		// The account tried, if there is one; never the email typed, which
		// may be anyone's.
		h.journal.Record(journal.Entry{StaffID: st.ID, Action: journal.SignInFailed, Addr: c.RealIP()})
	})
	if !signedIn {
		return err
	}
	if st.TOTPEnabled {
		sess := currentSession(c)
		sess.Values[sessPendingUID] = strconv.FormatUint(st.ID, 10)
		sess.Values[sessPendingAt] = strconv.FormatInt(h.now().Unix(), 10)
		if err := sess.Save(c.Request(), c.Response()); err != nil {
			return err
		}
		return h.redirect(c, "/signin/2fa")
	}
	if err := h.startSession(c, sessUserID, st.ID); err != nil {
		return err
	}
	h.journal.Record(journal.Entry{StaffID: st.ID, Action: journal.SignIn, Addr: c.RealIP()})
	return h.redirect(c, "/")
}

// passwordSignIn runs what the staff and portal sign-in forms share: the
// form, the limits of scope, a hash verified for every email whatever the
// account's state (the time taken tells nothing), and one answer, failMsg,
// for every failure. lookup finds the account by email and returns its hash
// and a check that it may sign in, asked only once the password matched;
// failed is told of a wrong password or an account that may not sign in.
// signedIn false means the answer is written (or err says why not).
func (h *Handler) passwordSignIn(c echo.Context, pg *views.Page, view, scope, failMsg string, lookup func(email string) (hash string, usable func() bool, err error), failed func()) (signedIn bool, err error) {
	f, err := newForm(c)
	if err != nil {
		return false, err
	}
	email := f.text("email", 254, true)
	password := f.password("password")
	if !f.ok() {
		return false, h.invalid(c, view, pg, f)
	}
	g, ok := h.signInAllowed(c, scope, email)
	if !ok {
		return false, h.tooMany(c, view, pg, f, "_form")
	}
	hash, usable, err := lookup(email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	match := auth.VerifyPassword(hash, password)
	if err != nil || !match || !usable() {
		failed()
		h.limits.failed(scope + "-fail:" + store.NormalizeEmail(email))
		f.fail("_form", failMsg)
		return false, h.invalid(c, view, pg, f)
	}
	// Only wrong passwords count. The failures of the email from anywhere
	// are not forgotten either: the person signing in would otherwise hand
	// whoever guesses at their email from elsewhere fresh undelayed tries.
	g.right()
	return true, nil
}

// signInAllowed applies the limits of a sign-in attempt (scope "signin" for
// staff, "portal" for clients), which count wrong passwords: per address,
// and per email from that address, both refusing when spent; per email from
// anywhere, a growing delay before the answer, never a refusal, so that
// nobody can keep a user out with one try a minute. The guess it returns
// gives its tokens back when the password proves right.
func (h *Handler) signInAllowed(c echo.Context, scope, email string) (guess, bool) {
	ip, em := limitAddr(c), store.NormalizeEmail(email)
	g, ok := h.limits.guess(limited("signin-ip:"+ip, limitWrongPasswordsIP), limited(scope+"-acct:"+em+"|"+ip, limitWrongPasswords))
	if !ok {
		return g, false
	}
	h.sleep(c.Request().Context(), h.limits.failureDelay(scope+"-fail:"+em))
	return g, true
}

// pendingUser is the staff member between password and code, if still in time.
func (h *Handler) pendingUser(c echo.Context) uint64 {
	sess := currentSession(c)
	id, _ := strconv.ParseUint(str(sess.Values[sessPendingUID]), 10, 64)
	at, _ := strconv.ParseInt(str(sess.Values[sessPendingAt]), 10, 64)
	if id == 0 || h.now().Sub(time.Unix(at, 0)) > pendingTTL {
		return 0
	}
	return id
}

func (h *Handler) signIn2FAForm(c echo.Context) error {
	if h.pendingUser(c) == 0 {
		return h.redirect(c, "/signin")
	}
	return h.render(c, http.StatusOK, "signin_2fa", h.page(c, "twofa.signin_title"))
}

// signIn2FA accepts a TOTP code (each at most once) or a recovery code.
func (h *Handler) signIn2FA(c echo.Context) error {
	uid := h.pendingUser(c)
	if uid == 0 {
		return h.redirect(c, "/signin")
	}
	pg := h.page(c, "twofa.signin_title")
	f, err := newForm(c)
	if err != nil {
		return err
	}
	code := f.text("code", 32, true)
	if !f.ok() {
		return h.invalid(c, "signin_2fa", pg, f)
	}
	g, ok := h.limits.guess(limited("signin-ip:"+limitAddr(c), limitWrongPasswordsIP), limited(twoFALimitKey(uid), limitWrongTwoFA))
	if !ok {
		return h.tooMany(c, "signin_2fa", pg, f, "code")
	}
	st, err := h.store.Staff(uid)
	if err != nil || !st.Active || !st.TOTPEnabled {
		return h.redirect(c, "/signin")
	}
	accepted, reason, err := h.checkSecondFactor(st, code)
	if err != nil {
		return err
	}
	if !accepted {
		h.journal.Record(journal.Entry{StaffID: st.ID, Action: journal.SignInFailed, Detail: "2fa", Addr: c.RealIP()})
		f.fail("code", reason)
		return h.invalid(c, "signin_2fa", pg, f)
	}
	g.right()
	if err := h.startSession(c, sessUserID, st.ID); err != nil {
		return err
	}
	h.journal.Record(journal.Entry{StaffID: st.ID, Action: journal.SignIn, Detail: "2fa", Addr: c.RealIP()})
	return h.redirect(c, "/")
}

// checkSecondFactor tries code as a TOTP code, then as a recovery code. A
// TOTP code is accepted once only: pquerna/otp alone would accept it again.
func (h *Handler) checkSecondFactor(st store.Staff, code string) (ok bool, reason string, err error) {
	secret, err := h.store.Unseal(st.TOTPSecret)
	if err != nil {
		return false, "", err
	}
	if step, match := auth.MatchTOTP(secret, code, h.now()); match {
		fresh, err := h.store.UseTOTPStep(st.ID, step)
		if err != nil {
			return false, "", err
		}
		if !fresh {
			return false, "twofa.code_used", nil
		}
		return true, "", nil
	}
	if len(code) >= 10 {
		// Keyed with the store's HMAC key; codes made before that was so
		// are kept as plain SHA-256 and still accepted.
		want, legacy := h.store.Hash(auth.RecoveryCodeInput(code)), auth.LegacyRecoveryHash(code)
		used, err := h.store.UseRecoveryCode(st.ID, func(h []byte) bool { return auth.Equal(h, want) || auth.Equal(h, legacy) })
		if err != nil || used {
			return used, "", err
		}
	}
	return false, "twofa.wrong_code", nil
}

func (h *Handler) signOut(c echo.Context) error {
	sess := currentSession(c)
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	h.setFlash(c, "flash.signed_out")
	return h.redirect(c, "/signin")
}

// signOutEverywhere ends every session of the user, this one included.
func (h *Handler) signOutEverywhere(c echo.Context) error {
	if _, err := h.store.DeleteUserSessions(currentUser(c).ID, ""); err != nil {
		return err
	}
	return h.signOut(c)
}
