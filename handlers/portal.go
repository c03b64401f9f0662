package handlers

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"foyer/auth"
	"foyer/journal"
	"foyer/mail"
	"foyer/store"
	"foyer/views"
)

// Lifetimes of the portal's email links.
const (
	verifyTTL = 48 * time.Hour
	resetTTL  = time.Hour
)

// More limits on guessable or abusable portal actions.
var (
	limitSignup = policy{every: 2 * time.Minute, burst: 5}  // sign-ups per address
	limitResend = policy{every: 20 * time.Minute, burst: 3} // verification emails per email
	limitForgot = policy{every: 5 * time.Minute, burst: 3}  // reset emails per email and per address
	limitExists = policy{every: 6 * time.Hour, burst: 2}    // "you already have an account" emails per recipient
)

// portalPage is a page of the client portal.
func (h *Handler) portalPage(c echo.Context, title string) *views.Page {
	pg := h.page(c, title)
	pg.Portal = true
	pg.DeliveryWarning = ""
	return pg
}

func (h *Handler) portalSignInForm(c echo.Context) error {
	if currentAccount(c) != nil {
		return h.redirect(c, "/portal/account")
	}
	return h.renderShared(c, "portal_signin", "", func() *views.Page {
		pg := h.portalPage(c, "portal.signin_title")
		p, _ := h.currentPractice()
		pg.Data = struct{ AllowSignup bool }{p.AllowSignup}
		return pg
	})
}

// portalSignIn checks email and password; failures never say whether the email is known.
func (h *Handler) portalSignIn(c echo.Context) error {
	pg := h.portalPage(c, "portal.signin_title")
	p, _ := h.currentPractice()
	pg.Data = struct{ AllowSignup bool }{p.AllowSignup}
	var a store.Account
	// An unconfirmed account answers as a wrong password: whoever signed up
	// with someone else's email learns nothing and gets no session (a
	// pre-hijacked account stays useless).
	signedIn, err := h.passwordSignIn(c, pg, "portal_signin", "portal", "portal.signin_failed", func(email string) (string, func() bool, error) {
		var err error
		a, err = h.store.AccountByEmail(email)
		return a.PasswordHash, func() bool { return h.maySignIn(a) }, err
	}, func() {
		if a.ID != 0 {
			h.journal.Record(journal.Entry{AccountID: a.ID, ClientID: a.ClientID, Action: journal.SignInFailed, Detail: "portal", Addr: c.RealIP()})
		}
	})
	if !signedIn {
		return err
	}
	if err := h.startSession(c, sessAccountID, a.ID); err != nil {
		return err
	}
	h.journal.Record(journal.Entry{AccountID: a.ID, ClientID: a.ClientID, Action: journal.PortalSignIn, Addr: c.RealIP()})
	return h.redirect(c, "/portal/account")
}

// maySignIn reports whether a portal account whose password was just
// checked may have a session: its email confirmed, and not left on an
// archived client (archiving removes portal access; this catches an account
// an older Foyer left behind).
func (h *Handler) maySignIn(a store.Account) bool {
	if !a.Verified {
		return false
	}
	if a.ClientID != 0 {
		if cl, err := h.store.Client(a.ClientID); err != nil || cl.Archived {
			return false
		}
	}
	return true
}

func (h *Handler) portalSignOut(c echo.Context) error {
	sess := currentSession(c)
	if sess.Values[sessUserID] != nil {
		// A staff member signed in on the same browser stays signed in.
		delete(sess.Values, sessAccountID)
		if err := sess.Save(c.Request(), c.Response()); err != nil {
			return err
		}
	} else {
		sess.Options.MaxAge = -1
		if err := sess.Save(c.Request(), c.Response()); err != nil {
			return err
		}
	}
	h.setFlash(c, "flash.signed_out")
	return h.redirect(c, "/portal")
}

// portalMessage is a portal email to account a, in its language: kind is
// mail.PortalVerify, PortalReset or PortalExists; token, when set, goes into
// its link, and expires is when that link stops working (the message is not
// sent after it). It names the account and its client record, by which the
// client's erasure finds it.
func (h *Handler) portalMessage(a store.Account, kind, token string, expires time.Time) *store.Message {
	m := &store.Message{Channel: store.ChannelEmail, To: a.Email, Lang: a.Lang, Kind: kind, Secret: token,
		AccountID: a.ID, ClientID: a.ClientID, CreatedAt: h.now().UTC(), ExpiresAt: expires}
	if !expires.IsZero() {
		m.Args = map[string]string{"Expires": mail.TimeArg(expires)}
	}
	return m
}

