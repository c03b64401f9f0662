package store

import (
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// scanClients is the client search as it was before search blocks: one pass
// over client_index in key order. It stays here as the reference the blocks
// must agree with.
func (s *Store) scanClients(f ClientFilter) ([]uint64, int, error) {
	var ids []uint64
	total := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketClientIndex).ForEach(func(k, v []byte) error {
			if len(v) < 19 {
				return nil
			}
			if f.PractitionerID != 0 && binary.BigEndian.Uint64(v[:8]) != f.PractitionerID {
				return nil
			}
			if (v[8] == 1) != f.Archived {
				return nil
			}
			if !f.Query.Empty() && !f.Query.match(string(v[19:])) {
				return nil
			}
			if total >= f.Offset && len(ids) < f.Limit {
				ids = append(ids, btoi(k[len(k)-8:]))
			}
			total++
			return nil
		})
	})
	return ids, total, err
}

// scanProspects is the prospects search as it was before search blocks.
func (s *Store) scanProspects(f ProspectFilter) ([]uint64, int, error) {
	var ids []uint64
	total := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketProspects).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			if len(v) < 1 {
				continue
			}
			if (f.Verified == "yes" && v[0] != 1) || (f.Verified == "no" && v[0] != 0) {
				continue
			}
			if !f.Query.Empty() && !f.Query.match(string(v[1:])) {
				continue
			}
			if total >= f.Offset && len(ids) < f.Limit {
				ids = append(ids, btoi(k))
			}
			total++
		}
		return nil
	})
	return ids, total, err
}

// fuzzName draws a name from pieces that fold, hyphenate, repeat and collide.
func fuzzName(r *rand.Rand) string {
	pieces := []string{"Éloïse", "eloise", "Marc", "Anne-Marie", "Zoé", "Dupont", "du Pont", "Lefèvre", "O'Neil", "ß", "Øre",
		"Ng", "a", "Ab", "de la Tour", "Müller", "MULLER", "Çelik", "x", "Dupond", "İlker", "\u00a0Noël", "13", "Jean\tPaul"}
	n := 1 + r.IntN(2)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString([]string{" ", "-", ""}[r.IntN(3)])
		}
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func fuzzPhone(r *rand.Rand) string {
	return []string{"+336", "+337", "+331", "+3247", "+4179", "+1514"}[r.IntN(6)] + strconv.Itoa(10000000+r.IntN(90000000))
}

// fuzzQuery draws what a person types: a piece of a stored text, a phone
// number spaced their way, several words, one letter, or nonsense.
func fuzzQuery(r *rand.Rand, texts []string) string {
	pick := func() string {
		t := texts[r.IntN(len(texts))]
		if t == "" {
			return "a"
		}
		i := r.IntN(len(t))
		j := i + 1 + r.IntN(min(8, len(t)-i))
		return strings.ToValidUTF8(t[i:j], "")
	}
	switch r.IntN(7) {
	case 0:
		return pick()
	case 1:
		return pick() + " " + pick()
	case 2:
		d := digits(pick() + pick())
		if len(d) > 4 {
			return d[:2] + " " + d[2:4] + "." + d[4:]
		}
		return d
	case 3:
		return string(rune('a' + r.IntN(26)))
	case 4:
		return strings.ToUpper(pick())
	case 5:
		return "zzq" + pick()
	}
	return fuzzName(r)
}

