package store

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestClientSearch(t *testing.T) {
	s := openTest(t)
	mk := func(first, last, email, phone string, pid uint64) Client {
		c := Client{FirstName: first, LastName: last, Email: email, PractitionerID: pid, Lang: "fr"}
		if phone != "" {
			c.Phones = []Phone{{Type: PhoneMobile, Number: phone, Mobile: true}}
		}
		if err := s.CreateClient(&c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	eloise := mk("Éloïse", "Durand", "eloise@example.org", "+33612345678", 1)
	mk("Marc", "Dupont", "marc@example.org", "", 2)
	mk("Anne", "Zola", "", "+33698765432", 1)
	cases := []struct {
		q     string
		pid   uint64
		names []string
	}{
		{"", 0, []string{"Marc Dupont", "Éloïse Durand", "Anne Zola"}},
		{"eloise", 0, []string{"Éloïse Durand"}},
		{"DU", 0, []string{"Marc Dupont", "Éloïse Durand"}},
		{"06 12 34", 0, []string{"Éloïse Durand"}},
		{"+33 6 98", 0, []string{"Anne Zola"}},
		{"marc@example", 0, []string{"Marc Dupont"}},
		{"", 1, []string{"Éloïse Durand", "Anne Zola"}},
		{"marc", 1, nil},
	}
	for _, tc := range cases {
		got, total, err := s.SearchClients(ClientFilter{Query: ParseQuery(tc.q), PractitionerID: tc.pid, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range got {
			names = append(names, c.Name())
		}
		if total != len(tc.names) || strconv.Quote(join(names)) != strconv.Quote(join(tc.names)) {
			t.Errorf("search %q (pid %d) = %v (%d), want %v", tc.q, tc.pid, names, total, tc.names)
		}
	}
	// Renaming and archiving move the index entries.
	s.UpdateClient(eloise.ID, func(c *Client) error { c.LastName, c.Archived = "Bernard", true; return nil })
	if got, _, _ := s.SearchClients(ClientFilter{Query: ParseQuery("durand"), Limit: 10}); len(got) != 0 {
		t.Errorf("old name still found: %v", got)
	}
	if got, _, _ := s.SearchClients(ClientFilter{Query: ParseQuery("bernard"), Archived: true, Limit: 10}); len(got) != 1 {
		t.Errorf("archived client not found among the archived: %v", got)
	}
	// Pages.
	page, total, _ := s.SearchClients(ClientFilter{Offset: 1, Limit: 1})
	if total != 2 || len(page) != 1 || page[0].LastName != "Zola" {
		t.Errorf("page 2 = %v of %d", page, total)
	}
}

func join(s []string) string {
	out := ""
	for _, x := range s {
		out += x + "|"
	}
	return out
}

func TestAccountsAndProspects(t *testing.T) {
	s := openTest(t)
	a := Account{Email: "Zoe@example.org", SignUp: SignUp{FirstName: "Zoé", LastName: "Martin", Phone: "+33611111111", BirthDate: "1990-04-01"}}
	if err := s.CreateAccount(&a); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(&Account{Email: "zoe@EXAMPLE.org"}); !errors.Is(err, ErrEmailTaken) {
		t.Fatalf("duplicate account: %v", err)
	}
	b := Account{Email: "bob@example.org", Verified: true, SignUp: SignUp{FirstName: "Bob", LastName: "Roux"}}
	s.CreateAccount(&b)
	list, total, _ := s.SearchProspects(ProspectFilter{Limit: 10})
	if total != 2 || list[0].ID != b.ID {
		t.Fatalf("prospects newest first: %+v", list)
	}
	if list, _, _ := s.SearchProspects(ProspectFilter{Verified: "no", Limit: 10}); len(list) != 1 || list[0].ID != a.ID {
		t.Fatalf("unverified filter: %+v", list)
	}
	if list, _, _ := s.SearchProspects(ProspectFilter{Query: ParseQuery("zoe 0611"), Limit: 10}); len(list) != 1 {
		t.Fatalf("search: %+v", list)
	}
	// Suggestions: same phone, same email, same name and birth date.
	c1 := Client{FirstName: "Zoe", LastName: "Martin", BirthDate: "1990-04-01"}
	c2 := Client{FirstName: "Z", LastName: "Other", Phones: []Phone{{Type: PhoneMobile, Number: "+33611111111"}}}
	c3 := Client{FirstName: "Y", LastName: "Mail", Email: "zoe@example.org"}
	c4 := Client{FirstName: "Zoe", LastName: "Martin", BirthDate: "1991-01-01"}
	for _, c := range []*Client{&c1, &c2, &c3, &c4} {
		s.CreateClient(c)
	}
	m, _ := s.MatchClients(a.Email, a.SignUp.Phone, a.SignUp.FirstName, a.SignUp.LastName, a.SignUp.BirthDate, 10)
	if len(m) != 3 {
		t.Fatalf("matches = %+v", m)
	}
	// An account nobody confirmed is never linked, nor made a client.
	if err := s.LinkAccount(a.ID, c1.ID); !errors.Is(err, ErrNotVerified) {
		t.Fatalf("linked an unconfirmed account: %v", err)
	}
	if err := s.CreateClientForAccount(&Client{FirstName: "X", LastName: "Y"}, a.ID); !errors.Is(err, ErrNotVerified) {
		t.Fatalf("made a client of an unconfirmed account: %v", err)
	}
	if c, _ := s.Client(c1.ID); c.AccountID != 0 {
		t.Fatal("a refused link was half written")
	}
	s.UpdateAccount(a.ID, func(x *Account) error { x.Verified = true; return nil })
	// Linking takes the account off the list, both ways at once.
	if err := s.LinkAccount(a.ID, c1.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.LinkAccount(b.ID, c1.ID); !errors.Is(err, ErrAlreadyLinked) {
		t.Fatalf("second account on one client: %v", err)
	}
	if list, _, _ := s.SearchProspects(ProspectFilter{Limit: 10}); len(list) != 1 || list[0].ID != b.ID {
		t.Fatalf("linked account still a prospect: %+v", list)
	}
	if c, _ := s.Client(c1.ID); c.AccountID != a.ID {
		t.Fatal("client not linked")
	}
	nc := Client{FirstName: "Bob", LastName: "Roux"}
	if err := s.CreateClientForAccount(&nc, b.ID); err != nil {
		t.Fatal(err)
	}
	if acc, _ := s.Account(b.ID); acc.ClientID != nc.ID {
		t.Fatal("created client not linked")
	}
	// Credentials set on a record make a verified, linked account.
	c5 := Client{FirstName: "Paul", LastName: "Petit"}
	s.CreateClient(&c5)
	acc, _, err := s.SetClientCredentials(c5.ID, "paul@example.org", "hash", "fr")
	if err != nil || !acc.Verified || acc.ClientID != c5.ID {
		t.Fatalf("credentials: %+v %v", acc, err)
	}
	if _, _, err := s.SetClientCredentials(c5.ID, "bob@example.org", "hash", "fr"); !errors.Is(err, ErrEmailTaken) {
		t.Fatalf("taken email: %v", err)
	}
	if acc, _, _ := s.SetClientCredentials(c5.ID, "paul2@example.org", "hash2", "fr"); acc.ID == 0 || acc.Email != "paul2@example.org" {
		t.Fatalf("update: %+v", acc)
	}
	if _, err := s.AccountByEmail("paul@example.org"); !errors.Is(err, ErrNotFound) {
		t.Fatal("old email still indexed")
	}
}

func TestAccountTokens(t *testing.T) {
	s := openTest(t)
	a := Account{Email: "a@example.org"}
	s.CreateAccount(&a)
	now := time.Now()
	s.CreateAccountToken("t1", AccountToken{AccountID: a.ID, Kind: TokenReset, ExpiresAt: now.Add(time.Hour)})
	s.CreateAccountToken("t2", AccountToken{AccountID: a.ID, Kind: TokenReset, ExpiresAt: now.Add(time.Hour)})
	if _, err := s.PeekAccountToken(TokenReset, "t1", now); err != nil {
		t.Fatal("a newer reset link voided the older")
	}
	if _, err := s.PeekAccountToken(TokenVerify, "t2", now); !errors.Is(err, ErrNotFound) {
		t.Fatal("a reset token works as a verification token")
	}
	if _, err := s.UseAccountToken(TokenReset, "t2", now.Add(2*time.Hour), func(*Account) error { return nil }); !errors.Is(err, ErrExpired) {
		t.Fatal("expired token used")
	}
	if _, err := s.UseAccountToken(TokenReset, "t2", now, func(a *Account) error { a.PasswordHash = "new"; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UseAccountToken(TokenReset, "t2", now, func(*Account) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatal("token used twice")
	}
}

func TestAppointments(t *testing.T) {
	s := openTest(t)
	c := Client{FirstName: "A", LastName: "B"}
	s.CreateClient(&c)
	other := Client{FirstName: "C", LastName: "D"}
	s.CreateClient(&other)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	a1 := Appointment{ClientID: c.ID, Start: t0.Add(48 * time.Hour), Minutes: 50, FeeCents: 8000}
	a2 := Appointment{ClientID: c.ID, Start: t0, Minutes: 50, FeeCents: 8000}
	s.CreateAppointment(&a1)
	s.CreateAppointment(&a2)
	if err := s.CreateAppointment(&Appointment{ClientID: 999}); !errors.Is(err, ErrNotFound) {
		t.Fatal("appointment for a missing client")
	}
	list, _ := s.ClientAppointments(c.ID)
	if len(list) != 2 || list[0].ID != a2.ID {
		t.Fatalf("oldest first: %+v", list)
	}
	if _, err := s.ClientAppointment(other.ID, a1.ID); !errors.Is(err, ErrNotFound) {
		t.Fatal("another client's appointment was loaded")
	}
	due, _ := s.DueReminders(t0.Add(-time.Hour), t0.Add(23*time.Hour))
	if len(due) != 1 || due[0].ID != a2.ID {
		t.Fatalf("due reminders: %+v", due)
	}
	// A reminder written for a time the appointment no longer has is dropped,
	// and the appointment stays due at its new time.
	moved := t0.Add(time.Hour)
	s.UpdateAppointment(a2.ID, func(a *Appointment) error { a.Start = moved; return nil })
	if queued, err := s.QueueReminder(a2.ID, t0, &Message{Channel: ChannelEmail, To: "b@example.org"}); queued || err != nil {
		t.Fatalf("stale reminder queued: %v %v", queued, err)
	}
	if msgs, _ := s.DueMessages(ChannelEmail, t0.Add(time.Hour), 10); len(msgs) != 0 {
		t.Fatalf("stale reminder in the outbox: %+v", msgs)
	}
	// Queued for the time it has: the message and the mark commit together, once.
	m := &Message{Channel: ChannelEmail, To: "b@example.org", Kind: "reminder", CreatedAt: t0.Add(-2 * time.Hour)}
	if queued, err := s.QueueReminder(a2.ID, moved, m); !queued || err != nil {
		t.Fatalf("reminder not queued: %v %v", queued, err)
	}
	if queued, _ := s.QueueReminder(a2.ID, moved, &Message{Channel: ChannelEmail, To: "b@example.org"}); queued {
		t.Fatal("reminder queued twice")
	}
	if msgs, _ := s.DueMessages(ChannelEmail, t0, 10); len(msgs) != 1 || msgs[0].Kind != "reminder" {
		t.Fatalf("outbox after the reminder: %+v", msgs)
	}
	if due, _ := s.DueReminders(t0.Add(-time.Hour), t0.Add(23*time.Hour)); len(due) != 0 {
		t.Fatal("reminder due twice")
	}
	p1, _ := s.UpdateAppointment(a2.ID, func(a *Appointment) error { a.Paid = true; return nil })
	p2, _ := s.UpdateAppointment(a1.ID, func(a *Appointment) error { a.Paid = true; return nil })
	again, _ := s.UpdateAppointment(a2.ID, func(a *Appointment) error { a.Status = StatusAttended; return nil })
	if p1.ReceiptNo != 1 || p2.ReceiptNo != 2 || again.ReceiptNo != 1 {
		t.Fatalf("receipt numbers %d %d %d", p1.ReceiptNo, p2.ReceiptNo, again.ReceiptNo)
	}
	// Cancelling removes the reminder.
	s.UpdateAppointment(a1.ID, func(a *Appointment) error { a.Status = StatusCancelled; return nil })
	if due, _ := s.DueReminders(t0, t0.Add(72*time.Hour)); len(due) != 0 {
		t.Fatal("cancelled appointment still due a reminder")
	}
}

func TestAgenda(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := Client{FirstName: "A", LastName: "B"}
	s.CreateClient(&c)
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	mk := func(start time.Time, practitioner uint64) Appointment {
		a := Appointment{ClientID: c.ID, PractitionerID: practitioner, Start: start, Minutes: 50}
		if err := s.CreateAppointment(&a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	later := mk(t0.Add(26*time.Hour), 7)
	first := mk(t0, 7)
	others := mk(t0.Add(time.Hour), 8)
	cancelled := mk(t0.Add(2*time.Hour), 7)
	s.UpdateAppointment(cancelled.ID, func(a *Appointment) error { a.Status = StatusCancelled; return nil })
	mk(t0.Add(-time.Hour), 7)             // before the window
	mk(t0.Add(7*24*time.Hour), 7)         // at its end, which is left out
	moved := mk(t0.Add(-48*time.Hour), 7) // rescheduled into the window
	s.UpdateAppointment(moved.ID, func(a *Appointment) error { a.Start = t0.Add(3 * time.Hour); return nil })

	ids := func(list []AgendaEntry) []uint64 {
		var out []uint64
		for _, e := range list {
			if e.Client.ID != e.ClientID {
				t.Errorf("appointment %d came with client %d", e.ID, e.Client.ID)
			}
			out = append(out, e.ID)
		}
		return out
	}
	check := func(name string, practitioner uint64, limit int, want []uint64, wantMore bool) {
		t.Helper()
		list, more, err := s.Agenda(t0, t0.Add(7*24*time.Hour), practitioner, limit)
		if err != nil || !slices.Equal(ids(list), want) || more != wantMore {
			t.Errorf("%s: %v more=%v %v, want %v more=%v", name, ids(list), more, err, want, wantMore)
		}
	}
	check("everyone's", 0, 10, []uint64{first.ID, others.ID, moved.ID, later.ID}, false)
	check("practitioner 7", 7, 10, []uint64{first.ID, moved.ID, later.ID}, false)
	check("limited", 0, 2, []uint64{first.ID, others.ID}, true)

	// A data file from schema 2 gets the index built at Open.
	err = s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketApptsByStart); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, itob(2))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check("after migrating", 7, 10, []uint64{first.ID, moved.ID, later.ID}, false)
}

// TestDeleteProspect: an unwanted sign-up goes with its links and sessions;
// an account linked to a client record cannot be deleted this way.
func TestDeleteProspect(t *testing.T) {
	s := openTest(t)
	spam := Account{Email: "Spam@example.org", SignUp: SignUp{FirstName: "Spam", LastName: "Bot"}}
	kept := Account{Email: "kept@example.org", Verified: true, SignUp: SignUp{FirstName: "Kept", LastName: "Roux"}}
	s.CreateAccount(&spam)
	s.CreateAccount(&kept)
	now := time.Now()
	s.CreateAccountToken("verify-spam", AccountToken{AccountID: spam.ID, Kind: TokenVerify, ExpiresAt: now.Add(time.Hour)})
	s.CreateAccountToken("verify-kept", AccountToken{AccountID: kept.ID, Kind: TokenVerify, ExpiresAt: now.Add(time.Hour)})
	s.SaveSession("sess-spam", Session{AccountID: spam.ID, CreatedAt: now, LastSeen: now})
	s.SaveSession("sess-kept", Session{AccountID: kept.ID, CreatedAt: now, LastSeen: now})

	if a, err := s.DeleteProspect(spam.ID); err != nil || a.Email != "Spam@example.org" {
		t.Fatalf("delete: %+v %v", a, err)
	}
	if _, err := s.Account(spam.ID); !errors.Is(err, ErrNotFound) {
		t.Error("account still there")
	}
	if _, err := s.AccountByEmail("spam@example.org"); !errors.Is(err, ErrNotFound) {
		t.Error("email still indexed")
	}
	if list, total, _ := s.SearchProspects(ProspectFilter{Limit: 10}); total != 1 || list[0].ID != kept.ID {
		t.Errorf("prospects after delete: %d %+v", total, list)
	}
	if _, err := s.PeekAccountToken(TokenVerify, "verify-spam", now); !errors.Is(err, ErrNotFound) {
		t.Error("its verification link still works")
	}
	if _, err := s.Session("sess-spam"); !errors.Is(err, ErrNotFound) {
		t.Error("its session survived")
	}
	if _, err := s.PeekAccountToken(TokenVerify, "verify-kept", now); err != nil {
		t.Errorf("another account's link went too: %v", err)
	}
	if _, err := s.Session("sess-kept"); err != nil {
		t.Errorf("another account's session went too: %v", err)
	}
	// The email is free again: the person may sign up anew.
	if err := s.CreateAccount(&Account{Email: "spam@example.org"}); err != nil {
		t.Errorf("sign up again: %v", err)
	}
	c := Client{FirstName: "Kept", LastName: "Roux"}
	s.CreateClient(&c)
	s.LinkAccount(kept.ID, c.ID)
	if _, err := s.DeleteProspect(kept.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted a linked account: %v", err)
	}
	if _, err := s.DeleteProspect(999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing account: %v", err)
	}
}

// TestAccountTokensVoided: a password or an email change voids every
// outstanding link of the account, and only of that account.
func TestAccountTokensVoided(t *testing.T) {
	s := openTest(t)
	a, b := Account{Email: "a@example.org", PasswordHash: "h1"}, Account{Email: "b@example.org"}
	s.CreateAccount(&a)
	s.CreateAccount(&b)
	now := time.Now()
	issue := func() {
		s.CreateAccountToken("reset-a", AccountToken{AccountID: a.ID, Kind: TokenReset, ExpiresAt: now.Add(time.Hour)})
		s.CreateAccountToken("verify-a", AccountToken{AccountID: a.ID, Kind: TokenVerify, ExpiresAt: now.Add(time.Hour)})
		s.CreateAccountToken("reset-b", AccountToken{AccountID: b.ID, Kind: TokenReset, ExpiresAt: now.Add(time.Hour)})
	}
	live := func(kind TokenKind, tok string) bool {
		_, err := s.PeekAccountToken(kind, tok, now)
		return err == nil
	}
	for _, change := range []struct {
		name string
		fn   func(*Account) error
	}{
		{"password", func(x *Account) error { x.PasswordHash += "x"; return nil }},
		{"email", func(x *Account) error { x.Email = "new-" + x.Email; return nil }},
	} {
		issue()
		if _, err := s.UpdateAccount(a.ID, func(x *Account) error { x.Lang = "fr"; return nil }); err != nil {
			t.Fatal(err)
		}
		if !live(TokenReset, "reset-a") {
			t.Fatal("a language change voided the reset link")
		}
		if _, err := s.UpdateAccount(a.ID, change.fn); err != nil {
			t.Fatal(err)
		}
		if live(TokenReset, "reset-a") || live(TokenVerify, "verify-a") {
			t.Errorf("%s change: a link of the account still works", change.name)
		}
		if !live(TokenReset, "reset-b") {
			t.Errorf("%s change: another account's link was voided", change.name)
		}
	}
	// A reset through a link voids the account's other links too.
	issue()
	if _, err := s.UseAccountToken(TokenReset, "reset-a", now, func(x *Account) error { x.PasswordHash = "h2"; return nil }); err != nil {
		t.Fatal(err)
	}
	if live(TokenVerify, "verify-a") {
		t.Error("a reset left the verification link working")
	}
	// Expired tokens are purged with their index entries.
	s.CreateAccountToken("old", AccountToken{AccountID: a.ID, Kind: TokenReset, ExpiresAt: now.Add(-time.Minute)})
	if n, err := s.PurgeAccountTokens(now); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	var idx int
	s.db.View(func(tx *bolt.Tx) error { idx = tx.Bucket(bucketTokensByAccount).Stats().KeyN; return nil })
	if idx != 1 { // reset-b alone is left
		t.Fatalf("%d index entries after the purge, want 1", idx)
	}
}

// TestTokenIndexMigration: tokens written before schema 4 are indexed at Open.
func TestTokenIndexMigration(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a := Account{Email: "a@example.org"}
	s.CreateAccount(&a)
	now := time.Now()
	s.CreateAccountToken("reset-a", AccountToken{AccountID: a.ID, Kind: TokenReset, ExpiresAt: now.Add(time.Hour)})
	if err := s.db.Update(func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket(bucketTokensByAccount); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keySchema, itob(3))
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.UpdateAccount(a.ID, func(x *Account) error { x.PasswordHash = "changed"; return nil })
	if _, err := s.PeekAccountToken(TokenReset, "reset-a", now); !errors.Is(err, ErrNotFound) {
		t.Fatal("a token from before the migration survived a password change")
	}
}

// TestLiveLinks: a person holds at most LiveLinks links of a kind; a new one
// drops the oldest, a used one voids the others of its kind, and a password
// change voids them all. Staff reset links follow the same rule; a staff
// invitation still replaces the earlier one.
func TestLiveLinks(t *testing.T) {
	s := openTest(t)
	a := Account{Email: "a@example.org"}
	s.CreateAccount(&a)
	now := time.Now()
	for i := range LiveLinks + 2 {
		s.CreateAccountToken(fmt.Sprint("r", i), AccountToken{AccountID: a.ID, Kind: TokenReset, ExpiresAt: now.Add(time.Hour + time.Duration(i)*time.Minute)})
		s.CreateAccountToken(fmt.Sprint("v", i), AccountToken{AccountID: a.ID, Kind: TokenVerify, ExpiresAt: now.Add(48*time.Hour + time.Duration(i)*time.Minute)})
	}
	live := func(kind TokenKind, prefix string) (out []int) {
		for i := range LiveLinks + 2 {
			if _, err := s.PeekAccountToken(kind, fmt.Sprint(prefix, i), now); err == nil {
				out = append(out, i)
			}
		}
		return out
	}
	want := []int{2, 3, 4, 5, 6}
	if got := live(TokenReset, "r"); !slices.Equal(got, want) {
		t.Fatalf("live reset links %v, want %v", got, want)
	}
	if _, err := s.UseAccountToken(TokenVerify, "v4", now, func(a *Account) error { a.Verified = true; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := live(TokenVerify, "v"); len(got) != 0 {
		t.Fatalf("confirmation links left after one was used: %v", got)
	}
	if got := live(TokenReset, "r"); !slices.Equal(got, want) {
		t.Fatalf("confirming voided reset links: %v", got)
	}
	if _, err := s.UseAccountToken(TokenReset, "r3", now, func(a *Account) error { a.PasswordHash = "new"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := live(TokenReset, "r"); len(got) != 0 {
		t.Fatalf("reset links left after the password changed: %v", got)
	}

	st := &Staff{Name: "Pat", Email: "pat@example.org", Role: RolePractitioner, Active: true}
	if err := s.CreateStaff(st); err != nil {
		t.Fatal(err)
	}
	for i := range LiveLinks + 1 {
		s.CreateInvite(fmt.Sprint("s", i), Invite{StaffID: st.ID, Kind: StaffReset, CreatedAt: now.Add(time.Duration(i) * time.Second), ExpiresAt: now.Add(time.Hour)})
		s.CreateInvite(fmt.Sprint("i", i), Invite{StaffID: st.ID, CreatedAt: now.Add(time.Duration(i) * time.Second), ExpiresAt: now.Add(time.Hour)})
	}
	for i := range LiveLinks + 1 {
		_, errReset := s.PeekStaffToken(StaffReset, fmt.Sprint("s", i), now)
		_, errInvite := s.Invite(fmt.Sprint("i", i), now)
		if (errReset == nil) != (i > 0) || (errInvite == nil) != (i == LiveLinks) {
			t.Errorf("staff link %d: reset %v, invitation %v", i, errReset, errInvite)
		}
	}
}