// portalEmail queues a portal email; see portalMessage.
func (h *Handler) portalEmail(a store.Account, kind, token string, expires time.Time) error {
	return h.queue(h.portalMessage(a, kind, token, expires))
}

// sendVerification mails a fresh verification link (48 h, single use).
func (h *Handler) sendVerification(a store.Account) error {
	token := auth.NewToken()
	exp := h.now().Add(verifyTTL).UTC()
	if err := h.store.CreateAccountToken(token, store.AccountToken{AccountID: a.ID, Kind: store.TokenVerify, ExpiresAt: exp}); err != nil {
		return err
	}
	return h.portalEmail(a, mail.PortalVerify, token, exp)
}

type signupData struct{ Open bool }

func (h *Handler) signupForm(c echo.Context) error {
	return h.renderShared(c, "portal_signup", "", func() *views.Page {
		p, _ := h.currentPractice()
		pg := h.portalPage(c, "signup.title")
		pg.Data = signupData{Open: p.AllowSignup}
		pg.Form["lang"] = pg.Lang
		return pg
	})
}

// signup creates a prospect: an account not yet linked to a client record.
// Whether or not the email already has an account, the answer is the same,
// in words and in time: both paths check the same fields, take the same
// limit and run the same argon2, answer, and only then learn which they are
// (signUpAfter), so no store write, and no look-up of the email, happens
// before the answer.
func (h *Handler) signup(c echo.Context) error {
	p, _ := h.currentPractice()
	pg := h.portalPage(c, "signup.title")
	pg.Data = signupData{Open: p.AllowSignup}
	if !p.AllowSignup {
		return h.render(c, http.StatusForbidden, "portal_signup", pg)
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	first := f.name("first_name", 100, true)
	last := f.name("last_name", 100, true)
	email := f.email("email", true)
	phoneRaw := f.text("phone", 40, false)
	phone := ""
	if phoneRaw != "" {
		e164, _, ok := parsePhone(phoneRaw, p.PhoneRegion)
		if !ok {
			f.fail("phone", "clients.phone_invalid")
		}
		phone = e164
	}
	dob := f.birthDate("birth_date", h.now())
	lang := f.choice("lang", "fr", "en")
	password := f.newPassword("password")
	if !f.ok() {
		return h.invalid(c, "portal_signup", pg, f)
	}
	if !h.limits.allow("signup-ip:"+limitAddr(c), limitSignup) {
		return h.tooMany(c, "portal_signup", pg, f, "_form")
	}
	// The page linked to the information notice: which version, and when, is kept with the sign-up.
	ps, err := h.store.PrivacySettings()
	if err != nil {
		return err
	}
	// Hashed on both paths, whether the account will be made or not.
	a := &store.Account{Email: email, PasswordHash: auth.HashPassword(password), Lang: lang,
		SignUp: store.SignUp{FirstName: first, LastName: last, Phone: phone, BirthDate: dob,
			NoticeVersion: max(ps.NoticeVersion, 1), NoticeShown: h.now().UTC()}, CreatedAt: h.now().UTC()}
	done := h.portalPage(c, "signup.check_title")
	done.Data = checkEmailData{Email: email}
	if err := h.render(c, http.StatusOK, "portal_check_email", done); err != nil {
		return err
	}
	h.later("sign-up", func() error { return h.signUpAfter(a) })
	return nil
}

// signUpAfter does a sign-up's work once it is answered: the account, its
// link and the confirmation email commit together (a crash cannot leave an
// account nobody was asked to confirm), or, when the email has an account,
// its owner hears of it, a few times at most: repeated sign-ups must not
// turn Foyer into a mail cannon aimed at one inbox.
func (h *Handler) signUpAfter(a *store.Account) error {
	token := auth.NewToken()
	exp := h.now().Add(verifyTTL).UTC()
	m := h.portalMessage(*a, mail.PortalVerify, token, exp) // the store names the account it makes
	err := h.store.SignUp(a, token, exp, m)
	switch {
	case errors.Is(err, store.ErrEmailTaken):
		if !h.limits.allow("exists:"+store.NormalizeEmail(a.Email), limitExists) {
			return nil
		}
		existing, err := h.store.AccountByEmail(a.Email)
		if err != nil {
			return err
		}
		return h.portalEmail(existing, mail.PortalExists, "", time.Time{})
	case err != nil:
		return err
	}
	h.wakeOutbox()
	return nil
}

// verifyTries is how many wrong passwords a confirmation link survives.
const verifyTries = 5

// verifyData is the confirmation page's form target.
type verifyData struct{ Action string }

// verifyPage shows the confirmation form: opening the link alone changes
// nothing, since mail scanners open links too.
func (h *Handler) verifyPage(c echo.Context) error {
	if !h.limits.allow("token-ip:"+limitAddr(c), limitToken) {
		return errTooMany
	}
	t, err := h.store.PeekAccountToken(store.TokenVerify, c.Param("token"), h.now())
	if err != nil {
		return tokenError(err, "error.verify_invalid")
	}
	pg := h.portalPage(c, "verify.title")
	pg.Username = h.accountEmail(t.AccountID)
	pg.Data = verifyData{"/portal/verify/" + c.Param("token")}
	return h.render(c, http.StatusOK, "portal_verify", pg)
}

// verify confirms an email only for someone who also knows the password
// chosen at sign-up. Owning the inbox is not enough: whoever signed up first
// with someone else's address chose the password, and the owner confirming
// it would hand that person a verified account (pre-hijacking). Wrong
// passwords are rate-limited per account and void the link after verifyTries.
func (h *Handler) verify(c echo.Context) error {
	if !h.limits.allow("token-ip:"+limitAddr(c), limitToken) {
		return errTooMany
	}
	token := c.Param("token")
	t, err := h.store.PeekAccountToken(store.TokenVerify, token, h.now())
	if err != nil {
		return tokenError(err, "error.verify_invalid")
	}
	pg := h.portalPage(c, "verify.title")
	pg.Username = h.accountEmail(t.AccountID)
	pg.Data = verifyData{"/portal/verify/" + token}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	password := f.password("password")
	if !f.ok() {
		return h.invalid(c, "portal_verify", pg, f)
	}
	g, ok := h.limits.guess(limited("verify-acct:"+strconv.FormatUint(t.AccountID, 10), limitWrongPasswords))
	if !ok {
		return h.tooMany(c, "portal_verify", pg, f, "password")
	}
	a, err := h.store.Account(t.AccountID)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// argon2 runs here, outside any transaction; the hash checked is
	// compared again inside the one that confirms, so a password changed
	// in between does not count.
	if err != nil || !auth.VerifyPassword(a.PasswordHash, password) {
		return h.verifyFailed(c, token, pg, f)
	}
	confirmed, err := h.store.UseAccountToken(store.TokenVerify, token, h.now().UTC(), func(cur *store.Account) error {
		if subtle.ConstantTimeCompare([]byte(cur.PasswordHash), []byte(a.PasswordHash)) != 1 {
			return store.ErrStale
		}
		if !cur.Verified {
			cur.Verified, cur.VerifiedBy = true, "email"
		}
		return nil
	})
	if errors.Is(err, store.ErrStale) {
		return h.verifyFailed(c, token, pg, f)
	}
	if err != nil {
		return tokenError(err, "error.verify_invalid")
	}
	g.right()
	// The password was typed a moment ago: asking it again on the sign-in
	// page would only be a second chance to get it wrong.
	if h.maySignIn(confirmed) {
		if err := h.startSession(c, sessAccountID, confirmed.ID); err != nil {
			return err
		}
	}
	h.setFlash(c, "flash.email_verified")
	return h.redirect(c, "/portal/account")
}

// verifyFailed counts a wrong password against the link: the page says so
// beside the field while tries remain, and the link stops working after that.
func (h *Handler) verifyFailed(c echo.Context, token string, pg *views.Page, f *form) error {
	voided, err := h.store.FailAccountToken(store.TokenVerify, token, verifyTries)
	if err != nil {
		return tokenError(err, "error.verify_invalid")
	}
	if voided {
		// Said as it is: the person most likely mistyped their own password,
		// and needs a new link, not a guess at why this one died.
		return &Error{Status: http.StatusGone, Message: "error.verify_stopped", Action: "/portal/resend"}
	}
	f.fail("password", "verify.wrong_password")
	return h.invalid(c, "portal_verify", pg, f)
}

// accountEmail is the email of the portal account a link is for, for the
// password managers of the page it opens (Page.Username); "" if it is gone.
func (h *Handler) accountEmail(id uint64) string {
	a, _ := h.store.Account(id)
	return a.Email
}

// tokenError turns a missing or expired link into its localized page.
func tokenError(err error, key string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return httpError(http.StatusNotFound, key)
	case errors.Is(err, store.ErrExpired):
		return httpError(http.StatusGone, key)
	}
	return err
}

