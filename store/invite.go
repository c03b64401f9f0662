package store

import (
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrExpired is returned for a token past its expiry.
var ErrExpired = errors.New("store: expired")

// Invite lets an invited staff member set their password once.
type Invite struct {
	StaffID   uint64    `json:"staff_id"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateInvite stores an invitation under the hash of token, replacing any earlier
// invitation of the same staff member so only the newest link works.
func (s *Store) CreateInvite(token string, inv Invite) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if _, err := deleteWhere(tx.Bucket(bucketInvites), func(_, v []byte) bool {
			var old Invite
			return unmarshal(v, &old) == nil && old.StaffID == inv.StaffID
		}); err != nil {
			return err
		}
		return putJSON(tx, bucketInvites, s.Hash("invite:"+token), inv)
	})
}

// Invite looks up a live invitation; ErrNotFound or ErrExpired otherwise.
func (s *Store) Invite(token string, now time.Time) (Invite, error) {
	var inv Invite
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketInvites, s.Hash("invite:"+token), &inv) })
	if err == nil && now.After(inv.ExpiresAt) {
		return inv, ErrExpired
	}
	return inv, err
}

// ConsumeInvite uses an invitation: in one transaction it checks it, deletes it and
// applies fn to the invited staff member, so a link works once.
func (s *Store) ConsumeInvite(token string, now time.Time, fn func(*Staff)) (Staff, error) {
	var st Staff
	err := s.db.Update(func(tx *bolt.Tx) error {
		key := s.Hash("invite:" + token)
		var inv Invite
		if err := getJSON(tx, bucketInvites, key, &inv); err != nil {
			return err
		}
		if now.After(inv.ExpiresAt) {
			return ErrExpired
		}
		if err := tx.Bucket(bucketInvites).Delete(key); err != nil {
			return err
		}
		if err := getJSON(tx, bucketStaff, itob(inv.StaffID), &st); err != nil {
			return err
		}
		fn(&st)
		st.UpdatedAt = now.UTC()
		return putJSON(tx, bucketStaff, itob(st.ID), st)
	})
	return st, err
}
