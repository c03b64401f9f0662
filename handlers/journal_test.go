package handlers

import (
	"encoding/binary"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"foyer/journal"
	"foyer/locales"
	"foyer/store"
)

// TestCheckTheChainNamesACutTail: the newest entries cut from a stopped
// server's data file with bbolt alone (no key), the head record pointed at
// the last entry kept and the sequence set back, as an outside tester did:
// once Foyer runs again, Check the chain says where, in both languages.
func TestCheckTheChainNamesACutTail(t *testing.T) {
	dir := t.TempDir()
	a := newTestAppIn(t, Config{}, "", dir)
	owner := a.setUp()
	path := owner.newClient()
	for range 5 {
		owner.get(path)
	}
	list := a.journalEntries(store.JournalFilter{})
	last := list[0].Seq
	if last < 6 {
		t.Fatalf("only %d entries", last)
	}
	mustContain(t, owner.get("/journal/verify"), "The chain is intact")
	if err := a.journal.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := a.st.Close(); err != nil {
		t.Fatal(err)
	}

	keep := last - 3
	db, err := bolt.Open(filepath.Join(dir, store.FileName), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte("journal"))
		for seq := keep + 1; seq <= last+1; seq++ {
			if err := b.Delete(binary.BigEndian.AppendUint64(nil, seq)); err != nil {
				return err
			}
		}
		k := binary.BigEndian.AppendUint64(nil, keep)
		if err := tx.Bucket([]byte("journal_meta")).Put([]byte("head"), append(k, b.Get(k)[:32]...)); err != nil {
			return err
		}
		return b.SetSequence(keep)
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// Foyer again: the owner's sign-in is the first entry written since.
	b := newTestAppIn(t, Config{}, "", dir)
	ob := b.signIn("owner@example.org", ownerPassword)
	r := ob.get("/journal/verify")
	mustContain(t, r, "The chain is broken at entry no. "+itoa(keep+1)+":",
		"when this entry was written, the signed record of the journal’s last entry was missing or had been changed without the key")
	mustNotContain(t, r, "The chain is intact")
	ob.post("/lang", formOf("lang", "fr", "next", "/"))
	r = ob.get("/journal/verify")
	mustContain(t, r, "La chaîne est rompue à l’entrée n°\u00a0"+itoa(keep+1),
		"l’enregistrement signé de la dernière entrée du journal manquait ou avait été modifié sans la clé")
}

// TestEveryJournalActionIsNamed: the Journal page and its CSV name every
// action, and every problem the chain check reports, in both languages.
func TestEveryJournalActionIsNamed(t *testing.T) {
	for _, lang := range []string{"en", "fr"} {
		m, err := locales.Messages(lang)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range journal.Actions {
			if s, _ := m[actionMessage(string(a))].(string); s == "" {
				t.Errorf("%s: no name for the action %s", lang, a)
			}
		}
		for _, p := range []journal.Problem{journal.Altered, journal.Missing, journal.Unlinked, journal.AnchorAltered,
			journal.Truncated, journal.HeadAltered, journal.HeadWasAltered} {
			if s, _ := m["journal.problem_"+string(p)].(string); s == "" {
				t.Errorf("%s: no words for the problem %s", lang, p)
			}
		}
	}
}
