package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOutboxSealsSecretsAndDropsThemWhenDone(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const secret = "SECRETtoken0123456789abcdefghijklmnopqrstu"
	m := &Message{Channel: ChannelEmail, To: "a@example.org", Lang: "fr", Kind: "portal.reset", Secret: secret, CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.Enqueue(m); err != nil {
		t.Fatal(err)
	}
	if m.ID == 0 || m.Secret != secret || m.Sealed == "" {
		t.Fatalf("after Enqueue: %+v", m)
	}
	stored, _ := s.Message(m.ID)
	if stored.Secret != "" || !stored.HasSecret() {
		t.Fatalf("stored: %+v", stored)
	}
	claimed, err := s.ClaimDue(ChannelEmail, t0, time.Minute, 10)
	if err != nil || len(claimed) != 1 || claimed[0].Secret != secret {
		t.Fatalf("claimed %+v %v", claimed, err)
	}
	// Leased: a second poll does not take it while it is being sent.
	if again, _ := s.ClaimDue(ChannelEmail, t0.Add(time.Second), time.Minute, 10); len(again) != 0 {
		t.Fatalf("claimed twice: %+v", again)
	}
	// The other lane is independent.
	if sms, _ := s.ClaimDue(ChannelSMS, t0.Add(time.Hour), time.Minute, 10); len(sms) != 0 {
		t.Fatalf("SMS lane took an email: %+v", sms)
	}
	sent, err := s.UpdateMessage(m.ID, func(m *Message) { m.State = StateSent })
	if err != nil || sent.HasSecret() {
		t.Fatalf("a sent message keeps its secret: %+v %v", sent, err)
	}
	if _, err := s.RevealMessage(m.ID, 1, t0); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("reveal of a sent message: %v", err)
	}
	s.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, FileName))
	if bytes.Contains(raw, []byte(secret)) {
		t.Fatal("the data file holds the secret in the clear")
	}
}

func TestOutboxExpiry(t *testing.T) {
	s := openTest(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Enqueue(&Message{Channel: ChannelSMS, To: "+33612345678", Kind: "code", Secret: "123456", CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)})
	s.Enqueue(&Message{Channel: ChannelSMS, To: "+33612345678", Kind: "code", CreatedAt: t0})
	// A code that did not go out in time never goes out.
	got, err := s.ClaimDue(ChannelSMS, t0.Add(10*time.Minute), time.Minute, 10)
	if err != nil || len(got) != 1 || got[0].ID != 2 {
		t.Fatalf("claimed %+v %v", got, err)
	}
	m, _ := s.Message(1)
	if m.State != StateExpired || m.HasSecret() {
		t.Fatalf("expired message: %+v", m)
	}
	// Without an expiry of its own, a message waits DefaultMessageTTL at most.
	if m2, _ := s.Message(2); !m2.ExpiresAt.Equal(t0.Add(DefaultMessageTTL)) {
		t.Fatalf("default expiry: %v", m2.ExpiresAt)
	}
}

func TestOutboxReleaseLoggedAndReveal(t *testing.T) {
	s := openTest(t)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, exp := range []time.Duration{time.Hour, 2 * time.Hour} {
		m := &Message{Channel: ChannelEmail, To: "a@example.org", Kind: "invite", Secret: "tok" + string(rune('A'+i)), CreatedAt: t0, ExpiresAt: t0.Add(exp)}
		s.Enqueue(m)
		s.UpdateMessage(m.ID, func(m *Message) { m.State, m.DoneAt = StateLogged, t0 })
	}
	s.Enqueue(&Message{Channel: ChannelSMS, To: "+33612345678", Kind: "code", Secret: "1", CreatedAt: t0})
	s.UpdateMessage(3, func(m *Message) { m.State = StateLogged })

	r, err := s.RevealMessage(2, 7, t0.Add(time.Minute))
	if err != nil || r.Secret != "tokB" || len(r.Reveals) != 1 || r.Reveals[0].StaffID != 7 {
		t.Fatalf("reveal: %+v %v", r, err)
	}
	if stored, _ := s.Message(2); len(stored.Reveals) != 1 || !stored.Reveals[0].At.Equal(t0.Add(time.Minute)) {
		t.Fatalf("the reveal is not recorded: %+v", stored)
	}
	if _, err := s.RevealMessage(1, 7, t0.Add(time.Hour)); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("reveal after expiry: %v", err)
	}
	// Email delivery is configured 90 minutes later: the first has expired, the second goes out.
	n, err := s.ReleaseLogged(ChannelEmail, t0.Add(90*time.Minute))
	if err != nil || n != 1 {
		t.Fatalf("released %d %v", n, err)
	}
	if m, _ := s.Message(1); m.State != StateExpired || m.HasSecret() {
		t.Fatalf("expired logged message: %+v", m)
	}
	due, _ := s.ClaimDue(ChannelEmail, t0.Add(90*time.Minute), time.Minute, 10)
	if len(due) != 1 || due[0].ID != 2 || due[0].Secret != "tokB" {
		t.Fatalf("due after release: %+v", due)
	}
	if m, _ := s.Message(3); m.State != StateLogged {
		t.Fatalf("the SMS lane was released with email: %+v", m)
	}
	if n, _ := s.ReleaseLogged(ChannelEmail, t0.Add(2*time.Hour)); n != 0 {
		t.Fatalf("released twice: %d", n)
	}
}

