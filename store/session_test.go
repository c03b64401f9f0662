package store

import (
	"errors"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Ending or counting a person's sessions goes through the owner index: other
// sessions are not even read (an unreadable one does not disturb it).
func TestSessionsByOwner(t *testing.T) {
	s := openTest(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	save := func(id string, sess Session) {
		t.Helper()
		sess.CreatedAt, sess.LastSeen = now, now
		if err := s.SaveSession(id, sess); err != nil {
			t.Fatal(err)
		}
	}
	save("a1", Session{UserID: 1})
	save("a2", Session{UserID: 1})
	save("a3", Session{UserID: 1, AccountID: 5})
	save("b1", Session{UserID: 2})
	save("anon", Session{Values: map[string]string{"flash": "x"}})
	// Signing in on the anonymous session indexes it; signing out of a3's staff side unindexes it.
	save("anon", Session{UserID: 2})
	save("a3", Session{AccountID: 5})
	s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketSessions).Put([]byte("garbage"), []byte("{not json")) })

	if n, err := s.CountUserSessions(1); err != nil || n != 2 {
		t.Fatalf("user 1: %d sessions, %v", n, err)
	}
	if n, err := s.DeleteUserSessions(2, "anon"); err != nil || n != 1 {
		t.Fatalf("deleted %d of user 2's sessions, %v", n, err)
	}
	if _, err := s.Session("b1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("b1 survived: %v", err)
	}
	if _, err := s.Session("anon"); err != nil {
		t.Fatalf("the kept session ended: %v", err)
	}
	if n, _ := s.DeleteAccountSessions(5, ""); n != 1 {
		t.Fatalf("account 5: %d", n)
	}
	if n, _ := s.CountUserSessions(1); n != 2 {
		t.Fatalf("user 1 after the account's sessions ended: %d", n)
	}
	// A purge removes index entries with the sessions.
	if n, err := s.PurgeSessions(now.Add(time.Minute), now.Add(-time.Hour)); err != nil || n != 4 {
		t.Fatalf("purged %d, %v", n, err)
	}
	var left int
	s.db.View(func(tx *bolt.Tx) error { left = tx.Bucket(bucketSessionsByOwner).Stats().KeyN; return nil })
	if left != 0 {
		t.Fatalf("%d index entries left after the purge", left)
	}
}

// The staff list is served from memory until a staff account changes.
func TestStaffListCache(t *testing.T) {
	s := openTest(t)
	s.CreateStaff(&Staff{Name: "Ana", Email: "ana@example.org", Role: RoleOwner})
	first, _ := s.ListStaff()
	reads := s.db.Stats().TxN
	again, err := s.ListStaff()
	if err != nil || len(again) != 1 || s.db.Stats().TxN != reads {
		t.Fatalf("second list: %d, %v, %d reads", len(again), err, s.db.Stats().TxN-reads)
	}
	first[0].Name = "changed by a caller"
	if l, _ := s.ListStaff(); l[0].Name != "Ana" {
		t.Fatal("a caller's change reached the cache")
	}
	s.UpdateStaff(1, func(st *Staff) error { st.Name = "Ana Renamed"; return nil })
	s.CreateStaff(&Staff{Name: "Bo", Email: "bo@example.org", Role: RoleAdmin, Invited: true})
	if l, _ := s.ListStaff(); len(l) != 2 || l[0].Name != "Ana Renamed" {
		t.Fatalf("after changes: %+v", l)
	}
	s.CancelInvitation(2)
	if l, _ := s.ListStaff(); len(l) != 1 {
		t.Fatalf("after a cancelled invitation: %+v", l)
	}
	// A failed change (rolled back) leaves the list as it was, and right.
	s.UpdateStaff(1, func(st *Staff) error { st.Name = "nope"; return ErrNotFound })
	if l, _ := s.ListStaff(); l[0].Name != "Ana Renamed" {
		t.Fatalf("after a rolled back change: %+v", l)
	}
}
