// Package privacy holds the rules of a client's personal data: how long an
// archived client's record is kept (retention) and which records are due for
// erasure, the erasure itself (the record gone, the bytes out of the data
// file, the fact journaled), the client's own export, and what the practice's
// information notice and register of processing say. It knows nothing of HTTP.
package privacy

import (
	"errors"
	"time"

	"foyer/journal"
	"foyer/store"
)

// The limits of the settings, and their defaults.
const (
	// DefaultRetentionYears is a practice choice, not a legal figure: French
	// rules give no single period for a psychologist's or a paramedical
	// practice's file (see the README's Personal data section).
	DefaultRetentionYears = 10
	MinRetentionYears     = 1
	MaxRetentionYears     = 30
	// DefaultJournalMonths is how long the access journal is kept.
	DefaultJournalMonths = 12
	MinJournalMonths     = 6
	MaxJournalMonths     = 36
)

// RetentionYears is the retention period the settings give.
func RetentionYears(ps store.PrivacySettings) int {
	if ps.RetentionYears < MinRetentionYears || ps.RetentionYears > MaxRetentionYears {
		return DefaultRetentionYears
	}
	return ps.RetentionYears
}

// JournalMonths is how long the settings keep journal entries.
func JournalMonths(ps store.PrivacySettings) int {
	if ps.JournalMonths < MinJournalMonths || ps.JournalMonths > MaxJournalMonths {
		return DefaultJournalMonths
	}
	return ps.JournalMonths
}

// ValidRetentionYears reports whether n years may be set.
func ValidRetentionYears(n int) bool { return n >= MinRetentionYears && n <= MaxRetentionYears }

// ValidJournalMonths reports whether n months may be set.
func ValidJournalMonths(n int) bool { return n >= MinJournalMonths && n <= MaxJournalMonths }

// NoticeChanged reports whether the information notice reads differently
// under next than under prev: its version then moves on, and sign-ups record
// the new one.
func NoticeChanged(prev, next store.PrivacySettings) bool {
	if prev.Controller != next.Controller || prev.ControllerAddress != next.ControllerAddress || prev.ContactEmail != next.ContactEmail ||
		prev.DPO != next.DPO || prev.Hosting != next.Hosting || prev.EmailProvider != next.EmailProvider ||
		prev.SMSProvider != next.SMSProvider || RetentionYears(prev) != RetentionYears(next) ||
		JournalMonths(prev) != JournalMonths(next) || len(prev.Extra) != len(next.Extra) {
		return true
	}
	for k, v := range next.Extra {
		if prev.Extra[k] != v {
			return true
		}
	}
	return false
}

// Service erases, exports and applies the retention rule over a store,
// recording in the journal what it does.
type Service struct {
	st  *store.Store
	jr  *journal.Journal
	now func() time.Time
}

// New returns the service over st, journaling into jr.
func New(st *store.Store, jr *journal.Journal, now func() time.Time) *Service {
	return &Service{st: st, jr: jr, now: now}
}

// Actor is who acts: a staff member or a portal account, from an address;
// the zero Actor is Foyer itself (the schedule).
type Actor struct {
	StaffID, AccountID uint64
	Addr               string
}

// Erased is what an erasure did.
type Erased struct {
	store.Erasure
	// Compacted is false when the data file could not be compacted at once
	// (busy): the schedule does it within minutes, and the next start at the latest.
	Compacted bool
}

// ErrNotArchived is returned for a client who is still active.
var ErrNotArchived = store.ErrNotArchived

// Erase erases an archived client: their data in one transaction, the fact
// in the journal (with their ID alone), then the compaction that takes the
// bytes out of the data file.
func (s *Service) Erase(clientID uint64, by Actor) (Erased, error) {
	out, err := s.erase(clientID, by, "")
	if err != nil {
		return out, err
	}
	out.Compacted = s.compact()
	return out, nil
}

// Preview says what Erase would remove now, and what it would keep (the
// receipts), without removing anything: the owner reads it before confirming.
func (s *Service) Preview(clientID uint64) (store.Erasure, error) {
	return s.st.PreviewErasure(clientID, s.now())
}

// erase is Erase without the compaction, which a batch does once.
func (s *Service) erase(clientID uint64, by Actor, detail string) (Erased, error) {
	er, err := s.st.EraseClient(clientID, s.now())
	if err != nil {
		return Erased{}, err
	}
	s.jr.Record(journal.Entry{StaffID: by.StaffID, ClientID: clientID, Action: journal.Erase, Detail: detail, Addr: by.Addr})
	// The fact of the erasure is written now, not within the second.
	if err := s.jr.Flush(); err != nil {
		return Erased{Erasure: er}, err
	}
	return Erased{Erasure: er}, nil
}

// compact compacts the data file; false when it must wait for the schedule.
func (s *Service) compact() bool {
	_, err := s.st.Compact()
	return err == nil
}

// CompactIfDue compacts the data file if an erasure left it marked (the
// schedule's job); it reports whether it did.
func (s *Service) CompactIfDue() (bool, error) {
	due, err := s.st.CompactDue()
	if err != nil || !due {
		return false, err
	}
	if _, err := s.st.Compact(); errors.Is(err, store.ErrBusy) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}
