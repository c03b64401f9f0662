package store

import (
	"bytes"
	"encoding/binary"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// postingIDs decodes a posting value into the low bits it holds.
func postingIDs(v []byte) []uint16 {
	var out []uint16
	if len(v) == bitmapLen {
		for x := range chunkSize {
			if v[x/8]&(1<<(x%8)) != 0 {
				out = append(out, uint16(x))
			}
		}
		return out
	}
	for j := 0; j+2 <= len(v); j += 2 {
		out = append(out, binary.BigEndian.Uint16(v[j:]))
	}
	return out
}

// TestPostingAddRemove: random additions and removals on one posting value,
// through the list, its growth into a bitmap and back to nothing, against a
// plain set.
func TestPostingAddRemove(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 11))
	for round := range 20 {
		var v []byte
		want := map[uint16]bool{}
		span := []int{300, 600, chunkSize}[round%3] // dense and sparse chunks
		for range 3000 {
			x := uint16(r.IntN(span))
			if r.IntN(3) > 0 {
				nv := postingAdd(v, x)
				if (nv == nil) != want[x] {
					t.Fatalf("add %d: changed %v, held %v", x, nv != nil, want[x])
				}
				if nv != nil {
					v = nv
				}
				want[x] = true
			} else {
				nv, ok := postingRemove(v, x)
				if ok != want[x] {
					t.Fatalf("remove %d: found %v, held %v", x, ok, want[x])
				}
				if ok {
					v = nv
				}
				delete(want, x)
			}
			if len(v) > bitmapLen || (len(v) != bitmapLen && len(v)%2 != 0) {
				t.Fatalf("posting of %d bytes", len(v))
			}
			if len(want) == 0 && len(v) != 0 {
				t.Fatalf("empty set kept as %d bytes", len(v))
			}
			if len(want) > maxListLen && len(v) != bitmapLen {
				t.Fatalf("%d IDs as a list of %d bytes", len(want), len(v))
			}
		}
		got := postingIDs(v)
		if w := slices.Sorted(maps.Keys(want)); !slices.Equal(got, w) {
			t.Fatalf("round %d: posting holds %v, want %v", round, got, w)
		}
		var set chunkSet
		set.orPosting(v)
		for x := range chunkSize {
			if (set.bits[x/64]&(1<<(x%64)) != 0) != want[uint16(x)] {
				t.Fatalf("round %d: chunk set disagrees at %d", round, x)
			}
		}
	}
}

