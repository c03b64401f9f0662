package handlers

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"foyer/share"
	"foyer/store"
)

// The security-code steps of a share link, the same for every kind of share
// (documents and presos differ in their pages, not in these steps). Both
// steps answer with a redirect, never with a page (Post/Redirect/Get): the
// code-entry page is a GET, so Back after verifying and a reload land on a
// real page instead of "Confirm Form Resubmission" — and a reload never asks
// for another code. What the redirected page must say (a wrong code, a code
// asked for too soon) travels in a short-lived cookie of the share, signed
// with the store's key: the URL holds nothing but the token it already had.

// codeStep is what the code steps need to know of a kind of share.
type codeStep struct {
	Share store.Share
	// Base is the link's path (routeLink); an ended or locked share goes there.
	Base string
	// Entry is the code-entry page.
	Entry string
	// Msg is the namespace of the messages the pages show ("share" or "landing").
	Msg string
}

// codeNote is what a code step tells the code-entry page it redirects to.
// maxNoteEcho bounds each value a code note carries back to its page.
const maxNoteEcho = 300

type codeNote struct {
	// Field is where the message goes: "code", or "_form" for the page.
	Field string `json:"f"`
	Msg   string `json:"m"`
	// TriesLeft is shown after a wrong code.
	TriesLeft int   `json:"n,omitempty"`
	Expires   int64 `json:"e"`
	// Errors and Form are the field errors and values of a form sent back to
	// the page it came from ("Not on the list?": name and email).
	Errors map[string]string `json:"x,omitempty"`
	Form   map[string]string `json:"v,omitempty"`
	// Args are the values those messages need, such as a length limit.
	Args map[string][]any `json:"a,omitempty"`
	// Refused says a request for a code was refused by its limits.
	Refused bool `json:"r,omitempty"`
}

// noteFields are the fields a note may speak of.
var noteFields = map[string]bool{"code": true, "_form": true, "name": true, "email": true}

// codeNoteLife is how long a note waits for the page it is meant for.
const codeNoteLife = 2 * time.Minute

// codeNotePrefix begins the name of every code note's cookie.
const codeNotePrefix = "foyer_sn_"

func (h *Handler) codeNoteCookie(id uint64) string {
	name := codeNotePrefix + hex.EncodeToString(h.store.Hash("share-note\x00" + strconv.FormatUint(id, 10))[:8])
	if h.cfg.Secure() {
		return "__Secure-" + name
	}
	return name
}

func (h *Handler) codeNoteMAC(id uint64, payload string) string {
	return base64.RawURLEncoding.EncodeToString(h.store.Hash("share-note\x00" + strconv.FormatUint(id, 10) + "\x00" + payload)[:16])
}

// setCodeNote leaves n for the next code-entry page of share id.
func (h *Handler) setCodeNote(c echo.Context, id uint64, n codeNote) {
	n.Expires = h.now().Add(codeNoteLife).Unix()
	// A browser drops a cookie over 4 KB, and the message with it: what was
	// typed comes back cut to a length no real name or address reaches.
	for k, v := range n.Form {
		if utf8.RuneCountInString(v) > maxNoteEcho {
			n.Form[k] = string([]rune(v)[:maxNoteEcho])
		}
	}
	raw, _ := json.Marshal(n)
	payload := base64.RawURLEncoding.EncodeToString(raw)
	c.SetCookie(&http.Cookie{Name: h.codeNoteCookie(id), Value: payload + "." + h.codeNoteMAC(id, payload), Path: "/s/",
		MaxAge: int(codeNoteLife / time.Second), HttpOnly: true, Secure: h.cfg.Secure(), SameSite: http.SameSiteLaxMode})
}

