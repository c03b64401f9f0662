package store

import (
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// gatedDB is the bbolt file behind a gate every transaction passes through.
// The online compaction (compact.go) closes it to writes, waits for the
// writes in flight, copies the file while reads go on, then closes it to
// reads for the moment it takes to put the copy in place of the file.
// Nothing else closes the gate, so the cost of a transaction is a lock
// taken twice. A panic bbolt raises on a damaged page becomes an error
// naming the file (damage.go).
//
// The methods and fields of the bbolt handle are reached as before
// (s.db.View, s.db.Update, s.db.Batch, s.db.Stats, s.db.NoSync in tests).
type gatedDB struct {
	*bolt.DB

	mu sync.Mutex
	// readers and writers count the transactions between enter and leave.
	readers, writers int
	// writesShut and allShut are non-nil while the gate is closed to
	// writes, or to every transaction; each is closed when the gate opens.
	writesShut, allShut chan struct{}
	// drained is closed when the transactions a closing waits for have left.
	drained chan struct{}
	// path is the data file's path: a compacted file is opened under its
	// temporary name before it is renamed, so the bbolt handle's own Path
	// may name a file that no longer exists.
	path string
	// views, updates and batches count the transactions let through (txcount.go).
	views, updates, batches atomic.Int64
	// writing counts the writes under way; written moves when one ends
	// (Stamp): together they tell a reader whether the file may have changed.
	writing atomic.Int64
	written atomic.Uint64
	// disk hears how every write went: here a write the disk had no room
	// for becomes ErrDiskFull, and is remembered (diskfull.go).
	disk *diskWatch
}

func newGatedDB(db *bolt.DB, path string) *gatedDB { return &gatedDB{DB: db, path: path} }

// enter waits while the gate is closed to this kind of transaction, then counts it in.
func (d *gatedDB) enter(write bool) *bolt.DB {
	d.mu.Lock()
	for {
		ch := d.allShut
		if ch == nil && write {
			ch = d.writesShut
		}
		if ch == nil {
			break
		}
		d.mu.Unlock()
		<-ch
		d.mu.Lock()
	}
	if write {
		d.writers++
	} else {
		d.readers++
	}
	db := d.DB
	d.mu.Unlock()
	return db
}

func (d *gatedDB) leave(write bool) {
	d.mu.Lock()
	if write {
		d.writers--
	} else {
		d.readers--
	}
	if d.drained != nil && d.isDrained() {
		close(d.drained)
		d.drained = nil
	}
	d.mu.Unlock()
}

// isDrained reports whether the transactions the gate's closing waits for
// have all left: the writes, or every transaction. d.mu is held.
func (d *gatedDB) isDrained() bool {
	if d.allShut != nil {
		return d.readers+d.writers == 0
	}
	return d.writers == 0
}

// View runs a read transaction.
func (d *gatedDB) View(fn func(*bolt.Tx) error) error {
	d.views.Add(1)
	db := d.enter(false)
	defer d.leave(false)
	return guarded(d.path, func() error { return db.View(fn) })
}

// Update runs a write transaction.
func (d *gatedDB) Update(fn func(*bolt.Tx) error) error {
	d.updates.Add(1)
	db := d.enter(true)
	defer d.leave(true)
	d.writing.Add(1)
	defer d.wroteOne()
	return d.wrote(guarded(d.path, func() error { return db.Update(fn) }))
}

// Batch runs fn in a write transaction bbolt may share with other callers,
// counted per call.
func (d *gatedDB) Batch(fn func(*bolt.Tx) error) error {
	d.batches.Add(1)
	db := d.enter(true)
	defer d.leave(true)
	d.writing.Add(1)
	defer d.wroteOne()
	return d.wrote(guarded(d.path, func() error { return db.Batch(fn) }))
}

// wroteOne marks the end of a write, whatever became of it: the stamp moves
// before the write stops counting as under way.
func (d *gatedDB) wroteOne() {
	d.written.Add(1)
	d.writing.Add(-1)
}

// stamp names the file's content: it moves at the end of every write, and
// quiet is false while a write is under way (it may have committed).
func (d *gatedDB) stamp() (stamp uint64, quiet bool) {
	// writing is read first: a write that starts after it is concurrent
	// with the caller's read; one that ended before it moved written.
	quiet = d.writing.Load() == 0
	return d.written.Load(), quiet
}

// wrote tells the disk watch how a write went.
func (d *gatedDB) wrote(err error) error {
	if d.disk == nil {
		return err // a file opened apart, for a test
	}
	if err == nil {
		d.disk.saved()
		return nil
	}
	return d.disk.seen(err)
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

// shut closes the gate to writes (all false) or to every transaction, and
// waits up to wait for those in flight to leave. When they do not (a
// transaction that opens another inside it, a long backup copy), the gate
// opens again and shut reports false: a caller waiting on a transaction
// nested in one in flight would otherwise wait for ever.
func (d *gatedDB) shut(all bool, wait time.Duration) bool {
	d.mu.Lock()
	if all {
		d.allShut = make(chan struct{})
	} else {
		d.writesShut = make(chan struct{})
	}
	if d.isDrained() {
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

// reopen opens the gate to every transaction, on db when it is not nil.
func (d *gatedDB) reopen(db *bolt.DB) {
	d.mu.Lock()
	if db != nil {
		d.DB = db
	}
	for _, ch := range []chan struct{}{d.writesShut, d.allShut} {
		if ch != nil {
			close(ch)
		}
	}
	d.writesShut, d.allShut, d.drained = nil, nil, nil
	d.mu.Unlock()
}
