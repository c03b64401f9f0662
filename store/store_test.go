package store

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestOpenMigratesAndLocks(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(); v != CurrentSchema {
		t.Fatalf("schema %d, want %d", v, CurrentSchema)
	}
	key := append([]byte(nil), s.hmacKey...)
	if len(key) != 32 {
		t.Fatalf("HMAC key of %d bytes", len(key))
	}
	// A second opener gives up quickly with ErrLocked instead of hanging.
	start := time.Now()
	if _, err := Open(dir); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Fatal("second open took too long")
	}
	s.Close()
	// Reopening keeps the secrets: sessions and links survive a restart.
	s2, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !bytes.Equal(s2.hmacKey, key) {
		t.Fatal("secrets changed across a restart")
	}
	if fi, err := os.Stat(filepath.Join(dir, FileName)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("data file mode: %v %v", fi.Mode(), err)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	dir := t.TempDir()
	s, _ := Open(dir)
	if err := s.db.Update(func(tx *boltTx) error { return tx.Bucket(bucketMeta).Put(keySchema, itob(99)) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(dir); err == nil {
		t.Fatal("opened a file from a newer Foyer")
	}
}

func TestStaffIndex(t *testing.T) {
	s := openTest(t)
	owner := &Staff{Name: "O", Email: "Owner@Example.org"}
	if err := s.Setup(DefaultPractice(), owner); err != nil {
		t.Fatal(err)
	}
	if err := s.Setup(DefaultPractice(), &Staff{Email: "x@example.org"}); !errors.Is(err, ErrAlreadySetUp) {
		t.Fatalf("second setup: %v", err)
	}
	got, err := s.StaffByEmail(" owner@EXAMPLE.org ")
	if err != nil || got.ID != owner.ID || got.Role != RoleOwner || !got.Active {
		t.Fatalf("by email: %+v %v", got, err)
	}
	if err := s.CreateStaff(&Staff{Email: "OWNER@example.org"}); !errors.Is(err, ErrEmailTaken) {
		t.Fatalf("duplicate email: %v", err)
	}
	b := &Staff{Name: "B", Email: "b@example.org"}
	if err := s.CreateStaff(b); err != nil {
		t.Fatal(err)
	}
	// Changing an email moves the index entry in the same transaction.
	if _, err := s.UpdateStaff(b.ID, func(st *Staff) error { st.Email = "new@example.org"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.StaffByEmail("b@example.org"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("old email still indexed: %v", err)
	}
	if _, err := s.UpdateStaff(b.ID, func(st *Staff) error { st.Email = "owner@example.org"; return nil }); !errors.Is(err, ErrEmailTaken) {
		t.Fatalf("email collision on update: %v", err)
	}
	if got, _ := s.StaffByEmail("new@example.org"); got.ID != b.ID {
		t.Fatal("new email not indexed")
	}
	if _, err := s.Staff(999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing staff: %v", err)
	}
}

func TestTOTPStepsAndRecoveryCodes(t *testing.T) {
	s := openTest(t)
	st := &Staff{Email: "a@example.org", RecoveryHashes: [][]byte{[]byte("one"), []byte("two")}}
	s.CreateStaff(st)
	for _, tc := range []struct {
		step int64
		ok   bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		if ok, err := s.UseTOTPStep(st.ID, tc.step); ok != tc.ok || err != nil {
			t.Errorf("step %d: %v %v, want %v", tc.step, ok, err, tc.ok)
		}
	}
	match := func(want string) func([]byte) bool { return func(h []byte) bool { return string(h) == want } }
	if ok, _ := s.UseRecoveryCode(st.ID, match("two")); !ok {
		t.Fatal("recovery code refused")
	}
	if ok, _ := s.UseRecoveryCode(st.ID, match("two")); ok {
		t.Fatal("recovery code used twice")
	}
	if got, _ := s.Staff(st.ID); len(got.RecoveryHashes) != 1 {
		t.Fatalf("%d codes left", len(got.RecoveryHashes))
	}
}

func TestSessions(t *testing.T) {
	s := openTest(t)
	now := time.Now().UTC()
	s.SaveSession("a", Session{UserID: 1, CreatedAt: now, LastSeen: now})
	s.SaveSession("b", Session{UserID: 1, CreatedAt: now, LastSeen: now})
	s.SaveSession("c", Session{UserID: 2, CreatedAt: now, LastSeen: now})
	s.SaveSession("old", Session{UserID: 3, CreatedAt: now.Add(-time.Hour), LastSeen: now.Add(-time.Hour)})
	if n, _ := s.CountUserSessions(1); n != 2 {
		t.Fatalf("user 1 has %d sessions", n)
	}
	if n, err := s.DeleteUserSessions(1, "a"); n != 1 || err != nil {
		t.Fatalf("deleted %d (%v), want 1", n, err)
	}
	if _, err := s.Session("a"); err != nil {
		t.Fatal("kept session was deleted")
	}
	if _, err := s.Session("b"); !errors.Is(err, ErrNotFound) {
		t.Fatal("other session survived")
	}
	if n, _ := s.PurgeSessions(now.Add(-30*time.Minute), now.Add(-12*time.Hour)); n != 1 {
		t.Fatalf("purged %d, want 1", n)
	}
	// The key is a keyed hash: the cookie value itself is not in the file.
	s.db.View(func(tx *boltTx) error {
		return tx.Bucket(bucketSessions).ForEach(func(k, _ []byte) error {
			if string(k) == "a" || string(k) == "c" {
				t.Error("session ID stored in the clear")
			}
			return nil
		})
	})
}

func TestInvites(t *testing.T) {
	s := openTest(t)
	st := &Staff{Email: "i@example.org", Invited: true}
	s.CreateStaff(st)
	now := time.Now()
	s.CreateInvite("tok1", Invite{StaffID: st.ID, ExpiresAt: now.Add(time.Hour)})
	s.CreateInvite("tok2", Invite{StaffID: st.ID, ExpiresAt: now.Add(time.Hour)})
	if _, err := s.Invite("tok1", now); !errors.Is(err, ErrNotFound) {
		t.Fatalf("replaced invite still works: %v", err)
	}
	if _, err := s.Invite("tok2", now.Add(2*time.Hour)); !errors.Is(err, ErrExpired) {
		t.Fatalf("expired invite: %v", err)
	}
	if _, err := s.ConsumeInvite("tok2", now.Add(2*time.Hour), func(*Staff) {}); !errors.Is(err, ErrExpired) {
		t.Fatalf("consumed an expired invite: %v", err)
	}
	got, err := s.ConsumeInvite("tok2", now, func(st *Staff) { st.Active, st.Invited = true, false })
	if err != nil || !got.Active {
		t.Fatalf("consume: %+v %v", got, err)
	}
	if _, err := s.ConsumeInvite("tok2", now, func(*Staff) {}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second use: %v", err)
	}
}

func TestOutboxDueIndex(t *testing.T) {
	s := openTest(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 3 {
		if err := s.Enqueue(&Message{Channel: ChannelEmail, To: "x@example.org", CreatedAt: t0.Add(time.Duration(i) * time.Second)}); err != nil {
			t.Fatal(err)
		}
	}
	due, _ := s.DueMessages(ChannelEmail, t0.Add(time.Second), 10)
	if len(due) != 2 || due[0].ID != 1 || due[1].ID != 2 {
		t.Fatalf("due = %+v", due)
	}
	// Postponing moves the message in the index; finishing removes it.
	s.UpdateMessage(1, func(m *Message) { m.NextAttempt = t0.Add(time.Hour) })
	s.UpdateMessage(2, func(m *Message) { m.State = StateSent })
	due, _ = s.DueMessages(ChannelEmail, t0.Add(time.Minute), 10)
	if len(due) != 1 || due[0].ID != 3 {
		t.Fatalf("due after updates = %+v", due)
	}
	due, _ = s.DueMessages(ChannelEmail, t0.Add(2*time.Hour), 10)
	if len(due) != 2 {
		t.Fatalf("due later = %d", len(due))
	}
	list, _ := s.ListMessages(0, 2)
	if len(list) != 2 || list[0].ID != 3 {
		t.Fatalf("newest first: %+v", list)
	}
	older, _ := s.ListMessages(list[1].ID, 2)
	if len(older) != 1 || older[0].ID != 1 {
		t.Fatalf("older page: %+v", older)
	}
}

func TestBackupIsConsistentCopy(t *testing.T) {
	s := openTest(t)
	s.CreateStaff(&Staff{Email: "a@example.org", Name: "A"})
	var buf bytes.Buffer
	n, err := s.WriteBackup(&buf)
	if err != nil || n != int64(buf.Len()) || n == 0 {
		t.Fatalf("backup: %d %v", n, err)
	}
	path := filepath.Join(t.TempDir(), "b.db")
	os.WriteFile(path, buf.Bytes(), 0o600)
	// The copy needs the key, as the data file does.
	c, err := OpenFile(path, WithSecretKey(s.SecretKey()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, err := c.StaffByEmail("a@example.org"); err != nil || st.Name != "A" {
		t.Fatalf("copy: %+v %v", st, err)
	}
}

// TestStaffTokensVoided: invitations and reset links die with a password or
// email change, a deactivation, or a cancelled invitation; kinds do not mix.
func TestStaffTokensVoided(t *testing.T) {
	s := openTest(t)
	now := time.Now()
	st := &Staff{Email: "a@example.org", Active: true, PasswordHash: "h1"}
	other := &Staff{Email: "b@example.org", Active: true}
	s.CreateStaff(st)
	s.CreateStaff(other)
	live := func(kind StaffTokenKind, tok string) bool {
		_, err := s.PeekStaffToken(kind, tok, now)
		return err == nil
	}
	for _, change := range []struct {
		name string
		fn   func(*Staff) error
	}{
		{"password", func(x *Staff) error { x.PasswordHash += "x"; return nil }},
		{"email", func(x *Staff) error { x.Email = "n" + x.Email; return nil }},
		{"deactivation", func(x *Staff) error { x.Active = false; return nil }},
	} {
		s.UpdateStaff(st.ID, func(x *Staff) error { x.Active = true; return nil })
		s.CreateInvite("reset-a", Invite{StaffID: st.ID, Kind: StaffReset, ExpiresAt: now.Add(time.Hour)})
		s.CreateInvite("reset-b", Invite{StaffID: other.ID, Kind: StaffReset, ExpiresAt: now.Add(time.Hour)})
		if live(StaffInvite, "reset-a") {
			t.Fatal("a reset link works as an invitation")
		}
		s.UpdateStaff(st.ID, func(x *Staff) error { x.Name = "renamed"; return nil })
		if !live(StaffReset, "reset-a") {
			t.Fatal("a name change voided the link")
		}
		s.UpdateStaff(st.ID, change.fn)
		if live(StaffReset, "reset-a") {
			t.Errorf("%s: the reset link still works", change.name)
		}
		if !live(StaffReset, "reset-b") {
			t.Errorf("%s: another member's link went too", change.name)
		}
	}
	// A cancelled invitation: the person and their link are gone, the email is free.
	inv := &Staff{Email: "new@example.org", Invited: true}
	s.CreateStaff(inv)
	s.CreateInvite("inv", Invite{StaffID: inv.ID, ExpiresAt: now.Add(time.Hour)})
	if _, err := s.CancelInvitation(st.ID); !errors.Is(err, ErrNotInvited) {
		t.Fatalf("cancelled an accepted account: %v", err)
	}
	if _, err := s.CancelInvitation(inv.ID); err != nil {
		t.Fatal(err)
	}
	if live(StaffInvite, "inv") {
		t.Error("the cancelled invitation's link still works")
	}
	if _, err := s.ConsumeInvite("inv", now, func(*Staff) {}); !errors.Is(err, ErrNotFound) {
		t.Errorf("consumed a cancelled invitation: %v", err)
	}
	if err := s.CreateStaff(&Staff{Email: "new@example.org", Invited: true}); err != nil {
		t.Errorf("invite the same email again: %v", err)
	}
}

// Opening a file of an older schema says so (from, to, how long); a new
// file and a current one say nothing.
func TestUpgradedSaysFromWhatToWhat(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Upgraded(); ok {
		t.Fatal("a new file was upgraded")
	}
	if err := s.db.Update(func(tx *boltTx) error { return tx.Bucket(bucketMeta).Put(keySchema, itob(CurrentSchema-1)) }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	if up, ok := s.Upgraded(); !ok || up.From != CurrentSchema-1 || up.To != CurrentSchema || up.Took <= 0 {
		t.Fatalf("upgrade %+v %v", up, ok)
	}
	s.Close()
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if up, ok := s.Upgraded(); ok {
		t.Fatalf("a current file upgraded: %+v", up)
	}
}

// The stamp moves with every write, failed or not, and says "not quiet"
// while one is under way: a cache kept by it never answers for a write
// that may have committed.
func TestStampMovesWithWrites(t *testing.T) {
	s := openTest(t)
	before, quiet := s.Stamp()
	if !quiet {
		t.Fatal("a store at rest is not quiet")
	}
	if _, err := s.Client(1); err == nil {
		t.Fatal("client 1 exists in a new store")
	}
	if now, _ := s.Stamp(); now != before {
		t.Fatal("a read moved the stamp")
	}
	c := &Client{FirstName: "Ana", Lang: "fr"}
	if err := s.CreateClient(c); err != nil {
		t.Fatal(err)
	}
	after, _ := s.Stamp()
	if after == before {
		t.Fatal("a write left the stamp as it was")
	}
	err := s.db.Update(func(*bolt.Tx) error {
		if _, quiet := s.Stamp(); quiet {
			t.Error("quiet during a write")
		}
		return errors.New("no")
	})
	if err == nil {
		t.Fatal("the failed write succeeded")
	}
	if now, quiet := s.Stamp(); now == after || !quiet {
		t.Fatalf("after a failed write: stamp moved %v, quiet %v", now != after, quiet)
	}
	err = s.db.Batch(func(*bolt.Tx) error {
		if _, quiet := s.Stamp(); quiet {
			t.Error("quiet during a batched write")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
