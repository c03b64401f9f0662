package store

import (
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// countedDB is the bbolt file with a count of the transactions run through
// it, so a test can hold a request to the transactions it may open (a code
// entry: one write) without a profiler. The counters cost an atomic add per
// transaction.
type countedDB struct {
	*bolt.DB
	views, updates, batches atomic.Int64
}

// View runs a read transaction, counted.
func (d *countedDB) View(fn func(*bolt.Tx) error) error {
	d.views.Add(1)
	return d.DB.View(fn)
}

// Update runs a write transaction, counted.
func (d *countedDB) Update(fn func(*bolt.Tx) error) error {
	d.updates.Add(1)
	return d.DB.Update(fn)
}

// Batch runs fn in a write transaction shared with other callers, counted
// per call (bbolt may run several calls in one transaction).
func (d *countedDB) Batch(fn func(*bolt.Tx) error) error {
	d.batches.Add(1)
	return d.DB.Batch(fn)
}

// TxCounts is how many transactions the store ran since it was opened.
type TxCounts struct {
	// Reads are View transactions, Writes Update transactions, Batched the
	// calls to DB.Batch (high-rate small writes, grouped by bbolt).
	Reads, Writes, Batched int64
}

// Sub is the transactions run between an earlier count and c.
func (c TxCounts) Sub(earlier TxCounts) TxCounts {
	return TxCounts{Reads: c.Reads - earlier.Reads, Writes: c.Writes - earlier.Writes, Batched: c.Batched - earlier.Batched}
}

// TxCounts returns how many transactions the store ran since it was opened.
func (s *Store) TxCounts() TxCounts {
	return TxCounts{Reads: s.db.views.Load(), Writes: s.db.updates.Load(), Batched: s.db.batches.Load()}
}