func (h *Handler) resendForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "portal_resend", h.portalPage(c, "resend.title"))
}

// resend mails a new confirmation link if the email has an account waiting
// for one. The answer is the same for every email, and the work happens
// after the answer, so neither its words nor its timing tell.
func (h *Handler) resend(c echo.Context) error {
	return h.askByEmail(c, h.portalPage(c, "resend.title"), "portal_resend", "resend", limitResend, "resend confirmation", func(email string) error {
		a, err := h.store.AccountByEmail(email)
		if errors.Is(err, store.ErrNotFound) || (err == nil && a.Verified) {
			return nil
		} else if err != nil {
			return err
		}
		return h.sendVerification(a)
	}, h.portalPage(c, "resend.sent_title"), "")
}

// askByEmail is the first step of every "email me a link" form: the email is
// checked beside its field, and the answer is the same done page for every
// email. The work happens after the answer: a known email must not answer
// slower than an unknown one. Two limits apply: per address, which refuses
// (it is the asker's own), and per email (limitKey, perEmail), behind it,
// which only skips the work: whoever asks for someone else's address from
// elsewhere can spend that email's emails, never show its owner an error.
// The emails that did go carry links that all work (store.LiveLinks).
func (h *Handler) askByEmail(c echo.Context, pg *views.Page, view, limitKey string, perEmail policy, job string, work func(email string) error, done *views.Page, back string) error {
	f, err := newForm(c)
	if err != nil {
		return err
	}
	email := f.email("email", true)
	if !f.ok() {
		return h.invalid(c, view, pg, f)
	}
	if !h.limits.allow(limitKey+"-ip:"+limitAddr(c), limitForgot) {
		return h.tooMany(c, view, pg, f, "_form")
	}
	if h.limits.allow(limitKey+":"+store.NormalizeEmail(email), perEmail) {
		h.later(job, func() error { return work(email) })
	}
	done.Data = checkEmailData{Email: email, Back: back}
	return h.render(c, http.StatusOK, "portal_check_email", done)
}