// TestSearchBlocksMatchTheScan: the trigram index and the search blocks
// against the scan they replaced. On a random practice (clients created,
// edited, archived, moved between practitioners; prospects signing up,
// verified, linked, deleted), every search answers exactly what the scan over
// the compact indexes answers: the same clients in the same order, the same
// totals, page after page.
func TestSearchBlocksMatchTheScan(t *testing.T) {
	s := openTest(t)
	s.db.NoSync = true // thousands of small writes; durability is not what is tested
	r := rand.New(rand.NewPCG(11, 2026))
	const n = 1500 // several blocks, and IDs past a block boundary
	var texts []string
	var clientIDs []uint64
	for i := range n {
		if i == n/2 {
			// Jump the IDs past a chunk of the trigram index, so that
			// candidates span several posting values per trigram.
			if err := s.db.Update(func(tx *bolt.Tx) error {
				for _, b := range [][]byte{bucketClients, bucketAccounts} {
					if err := tx.Bucket(b).SetSequence(2*chunkSize - 300); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		c := Client{FirstName: fuzzName(r), LastName: fuzzName(r), Lang: "fr", PractitionerID: uint64(1 + r.IntN(3))}
		if r.IntN(3) > 0 {
			c.Email = strings.ToLower(strings.ReplaceAll(Fold(c.FirstName), " ", ".")) + strconv.Itoa(i) + "@exemple.fr"
		}
		for range r.IntN(3) {
			c.Phones = append(c.Phones, Phone{Type: PhoneMobile, Number: fuzzPhone(r)})
		}
		if err := s.CreateClient(&c); err != nil {
			t.Fatal(err)
		}
		clientIDs = append(clientIDs, c.ID)
		texts = append(texts, string(clientIndexValue(c)[19:]))

		a := Account{Email: "p" + strconv.Itoa(i) + "@exemple.fr", Verified: r.IntN(2) == 0,
			SignUp: SignUp{FirstName: fuzzName(r), LastName: fuzzName(r)}}
		if r.IntN(2) == 0 {
			a.SignUp.Phone = fuzzPhone(r)
		}
		if err := s.CreateAccount(&a); err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(prospectValue(a)[1:]))
		switch r.IntN(10) {
		case 0:
			if _, err := s.DeleteProspect(a.ID); err != nil {
				t.Fatal(err)
			}
		case 1:
			if _, err := s.UpdateAccount(a.ID, func(a *Account) error { a.Verified = !a.Verified; return nil }); err != nil {
				t.Fatal(err)
			}
		case 2:
			if _, err := s.UpdateAccount(a.ID, func(a *Account) error { a.Verified = true; return nil }); err != nil {
				t.Fatal(err)
			}
			if err := s.LinkAccount(a.ID, c.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	for range n / 3 {
		id := clientIDs[r.IntN(len(clientIDs))]
		c, err := s.UpdateClient(id, func(c *Client) error {
			switch r.IntN(4) {
			case 0:
				c.Archived = !c.Archived
			case 1:
				c.LastName = fuzzName(r)
			case 2:
				c.PractitionerID = uint64(1 + r.IntN(3))
			case 3:
				c.Phones = append(c.Phones, Phone{Type: PhoneHome, Number: fuzzPhone(r)})
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(clientIndexValue(c)[19:]))
	}

	// Whole words of stored texts (an email, a number, a long name): more
	// trigrams than a query looks up, which then narrows by a spread of them.
	var long []string
	for _, text := range texts {
		for _, w := range strings.Fields(text) {
			if len(w) > maxQueryGrams+2 {
				long = append(long, w)
			}
		}
	}
	if len(long) < 50 {
		t.Fatalf("only %d long words", len(long))
	}
	for i := range 700 {
		q := ""
		switch {
		case i >= 600:
			q = long[r.IntN(len(long))]
		case i%10 != 0:
			q = fuzzQuery(r, texts)
		}
		cf := ClientFilter{Query: ParseQuery(q), PractitionerID: uint64(r.IntN(4)), Archived: r.IntN(4) == 0, Offset: []int{0, 0, 25, 50, 1000}[r.IntN(5)], Limit: 25}
		want, wantTotal, err := s.scanClients(cf)
		if err != nil {
			t.Fatal(err)
		}
		got, total, err := s.SearchClients(cf)
		if err != nil {
			t.Fatal(err)
		}
		var gotIDs []uint64
		for _, c := range got {
			gotIDs = append(gotIDs, c.ID)
		}
		if total != wantTotal || !slices.Equal(gotIDs, want) {
			t.Fatalf("clients %q %+v: got %d %v, the scan %d %v", q, cf, total, gotIDs, wantTotal, want)
		}

		pf := ProspectFilter{Query: ParseQuery(q), Verified: []string{"", "yes", "no"}[r.IntN(3)], Offset: []int{0, 0, 25, 900}[r.IntN(4)], Limit: 25}
		wantP, wantPTotal, err := s.scanProspects(pf)
		if err != nil {
			t.Fatal(err)
		}
		gotP, pTotal, err := s.SearchProspects(pf)
		if err != nil {
			t.Fatal(err)
		}
		var gotPIDs []uint64
		for _, a := range gotP {
			gotPIDs = append(gotPIDs, a.ID)
		}
		if pTotal != wantPTotal || !slices.Equal(gotPIDs, wantP) {
			t.Fatalf("prospects %q %+v: got %d %v, the scan %d %v", q, pf, pTotal, gotPIDs, wantPTotal, wantP)
		}
	}
	_, all, _ := s.scanProspects(ProspectFilter{})
	if n, err := s.CountProspects(); err != nil || n.Total() != all {
		t.Fatalf("CountProspects = %d, %v; the scan counts %d", n, err, all)
	}
}

// TestSearchBlocksMigration: a schema 8 file gets its search blocks from the
// compact indexes at the upgrade, and searches as before.
func TestSearchBlocksMigration(t *testing.T) {
	s := openTest(t)
	s.db.NoSync = true
	for i := range 300 {
		c := Client{FirstName: "Anne", LastName: "Martin" + strconv.Itoa(i), PractitionerID: 1}
		if err := s.CreateClient(&c); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateAccount(&Account{Email: "p" + strconv.Itoa(i) + "@exemple.fr", SignUp: SignUp{LastName: "Roux"}}); err != nil {
			t.Fatal(err)
		}
	}
	// Back to schema 8: no blocks, no trigram index.
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketClientSearch, bucketProspectSearch, bucketClientGrams, bucketProspectGrams, bucketSearchCounts} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, itob(8))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.migrate(); err != nil {
		t.Fatal(err)
	}
	got, total, err := s.SearchClients(ClientFilter{Query: ParseQuery("martin29"), Limit: 25})
	if err != nil || total != 11 || len(got) != 11 || got[0].LastName != "Martin29" {
		t.Fatalf("after migration: %d %v %v", total, got, err)
	}
	if n, err := s.CountProspects(); err != nil || n.Total() != 300 {
		t.Fatalf("prospects after migration: %d %v", n, err)
	}
}
