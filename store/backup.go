package store

import (
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BackupStatus is what the off-site backups have done lately (meta/backup):
// Settings shows it, and staff banners say when backups keep failing.
type BackupStatus struct {
	// LastSuccess is when the last copy was taken; LastName and LastSize
	// name it and give its size once compressed and encrypted.
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastName    string    `json:"last_name,omitempty"`
	LastSize    int64     `json:"last_size,omitempty"`
	// LastError is the last failure: its kind (see package backup) and its
	// detail, the error as the storage or the network gave it.
	LastErrorAt     time.Time `json:"last_error_at,omitzero"`
	LastErrorKind   string    `json:"last_error_kind,omitempty"`
	LastErrorDetail string    `json:"last_error_detail,omitempty"`
	// Failures counts the failures since the last success, the first of
	// them at FailingSince.
	Failures     int       `json:"failures,omitempty"`
	FailingSince time.Time `json:"failing_since,omitzero"`
	// Notified is set once the owner was emailed about these failures.
	Notified bool `json:"notified,omitempty"`
}

// Retention is how many off-site copies are kept: the newest of each of the
// last Hourly hours, Daily days and Monthly months that have one.
type Retention struct {
	Hourly  int `json:"hourly"`
	Daily   int `json:"daily"`
	Monthly int `json:"monthly"`
}

var keyBackup = []byte("backup")

// BackupStatus returns what the off-site backups have done lately.
func (s *Store) BackupStatus() (BackupStatus, error) {
	var st BackupStatus
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketMeta, keyBackup, &st); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
	return st, err
}

// UpdateBackupStatus changes the backup status with fn, in one transaction,
// and returns it as saved.
func (s *Store) UpdateBackupStatus(fn func(*BackupStatus)) (BackupStatus, error) {
	var st BackupStatus
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketMeta, keyBackup, &st); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		fn(&st)
		return putJSON(tx, bucketMeta, keyBackup, st)
	})
	return st, err
}