// A data file written by schema 5 kept whole messages with their links: the
// migration seals those still to be sent and drops the text of the others.
func TestMigrateSealsLegacyMessages(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().UTC()
	link := "https://foyer.example/portal/reset/LEGACYtokenLEGACYtokenLEGACYtokenLEGACYtok"
	err = s.db.Update(func(tx *bolt.Tx) error {
		for i, st := range []MessageState{StateSent, StateLogged} {
			raw, _ := json.Marshal(map[string]any{"id": i + 1, "channel": "email", "to": "a@example.org", "subject": "Reset",
				"text": "Open " + link, "lang": "en", "state": st, "created_at": t0, "next_attempt": t0})
			if err := tx.Bucket(bucketOutbox).Put(itob(uint64(i+1)), raw); err != nil {
				return err
			}
		}
		tx.DeleteBucket(bucketOutboxLogged)
		return tx.Bucket(bucketMeta).Put(keySchema, itob(5))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sent, _ := s.Message(1)
	logged, _ := s.Message(2)
	raw, _ := json.Marshal(sent)
	if bytes.Contains(raw, []byte("LEGACY")) || sent.HasSecret() || sent.Kind != KindLegacy || sent.Args["Subject"] != "Reset" {
		t.Fatalf("sent legacy message: %+v", sent)
	}
	raw, _ = json.Marshal(logged)
	if bytes.Contains(raw, []byte("LEGACY")) || !logged.HasSecret() {
		t.Fatalf("logged legacy message: %+v", logged)
	}
	n, err := s.ReleaseLogged(ChannelEmail, t0)
	if err != nil || n != 1 {
		t.Fatalf("release: %d %v", n, err)
	}
	due, _ := s.ClaimDue(ChannelEmail, t0, time.Minute, 10)
	var body LegacyBody
	if len(due) != 1 || json.Unmarshal([]byte(due[0].Secret), &body) != nil || !strings.Contains(body.Text, link) {
		t.Fatalf("legacy message to send: %+v", due)
	}
}

// At start, the claims a crash left are released, and only they: a message
// waiting out a backoff keeps its time, one of the other lane is left alone.
func TestReleaseClaims(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, m := range []*Message{
		{Channel: ChannelEmail, To: "cut@example.org", Kind: "k", CreatedAt: t0},
		{Channel: ChannelEmail, To: "backoff@example.org", Kind: "k", CreatedAt: t0},
		{Channel: ChannelSMS, To: "+33612345678", Kind: "k", CreatedAt: t0},
	} {
		if err := s.Enqueue(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.ClaimDue(ChannelEmail, t0, 90*time.Second, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimDue(ChannelSMS, t0, 90*time.Second, 10); err != nil {
		t.Fatal(err)
	}
	// The second email failed and waits 30 s; the first was being sent when Foyer died.
	if _, err := s.UpdateMessage(2, func(m *Message) {
		m.EndTry(TryFailed, "421 try later")
		m.NextAttempt = t0.Add(30 * time.Second)
	}); err != nil {
		t.Fatal(err)
	}
	restart := t0.Add(time.Second)
	if n, err := s.ReleaseClaims(ChannelEmail, restart); n != 1 || err != nil {
		t.Fatalf("released %d, %v", n, err)
	}
	due, _ := s.ClaimDue(ChannelEmail, restart, 90*time.Second, 10)
	if len(due) != 1 || due[0].ID != 1 {
		t.Fatalf("due at the restart: %+v", due)
	}
	if m, _ := s.Message(1); len(m.Tries) != 2 || m.Tries[0].Outcome != TryInterrupted || m.Tries[1].Outcome != "" || !m.Claimed {
		t.Fatalf("the interrupted message: %+v", m)
	}
	if m, _ := s.Message(2); m.Claimed || !m.NextAttempt.Equal(t0.Add(30*time.Second)) || len(m.Tries) != 1 || m.Tries[0].Outcome != TryFailed {
		t.Fatalf("the message in backoff: %+v", m)
	}
	if m, _ := s.Message(3); !m.Claimed || !m.NextAttempt.Equal(t0.Add(90*time.Second)) {
		t.Fatalf("the other lane's message: %+v", m)
	}
}
