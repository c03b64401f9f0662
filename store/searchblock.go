package store

import (
	"bytes"
	"container/heap"
	"encoding/binary"
	"sort"

	bolt "go.etcd.io/bbolt"
)

// Search blocks: the search text of blockSize consecutive IDs packed in one
// bbolt value, so a search reads a few hundred values and runs one SIMD
// substring scan (bytes.Index) over each, instead of stepping a cursor and
// comparing once per record. Matching is exactly that of the compact indexes
// they replace for searching (every term a substring of the folded text):
// a term never holds white space, and entries are found by their offsets, so
// a match cannot run from one entry into the next.
//
// A block is written in the same transaction as its record.
//
// Layout of a block value:
//
//	count (2)
//	count × entry header: ID (8) · tag (8) · flag (1) · text offset (4) · text length (2) · sort offset (4) · sort length (2)
//	texts, each followed by '\n'
//	sort keys
//
// Entries are in ID order. For clients the tag is the practitioner, the flag
// "archived" and the sort key the folded last and first names; for prospects
// the flag is "verified" and there is no sort key (newest first is ID order).

// blockSize is how many consecutive IDs share a block: a write rewrites about
// blockSize × 90 bytes, a search reads N / blockSize values.
const blockSize = 256

const entryHeader = 8 + 8 + 1 + 4 + 2 + 4 + 2

// searchEntry is one record as a search block holds it.
type searchEntry struct {
	id   uint64
	tag  uint64
	flag byte
	text []byte
	sort []byte
}

func blockKey(id uint64) []byte { return itob(id / blockSize) }

// decodeBlock copies a block's entries out of bbolt's memory.
func decodeBlock(v []byte) []searchEntry {
	if len(v) < 2 {
		return nil
	}
	v = bytes.Clone(v) // one copy, which every entry slices
	n := int(binary.BigEndian.Uint16(v))
	textBase := 2 + n*entryHeader
	out := make([]searchEntry, n, n+1) // room for the entry putSearchEntry may add
	for i := range n {
		h := v[2+i*entryHeader:]
		to, tl := int(binary.BigEndian.Uint32(h[17:])), int(binary.BigEndian.Uint16(h[21:]))
		so, sl := int(binary.BigEndian.Uint32(h[23:])), int(binary.BigEndian.Uint16(h[27:]))
		out[i] = searchEntry{id: binary.BigEndian.Uint64(h), tag: binary.BigEndian.Uint64(h[8:]), flag: h[16],
			text: v[textBase+to : textBase+to+tl : textBase+to+tl], sort: v[so : so+sl : so+sl]}
	}
	return out
}

func encodeBlock(entries []searchEntry) []byte {
	size := 2 + len(entries)*entryHeader
	for _, e := range entries {
		size += len(e.text) + 1 + len(e.sort)
	}
	v := make([]byte, 2+len(entries)*entryHeader, size)
	binary.BigEndian.PutUint16(v, uint16(len(entries)))
	textBase := len(v)
	for i, e := range entries {
		h := v[2+i*entryHeader:]
		binary.BigEndian.PutUint64(h, e.id)
		binary.BigEndian.PutUint64(h[8:], e.tag)
		h[16] = e.flag
		binary.BigEndian.PutUint32(h[17:], uint32(len(v)-textBase))
		binary.BigEndian.PutUint16(h[21:], uint16(len(e.text)))
		v = append(v, e.text...)
		v = append(v, '\n')
	}
	for i, e := range entries {
		h := v[2+i*entryHeader:]
		binary.BigEndian.PutUint32(h[23:], uint32(len(v)))
		binary.BigEndian.PutUint16(h[27:], uint16(len(e.sort)))
		v = append(v, e.sort...)
	}
	return v
}

// maxField keeps a text or sort key within its 2-byte length; search texts
// are built from size-limited form fields and never come near it.
const maxField = 1<<16 - 1

// putSearchEntry adds or replaces e in its block, moves its postings in the
// trigram index from its former text to the new one, and keeps the counts. A
// new entry's postings are left to later when it is not nil.
func putSearchEntry(ix searchIndex, e searchEntry, later *gramBatch) error {
	e.text, e.sort = e.text[:min(len(e.text), maxField)], e.sort[:min(len(e.sort), maxField)]
	key := blockKey(e.id)
	entries := decodeBlock(ix.blocks.Get(key))
	i := sort.Search(len(entries), func(i int) bool { return entries[i].id >= e.id })
	var old []byte
	replaced := i < len(entries) && entries[i].id == e.id
	if !replaced || entries[i].tag != e.tag || entries[i].flag != e.flag {
		if replaced {
			if err := ix.count(entries[i], -1); err != nil {
				return err
			}
		}
		if err := ix.count(e, 1); err != nil {
			return err
		}
	}
	if replaced {
		old = entries[i].text
		entries[i] = e
	} else {
		entries = append(entries, searchEntry{})
		copy(entries[i+1:], entries[i:])
		entries[i] = e
	}
	if !replaced && later != nil {
		later.add(ix, e.id)
	} else if err := updateGrams(ix.grams, e.id, old, e.text); err != nil {
		return err
	}
	return ix.blocks.Put(key, encodeBlock(entries))
}

