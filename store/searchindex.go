package store

import (
	"bytes"
	"encoding/binary"
	"maps"
	"math/bits"
	"slices"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// The trigram index: for each three bytes that occur in a search text, which
// IDs hold them. A query term is a substring of a text only if every trigram
// of the term occurs in it, so the IDs holding all of a query's trigrams are
// a superset of its matches, usually the matches themselves; each is then
// checked against its text in the search blocks, which keeps the results
// exactly those of the scan. A search reads a few posting values per
// trigram and the blocks of its candidates instead of every block.
//
// A posting value holds the IDs of one chunk of chunkSize consecutive IDs,
// under the key trigram (3) · chunk number (8): a sorted list of the IDs' low
// 12 bits (2 bytes each) while there are fewer than 256 of them, a bitmap of
// 512 bytes beyond. A write rewrites at most 512 bytes per trigram it adds or
// removes, and a search reads at most one value per trigram per 4,096 IDs.
//
// Entries are written with their search block, in the same transaction
// (putSearchEntry, deleteSearchEntry), from the text the block holds.

const (
	chunkBits  = 12
	chunkSize  = 1 << chunkBits
	bitmapLen  = chunkSize / 8
	maxListLen = bitmapLen/2 - 1 // a list of 255 IDs is 510 bytes; 512 is a bitmap
	gramKeyLen = 3 + 8
	// maxQueryGrams caps the trigrams a query looks up: a pasted long term
	// is narrowed as well by a spread of its trigrams, and checked in full.
	maxQueryGrams = 16
)

var (
	bucketClientGrams   = []byte("client_grams")
	bucketProspectGrams = []byte("prospect_grams")
	bucketSearchCounts  = []byte("search_counts")
)

// searchIndex is where a search entry is written: its block, its trigram
// postings, and the count of entries sharing its tag and flag, which answers
// a list without a query ("how many active clients", "how many prospects")
// without reading every block.
type searchIndex struct {
	blocks, grams, counts *bolt.Bucket
	kind                  byte // the counts' key prefix: 'c' clients, 'p' prospects
}

func clientSearch(tx *bolt.Tx) searchIndex {
	return searchIndex{tx.Bucket(bucketClientSearch), tx.Bucket(bucketClientGrams), tx.Bucket(bucketSearchCounts), 'c'}
}

func prospectSearch(tx *bolt.Tx) searchIndex {
	return searchIndex{tx.Bucket(bucketProspectSearch), tx.Bucket(bucketProspectGrams), tx.Bucket(bucketSearchCounts), 'p'}
}

// countKey is kind (1) · tag (8) · flag (1).
func countKey(kind byte, tag uint64, flag byte) []byte {
	k := make([]byte, 10)
	k[0], k[9] = kind, flag
	binary.BigEndian.PutUint64(k[1:], tag)
	return k
}

// count adds delta to the count of e's tag and flag.
func (ix searchIndex) count(e searchEntry, delta int) error {
	k := countKey(ix.kind, e.tag, e.flag)
	n := delta
	if v := ix.counts.Get(k); len(v) == 8 {
		n += int(btoi(v))
	}
	if n <= 0 {
		return ix.counts.Delete(k)
	}
	return ix.counts.Put(k, itob(uint64(n)))
}

// countEntries sums the counts of kind whose tag and flag keep accepts.
func countEntries(counts *bolt.Bucket, kind byte, keep func(tag uint64, flag byte) bool) int {
	n := 0
	c := counts.Cursor()
	for k, v := c.Seek([]byte{kind}); len(k) == 10 && k[0] == kind; k, v = c.Next() {
		if keep(binary.BigEndian.Uint64(k[1:]), k[9]) && len(v) == 8 {
			n += int(btoi(v))
		}
	}
	return n
}

func gramKey(g uint32, chunk uint64) []byte {
	k := make([]byte, gramKeyLen)
	k[0], k[1], k[2] = byte(g>>16), byte(g>>8), byte(g)
	binary.BigEndian.PutUint64(k[3:], chunk)
	return k
}

// gramsOf returns the distinct trigrams of text, sorted.
func gramsOf(text []byte) []uint32 {
	if len(text) < 3 {
		return nil
	}
	out := make([]uint32, 0, len(text)-2)
	for i := 0; i+3 <= len(text); i++ {
		out = append(out, uint32(text[i])<<16|uint32(text[i+1])<<8|uint32(text[i+2]))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// postingAdd returns v with low added, or nil when it already holds it.
func postingAdd(v []byte, low uint16) []byte {
	if len(v) == bitmapLen {
		if v[low/8]&(1<<(low%8)) != 0 {
			return nil
		}
		out := bytes.Clone(v)
		out[low/8] |= 1 << (low % 8)
		return out
	}
	n := len(v) / 2
	i, found := listSearch(v, low)
	if found {
		return nil
	}
	if n >= maxListLen {
		out := make([]byte, bitmapLen)
		for j := range n {
			x := binary.BigEndian.Uint16(v[2*j:])
			out[x/8] |= 1 << (x % 8)
		}
		out[low/8] |= 1 << (low % 8)
		return out
	}
	out := make([]byte, len(v)+2)
	copy(out, v[:2*i])
	binary.BigEndian.PutUint16(out[2*i:], low)
	copy(out[2*i+2:], v[2*i:])
	return out
}

// postingRemove returns v without low (empty when nothing is left), and
// whether it held it.
func postingRemove(v []byte, low uint16) ([]byte, bool) {
	if len(v) == bitmapLen {
		if v[low/8]&(1<<(low%8)) == 0 {
			return nil, false
		}
		out := bytes.Clone(v)
		out[low/8] &^= 1 << (low % 8)
		for _, b := range out {
			if b != 0 {
				return out, true
			}
		}
		return nil, true
	}
	i, found := listSearch(v, low)
	if !found {
		return nil, false
	}
	out := make([]byte, 0, len(v)-2)
	out = append(append(out, v[:2*i]...), v[2*i+2:]...)
	return out, true
}

// listSearch finds low in a posting list: its index, or where it would go.
func listSearch(v []byte, low uint16) (int, bool) {
	lo, hi := 0, len(v)/2
	for lo < hi {
		m := (lo + hi) / 2
		if binary.BigEndian.Uint16(v[2*m:]) < low {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(v)/2 && binary.BigEndian.Uint16(v[2*lo:]) == low
}

// updateGrams moves id's postings from the trigrams of old to those of new,
// touching only the trigrams that differ.
func updateGrams(g *bolt.Bucket, id uint64, old, new []byte) error {
	before, after := gramsOf(old), gramsOf(new)
	chunk, low := id>>chunkBits, uint16(id&(chunkSize-1))
	i, j := 0, 0
	for i < len(before) || j < len(after) {
		switch {
		case j == len(after) || (i < len(before) && before[i] < after[j]):
			k := gramKey(before[i], chunk)
			v, ok := postingRemove(g.Get(k), low)
			i++
			if !ok {
				continue
			}
			if len(v) == 0 {
				if err := g.Delete(k); err != nil {
					return err
				}
			} else if err := g.Put(k, v); err != nil {
				return err
			}
		case i == len(before) || after[j] < before[i]:
			k := gramKey(after[j], chunk)
			j++
			if v := postingAdd(g.Get(k), low); v != nil {
				if err := g.Put(k, v); err != nil {
					return err
				}
			}
		default: // in both: unchanged
			i++
			j++
		}
	}
	return nil
}

// chunkSet is the candidate IDs of one chunk, as a bitmap.
type chunkSet struct {
	chunk uint64
	bits  [chunkSize / 64]uint64
}

// orPosting sets in s the IDs of a posting value.
func (s *chunkSet) orPosting(v []byte) {
	if len(v) == bitmapLen {
		for w := range s.bits {
			s.bits[w] |= binary.LittleEndian.Uint64(v[8*w:])
		}
		return
	}
	for j := 0; j+2 <= len(v); j += 2 {
		x := binary.BigEndian.Uint16(v[j:])
		s.bits[x/64] |= 1 << (x % 64)
	}
}

// andPosting keeps in s only the IDs of a posting value, and reports
// whether any is left.
func (s *chunkSet) andPosting(v []byte) bool {
	var any uint64
	if len(v) == bitmapLen {
		for w := range s.bits {
			s.bits[w] &= binary.LittleEndian.Uint64(v[8*w:])
			any |= s.bits[w]
		}
		return any != 0
	}
	var t chunkSet
	t.orPosting(v)
	for w := range s.bits {
		s.bits[w] &= t.bits[w]
		any |= s.bits[w]
	}
	return any != 0
}

// queryGrams returns the trigrams to look up for the terms, or nil when no
// term is long enough to have one (the blocks are scanned then).
func queryGrams(terms [][]byte) []uint32 {
	var all []uint32
	for _, t := range terms {
		all = append(all, gramsOf(t)...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	if len(all) <= maxQueryGrams {
		return all
	}
	spread := make([]uint32, maxQueryGrams)
	for i := range spread {
		spread[i] = all[i*len(all)/maxQueryGrams]
	}
	return spread
}

// candidates returns, chunk by chunk in ID order, the IDs whose texts hold
// every one of grams.
func candidates(g *bolt.Bucket, grams []uint32) []chunkSet {
	var sets []chunkSet
	c := g.Cursor()
	prefix := func(gram uint32) []byte { return gramKey(gram, 0)[:3] }
	p := prefix(grams[0])
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		if len(k) != gramKeyLen {
			continue
		}
		sets = append(sets, chunkSet{chunk: binary.BigEndian.Uint64(k[3:])})
		sets[len(sets)-1].orPosting(v)
	}
	for _, gram := range grams[1:] {
		if len(sets) == 0 {
			return nil
		}
		kept := sets[:0]
		p := prefix(gram)
		k, v := c.Seek(gramKey(gram, sets[0].chunk))
		for i := range sets {
			// Step to this chunk's posting, if the trigram has one.
			for k != nil && bytes.HasPrefix(k, p) && binary.BigEndian.Uint64(k[3:]) < sets[i].chunk {
				k, v = c.Next()
			}
			if k == nil || !bytes.HasPrefix(k, p) {
				break
			}
			if binary.BigEndian.Uint64(k[3:]) == sets[i].chunk && sets[i].andPosting(v) {
				kept = append(kept, sets[i])
			}
		}
		sets = kept
	}
	return sets
}

// eachCandidate calls fn for every candidate whose search entry keep accepts
// and whose text holds every term: in ID order, or newest first when desc.
// fn returns false to stop.
func eachCandidate(blocks *bolt.Bucket, sets []chunkSet, desc bool, terms [][]byte,
	keep func(b blockView, i int) bool, fn func(b blockView, i int) bool) {
	var b blockView
	blockNo, pos := ^uint64(0), 0
	c := blocks.Cursor()
	var k, v []byte
	visit := func(id uint64) bool {
		if n := id / blockSize; n != blockNo {
			// Candidates of a query usually sit in every block or most:
			// the cursor steps to the next one rather than searching the tree.
			if blockNo != ^uint64(0) && k != nil && ((!desc && n == blockNo+1) || (desc && n+1 == blockNo)) {
				if desc {
					k, v = c.Prev()
				} else {
					k, v = c.Next()
				}
			}
			if k == nil || btoi(k) != n {
				k, v = c.Seek(itob(n))
			}
			blockNo, b = n, blockView{}
			if k != nil && btoi(k) == n {
				b = viewBlock(v)
			}
			if pos = 0; desc {
				pos = b.n - 1
			}
		}
		// Candidates come in order, so the entry is looked for after (or,
		// newest first, before) the last one only; in a block without gaps
		// it sits at its distance from the first.
		if b.n > 0 && id >= b.first() && id-b.first() < uint64(b.n) && b.idU(int(id-b.first())) == id {
			pos = int(id - b.first())
		} else if desc {
			pos = b.before(pos, id)
		} else {
			pos = b.after(pos, id)
		}
		if pos < 0 || pos >= b.n || b.idU(pos) != id || !keep(b, pos) {
			return true
		}
		text := b.text(pos)
		for _, t := range terms {
			if !bytes.Contains(text, t) {
				return true
			}
		}
		return fn(b, pos)
	}
	for s := range sets {
		if desc {
			s = len(sets) - 1 - s
		}
		set := &sets[s]
		base := set.chunk << chunkBits
		for w := range set.bits {
			if desc {
				w = len(set.bits) - 1 - w
			}
			for word := set.bits[w]; word != 0; {
				var bit int
				if desc {
					bit = 63 - bits.LeadingZeros64(word)
				} else {
					bit = bits.TrailingZeros64(word)
				}
				word &^= 1 << bit
				if !visit(base + uint64(w*64+bit)) {
					return
				}
			}
		}
	}
}

// after returns the first entry from pos on whose ID is id or more (b.n if
// none), galloping: a few steps for a near entry, a binary search for a far one.
func (b blockView) after(pos int, id uint64) int {
	step, hi := 1, pos
	for hi < b.n && b.idU(hi) < id {
		pos = hi + 1
		hi += step
		step *= 2
	}
	hi = min(hi, b.n)
	return pos + sort.Search(hi-pos, func(i int) bool { return b.idU(pos+i) >= id })
}

// before returns the last entry up to pos whose ID is id or less (-1 if none).
func (b blockView) before(pos int, id uint64) int {
	step, lo := 1, pos
	for lo >= 0 && b.idU(lo) > id {
		pos = lo - 1
		lo -= step
		step *= 2
	}
	lo = max(lo, -1)
	// Entries lo+1 .. pos: the last one with an ID up to id.
	return lo + sort.Search(pos-lo, func(i int) bool { return b.idU(lo+1+i) > id })
}

// migrate9to10 builds the trigram indexes from the search blocks, one chunk
// of IDs at a time so that memory stays bounded however many records there are.
func migrate9to10(tx *bolt.Tx) error {
	for _, pair := range [][2][]byte{{bucketClientSearch, bucketClientGrams}, {bucketProspectSearch, bucketProspectGrams}} {
		g, err := tx.CreateBucketIfNotExists(pair[1])
		if err != nil {
			return err
		}
		if err := buildGrams(tx.Bucket(pair[0]), g); err != nil {
			return err
		}
	}
	return nil
}

// migrate10to11 counts the search entries by tag and flag.
func migrate10to11(tx *bolt.Tx) error {
	if _, err := tx.CreateBucketIfNotExists(bucketSearchCounts); err != nil {
		return err
	}
	for _, ix := range []searchIndex{clientSearch(tx), prospectSearch(tx)} {
		counts := map[[2]uint64]int{}
		err := ix.blocks.ForEach(func(_, v []byte) error {
			b := viewBlock(v)
			for i := range b.n {
				counts[[2]uint64{b.tag(i), uint64(b.flag(i))}]++
			}
			return nil
		})
		if err != nil {
			return err
		}
		for k, n := range counts {
			if err := ix.counts.Put(countKey(ix.kind, k[0], byte(k[1])), itob(uint64(n))); err != nil {
				return err
			}
		}
	}
	return nil
}

// buildGrams writes the postings of every entry of the blocks into g, which is empty.
func buildGrams(blocks, g *bolt.Bucket) error {
	postings := map[uint32][]byte{}
	chunk := ^uint64(0)
	flush := func() error {
		keys := make([]uint32, 0, len(postings))
		for gram := range postings {
			keys = append(keys, gram)
		}
		slices.Sort(keys)
		for _, gram := range keys {
			v := postings[gram]
			if n := len(v) / 2; n > maxListLen {
				bm := make([]byte, bitmapLen)
				for j := range n {
					x := binary.BigEndian.Uint16(v[2*j:])
					bm[x/8] |= 1 << (x % 8)
				}
				v = bm
			}
			if err := g.Put(gramKey(gram, chunk), v); err != nil {
				return err
			}
		}
		clear(postings)
		return nil
	}
	err := blocks.ForEach(func(_, v []byte) error {
		b := viewBlock(v)
		for i := range b.n {
			id := b.idU(i)
			if id>>chunkBits != chunk {
				if err := flush(); err != nil {
					return err
				}
				chunk = id >> chunkBits
			}
			var low [2]byte
			binary.BigEndian.PutUint16(low[:], uint16(id&(chunkSize-1)))
			// Blocks come in ID order, so each list grows sorted.
			for _, gram := range gramsOf(b.text(i)) {
				postings[gram] = append(postings[gram], low[:]...)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// gramBatch holds back the postings of entries added in one transaction, so
// that each posting value they touch is read and written once (Store.Batch).
type gramBatch struct {
	pending []pendingGrams
}

type pendingGrams struct {
	blocks, grams *bolt.Bucket
	ids           []uint64
}

func (d *gramBatch) add(ix searchIndex, id uint64) {
	for i := range d.pending {
		if d.pending[i].grams == ix.grams {
			d.pending[i].ids = append(d.pending[i].ids, id)
			return
		}
	}
	d.pending = append(d.pending, pendingGrams{blocks: ix.blocks, grams: ix.grams, ids: []uint64{id}})
}

// flush writes the postings held back. Each entry is indexed from the text
// its block holds now: a later edit in the same transaction (which moved
// only the trigrams that differ) or deletion is accounted for.
func (d *gramBatch) flush() error {
	for _, p := range d.pending {
		lows := map[string][]uint16{}
		blockNo, b := ^uint64(0), blockView{}
		for _, id := range p.ids {
			if n := id / blockSize; n != blockNo {
				blockNo, b = n, viewBlock(p.blocks.Get(itob(n)))
			}
			i := b.find(id)
			if i < 0 {
				continue // deleted since
			}
			for _, gram := range gramsOf(b.text(i)) {
				k := string(gramKey(gram, id>>chunkBits))
				lows[k] = append(lows[k], uint16(id&(chunkSize-1)))
			}
		}
		keys := slices.Sorted(maps.Keys(lows))
		for _, k := range keys {
			var set chunkSet
			set.orPosting(p.grams.Get([]byte(k)))
			for _, x := range lows[k] {
				set.bits[x/64] |= 1 << (x % 64)
			}
			if err := p.grams.Put([]byte(k), set.posting()); err != nil {
				return err
			}
		}
	}
	return nil
}

// posting encodes the set as a posting value: a list up to maxListLen IDs,
// a bitmap beyond.
func (s *chunkSet) posting() []byte {
	n := 0
	for _, w := range s.bits {
		n += bits.OnesCount64(w)
	}
	if n > maxListLen {
		v := make([]byte, bitmapLen)
		for w, word := range s.bits {
			binary.LittleEndian.PutUint64(v[8*w:], word)
		}
		return v
	}
	v := make([]byte, 0, 2*n)
	for w, word := range s.bits {
		for ; word != 0; word &= word - 1 {
			v = binary.BigEndian.AppendUint16(v, uint16(w*64+bits.TrailingZeros64(word)))
		}
	}
	return v
}
