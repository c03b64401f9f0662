package store

import (
	"bytes"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Session is a server-side session; the browser holds only its random ID.
type Session struct {
	// UserID is the signed-in staff member, 0 while nobody is signed in.
	UserID uint64 `json:"user_id,omitempty"`
	// AccountID is the signed-in client portal account, 0 while none is.
	AccountID uint64            `json:"account_id,omitempty"`
	Values    map[string]string `json:"values,omitempty"`
	CreatedAt time.Time         `json:"created_at"`
	LastSeen  time.Time         `json:"last_seen"`
}

func (s *Store) sessionKey(id string) []byte { return s.Hash("session:" + id) }

// Session owners in sessions_by_owner: a staff member or a portal account.
const (
	ownerStaff   = 'u'
	ownerAccount = 'a'
)

func ownerPrefix(kind byte, id uint64) []byte {
	return append([]byte{kind}, itob(id)...)
}

// ownerKeys are the index keys of a session: one per owner it has.
func ownerKeys(key []byte, sess Session) [][]byte {
	var out [][]byte
	if sess.UserID != 0 {
		out = append(out, append(ownerPrefix(ownerStaff, sess.UserID), key...))
	}
	if sess.AccountID != 0 {
		out = append(out, append(ownerPrefix(ownerAccount, sess.AccountID), key...))
	}
	return out
}

// Session loads a session by its cookie ID.
func (s *Store) Session(id string) (Session, error) {
	var sess Session
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketSessions, s.sessionKey(id), &sess) })
	return sess, err
}

// SaveSession writes a session under its cookie ID, and its owners' index.
func (s *Store) SaveSession(id string, sess Session) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		key := s.sessionKey(id)
		if err := deleteSession(tx, key); err != nil {
			return err
		}
		for _, k := range ownerKeys(key, sess) {
			if err := tx.Bucket(bucketSessionsByOwner).Put(k, nil); err != nil {
				return err
			}
		}
		return putJSON(tx, bucketSessions, key, sess)
	})
}

// deleteSession removes the session stored under key and its index entries.
func deleteSession(tx *bolt.Tx, key []byte) error {
	b := tx.Bucket(bucketSessions)
	raw := b.Get(key)
	if raw == nil {
		return nil
	}
	var old Session
	if err := unmarshal(raw, &old); err == nil {
		for _, k := range ownerKeys(key, old) {
			if err := tx.Bucket(bucketSessionsByOwner).Delete(k); err != nil {
				return err
			}
		}
	}
	return b.Delete(key)
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return deleteSession(tx, s.sessionKey(id)) })
}

// DeleteUserSessions ends every session of a staff member except the one
// with cookie ID keep (empty to end them all); it returns how many ended.
func (s *Store) DeleteUserSessions(userID uint64, keep string) (int, error) {
	return s.deleteOwnerSessions(ownerStaff, userID, keep)
}

// DeleteAccountSessions ends every session of a portal account except keep.
func (s *Store) DeleteAccountSessions(accountID uint64, keep string) (int, error) {
	return s.deleteOwnerSessions(ownerAccount, accountID, keep)
}

func (s *Store) deleteOwnerSessions(kind byte, id uint64, keep string) (int, error) {
	var keepKey []byte
	if keep != "" {
		keepKey = s.sessionKey(keep)
	}
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteOwnerSessions(tx, kind, id, keepKey)
		return err
	})
	return n, err
}

// deleteOwnerSessions ends an owner's sessions through the index: a
// password change reads that owner's sessions only, not every session.
func deleteOwnerSessions(tx *bolt.Tx, kind byte, id uint64, keepKey []byte) (int, error) {
	prefix := ownerPrefix(kind, id)
	var doomed [][]byte
	c := tx.Bucket(bucketSessionsByOwner).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if key := k[len(prefix):]; !bytes.Equal(key, keepKey) {
			doomed = append(doomed, append([]byte(nil), key...))
		}
	}
	for _, key := range doomed {
		if err := deleteSession(tx, key); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}

// CountUserSessions counts a staff member's sessions.
func (s *Store) CountUserSessions(userID uint64) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		prefix := ownerPrefix(ownerStaff, userID)
		c := tx.Bucket(bucketSessionsByOwner).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}

// PurgeSessions deletes sessions last seen before idleCutoff or created before absoluteCutoff.
func (s *Store) PurgeSessions(idleCutoff, absoluteCutoff time.Time) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var doomed [][]byte
		err := tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
			var sess Session
			if unmarshal(v, &sess) != nil || sess.LastSeen.Before(idleCutoff) || sess.CreatedAt.Before(absoluteCutoff) {
				doomed = append(doomed, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range doomed {
			if err := deleteSession(tx, k); err != nil {
				return err
			}
		}
		n = len(doomed)
		return nil
	})
	return n, err
}

// migrate7to8 indexes sessions by their staff member and portal account.
func migrate7to8(tx *bolt.Tx) error {
	idx, err := tx.CreateBucketIfNotExists(bucketSessionsByOwner)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketSessions).ForEach(func(k, v []byte) error {
		var sess Session
		if unmarshal(v, &sess) != nil {
			return nil
		}
		for _, ik := range ownerKeys(k, sess) {
			if err := idx.Put(ik, nil); err != nil {
				return err
			}
		}
		return nil
	})
}
