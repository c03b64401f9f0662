package share

import (
	"errors"
	"time"

	"foyer/store"
)

// Sweep is the periodic job's part, never a request's: it marks every live
// share past its expiry as expired, removes their sessions, then purges what
// every ended share still holds (bytes gone from the store, not hidden), and
// forgets the code sends of numbers past the limits' hour. It
// returns the shares it expired.
func (e *Engine) Sweep() ([]store.Share, error) {
	now := e.now().UTC()
	due, err := e.st.SharesExpiringBy(now)
	if err != nil {
		return nil, err
	}
	var expired []store.Share
	for _, sh := range due {
		sh, err := e.change(sh.ID, func(ch *store.ShareChange) error {
			if !ch.Share.Live() || now.Before(ch.Share.ExpiresAt) {
				return ErrEnded // someone changed it meanwhile; nothing to do
			}
			ch.Share.State, ch.Share.EndedAt = store.ShareExpired, ch.Share.ExpiresAt
			ch.Share.SessionEpoch++
			ch.Code.Waiting = nil
			ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventExpired, Recipient: -1})
			return nil
		})
		if errors.Is(err, ErrEnded) {
			continue
		}
		if err != nil {
			return expired, err
		}
		expired = append(expired, sh)
	}
	ids := make([]uint64, len(expired))
	for i, sh := range expired {
		ids[i] = sh.ID
	}
	// Their sessions opened nothing since the SessionEpoch moved; one scan
	// for the whole sweep removes them.
	if err := e.st.EndShareSessions(ids...); err != nil {
		return expired, err
	}
	ended, err := e.st.SharesToPurge()
	if err != nil {
		return expired, err
	}
	for _, sh := range ended {
		if err := e.purge(sh); err != nil {
			return expired, err
		}
	}
	// A number no code went to for an hour has no limit left to keep.
	return expired, e.st.DropCodeSends(now.Add(-time.Hour))
}

// purge removes an ended share's content through its kind's Purger, then marks it purged.
func (e *Engine) purge(sh store.Share) error {
	e.purgeMu.Lock()
	defer e.purgeMu.Unlock()
	cur, err := e.st.Share(sh.ID)
	if err != nil || cur.Purged || cur.Live() {
		return err
	}
	if p := e.purgers[cur.Kind]; p != nil {
		if err := p(cur); err != nil {
			return err
		}
	}
	now := e.now().UTC()
	_, err = e.change(sh.ID, func(ch *store.ShareChange) error {
		ch.Share.Purged = true
		ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventPurged, Recipient: -1})
		return nil
	})
	return err
}

// ComposeReminder renders the reminder of a share's coming expiry, or nil when
// nobody can be reminded (no email).
type ComposeReminder func(sh store.Share) (*store.Message, error)

// Remind queues one reminder for every live share that expires within
// ReminderLead, has not been downloaded and was not reminded yet; the mark and the
// message commit together. It returns how many were queued.
func (e *Engine) Remind(compose ComposeReminder) (int, error) {
	now := e.now().UTC()
	due, err := e.st.SharesExpiringBy(now.Add(ReminderLead))
	if err != nil {
		return 0, err
	}
	n := 0
	for _, sh := range due {
		if sh.State != store.ShareActive || !sh.FirstDownloadAt.IsZero() || !sh.RemindedAt.IsZero() || !now.Before(sh.ExpiresAt) {
			continue
		}
		msg, err := compose(sh)
		if err != nil {
			return n, err
		}
		_, err = e.change(sh.ID, func(ch *store.ShareChange) error {
			if !ch.Share.RemindedAt.IsZero() || !ch.Share.FirstDownloadAt.IsZero() {
				return ErrEnded
			}
			ch.Share.RemindedAt = now
			if msg != nil {
				ch.Outbox = append(ch.Outbox, msg)
				ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventReminded, Recipient: -1})
				n++
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrEnded) {
			return n, err
		}
	}
	return n, nil
}
