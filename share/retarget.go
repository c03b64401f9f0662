package share

import (
	"fmt"

	"foyer/store"
)

// Retarget gives a live share new recipients and visibility (a preso's
// contacts and Share Visibility, applied by Refresh link); the link stays the
// same. A code waiting is voided: it was sent for the old recipients.
func (e *Engine) Retarget(id uint64, recipients []store.ShareRecipient, v store.Visibility) (store.Share, error) {
	if len(recipients) == 0 {
		return store.Share{}, fmt.Errorf("share: no recipient")
	}
	if v != store.VisibilityAnyone && v != store.VisibilityContacts {
		return store.Share{}, fmt.Errorf("share: unknown visibility %q", v)
	}
	return e.change(id, func(ch *store.ShareChange) error {
		if !ch.Share.Live() {
			return ErrEnded
		}
		ch.Share.Recipients, ch.Share.Visibility = recipients, v
		ch.Code.Waiting = nil
		// Who may be in has changed: everyone proves it again.
		ch.Share.SessionEpoch++
		return nil
	})
}
