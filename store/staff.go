package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Role is a staff member's role.
type Role string

// The staff roles, from most to least powerful.
const (
	RoleOwner        Role = "owner"
	RoleAdmin        Role = "admin"
	RolePractitioner Role = "practitioner"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RoleAdmin || r == RolePractitioner }

// ErrEmailTaken is returned when a staff email is already in use.
var ErrEmailTaken = errors.New("store: email already in use")

// ErrAlreadySetUp is returned by Setup once a staff account exists.
var ErrAlreadySetUp = errors.New("store: practice is already set up")

// Staff is a staff account.
type Staff struct {
	ID           uint64 `json:"id"`
	Email        string `json:"email"`
	Name         string `json:"name"`
	Role         Role   `json:"role"`
	PasswordHash string `json:"password_hash,omitempty"`
	// Active is false for a deactivated account and for an invitation not yet accepted.
	Active bool `json:"active"`
	// Invited is true until the invited person sets a password.
	Invited bool   `json:"invited,omitempty"`
	Lang    string `json:"lang,omitempty"`
	// ProfessionalNo is a French health professional's RPPS (11 digits) or
	// ADELI (9 characters) number, printed on their receipts; optional.
	ProfessionalNo string `json:"professional_no,omitempty"`

	TOTPSecret     string   `json:"totp_secret,omitempty"`
	TOTPEnabled    bool     `json:"totp_enabled,omitempty"`
	TOTPLastStep   int64    `json:"totp_last_step,omitempty"`
	RecoveryHashes [][]byte `json:"recovery_hashes,omitempty"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NormalizeEmail is the form under which emails are indexed.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// HasStaff reports whether any staff account exists (the practice is set up).
func (s *Store) HasStaff() (bool, error) {
	var has bool
	err := s.db.View(func(tx *bolt.Tx) error {
		k, _ := tx.Bucket(bucketStaff).Cursor().First()
		has = k != nil
		return nil
	})
	return has, err
}

// Setup saves the practice and its owner in one transaction, unless setup already happened.
func (s *Store) Setup(p Practice, owner *Staff) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketStaff).Cursor().First(); k != nil {
			return ErrAlreadySetUp
		}
		if err := putJSON(tx, bucketPractice, keySettings, p); err != nil {
			return err
		}
		owner.Role = RoleOwner
		owner.Active = true
		return insertStaff(tx, owner)
	})
}

// CreateStaff inserts a new staff account; ErrEmailTaken if the email is in use.
func (s *Store) CreateStaff(st *Staff) error {
	return s.db.Update(func(tx *bolt.Tx) error { return insertStaff(tx, st) })
}

func insertStaff(tx *bolt.Tx, st *Staff) error {
	idx := tx.Bucket(bucketStaffByEmail)
	email := NormalizeEmail(st.Email)
	if idx.Get([]byte(email)) != nil {
		return ErrEmailTaken
	}
	b := tx.Bucket(bucketStaff)
	id, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("store: unable to allocate staff ID: %w", err)
	}
	st.ID = id
	st.Email = strings.TrimSpace(st.Email)
	if st.CreatedAt.IsZero() {
		st.CreatedAt = time.Now().UTC()
	}
	st.UpdatedAt = st.CreatedAt
	if err := idx.Put([]byte(email), itob(id)); err != nil {
		return err
	}
	staffChanged(tx)
	return putJSON(tx, bucketStaff, itob(id), st)
}

// Staff loads a staff account by ID.
func (s *Store) Staff(id uint64) (Staff, error) {
	var st Staff
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketStaff, itob(id), &st) })
	return st, err
}

// StaffByEmail loads a staff account by email (any case).
func (s *Store) StaffByEmail(email string) (Staff, error) {
	var st Staff
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketStaffByEmail).Get([]byte(NormalizeEmail(email)))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx, bucketStaff, id, &st)
	})
	return st, err
}

// staffGen counts committed changes to staff accounts, in any store of
// this process: a cached staff list read under an older count is stale.
// (Shared by every store, it only ever makes a cache reload too often.)
var staffGen atomic.Uint64

// staffChanged marks the staff list stale once tx commits.
func staffChanged(tx *bolt.Tx) { tx.OnCommit(func() { staffGen.Add(1) }) }

// staffCache keeps the staff list that most pages read (names, selects)
// until a staff account changes.
type staffCache struct {
	mu   sync.Mutex
	gen  uint64
	list []Staff
}

// ListStaff returns every staff account in creation order. It is served
// from memory until a staff account changes.
func (s *Store) ListStaff() ([]Staff, error) {
	gen := staffGen.Load()
	s.staff.mu.Lock()
	if s.staff.list != nil && s.staff.gen == gen {
		out := slices.Clone(s.staff.list)
		s.staff.mu.Unlock()
		return out, nil
	}
	s.staff.mu.Unlock()
	out := []Staff{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketStaff).ForEach(func(_, v []byte) error {
			var st Staff
			if err := unmarshal(v, &st); err != nil {
				return err
			}
			out = append(out, st)
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	// Read under gen: a change committed meanwhile has moved the count on,
	// and the next call reads again.
	s.staff.mu.Lock()
	s.staff.gen, s.staff.list = gen, out
	s.staff.mu.Unlock()
	return slices.Clone(out), nil
}

// UpdateStaff loads a staff account, applies fn and saves it in one transaction.
// fn may return an error to abort without saving.
func (s *Store) UpdateStaff(id uint64, fn func(*Staff) error) (Staff, error) {
	var st Staff
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketStaff, itob(id), &st); err != nil {
			return err
		}
		oldEmail, oldHash, wasActive := NormalizeEmail(st.Email), st.PasswordHash, st.Active
		if err := fn(&st); err != nil {
			return err
		}
		newEmail := NormalizeEmail(st.Email)
		// A link sent before a password or email change, or before the
		// account was deactivated, must not outlive it.
		if newEmail != oldEmail || st.PasswordHash != oldHash || (wasActive && !st.Active) {
			if err := deleteStaffTokens(tx, id, nil); err != nil {
				return err
			}
		}
		if newEmail != oldEmail {
			idx := tx.Bucket(bucketStaffByEmail)
			if idx.Get([]byte(newEmail)) != nil {
				return ErrEmailTaken
			}
			if err := idx.Delete([]byte(oldEmail)); err != nil {
				return err
			}
			if err := idx.Put([]byte(newEmail), itob(id)); err != nil {
				return err
			}
		}
		st.UpdatedAt = time.Now().UTC()
		staffChanged(tx)
		return putJSON(tx, bucketStaff, itob(id), st)
	})
	return st, err
}

// UseTOTPStep records step as the last accepted TOTP step for id, refusing
// (ok=false) a step at or before the last one accepted, so no code works twice.
func (s *Store) UseTOTPStep(id uint64, step int64) (ok bool, err error) {
	_, err = s.UpdateStaff(id, func(st *Staff) error {
		if step <= st.TOTPLastStep {
			return errReplay
		}
		st.TOTPLastStep = step
		return nil
	})
	if errors.Is(err, errReplay) {
		return false, nil
	}
	return err == nil, err
}

var errReplay = errors.New("store: code already used")

// UseRecoveryCode removes the recovery code with hash h; ok=false when no such code is left.
func (s *Store) UseRecoveryCode(id uint64, match func(h []byte) bool) (ok bool, err error) {
	_, err = s.UpdateStaff(id, func(st *Staff) error {
		for i, h := range st.RecoveryHashes {
			if match(h) {
				st.RecoveryHashes = append(st.RecoveryHashes[:i], st.RecoveryHashes[i+1:]...)
				return nil
			}
		}
		return errReplay
	})
	if errors.Is(err, errReplay) {
		return false, nil
	}
	return err == nil, err
}

func btoi(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
