package store

import (
	"bytes"
	"errors"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrExpired is returned for a token past its expiry.
var ErrExpired = errors.New("store: expired")

// ErrNotInvited is returned when cancelling the invitation of someone who accepted it.
var ErrNotInvited = errors.New("store: the staff member is not waiting on an invitation")

// StaffTokenKind is what a staff member's one-time link is for.
type StaffTokenKind string

// The staff token kinds.
const (
	// StaffInvite lets an invited staff member set their first password.
	StaffInvite StaffTokenKind = ""
	// StaffReset lets a staff member who forgot their password choose a new one.
	StaffReset StaffTokenKind = "reset"
)

// Invite is a staff member's one-time link: an invitation, or a password reset (Kind).
type Invite struct {
	StaffID   uint64         `json:"staff_id"`
	Kind      StaffTokenKind `json:"kind,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	ExpiresAt time.Time      `json:"expires_at"`
}

// staffTokenKey is where a token is stored; the kind is part of the hash, so
// an invitation link does not work as a reset link or the other way round.
func (s *Store) staffTokenKey(kind StaffTokenKind, token string) []byte {
	if kind == StaffInvite {
		return s.Hash("invite:" + token)
	}
	return s.Hash("staff-" + string(kind) + ":" + token)
}

// CreateInvite stores a staff link under the hash of token. An invitation
// replaces the earlier one, so only the newest works; a reset link joins the
// member's others, the newest LiveLinks of which work (see LiveLinks).
func (s *Store) CreateInvite(token string, inv Invite) error {
	keep := 1
	if inv.Kind == StaffReset {
		keep = LiveLinks
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketInvites)
		type held struct {
			key     []byte
			created time.Time
		}
		var same []held
		err := b.ForEach(func(k, v []byte) error {
			var old Invite
			if unmarshal(v, &old) == nil && old.StaffID == inv.StaffID && old.Kind == inv.Kind {
				same = append(same, held{bytes.Clone(k), old.CreatedAt})
			}
			return nil
		})
		if err != nil {
			return err
		}
		if len(same) >= keep {
			slices.SortFunc(same, func(a, b held) int { return b.created.Compare(a.created) })
			for _, old := range same[keep-1:] {
				if err := b.Delete(old.key); err != nil {
					return err
				}
			}
		}
		return putJSON(tx, bucketInvites, s.staffTokenKey(inv.Kind, token), inv)
	})
}

// deleteStaffTokens deletes a staff member's links for which match is true
// (nil: all). The bucket holds a few links per staff member at most.
func deleteStaffTokens(tx *bolt.Tx, staffID uint64, match func(Invite) bool) error {
	_, err := deleteWhere(tx.Bucket(bucketInvites), func(_, v []byte) bool {
		var old Invite
		return unmarshal(v, &old) == nil && old.StaffID == staffID && (match == nil || match(old))
	})
	return err
}

// RevokeStaffTokens voids every outstanding link of a staff member.
func (s *Store) RevokeStaffTokens(staffID uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error { return deleteStaffTokens(tx, staffID, nil) })
}

// Invite looks up a live invitation; ErrNotFound or ErrExpired otherwise.
func (s *Store) Invite(token string, now time.Time) (Invite, error) {
	return s.PeekStaffToken(StaffInvite, token, now)
}

// PeekStaffToken checks a staff link without using it.
func (s *Store) PeekStaffToken(kind StaffTokenKind, token string, now time.Time) (Invite, error) {
	var inv Invite
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketInvites, s.staffTokenKey(kind, token), &inv) })
	if err == nil && now.After(inv.ExpiresAt) {
		return inv, ErrExpired
	}
	return inv, err
}

// ConsumeInvite uses an invitation: see UseStaffToken.
func (s *Store) ConsumeInvite(token string, now time.Time, fn func(*Staff)) (Staff, error) {
	return s.UseStaffToken(StaffInvite, token, now, fn)
}

// UseStaffToken uses a link once: in one transaction it checks it, deletes it
// and applies fn to the staff member. A password set this way voids the
// member's other links. fn must be quick (hash the password before).
func (s *Store) UseStaffToken(kind StaffTokenKind, token string, now time.Time, fn func(*Staff)) (Staff, error) {
	var st Staff
	err := s.db.Update(func(tx *bolt.Tx) error {
		key := s.staffTokenKey(kind, token)
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
		oldHash := st.PasswordHash
		fn(&st)
		if st.PasswordHash != oldHash {
			if err := deleteStaffTokens(tx, st.ID, nil); err != nil {
				return err
			}
		}
		st.UpdatedAt = now.UTC()
		staffChanged(tx)
		return putJSON(tx, bucketStaff, itob(st.ID), st)
	})
	return st, err
}

// CancelInvitation deletes a staff member who never accepted their
// invitation, with their links: the email is free for a new invitation.
// ErrNotInvited for someone who accepted.
func (s *Store) CancelInvitation(id uint64) (Staff, error) {
	var st Staff
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketStaff, itob(id), &st); err != nil {
			return err
		}
		if !st.Invited {
			return ErrNotInvited
		}
		if err := deleteStaffTokens(tx, id, nil); err != nil {
			return err
		}
		if err := tx.Bucket(bucketStaffByEmail).Delete([]byte(NormalizeEmail(st.Email))); err != nil {
			return err
		}
		staffChanged(tx)
		return tx.Bucket(bucketStaff).Delete(itob(id))
	})
	return st, err
}
