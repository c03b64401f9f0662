package share

import (
	"time"

	"foyer/auth"
	"foyer/store"
)

// touchEvery spaces the writes that keep a session's idle clock honest.
const touchEvery = time.Minute

// Entered is who a visitor came in as, for a kind's Welcome.
type Entered struct {
	// Recipient is the recipient's index, -1 for someone who is none of them.
	Recipient int
	// Name is what a visitor who is none of the recipients said of themselves.
	Name string
	// Channel and Target say where the code that let them in went (a code only).
	Channel store.Channel
	Target  string
}

// Welcome is a kind's part of letting a visitor in, written in the same
// transaction as the session (a preso starts the visitor's viewing): a
// visitor is in with all of it, or not at all.
type Welcome func(ch *store.ShareChange, in Entered) error

// newSession writes a new session on the share being changed, bound to it
// and to its current SessionEpoch, for recipient let in by a code sent to
// via ("" when no code did), and returns its ID.
func (e *Engine) newSession(ch *store.ShareChange, recipient int, via string, now time.Time) (string, error) {
	sid := auth.NewToken()
	ss := store.ShareSession{ShareID: ch.Share.ID, Recipient: recipient, CreatedAt: now, LastSeen: now, Epoch: ch.Share.SessionEpoch, Via: via}
	return sid, ch.SaveSession(sid, ss)
}

// Enter lets a visitor into a share that lets anyone with the link in: the
// visitor picked a recipient's name (identified) or went on anonymously
// (recipient -1, with the name they typed, if any). In one transaction it
// checks the share and its audience, records the event, opens the session
// and runs welcome (nil: nothing more); it returns the session ID.
// ErrRefused when that recipient may no longer come in.
func (e *Engine) Enter(id uint64, recipient int, name, ua string, welcome Welcome) (string, error) {
	now := e.now().UTC()
	var sid string
	_, err := e.change(id, func(ch *store.ShareChange) error {
		if err := e.Usable(*ch.Share); err != nil {
			return err
		}
		if ch.Share.Visibility != store.VisibilityAnyone {
			return ErrNoSession
		}
		if recipient >= len(ch.Share.Recipients) || recipient < -1 {
			return ErrBadTarget
		}
		a, err := e.audience(*ch.Share, ch.LinkTx)
		if err != nil {
			return err
		}
		if !a.Admits(recipient) {
			return ErrRefused
		}
		ev := store.ShareEvent{At: now, Type: EventIdentified, Recipient: recipient, UserAgent: ua, Detail: name}
		if recipient < 0 && name == "" {
			ev.Type = EventAnonymous
		}
		ch.Events = append(ch.Events, ev)
		if sid, err = e.newSession(ch, recipient, "", now); err != nil {
			return err
		}
		if welcome != nil {
			return welcome(ch, Entered{Recipient: recipient, Name: name})
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	return sid, nil
}

// EndSession ends a verified session (the visitor left, or deleted the documents).
func (e *Engine) EndSession(sid string) error { return e.st.DeleteShareSession(sid) }
