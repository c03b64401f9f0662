package share

import (
	"errors"
	"time"

	"foyer/auth"
	"foyer/store"
)

// touchEvery spaces the writes that keep a session's idle clock honest.
const touchEvery = time.Minute

func (e *Engine) startSession(id uint64, recipient int) (string, error) {
	sid := auth.NewToken()
	now := e.now().UTC()
	if err := e.st.SaveShareSession(sid, store.ShareSession{ShareID: id, Recipient: recipient, CreatedAt: now, LastSeen: now}); err != nil {
		return "", err
	}
	return sid, nil
}

// Enter opens a share that lets anyone with the link in: the visitor picked a
// recipient's name (identified) or went on anonymously (recipient -1, with the
// name they typed, if any). It records the event and returns the session ID.
func (e *Engine) Enter(id uint64, recipient int, name, ua string) (string, error) {
	sh, err := e.Get(id)
	if err != nil {
		return "", err
	}
	if err := e.Usable(sh); err != nil {
		return "", err
	}
	if sh.Visibility != store.VisibilityAnyone {
		return "", ErrNoSession
	}
	if recipient >= len(sh.Recipients) || recipient < -1 {
		return "", ErrBadTarget
	}
	ev := store.ShareEvent{Type: EventIdentified, Recipient: recipient, UserAgent: ua, Detail: name}
	if recipient < 0 && name == "" {
		ev.Type = EventAnonymous
	}
	if err := e.Record(id, ev); err != nil {
		return "", err
	}
	return e.startSession(id, recipient)
}

// Session returns the live verified session sid on share id. A session bound to
// another share, idle for SessionIdle, or on a share no longer usable gives ErrNoSession.
func (e *Engine) Session(sid string, sh store.Share) (store.ShareSession, error) {
	if len(sid) != 43 {
		return store.ShareSession{}, ErrNoSession
	}
	ss, err := e.st.ShareSession(sid)
	if errors.Is(err, store.ErrNotFound) {
		return ss, ErrNoSession
	}
	if err != nil {
		return ss, err
	}
	now := e.now().UTC()
	if ss.ShareID != sh.ID || e.Usable(sh) != nil {
		return store.ShareSession{}, ErrNoSession
	}
	if now.Sub(ss.LastSeen) >= SessionIdle {
		_ = e.st.DeleteShareSession(sid)
		return store.ShareSession{}, ErrNoSession
	}
	if now.Sub(ss.LastSeen) > touchEvery {
		ss.LastSeen = now
		if err := e.st.SaveShareSession(sid, ss); err != nil {
			return ss, err
		}
	}
	return ss, nil
}

// EndSession ends a verified session (the visitor left, or deleted the documents).
func (e *Engine) EndSession(sid string) error { return e.st.DeleteShareSession(sid) }
