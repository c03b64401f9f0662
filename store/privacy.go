package store

import (
	"errors"
	"time"

	bolt "go.etcd.io/bbolt"
)

// keyPrivacy in practice/ holds the PrivacySettings.
var keyPrivacy = []byte("privacy")

// PrivacySettings are the practice's personal-data settings: how long
// records and the journal are kept, and what the information notice and the
// register of processing say. Package privacy holds their rules and defaults.
type PrivacySettings struct {
	// RetentionYears: archived clients with no session for this long are due
	// for erasure; 0 means the default.
	RetentionYears int `json:"retention_years,omitempty"`
	// AutoErase erases due clients on the schedule instead of waiting for
	// the owner to confirm the list.
	AutoErase bool `json:"auto_erase,omitempty"`
	// JournalMonths is how long journal entries are kept; 0 means the default.
	JournalMonths int `json:"journal_months,omitempty"`

	// Controller is who decides what is done with the data (the practice or
	// the practitioner), with the address and the email where a client
	// writes to exercise their rights.
	Controller        string `json:"controller,omitempty"`
	ControllerAddress string `json:"controller_address,omitempty"`
	ContactEmail      string `json:"contact_email,omitempty"`
	// DPO is the data protection officer, when there is one.
	DPO string `json:"dpo,omitempty"`
	// Hosting says where the data is hosted (the host and the country).
	Hosting string `json:"hosting,omitempty"`
	// EmailProvider and SMSProvider are the processors sending emails and
	// text messages (name and country).
	EmailProvider string `json:"email_provider,omitempty"`
	SMSProvider   string `json:"sms_provider,omitempty"`
	// Extra is more the practice wants the notice to say, by language.
	Extra map[string]string `json:"extra,omitempty"`

	// NoticeVersion counts the changes to what the notice says; sign-up
	// records the version shown. NoticeUpdated is when it last changed.
	NoticeVersion int       `json:"notice_version,omitempty"`
	NoticeUpdated time.Time `json:"notice_updated,omitzero"`
}

// PrivacySettings returns the personal-data settings (zero before any save).
func (s *Store) PrivacySettings() (PrivacySettings, error) {
	var ps PrivacySettings
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketPractice, keyPrivacy, &ps); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
	return ps, err
}

// UpdatePrivacySettings applies fn to the personal-data settings in one transaction.
func (s *Store) UpdatePrivacySettings(fn func(*PrivacySettings) error) (PrivacySettings, error) {
	var ps PrivacySettings
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketPractice, keyPrivacy, &ps); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := fn(&ps); err != nil {
			return err
		}
		return putJSON(tx, bucketPractice, keyPrivacy, ps)
	})
	return ps, err
}
