package store

// The gate (gate.go) counts the transactions it lets through, so a test can
// hold a request to the transactions it may open (a code entry: one write)
// without a profiler. The counters cost an atomic add per transaction.

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
