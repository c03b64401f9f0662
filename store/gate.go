package store

import (
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// gatedDB is the bbolt file behind a gate every transaction passes through.
// The online compaction (compact.go) shuts the gate, waits for the
// transactions in flight to end, writes a compacted copy of the file, puts it
// in place of the old one and opens the gate on it. Nothing else ever shuts
// the gate, so the cost of a transaction is a lock taken twice.
//
// The methods and fields of the bbolt handle are reached as before
// (s.db.View, s.db.Update, s.db.Batch, s.db.Stats, s.db.NoSync in tests).
type gatedDB struct {
	*bolt.DB

	mu sync.Mutex
	// inflight counts the transactions between enter and leave.
	inflight int
	// shutCh is non-nil while the gate is shut; it is closed when it opens.
	shutCh chan struct{}
	// drained is closed when the last transaction in flight leaves a shut gate.
	drained chan struct{}
	// path is the data file's path: a compacted file is opened under its
	// temporary name before it is renamed, so the bbolt handle's own Path
	// may name a file that no longer exists.
	path string
	// views, updates and batches count the transactions let through (txcount.go).
	views, updates, batches atomic.Int64
}

func newGatedDB(db *bolt.DB, path string) *gatedDB { return &gatedDB{DB: db, path: path} }

// enter waits while the gate is shut, then counts a transaction in.
func (d *gatedDB) enter() *bolt.DB {
	d.mu.Lock()
	for d.shutCh != nil {
		ch := d.shutCh
		d.mu.Unlock()
		<-ch
		d.mu.Lock()
	}
	d.inflight++
	db := d.DB
	d.mu.Unlock()
	return db
}

func (d *gatedDB) leave() {
	d.mu.Lock()
	d.inflight--
	if d.inflight == 0 && d.drained != nil {
		close(d.drained)
		d.drained = nil
	}
	d.mu.Unlock()
}

// View runs a read transaction.
func (d *gatedDB) View(fn func(*bolt.Tx) error) error {
	d.views.Add(1)
	db := d.enter()
	defer d.leave()
	return db.View(fn)
}

// Update runs a write transaction.
func (d *gatedDB) Update(fn func(*bolt.Tx) error) error {
	d.updates.Add(1)
	db := d.enter()
	defer d.leave()
	return db.Update(fn)
}

// Batch runs fn in a write transaction bbolt may share with other callers,
// counted per call.
func (d *gatedDB) Batch(fn func(*bolt.Tx) error) error {
	d.batches.Add(1)
	db := d.enter()
	defer d.leave()
	return db.Batch(fn)
}

// Stats are the bbolt handle's statistics.
func (d *gatedDB) Stats() bolt.Stats {
	d.mu.Lock()
	db := d.DB
	d.mu.Unlock()
	return db.Stats()
}

// Path is the data file's path.
func (d *gatedDB) Path() string { return d.path }

// shut closes the gate and waits up to wait for the transactions in flight
// to end. When they do not (a transaction that opens another inside it, a
// long backup copy), the gate opens again and shut reports false: a caller
// that waited on a transaction nested in one in flight would otherwise wait
// for ever.
func (d *gatedDB) shut(wait time.Duration) bool {
	d.mu.Lock()
	d.shutCh = make(chan struct{})
	if d.inflight == 0 {
		d.mu.Unlock()
		return true
	}
	drained := make(chan struct{})
	d.drained = drained
	d.mu.Unlock()
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-drained:
		return true
	case <-t.C:
		d.reopen(nil)
		return false
	}
}

// reopen opens the shut gate, on db when it is not nil.
func (d *gatedDB) reopen(db *bolt.DB) {
	d.mu.Lock()
	if db != nil {
		d.DB = db
	}
	close(d.shutCh)
	d.shutCh, d.drained = nil, nil
	d.mu.Unlock()
}
