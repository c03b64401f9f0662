package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/sessions"

	"foyer/auth"
	"foyer/store"
)

// SessionStore is a gorilla/sessions Store backed by bbolt: the cookie carries
// only a random 256-bit session ID; everything else stays on the server.
type SessionStore struct {
	st   *store.Store
	name string
	opts sessions.Options
	idle time.Duration
	life time.Duration
	now  func() time.Time
}

// Session value keys.
const (
	sessUserID     = "uid"
	sessAccountID  = "acct"
	sessCreated    = "_created"
	sessSeen       = "_seen" // last activity, read from the store; never written back as a value
	sessPendingUID = "pending_uid"
	sessPendingAt  = "pending_at"
	sessTOTPSecret = "totp_pending"
	sessFlash      = "flash"
	// sessBannerHidden is set once staff dismiss the delivery banner.
	sessBannerHidden = "banner_hidden"
)

func newSessionStore(st *store.Store, cfg Config, now func() time.Time) *SessionStore {
	name := "foyer_session"
	if cfg.Secure() {
		// __Host- makes the browser refuse the cookie unless Secure, Path=/ and no Domain.
		name = "__Host-foyer_session"
	}
	// Every option is set on purpose: gorilla/sessions 1.4 would otherwise
	// default to SameSite=None, no HttpOnly and 30 days.
	return &SessionStore{st: st, name: name, idle: cfg.IdleTimeout, life: cfg.SessionLifetime, now: now,
		opts: sessions.Options{Path: "/", MaxAge: 0, Secure: cfg.Secure(), HttpOnly: true, SameSite: http.SameSiteLaxMode}}
}

// Get returns the request's session (a new one when there is none).
func (s *SessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return s.New(r, name)
}

// New loads the session named by the request's cookie, or starts an empty one.
// An idle or too old session is deleted and replaced by an empty one.
func (s *SessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.opts
	sess.Options = &opts
	sess.IsNew = true
	id, ok := cookieValue(r, name)
	if !ok || len(id) != 43 {
		return sess, nil
	}
	rec, err := s.st.Session(id)
	if errors.Is(err, store.ErrNotFound) {
		return sess, nil
	}
	if err != nil {
		return sess, err
	}
	now := s.now()
	if now.Sub(rec.LastSeen) > s.idle || now.Sub(rec.CreatedAt) > s.life {
		_ = s.st.DeleteSession(id)
		return sess, nil
	}
	sess.ID = id
	sess.IsNew = false
	for k, v := range rec.Values {
		sess.Values[k] = v
	}
	if rec.UserID != 0 {
		sess.Values[sessUserID] = strconv.FormatUint(rec.UserID, 10)
	}
	if rec.AccountID != 0 {
		sess.Values[sessAccountID] = strconv.FormatUint(rec.AccountID, 10)
	}
	sess.Values[sessCreated] = strconv.FormatInt(rec.CreatedAt.UnixNano(), 10)
	sess.Values[sessSeen] = strconv.FormatInt(rec.LastSeen.UnixNano(), 10)
	return sess, nil
}

// Save writes the session and its cookie; MaxAge < 0 deletes both.
func (s *SessionStore) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.st.DeleteSession(sess.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	now := s.now().UTC()
	rec := store.Session{CreatedAt: now, LastSeen: now, Values: map[string]string{}}
	for k, v := range sess.Values {
		key, ok := k.(string)
		val, ok2 := v.(string)
		if !ok || !ok2 {
			return errors.New("handlers: session values must be strings")
		}
		switch key {
		case sessUserID:
			rec.UserID, _ = strconv.ParseUint(val, 10, 64)
		case sessAccountID:
			rec.AccountID, _ = strconv.ParseUint(val, 10, 64)
		case sessCreated:
			if n, err := strconv.ParseInt(val, 10, 64); err == nil {
				rec.CreatedAt = time.Unix(0, n).UTC()
			}
		case sessSeen:
			// LastSeen is always now when saving.
		default:
			rec.Values[key] = val
		}
	}
	if sess.ID == "" {
		sess.ID = auth.NewToken()
		rec.CreatedAt = now
		sess.Values[sessCreated] = strconv.FormatInt(now.UnixNano(), 10)
	}
	if err := s.st.SaveSession(sess.ID, rec); err != nil {
		return err
	}
	http.SetCookie(w, sessions.NewCookie(sess.Name(), sess.ID, sess.Options))
	return nil
}
