package share

import (
	"fmt"
	"slices"

	"foyer/store"
)

// Retarget gives a live share new recipients and visibility (a preso's
// contacts and Share Visibility, applied by Refresh link); the link stays the
// same. Someone already in stays in while they may still come in: a
// recipient who is still one keeps their place, and a session verified by a
// code keeps opening the link while that number or address is still theirs.
// A recipient left out loses access at once (their place stays, marked
// Removed). Only a link that now asks for a code where it did not ends every
// session: who came in by a name must prove it. A code waiting stays good
// while its number is still its person's.
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
		if ch.Share.Visibility == store.VisibilityAnyone && v == store.VisibilityContacts {
			ch.Share.SessionEpoch++
			ch.Code.Waiting = nil
		}
		ch.Share.Recipients, ch.Share.Visibility = merge(ch.Share.Recipients, recipients), v
		ch.Code.Waiting = slices.DeleteFunc(ch.Code.Waiting, func(w store.WaitingCode) bool {
			return !slices.Contains(Targets(*ch.Share, w.Recipient), Target{Recipient: w.Recipient, Channel: w.Channel, To: w.Target})
		})
		return nil
	})
}

// merge lays the new recipients over the old ones: someone still a
// recipient (the same client record, or for someone who is none, the same
// name and email) keeps their place with their details as they are now,
// newcomers are added after, and those left out stay in place, Removed.
func merge(old, recipients []store.ShareRecipient) []store.ShareRecipient {
	out := slices.Clone(old)
	for i := range out {
		out[i].Removed = true
	}
	for _, r := range recipients {
		r.Removed = false
		i := slices.IndexFunc(out, func(o store.ShareRecipient) bool {
			if r.ClientID != 0 || o.ClientID != 0 {
				return o.ClientID == r.ClientID
			}
			return o.Name == r.Name && o.Email == r.Email
		})
		if i >= 0 && out[i].Removed {
			out[i] = r
		} else {
			out = append(out, r)
		}
	}
	return out
}