func (h *Handler) forgotForm(c echo.Context) error {
	return h.renderShared(c, "portal_forgot", "", func() *views.Page { return h.portalPage(c, "forgot.title") })
}

// forgot mails a reset link if the email has an account; the answer is the same either way.
func (h *Handler) forgot(c echo.Context) error {
	return h.askByEmail(c, h.portalPage(c, "forgot.title"), "portal_forgot", "forgot", limitForgot, "password reset", func(email string) error {
		a, err := h.store.AccountByEmail(email)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		token := auth.NewToken()
		exp := h.now().Add(resetTTL).UTC()
		if err := h.store.CreateAccountToken(token, store.AccountToken{AccountID: a.ID, Kind: store.TokenReset, ExpiresAt: exp}); err != nil {
			return err
		}
		return h.portalEmail(a, mail.PortalReset, token, exp)
	}, h.portalPage(c, "forgot.sent_title"), "")
}

func (h *Handler) resetPage(c echo.Context) (*views.Page, error) {
	if !h.limits.allow("token-ip:"+limitAddr(c), limitToken) {
		return nil, errTooMany
	}
	t, err := h.store.PeekAccountToken(store.TokenReset, c.Param("token"), h.now())
	if err != nil {
		return nil, tokenError(err, "error.reset_invalid")
	}
	pg := h.portalPage(c, "reset.title")
	pg.Username = h.accountEmail(t.AccountID)
	pg.Data = struct{ Action string }{"/portal/reset/" + c.Param("token")}
	return pg, nil
}

// reset sets a new password; following the emailed link also proves the email.
func (h *Handler) reset(c echo.Context) error {
	return h.setPasswordByLink(c, h.resetPage, "portal_reset", "/portal", func(hash string) error {
		a, err := h.store.UseAccountToken(store.TokenReset, c.Param("token"), h.now(), func(a *store.Account) error {
			a.PasswordHash, a.StaffPassword = hash, false
			if !a.Verified {
				a.Verified, a.VerifiedBy = true, "email"
			}
			return nil
		})
		if err != nil {
			return tokenError(err, "error.reset_invalid")
		}
		_, err = h.store.DeleteAccountSessions(a.ID, "")
		return err
	})
}

// setPasswordByLink is the second step of every emailed password link (a
// portal or staff reset, a staff invitation): page checks the link, the new
// password is checked beside its field, hashed before any transaction, and
// use spends the link and stores the hash. Then back to sign in.
func (h *Handler) setPasswordByLink(c echo.Context, page func(echo.Context) (*views.Page, error), view, next string, use func(hash string) error) error {
	pg, err := page(c)
	if err != nil {
		return err
	}
	f, err := newForm(c)
	if err != nil {
		return err
	}
	password := f.newPassword("password")
	if !f.ok() {
		return h.invalid(c, view, pg, f)
	}
	if err := use(auth.HashPassword(password)); err != nil {
		return err
	}
	h.setFlash(c, "flash.password_set")
	return h.redirect(c, next)
}
