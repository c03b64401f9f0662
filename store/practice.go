package store

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// Practice holds the practice settings used by every page, email and PDF.
type Practice struct {
	Name        string `json:"name"`
	DefaultLang string `json:"default_lang"`
	TimeZone    string `json:"time_zone"`
	PhoneRegion string `json:"phone_region"`
	BrandColor  string `json:"brand_color"`
	Require2FA  bool   `json:"require_2fa"`
	// Currency is the ISO code fees are charged in.
	Currency string `json:"currency"`
	// AllowSignup lets people create their own portal account at /portal/signup.
	AllowSignup bool `json:"allow_signup"`
	// LogoType is the MIME type of the stored logo; empty when there is none.
	LogoType string `json:"logo_type,omitempty"`
	// LogoVersion changes with every upload so the logo URL can be cached forever.
	LogoVersion int64 `json:"logo_version,omitempty"`
	// VideoEarlyMinutes is how long before a video session its room opens.
	VideoEarlyMinutes int `json:"video_early_minutes"`
	// VideoLateMinutes is how long after the end of a video session its room stays open.
	VideoLateMinutes int `json:"video_late_minutes"`
	// Address, Phone and ContactEmail are how clients reach the practice: on
	// receipts and at the foot of emails.
	Address      string `json:"address,omitempty"`
	Phone        string `json:"phone,omitempty"`
	ContactEmail string `json:"contact_email,omitempty"`
	// SIRET is the 14-digit French business number printed on receipts.
	SIRET string `json:"siret,omitempty"`
	// VATNote is the VAT line of receipts. Not omitempty: an owner who clears
	// it keeps it cleared, while a practice saved before it existed gets the default.
	VATNote string `json:"vat_note"`

	// ShareDays is how long a share link lives, in days; 0 means the default (20).
	ShareDays int `json:"share_days,omitempty"`
	// CodeMinutes is how long a security code is valid (5 to 15); 0 means the default (10).
	CodeMinutes int `json:"code_minutes,omitempty"`
	// NoDownloadMail turns off the email staff get when a share is first downloaded.
	NoDownloadMail bool `json:"no_download_mail,omitempty"`
	// ShareTemplates are the share emails' bodies by language; a missing one is the default text.
	ShareTemplates map[string]string `json:"share_templates,omitempty"`
	// BackupKeep is how many off-site backups are kept; nil means the
	// default of package backup.
	BackupKeep *Retention `json:"backup_keep,omitempty"`
}

// ContactLines are the practice's contact details, one per line (each line
// of the address, the phone, the email), as emails and receipts show them.
func (p Practice) ContactLines() []string {
	var out []string
	for _, line := range strings.Split(p.Address, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	for _, v := range []string{p.Phone, p.ContactEmail} {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// DefaultVATNote is the VAT line of a French health professional, exempt under the CGI.
const DefaultVATNote = "TVA non applicable, article 261-4-1° du CGI"

// DefaultPractice is what a practice looks like before setup fills it in.
func DefaultPractice() Practice {
	return Practice{Name: "Foyer", DefaultLang: "en", TimeZone: "Europe/Paris", PhoneRegion: "FR", BrandColor: "#2f5d62", Currency: "EUR",
		VideoEarlyMinutes: 15, VideoLateMinutes: 30, VATNote: DefaultVATNote}
}

// Practice returns the practice settings (defaults before setup).
func (s *Store) Practice() (Practice, error) {
	p := DefaultPractice()
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketPractice, keySettings, &p); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	})
	return p, err
}

// SavePractice replaces the practice settings.
func (s *Store) SavePractice(p Practice) error {
	return s.db.Update(func(tx *bolt.Tx) error { return putJSON(tx, bucketPractice, keySettings, p) })
}

// SaveLogo stores the logo bytes and records its type in the settings, in one transaction.
func (s *Store) SaveLogo(data []byte, contentType string, version int64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		p := DefaultPractice()
		if err := getJSON(tx, bucketPractice, keySettings, &p); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		p.LogoType, p.LogoVersion = contentType, version
		if err := tx.Bucket(bucketPractice).Put(keyLogo, data); err != nil {
			return fmt.Errorf("store: unable to save logo: %w", err)
		}
		return putJSON(tx, bucketPractice, keySettings, p)
	})
}

// Logo returns a copy of the logo bytes and their type.
func (s *Store) Logo() ([]byte, string, error) {
	var data []byte
	var typ string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPractice)
		raw := b.Get(keyLogo)
		if raw == nil {
			return ErrNotFound
		}
		data = bytes.Clone(raw)
		p := DefaultPractice()
		if err := getJSON(tx, bucketPractice, keySettings, &p); err != nil {
			return err
		}
		typ = p.LogoType
		return nil
	})
	return data, typ, err
}