// deleteSearchEntry removes id from its block, its postings from the trigram
// index and itself from the counts, if it is there.
func deleteSearchEntry(ix searchIndex, id uint64) error {
	key := blockKey(id)
	entries := decodeBlock(ix.blocks.Get(key))
	i := sort.Search(len(entries), func(i int) bool { return entries[i].id >= id })
	if i == len(entries) || entries[i].id != id {
		return nil
	}
	if err := updateGrams(ix.grams, id, entries[i].text, nil); err != nil {
		return err
	}
	if err := ix.count(entries[i], -1); err != nil {
		return err
	}
	entries = append(entries[:i], entries[i+1:]...)
	if len(entries) == 0 {
		return ix.blocks.Delete(key)
	}
	return ix.blocks.Put(key, encodeBlock(entries))
}

// blockView reads a block in place, without copying (valid during its transaction).
type blockView struct {
	v        []byte
	n        int
	textBase int
}

func viewBlock(v []byte) blockView {
	if len(v) < 2 {
		return blockView{}
	}
	n := int(binary.BigEndian.Uint16(v))
	return blockView{v: v, n: n, textBase: 2 + n*entryHeader}
}

func (b blockView) header(i int) []byte { return b.v[2+i*entryHeader : 2+(i+1)*entryHeader] }
func (b blockView) id(i int) []byte     { return b.header(i)[:8] }
func (b blockView) idU(i int) uint64    { return binary.BigEndian.Uint64(b.header(i)) }
func (b blockView) first() uint64       { return binary.BigEndian.Uint64(b.v[2:]) }
func (b blockView) tag(i int) uint64    { return binary.BigEndian.Uint64(b.header(i)[8:]) }
func (b blockView) flag(i int) byte     { return b.header(i)[16] }
func (b blockView) textStart(i int) int {
	return b.textBase + int(binary.BigEndian.Uint32(b.header(i)[17:]))
}

func (b blockView) text(i int) []byte {
	h := b.header(i)
	start := b.textBase + int(binary.BigEndian.Uint32(h[17:]))
	return b.v[start : start+int(binary.BigEndian.Uint16(h[21:]))]
}

func (b blockView) sortKey(i int) []byte {
	h := b.header(i)
	start := int(binary.BigEndian.Uint32(h[23:]))
	return b.v[start : start+int(binary.BigEndian.Uint16(h[27:]))]
}

// find returns the index of id's entry, or -1.
func (b blockView) find(id uint64) int {
	i := sort.Search(b.n, func(i int) bool { return b.idU(i) >= id })
	if i < b.n && b.idU(i) == id {
		return i
	}
	return -1
}

// texts is the block's text section.
func (b blockView) texts() []byte {
	if b.n == 0 {
		return nil
	}
	end := b.textStart(b.n-1) + len(b.text(b.n-1)) + 1
	return b.v[b.textBase:end]
}

// entryAt finds the entry whose text holds position pos of the text section.
func (b blockView) entryAt(pos int) int {
	return sort.Search(b.n, func(i int) bool { return b.textStart(i)-b.textBase > pos }) - 1
}

// entryFrom is entryAt for a position in entry from's text or after it,
// galloping from there: a term found in most entries (one letter, a common
// domain) is placed in a step or two instead of a binary search of the block.
func (b blockView) entryFrom(from, pos int) int {
	step, hi := 1, from+1
	for hi < b.n && b.textStart(hi)-b.textBase <= pos {
		from = hi
		hi += step
		step *= 2
	}
	hi = min(hi, b.n)
	return from + sort.Search(hi-from, func(k int) bool { return b.textStart(from+k)-b.textBase > pos }) - 1
}

// each calls fn, in ID order, for every entry of the block that keep accepts
// and whose text holds every term. The longest term is looked for with one
// bytes.Index pass over the block; only entries it hits are checked further.
func (b blockView) each(terms [][]byte, keep func(i int) bool, fn func(i int)) {
	if len(terms) == 0 {
		for i := range b.n {
			if keep(i) {
				fn(i)
			}
		}
		return
	}
	lead := 0
	for i, t := range terms {
		if len(t) > len(terms[lead]) {
			lead = i
		}
	}
	texts := b.texts()
	for pos, next := 0, 0; pos < len(texts); {
		j := bytes.Index(texts[pos:], terms[lead])
		if j < 0 {
			return
		}
		i := b.entryFrom(next, pos+j)
		next = i + 1
		pos = b.textStart(i) - b.textBase + len(b.text(i)) + 1
		if !keep(i) {
			continue
		}
		text, all := b.text(i), true
		for k, t := range terms {
			if k != lead && !bytes.Contains(text, t) {
				all = false
				break
			}
		}
		if all {
			fn(i)
		}
	}
}

