package store

import (
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

// Session loads a session by its cookie ID.
func (s *Store) Session(id string) (Session, error) {
	var sess Session
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketSessions, s.sessionKey(id), &sess) })
	return sess, err
}

// SaveSession writes a session under its cookie ID.
func (s *Store) SaveSession(id string, sess Session) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx, bucketSessions, s.sessionKey(id), sess) })
}

// DeleteSession removes a session.
func (s *Store) DeleteSession(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Delete(s.sessionKey(id)) })
}

// DeleteUserSessions ends every session of a staff member except the one
// with cookie ID keep (empty to end them all); it returns how many ended.
func (s *Store) DeleteUserSessions(userID uint64, keep string) (int, error) {
	return s.deleteSessions(func(sess Session) bool { return sess.UserID == userID }, keep)
}

// DeleteAccountSessions ends every session of a portal account except keep.
func (s *Store) DeleteAccountSessions(accountID uint64, keep string) (int, error) {
	return s.deleteSessions(func(sess Session) bool { return sess.AccountID == accountID }, keep)
}

func (s *Store) deleteSessions(match func(Session) bool, keep string) (int, error) {
	var keepKey []byte
	if keep != "" {
		keepKey = s.sessionKey(keep)
	}
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteWhere(tx.Bucket(bucketSessions), func(k, v []byte) bool {
			var sess Session
			return unmarshal(v, &sess) == nil && match(sess) && string(k) != string(keepKey)
		})
		return err
	})
	return n, err
}

// CountUserSessions counts a staff member's sessions.
func (s *Store) CountUserSessions(userID uint64) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSessions).ForEach(func(_, v []byte) error {
			var sess Session
			if err := unmarshal(v, &sess); err != nil {
				return err
			}
			if sess.UserID == userID {
				n++
			}
			return nil
		})
	})
	return n, err
}

// PurgeSessions deletes sessions last seen before idleCutoff or created before absoluteCutoff.
func (s *Store) PurgeSessions(idleCutoff, absoluteCutoff time.Time) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteWhere(tx.Bucket(bucketSessions), func(_, v []byte) bool {
			var sess Session
			return unmarshal(v, &sess) != nil || sess.LastSeen.Before(idleCutoff) || sess.CreatedAt.Before(absoluteCutoff)
		})
		return err
	})
	return n, err
}
