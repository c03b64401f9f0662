package store

import (
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ShareSession is the verified state of one visitor on one share: the browser
// holds only its random ID, and the record names the one share it opens.
type ShareSession struct {
	ShareID uint64 `json:"share_id"`
	// Recipient is the index of the recipient who proved who they are, -1 for anonymous.
	Recipient int       `json:"recipient"`
	CreatedAt time.Time `json:"created_at"`
	LastSeen  time.Time `json:"last_seen"`
	// Epoch is the share's SessionEpoch when the session began.
	Epoch uint64 `json:"epoch,omitempty"`
	// Via is the number or address the code that opened the session went
	// to; empty when no code did (a name picked on a link open to anyone).
	Via string `json:"via,omitempty"`
}

func (s *Store) shareSessionKey(id string) []byte { return s.Hash("share-session:" + id) }

// SaveShareSession writes a share session under its cookie ID.
func (s *Store) SaveShareSession(id string, ss ShareSession) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx, bucketShareSessions, s.shareSessionKey(id), ss) })
}

// ShareSession loads a share session by its cookie ID.
func (s *Store) ShareSession(id string) (ShareSession, error) {
	var ss ShareSession
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketShareSessions, s.shareSessionKey(id), &ss) })
	return ss, err
}

// ShareSessions loads the share sessions of several cookie IDs in one read;
// found says which exist.
func (s *Store) ShareSessions(ids []string) (sessions []ShareSession, found []bool, err error) {
	sessions, found = make([]ShareSession, len(ids)), make([]bool, len(ids))
	if len(ids) == 0 {
		return sessions, found, nil
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		for i, id := range ids {
			err := getJSON(tx, bucketShareSessions, s.shareSessionKey(id), &sessions[i])
			if err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			found[i] = err == nil
		}
		return nil
	})
	return sessions, found, err
}

// DeleteShareSession ends a share session.
func (s *Store) DeleteShareSession(id string) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketShareSessions).Delete(s.shareSessionKey(id)) })
}

// EndShareSessions deletes every session opened on the given shares (they
// ended), in one scan of the sessions: for the periodic sweep, never for a
// request (a request ends a share's sessions with its SessionEpoch).
func (s *Store) EndShareSessions(shareIDs ...uint64) error {
	if len(shareIDs) == 0 {
		return nil
	}
	ended := make(map[uint64]bool, len(shareIDs))
	for _, id := range shareIDs {
		ended[id] = true
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		_, err := deleteWhere(tx.Bucket(bucketShareSessions), func(_, v []byte) bool {
			var ss ShareSession
			return unmarshal(v, &ss) != nil || ended[ss.ShareID]
		})
		return err
	})
}

// PurgeShareSessions deletes share sessions last seen before cutoff.
func (s *Store) PurgeShareSessions(cutoff time.Time) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		n, err = deleteWhere(tx.Bucket(bucketShareSessions), func(_, v []byte) bool {
			var ss ShareSession
			return unmarshal(v, &ss) != nil || ss.LastSeen.Before(cutoff)
		})
		return err
	})
	return n, err
}