// takeCodeNote reads and removes the note left for share id's code-entry
// page; a note altered, too old or of another share says nothing.
func (h *Handler) takeCodeNote(c echo.Context, id uint64) (codeNote, bool) {
	if !mayHoldCookie(c.Request(), codeNotePrefix) {
		return codeNote{}, false
	}
	name := h.codeNoteCookie(id)
	value, held := cookieValue(c.Request(), name)
	if !held {
		return codeNote{}, false
	}
	var n codeNote // decoded into, so on the heap: only for a note held
	h.expireCookie(c, name)
	payload, mac, ok := strings.Cut(value, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(h.codeNoteMAC(id, payload))) {
		return n, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(payload)
	if err != nil || json.Unmarshal(raw, &n) != nil || h.now().Unix() > n.Expires || (n.Field != "" && !noteFields[n.Field]) {
		return codeNote{}, false
	}
	for k := range n.Errors {
		if !noteFields[k] {
			return codeNote{}, false
		}
	}
	return n, true
}

// sendCode is "Send security code": issue sends the code (the share
// engine's IssueCode, with its limits), then the browser goes to the
// code-entry page, which says why when no code was sent.
func (h *Handler) sendCode(c echo.Context, st codeStep, issue func() error) error {
	err := issue()
	var limit *share.LimitError
	switch {
	case errors.As(err, &limit):
		// The limit is the number's, across every link: the page names only
		// that number (masked), the one the visitor chose, and says the code
		// may have been someone else's, so it reads true to whoever shares
		// the phone and tells nothing of the link it went through.
		msg := ".code_too_soon_"
		switch {
		case errors.Is(err, share.ErrTooMany):
			msg = ".code_too_many_"
		case errors.Is(err, share.ErrTooManyHere):
			msg = ".code_too_many_here_"
		}
		msg += string(limit.Target.Channel) // "au 06…" but "à ana@…" in French
		h.setCodeNote(c, st.Share.ID, codeNote{Field: "_form", Msg: st.Msg + msg, Refused: true,
			Args: map[string][]any{"_form": {"To", keepTogether(limit.Target.Masked())}}})
	case errors.Is(err, share.ErrLocked), errors.Is(err, share.ErrEnded), errors.Is(err, share.ErrRefused):
		// The link's own page says it no longer opens.
		return h.redirect(c, st.Base)
	case err != nil:
		return err
	default:
		h.wakeOutbox()
	}
	return h.redirect(c, st.Entry)
}

// codesHeld reports whether a code sent on ch waits in the outbox: the
// channel has no delivery, and the owner alone can read the code there and
// pass it on. What a code page advises depends on it: asking for another
// code helps only when codes go out.
func (h *Handler) codesHeld(ch store.Channel) bool {
	return h.outbox != nil && !h.outbox.Configured(ch)
}

// codeHelp is the message ID of what to do when a code sent on ch has not
// arrived: help (then the channel) when codes go out, held when they wait.
func (h *Handler) codeHelp(help, held string, ch store.Channel) string {
	if h.codesHeld(ch) {
		return held + string(ch)
	}
	return help + string(ch)
}

// checkCode checks the code entered through check (nil: the share engine's
// CheckCode for the first recipient, with nothing more to write), which uses it up and lets the
// visitor in, in one write. When the code opens the share, it returns the
// check (with the new session) for the caller to set the cookie; otherwise
// it has answered with a redirect to the code-entry page (or the link's
// page) and reports answered. share.ErrRefused (the code's recipient may no
// longer come in) is left to the caller.
func (h *Handler) checkCode(c echo.Context, st codeStep, check func(code string) (share.Check, error)) (res share.Check, answered bool, err error) {
	f, err := newForm(c)
	if err != nil {
		return res, true, err
	}
	// Spaces and dashes are typing; any other non-digit (full-width and
	// Arabic digits too) makes the code wrong rather than read as another code.
	code := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r == ' ' || r == '-' {
			return -1
		}
		return 'x'
	}, f.text("code", 20, true))
	note := func(n codeNote) (share.Check, bool, error) {
		h.setCodeNote(c, st.Share.ID, n)
		return res, true, h.redirect(c, st.Entry)
	}
	if !f.ok() {
		return note(codeNote{Field: "code", Msg: f.errs["code"]})
	}
	// Only failed codes count against the address: the entry holds a token
	// until its answer is known (so entries sent at once cannot all pass
	// before the first failure counts), and one that is not a wrong, expired
	// or void code gives it back. A recipient behind the same address as
	// someone mistyping must still get in.
	g, ok := h.limits.guess(limited(shareCodeKey(c), limitShareCode))
	if !ok {
		return note(codeNote{Field: "code", Msg: "signin.too_many"})
	}
	if check == nil {
		check = func(code string) (share.Check, error) {
			return h.shares.CheckCode(st.Share.ID, 0, code, c.Request().UserAgent(), nil)
		}
	}
	res, err = check(code)
	if err != nil || res.Result == share.CodeOK {
		g.right()
	}
	if errors.Is(err, share.ErrEnded) || errors.Is(err, share.ErrLocked) {
		return res, true, h.redirect(c, st.Base)
	} else if err != nil {
		return res, false, err
	}
	switch res.Result {
	case share.CodeOK:
		return res, false, nil
	case share.CodeLocked:
		return res, true, h.redirect(c, st.Base)
	case share.CodeWrong:
		return note(codeNote{Field: "code", Msg: st.Msg + ".code_wrong", TriesLeft: res.TriesLeft})
	case share.CodeExpired:
		return note(codeNote{Field: "code", Msg: st.Msg + ".code_expired"})
	case share.CodeWornOut:
		return note(codeNote{Field: "code", Msg: st.Msg + ".code_worn_out"})
	default:
		return note(codeNote{Field: "code", Msg: st.Msg + ".code_void"})
	}
}
