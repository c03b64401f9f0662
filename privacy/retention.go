package privacy

import (
	"errors"
	"slices"
	"time"

	"foyer/journal"
	"foyer/store"
)

// The retention rule: an archived client with no session for the retention
// period (counted from their last session not cancelled, or from the
// record's creation when there was none) is due for erasure. Clients
// becoming due within Lead are listed ahead, so the owner sees them coming.

// Lead is how far ahead the due list looks: a month.
func lead(now time.Time) time.Time { return now.AddDate(0, 1, 0) }

// Due is an archived client under the retention rule.
type Due struct {
	store.ArchivedClient
	// Since is what the period counts from: the last session, or the
	// record's creation.
	Since time.Time
	// At is when the client is (or was) due.
	At time.Time
}

// DueAt is when an archived client falls due after years.
func DueAt(c store.ArchivedClient, years int) (since, at time.Time) {
	since = c.LastSession
	if since.IsZero() {
		since = c.CreatedAt
	}
	return since, since.AddDate(years, 0, 0)
}

// Retention sorts archived clients into those due now and those due within
// a month, each list soonest first.
func Retention(clients []store.ArchivedClient, years int, now time.Time) (due, coming []Due) {
	ahead := lead(now)
	for _, c := range clients {
		since, at := DueAt(c, years)
		d := Due{ArchivedClient: c, Since: since, At: at}
		switch {
		case !at.After(now):
			due = append(due, d)
		case !at.After(ahead):
			coming = append(coming, d)
		}
	}
	byAt := func(a, b Due) int { return a.At.Compare(b.At) }
	slices.SortFunc(due, byAt)
	slices.SortFunc(coming, byAt)
	return due, coming
}

// DueList is Retention over the store's archived clients and settings.
func (s *Service) DueList() (due, coming []Due, years int, err error) {
	ps, err := s.st.PrivacySettings()
	if err != nil {
		return nil, nil, 0, err
	}
	clients, err := s.st.ArchivedClients()
	if err != nil {
		return nil, nil, 0, err
	}
	years = RetentionYears(ps)
	due, coming = Retention(clients, years, s.now())
	return due, coming, years, nil
}

// EraseDue erases the clients of ids that are due now (all due ones when ids
// is nil: the schedule's automatic erasure), then compacts the data file
// once. A client no longer due (a session booked since, restored from the
// archive) is left; what was erased is returned.
func (s *Service) EraseDue(ids []uint64, by Actor) ([]Erased, error) {
	due, _, _, err := s.DueList()
	if err != nil {
		return nil, err
	}
	var out []Erased
	for _, d := range due {
		if ids != nil && !slices.Contains(ids, d.ID) {
			continue
		}
		er, err := s.erase(d.ID, by, "retention")
		if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrNotArchived) {
			continue
		}
		if err != nil {
			return out, err
		}
		out = append(out, er)
	}
	if len(out) > 0 {
		if by.StaffID != 0 {
			s.jr.Record(journal.Entry{StaffID: by.StaffID, Action: journal.RetentionConfirm, ItemID: uint64(len(out)), Addr: by.Addr})
		}
		compacted := s.compact()
		for i := range out {
			out[i].Compacted = compacted
		}
	}
	return out, nil
}

// AutoErase is the schedule's job: when the practice turned automatic
// erasure on, every due client is erased. It returns how many were.
func (s *Service) AutoErase() (int, error) {
	ps, err := s.st.PrivacySettings()
	if err != nil || !ps.AutoErase {
		return 0, err
	}
	out, err := s.EraseDue(nil, Actor{})
	return len(out), err
}

// PurgeJournal is the schedule's job: journal entries older than the
// settings keep them go, leaving the signed anchor.
func (s *Service) PurgeJournal() (int, error) {
	ps, err := s.st.PrivacySettings()
	if err != nil {
		return 0, err
	}
	return s.jr.Purge(s.now(), JournalMonths(ps))
}