func (q Query) bytes() [][]byte {
	out := make([][]byte, len(q.terms))
	for i, t := range q.terms {
		out[i] = []byte(t)
	}
	return out
}

// hit is a matching client kept for the page: its sort key (last, first, ID).
type hit struct {
	key []byte
	id  []byte
}

// hitLess orders hits as the bytes key ++ id, the client_index key order.
func hitLess(a, b hit) bool {
	n := min(len(a.key), len(b.key))
	if c := bytes.Compare(a.key[:n], b.key[:n]); c != 0 {
		return c < 0
	}
	if len(a.key) == len(b.key) {
		return bytes.Compare(a.id, b.id) < 0
	}
	// One key is a prefix of the other: compare what follows it in each,
	// the rest of the longer key (then its ID) against the other's ID.
	if len(a.key) > len(b.key) {
		return concatCompare(a.key[n:], a.id, b.id) < 0
	}
	return concatCompare(b.key[n:], b.id, a.id) > 0
}

// concatCompare compares x ++ y with z, without building x ++ y.
func concatCompare(x, y, z []byte) int {
	n := min(len(x), len(z))
	if c := bytes.Compare(x[:n], z[:n]); c != 0 || n == len(z) {
		if c == 0 && len(x)+len(y) > len(z) {
			return 1
		}
		return c
	}
	return bytes.Compare(y, z[n:])
}

// topHits keeps the k first hits in name order (a max-heap of them), so a
// page is found without sorting every match.
type topHits struct {
	k int
	h []hit
}

func (t *topHits) Len() int           { return len(t.h) }
func (t *topHits) Less(i, j int) bool { return hitLess(t.h[j], t.h[i]) }
func (t *topHits) Swap(i, j int)      { t.h[i], t.h[j] = t.h[j], t.h[i] }
func (t *topHits) Push(x any)         { t.h = append(t.h, x.(hit)) }
func (t *topHits) Pop() any {
	x := t.h[len(t.h)-1]
	t.h = t.h[:len(t.h)-1]
	return x
}

func (t *topHits) offer(x hit) {
	if t.k == 0 {
		return
	}
	if len(t.h) < t.k {
		heap.Push(t, x)
		return
	}
	if hitLess(x, t.h[0]) {
		t.h[0] = x
		heap.Fix(t, 0)
	}
}

// sorted returns the kept hits in name order.
func (t *topHits) sorted() []hit {
	out := append([]hit(nil), t.h...)
	sort.Slice(out, func(i, j int) bool { return hitLess(out[i], out[j]) })
	return out
}

// migrate8to9 packs client and prospect search texts into search blocks,
// from the compact indexes that held them.
func migrate8to9(tx *bolt.Tx) error {
	clients, err := tx.CreateBucketIfNotExists(bucketClientSearch)
	if err != nil {
		return err
	}
	prospects, err := tx.CreateBucketIfNotExists(bucketProspectSearch)
	if err != nil {
		return err
	}
	blocks := map[uint64][]searchEntry{}
	err = tx.Bucket(bucketClientIndex).ForEach(func(k, v []byte) error {
		if len(k) < 8 || len(v) < 19 {
			return nil
		}
		id := btoi(k[len(k)-8:])
		blocks[id/blockSize] = append(blocks[id/blockSize], searchEntry{id: id, tag: btoi(v[:8]), flag: v[8],
			text: bytes.Clone(v[19:]), sort: bytes.Clone(k[:len(k)-8])})
		return nil
	})
	if err != nil {
		return err
	}
	if err := putBlocks(clients, blocks); err != nil {
		return err
	}
	blocks = map[uint64][]searchEntry{}
	err = tx.Bucket(bucketProspects).ForEach(func(k, v []byte) error {
		if len(k) != 8 || len(v) < 1 {
			return nil
		}
		id := btoi(k)
		blocks[id/blockSize] = append(blocks[id/blockSize], searchEntry{id: id, flag: v[0], text: bytes.Clone(v[1:])})
		return nil
	})
	if err != nil {
		return err
	}
	return putBlocks(prospects, blocks)
}

// putBlocks writes whole blocks, each sorted by ID.
func putBlocks(b *bolt.Bucket, blocks map[uint64][]searchEntry) error {
	for n, entries := range blocks {
		sort.Slice(entries, func(i, j int) bool { return entries[i].id < entries[j].id })
		if err := b.Put(itob(n), encodeBlock(entries)); err != nil {
			return err
		}
	}
	return nil
}