// bucketContents reads a bucket's keys and values.
func bucketContents(t *testing.T, s *Store, bucket []byte) map[string]string {
	out := map[string]string{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			out[string(k)] = string(v)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// gramSets reads a trigram index as sets of IDs, whatever form each posting has.
func gramSets(t *testing.T, s *Store, bucket []byte) map[string][]uint64 {
	out := map[string][]uint64{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			if len(v) == 0 {
				t.Errorf("empty posting kept under %q", k)
			}
			chunk := binary.BigEndian.Uint64(k[3:])
			for _, low := range postingIDs(v) {
				out[string(k[:3])] = append(out[string(k[:3])], chunk<<chunkBits|uint64(low))
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestTrigramIndexMigration: a schema 9 file gets its trigram indexes from
// the search blocks at the upgrade, holding exactly what the writes (a batch,
// with links inside it, then single edits and deletions) put there, and
// searches answer as before.
func TestTrigramIndexMigration(t *testing.T) {
	s := openTest(t)
	s.db.NoSync = true
	r := rand.New(rand.NewPCG(9, 10))
	var ids []uint64
	err := s.Batch(func(b *Batch) error {
		for i := range 5000 { // more than one chunk
			c := Client{FirstName: fuzzName(r), LastName: fuzzName(r), Email: "c" + strconv.Itoa(i) + "@exemple.fr", PractitionerID: 1,
				Phones: []Phone{{Type: PhoneMobile, Number: fuzzPhone(r)}}}
			if err := b.AddClient(&c); err != nil {
				return err
			}
			ids = append(ids, c.ID)
			a := Account{Email: "p" + strconv.Itoa(i) + "@exemple.fr", Verified: i%10 == 0, SignUp: SignUp{FirstName: fuzzName(r), LastName: "Roux"}}
			if err := b.AddAccount(&a); err != nil {
				return err
			}
			if i%10 == 0 {
				// Linked in the same batch: no longer a prospect, its postings held back must not be written.
				if err := b.LinkAccount(a.ID, c.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Edits and deletions leave postings in the forms writes give them.
	for i := range 300 {
		if _, err := s.UpdateClient(ids[r.IntN(len(ids))], func(c *Client) error { c.LastName = fuzzName(r); return nil }); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeleteProspect(uint64(2 + i*10)); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]map[string][]uint64{}
	for _, b := range [][]byte{bucketClientGrams, bucketProspectGrams} {
		before[string(b)] = gramSets(t, s, b)
	}
	countsBefore := bucketContents(t, s, bucketSearchCounts)
	if err := s.db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketClientGrams, bucketProspectGrams, bucketSearchCounts} {
			if err := tx.DeleteBucket(b); err != nil {
				return err
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, itob(9))
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.migrate(); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.SchemaVersion(); v != CurrentSchema {
		t.Fatalf("schema %d after migration", v)
	}
	for _, b := range [][]byte{bucketClientGrams, bucketProspectGrams} {
		after := gramSets(t, s, b)
		if len(after) == 0 || !maps.EqualFunc(before[string(b)], after, slices.Equal) {
			t.Fatalf("%s: the migration built %d trigrams, the writes %d, or their IDs differ", b, len(after), len(before[string(b)]))
		}
	}
	if after := bucketContents(t, s, bucketSearchCounts); len(after) == 0 || !maps.Equal(after, countsBefore) {
		t.Fatalf("counts: the migration made %v, the writes %v", after, countsBefore)
	}
	for _, q := range []string{"dupont", "exemple.fr", "c4999@", "roux", "anne-marie", ""} {
		f := ClientFilter{Query: ParseQuery(q), PractitionerID: 1, Limit: 25}
		want, wantTotal, _ := s.scanClients(f)
		got, total, err := s.SearchClients(f)
		if err != nil || total != wantTotal || len(got) != len(want) || (len(got) > 0 && got[0].ID != want[0]) {
			t.Fatalf("clients %q after migration: %d %v, the scan %d %v", q, total, err, wantTotal, want)
		}
		pf := ProspectFilter{Query: ParseQuery(q), Limit: 25}
		wantP, wantPTotal, _ := s.scanProspects(pf)
		gotP, pTotal, err := s.SearchProspects(pf)
		if err != nil || pTotal != wantPTotal || len(gotP) != len(wantP) || (len(gotP) > 0 && gotP[0].ID != wantP[0]) {
			t.Fatalf("prospects %q after migration: %d %v, the scan %d %v", q, pTotal, err, wantPTotal, wantP)
		}
		if (q == "roux" || q == "") && pTotal == 0 {
			t.Fatal("no prospect found after migration")
		}
	}
}

// TestBlockGallop: after and before find an entry from any starting point,
// near or far, present or not.
func TestBlockGallop(t *testing.T) {
	var entries []searchEntry
	for id := uint64(3); id < 3+3*200; id += 3 {
		entries = append(entries, searchEntry{id: id, text: []byte("x")})
	}
	b := viewBlock(encodeBlock(entries))
	for pos := range b.n {
		for id := uint64(0); id < 3+3*200+3; id++ {
			want := b.n
			for i := pos; i < b.n; i++ {
				if b.idU(i) >= id {
					want = i
					break
				}
			}
			if got := b.after(pos, id); got != want {
				t.Fatalf("after(%d, %d) = %d, want %d", pos, id, got, want)
			}
			want = -1
			for i := pos; i >= 0; i-- {
				if b.idU(i) <= id {
					want = i
					break
				}
			}
			if got := b.before(pos, id); got != want {
				t.Fatalf("before(%d, %d) = %d, want %d", pos, id, got, want)
			}
		}
	}
}

// TestHitLess: the name order of hits is the bytes order of key ++ ID, as
// client_index holds them, also when one name is the start of another.
func TestHitLess(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 8))
	piece := func() []byte {
		b := make([]byte, r.IntN(4))
		for i := range b {
			b[i] = "a\x00b"[r.IntN(3)]
		}
		return b
	}
	for range 20000 {
		a, b := hit{key: piece(), id: itob(uint64(r.IntN(3)))}, hit{key: piece(), id: itob(uint64(r.IntN(3)))}
		want := bytes.Compare(append(slices.Clone(a.key), a.id...), append(slices.Clone(b.key), b.id...)) < 0
		if got := hitLess(a, b); got != want {
			t.Fatalf("hitLess(%q·%x, %q·%x) = %v", a.key, a.id, b.key, b.id, got)
		}
	}
}

// TestEntryFrom: from any entry at or before it, entryFrom finds the entry
// holding a position of the text section, as entryAt does.
func TestEntryFrom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 7))
	var entries []searchEntry
	for id := range uint64(200) {
		entries = append(entries, searchEntry{id: id, text: bytes.Repeat([]byte("x"), r.IntN(12))})
	}
	b := viewBlock(encodeBlock(entries))
	for pos := range len(b.texts()) {
		want := b.entryAt(pos)
		for from := 0; from <= want; from++ {
			if got := b.entryFrom(from, pos); got != want {
				t.Fatalf("entryFrom(%d, %d) = %d, entryAt %d", from, pos, got, want)
			}
		}
	}
}

// TestSearchClientsWalk: a query most clients match pages by walking the
// name order; when its matches all sort late, the walk gives up within its
// budget and the matches are gone through again. Both answer as the scan.
func TestSearchClientsWalk(t *testing.T) {
	s := openTest(t)
	s.db.NoSync = true
	err := s.Batch(func(b *Batch) error {
		for i := range 400 {
			// "Zq…" clients (a third) hold a "q" and sort after every "A…" one.
			c := Client{FirstName: "Anne", LastName: "Abel" + strconv.Itoa(i), PractitionerID: 1}
			if i%3 == 0 {
				c.LastName = "Zq" + strconv.Itoa(i)
			}
			if err := b.AddClient(&c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		f := ClientFilter{Query: ParseQuery("q"), Limit: 25}
		if _, ok := walkClients(tx, f, f.Query.bytes(), 134); ok {
			t.Error("the walk to the late matches did not give up")
		}
		f.Query = ParseQuery("an")
		if ids, ok := walkClients(tx, f, f.Query.bytes(), 400); !ok || len(ids) != 25 {
			t.Errorf("the walk over dense matches: %d, %v", len(ids), ok)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"q", "zq", "an", "abel", "e", "zq1"} {
		for _, offset := range []int{0, 25, 120, 300} {
			f := ClientFilter{Query: ParseQuery(q), Offset: offset, Limit: 25}
			want, wantTotal, _ := s.scanClients(f)
			got, total, err := s.SearchClients(f)
			var gotIDs []uint64
			for _, c := range got {
				gotIDs = append(gotIDs, c.ID)
			}
			if err != nil || total != wantTotal || !slices.Equal(gotIDs, want) {
				t.Fatalf("%q from %d: got %d %v, the scan %d %v", q, offset, total, gotIDs, wantTotal, want)
			}
		}
	}
}
