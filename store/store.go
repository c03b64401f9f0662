package store

import (
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

var errBucketNotFound = bolterrors.ErrBucketNotFound

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrLocked is returned by Open when another process holds the data file.
var ErrLocked = errors.New("store: the data file is in use by another process")

// CurrentSchema is the schema version this code writes.
const CurrentSchema = 14

var (
	bucketMeta            = []byte("meta")
	bucketPractice        = []byte("practice")
	bucketStaff           = []byte("staff")
	bucketStaffByEmail    = []byte("staff_by_email")
	bucketSessions        = []byte("sessions")
	bucketSessionsByOwner = []byte("sessions_by_owner")
	bucketInvites         = []byte("invites")
	bucketOutbox          = []byte("outbox")
	bucketOutboxDue       = []byte("outbox_due")
	bucketOutboxLogged    = []byte("outbox_logged")

	bucketClients         = []byte("clients")
	bucketClientIndex     = []byte("client_index")
	bucketClientsByEmail  = []byte("clients_by_email")
	bucketClientsByPhone  = []byte("clients_by_phone")
	bucketAccounts        = []byte("accounts")
	bucketAccountsByEmail = []byte("accounts_by_email")
	bucketProspects       = []byte("prospects")
	bucketAccountTokens   = []byte("account_tokens")
	bucketAppointments    = []byte("appointments")
	bucketApptsByClient   = []byte("appointments_by_client")
	bucketApptsDue        = []byte("appointments_reminders")
	bucketApptsByStart    = []byte("appointments_by_start")
	bucketTokensByAccount = []byte("account_tokens_by_account")

	bucketShares          = []byte("shares")
	bucketSharesByToken   = []byte("shares_by_token")
	bucketSharesByClient  = []byte("shares_by_client")
	bucketSharesBySubject = []byte("shares_by_subject")
	bucketSharesExpiry    = []byte("shares_expiry")
	bucketSharesPurge     = []byte("shares_purge")
	bucketShareCodes      = []byte("share_codes")
	bucketShareEvents     = []byte("share_events")
	bucketShareSessions   = []byte("share_sessions")
	bucketBlobs           = []byte("blobs")
	bucketBlobChunks      = []byte("blob_chunks")

	bucketPresos            = []byte("presos")
	bucketPresosByClient    = []byte("presos_by_client")
	bucketPresoActivity     = []byte("preso_activity")
	bucketPresoImages       = []byte("preso_images")
	bucketPresoSnapshots    = []byte("preso_snapshots")
	bucketViewings          = []byte("viewings")
	bucketViewingsByToken   = []byte("viewings_by_token")
	bucketViewingsByShare   = []byte("viewings_by_share")
	bucketSlideTimes        = []byte("slide_times")
	bucketViewingsDue       = []byte("viewings_due")
	bucketSignatures        = []byte("signatures")
	bucketSignaturesByShare = []byte("signatures_by_share")

	bucketCertificates      = []byte("certificates")
	bucketCertificatesByID  = []byte("certificates_by_id")
	bucketCertificatesBySum = []byte("certificates_by_sum")
	bucketCertificatesDue   = []byte("certificates_due")

	bucketClientSearch   = []byte("client_search")
	bucketProspectSearch = []byte("prospect_search")

	keySchema     = []byte("schema_version")
	keySecrets    = []byte("secrets")
	keyCompactDue = []byte("compact_due")
	keySettings   = []byte("settings")
	keyLogo       = []byte("logo")
	keyReceiptSeq = []byte("receipt_seq")
	// keyPracticeSeal holds the practice's signing key pair (certificate.go).
	keyPracticeSeal = []byte("practice_seal")
)

// FileName is the name of the bbolt file inside the data directory.
const FileName = "foyer.db"

// Store is Foyer's storage: one bbolt file.
type Store struct {
	// db is the bbolt file behind the gate the online compaction closes (gate.go).
	db        *gatedDB
	compactMu sync.Mutex
	// hmacKey hashes tokens, sealKey seals secrets; both are unwrapped at
	// Open with secretKey, read from keyFile or given (see secretkey.go).
	hmacKey, sealKey []byte
	secretKey        string
	keyFile          string
	// plainSeeds and compactDue say what Open has left to do (see unlock).
	plainSeeds, compactDue bool
	staff                  staffCache
	// walkedAtOpen is true when bbolt rebuilt its freelist at open by
	// walking every page, as after a crash (see boltOptions).
	walkedAtOpen bool
	// upgrade is what Open did to an older file's schema (see Upgraded).
	upgrade Upgrade
	// journalHeadMarked: the wrapped keys say the journal's head is signed.
	journalHeadMarked bool
	// shares and archived keep decoded records for share links (see share.go).
	shares   keptDecodes[Share]
	archived keptDecodes[bool]
	// mobiles keeps, by client record, the numbers that receive codes.
	mobiles keptDecodes[[]string]
	// snapshotTitles keeps preso snapshots' titles (see preso.go).
	snapshotTitles keptDecodes[string]
	hmacs          sync.Pool // of *keyedHash, see HashTo
	// checkMessage checks a message before it is queued (WithMessageCheck).
	checkMessage func(*Message) error
	// disk remembers a write refused for want of space (see DiskFull).
	disk *diskWatch

	blobOnce sync.Once
	blobAEAD cipher.AEAD // see blob.go
}

// Secrets is the record of the data file's own keys (meta/secrets).
type Secrets struct {
	// Wrapped is the HMAC and seal keys, sealed under the secret key (see secretkey.go).
	Wrapped string `json:"wrapped,omitempty"`
	// KeyID names the secret key Wrapped needs, for a message when it is missing.
	KeyID string `json:"key_id,omitempty"`

	// Before the secret key was kept apart, the keys were here in the clear,
	// and KeyCheck identified the key values were sealed with (the file's
	// own, or one derived from FOYER_SECRET_KEY). Open rewrites them as Wrapped.
	HMACKey  []byte `json:"hmac_key,omitempty"`
	SealKey  []byte `json:"seal_key,omitempty"`
	KeyCheck string `json:"key_check,omitempty"`
}

// Open opens (creating if needed) the store in dir and runs migrations.
func Open(dir string, opts ...Option) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: unable to create data directory: %w", err)
	}
	return OpenFile(filepath.Join(dir, FileName), opts...)
}

// OpenFile opens the store at an exact file path, with the secret key given
// (WithSecretKey) or else read from secret.key beside it; a new file, or
// one written before the key was kept apart, gets a new secret.key.
func OpenFile(path string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// What an interrupted compaction left (see compact).
	_ = os.Remove(path + compactSuffix)
	if fi, err := os.Stat(path); err == nil && fi.Size() > 0 {
		if err := checkLength(path); err != nil {
			return nil, err
		}
		// Without its freelist, bolt.Open walks the file where a damaged
		// page ends the program: it is read here first (damage.go).
		if !freelistWritten(path) {
			if err := CheckPages(path); err != nil {
				return nil, err
			}
		}
	}
	var s *Store
	err := guarded(path, func() error {
		db, err := bolt.Open(path, 0o600, boltOptions())
		if errors.Is(err, bolterrors.ErrTimeout) {
			return ErrLocked
		}
		if err != nil {
			return openError(path, err)
		}
		// A read transaction begun inside bolt.Open is its walk of the file.
		walked := db.Stats().TxN > 0
		if err := foyerFile(db, path); err != nil {
			_ = db.Close()
			return err
		}
		disk := newDiskWatch(filepath.Dir(path), o.now)
		opened := &Store{db: newGatedDB(db, path), disk: disk, walkedAtOpen: walked, checkMessage: o.checkMessage}
		opened.db.disk = disk
		// Closed on every way out but success, a panic included.
		defer func() {
			if s == nil {
				_ = db.Close()
			}
		}()
		if err := opened.open(o.secretKey, filepath.Join(filepath.Dir(path), KeyFileName)); err != nil {
			return err
		}
		s = opened
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// foyerFile checks that the file bbolt opened is Foyer's: its meta bucket
// holds a schema version. A file without one is new only when nothing was
// ever committed to it (bbolt made it, Foyer wrote nothing yet). Any other
// is refused before anything is written: a file of another program, or
// one whose meta pages point at pages of something else (pieces of two
// copies joined) reads as holding no practice, and taken as new it got a
// new, empty practice written into it and /setup opened to whoever came
// first.
func foyerFile(db *bolt.DB, path string) error {
	return db.View(func(tx *bolt.Tx) error {
		if m := tx.Bucket(bucketMeta); m != nil && m.Get(keySchema) != nil {
			return nil
		}
		if k, _ := tx.Cursor().First(); k == nil && tx.ID() <= 1 {
			return nil
		}
		return &DamagedError{Path: path, Problem: "no Foyer practice is where its first pages say its records are: it is another program's file, or pieces of different copies joined"}
	})
}

// open unlocks the keys, brings the schema up to date and writes the
// secrets record where it is new or in an older form, then compacts the
// file if that left keys in freed pages.
func (s *Store) open(secretKey, keyFile string) error {
	write, err := s.unlock(secretKey, keyFile)
	if err != nil {
		return err
	}
	replaces := false
	if write != nil {
		replaces = s.db.View(func(tx *bolt.Tx) error {
			if m := tx.Bucket(bucketMeta); m == nil || m.Get(keySecrets) == nil {
				return ErrNotFound
			}
			return nil
		}) == nil
	}
	if err := s.migrate(); err != nil {
		return err
	}
	if write != nil {
		if err := s.db.Update(func(tx *bolt.Tx) error { return s.writeSecrets(tx, write, replaces) }); err != nil {
			return err
		}
	}
	if s.compactDue {
		_, err := s.Compact()
		return err
	}
	return nil
}

// boltOptions are the options the store opens its file with.
//
// The freelist (bbolt's list of free pages) costs either at every commit or
// at every open, and neither is acceptable alone (BenchmarkFreelistSync,
// docs/PERFORMANCE.md):
//
//   - written at every commit, it made a small commit (a session save) cost
//     6.8 ms instead of 0.3 ms after 1 GiB of documents was purged (321,000
//     free pages, 2.5 MB of freelist written and synced each time);
//   - never written (NoFreelistSync), bbolt rebuilt it at open by walking
//     every page of the file: 175 ms at 100,000 clients with the file in the
//     page cache, 1.4 s without, before the first request could be served.
//
// So commits skip it (NoFreelistSync) and Close writes it once (see Close):
// an open after a clean stop reads it from its pages (0.6 ms at 100,000
// clients) and walks nothing. Only after a crash does the next open walk the
// file, as bbolt must to know which pages are free.
func boltOptions() *bolt.Options {
	return &bolt.Options{
		Timeout:         time.Second,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: 64 << 20,
		NoFreelistSync:  true,
	}
}

// Upgrade is an older data file's schema brought up to date by Open.
type Upgrade struct {
	From, To uint64
	// Took is how long the migrations and their commit took.
	Took time.Duration
	// JournalHead is what the upgrade to schema 14 did to the access
	// journal's head record.
	JournalHead JournalHeadUpgrade
}

// Upgraded reports the upgrade Open made of the file's schema; ok is false
// when the file was current already, or new.
func (s *Store) Upgraded() (u Upgrade, ok bool) { return s.upgrade, s.upgrade.To != 0 }

// WalkedAtOpen reports whether opening the store had to read the whole file
// to find its free pages: the last stop was not clean (a crash, kill -9, a
// power cut), so the freelist Close writes was missing (see boltOptions).
func (s *Store) WalkedAtOpen() bool { return s.walkedAtOpen }

// Close writes the freelist (so the next open need not rebuild it by walking
// the file, see boltOptions) and closes the bbolt file.
func (s *Store) Close() error {
	// Not while a compaction is switching files.
	s.compactMu.Lock()
	defer s.compactMu.Unlock()
	// The last commit writes the freelist. The flag is only read by commits,
	// which hold the writer lock this transaction holds, so flipping it here
	// races with nothing; no commit follows it.
	syncErr := s.db.Update(func(tx *bolt.Tx) error {
		tx.DB().NoFreelistSync = false
		return nil
	})
	if err := s.db.Close(); err != nil {
		return err
	}
	if errors.Is(syncErr, bolterrors.ErrDatabaseNotOpen) {
		return nil // closed twice: nothing left to write
	}
	return syncErr
}

// Ping checks that the store answers a read.
func (s *Store) Ping() error {
	return s.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketMeta) == nil {
			return errors.New("store: meta bucket missing")
		}
		return nil
	})
}

// WriteBackup writes a consistent copy of the whole store to w and returns its size.
// It holds one read transaction for the length of the copy, which is what makes it consistent.
func (s *Store) WriteBackup(w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, err
}

// BackupSnapshot writes a consistent copy of the whole store to a temporary file
// beside the data file and returns it open at its start, with its size. The
// read transaction lasts only as long as the local copy: the caller sends
// the file over the network with no transaction open, so a slow download
// blocks neither writes nor the growth of the data file. The file has no
// name on disk (removed at once), so it disappears when closed, even after
// a crash; the caller closes it.
func (s *Store) BackupSnapshot() (*os.File, int64, error) {
	f, err := os.CreateTemp(filepath.Dir(s.db.Path()), ".snapshot-*")
	if err != nil {
		return nil, 0, s.disk.seen(fmt.Errorf("store: unable to create a snapshot file: %w", err))
	}
	_ = os.Remove(f.Name())
	n, err := s.WriteBackup(&SyncingWriter{F: f})
	if err == nil {
		_, err = f.Seek(0, io.SeekStart)
	}
	if err != nil {
		f.Close()
		return nil, 0, s.disk.seen(fmt.Errorf("store: unable to write a snapshot: %w", err))
	}
	return f, n, nil
}

// DiskError is err, a failed write beside the data file (a copy of it, a
// temporary file), as ErrDiskFull when the disk had no room for it, which
// the store then counts as full (the owner's banner, see diskfull.go).
func (s *Store) DiskError(err error) error { return s.disk.seen(err) }

// SyncingWriter writes to a file and flushes it to disk after every
// SyncEvery bytes. Writing a copy of a large store in one go leaves
// hundreds of MB waiting in the page cache, and the kernel's burst to write
// them holds up the fsync of every small commit for a second or more;
// written a few MB at a time, a commit waits for a few MB at most.
type SyncingWriter struct {
	F       *os.File
	pending int
}

// SyncEvery is how much a SyncingWriter writes between flushes.
const SyncEvery = 8 << 20

func (w *SyncingWriter) Write(p []byte) (int, error) {
	n, err := w.F.Write(p)
	if w.pending += n; err == nil && w.pending >= SyncEvery {
		w.pending, err = 0, w.F.Sync()
	}
	return n, err
}

// OpenReadTxs is how many read transactions are open now; tests use it to
// check that nothing holds one across network I/O.
func (s *Store) OpenReadTxs() int { return s.db.Stats().OpenTxN }

// BackupSize is the size WriteBackup will write.
func (s *Store) BackupSize() int64 {
	var n int64
	_ = s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// Stamp names the content of the data file: it moves at the end of every
// write. quiet is false while a write is under way. Something read while
// the store was quiet, under a stamp it still has, is what a read would
// find now: a cache of reads is kept by it (the share engine's links).
func (s *Store) Stamp() (stamp uint64, quiet bool) { return s.db.stamp() }

// Hash returns the keyed hash under which a token is stored.
func (s *Store) Hash(token string) []byte { return s.HashTo(nil, token) }

// HashTo appends to dst the keyed hash of parts written one after the
// other (Hash of their concatenation). With room in dst (32 bytes) it
// allocates nothing: every request hashes a token or two (session, CSRF,
// share link).
func (s *Store) HashTo(dst []byte, parts ...string) []byte {
	// The HMACs are kept, as setting one up costs more than hashing a token.
	k, _ := s.hmacs.Get().(*keyedHash)
	if k == nil {
		k = &keyedHash{h: hmac.New(sha256.New, s.hmacKey)}
	}
	k.h.Reset()
	k.buf = k.buf[:0]
	for _, p := range parts {
		k.buf = append(k.buf, p...)
	}
	k.h.Write(k.buf)
	dst = k.h.Sum(dst)
	if cap(k.buf) > 4<<10 {
		k.buf = nil // a long input's buffer is not kept
	}
	s.hmacs.Put(k)
	return dst
}

// keyedHash is an HMAC with the buffer its input is put together in.
type keyedHash struct {
	h   hash.Hash
	buf []byte
}

// migrations[i] brings the schema from version i to i+1.
var migrations = []func(tx *bolt.Tx) error{
	migrate0to1,
	migrate1to2,
	migrate2to3,
	migrate3to4,
	migrate4to5,
	migrate5to6,
	migrate6to7,
	migrate7to8,
	migrate8to9,
	migrate9to10,
	migrate10to11,
	migrate11to12,
	migrate12to13,
	migrate13to14,
}

// migrate3to4 indexes account tokens by account, so a password or email
// change voids an account's links without reading every token.
func migrate3to4(tx *bolt.Tx) error {
	idx, err := tx.CreateBucketIfNotExists(bucketTokensByAccount)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAccountTokens).ForEach(func(k, v []byte) error {
		var t AccountToken
		if err := unmarshal(v, &t); err != nil {
			return err
		}
		return idx.Put(tokenIndexKey(t.AccountID, k), nil)
	})
}

// migrate4to5 adds shares (links to files or presos), their codes, events and
// sessions, and the chunked blobs that hold shared files.
func migrate4to5(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketShares, bucketSharesByToken, bucketSharesByClient, bucketSharesBySubject, bucketSharesExpiry, bucketSharesPurge,
		bucketShareCodes, bucketShareEvents, bucketShareSessions, bucketBlobs, bucketBlobChunks} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

// migrate2to3 indexes appointments by start time, for the staff start page.
func migrate2to3(tx *bolt.Tx) error {
	idx, err := tx.CreateBucketIfNotExists(bucketApptsByStart)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketAppointments).ForEach(func(_, v []byte) error {
		var a Appointment
		if err := unmarshal(v, &a); err != nil {
			return err
		}
		return idx.Put(byStartKey(a), byStartValue(a))
	})
}

// migrate1to2 adds clients, portal accounts and appointments.
func migrate1to2(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketClients, bucketClientIndex, bucketClientsByEmail, bucketClientsByPhone, bucketAccounts,
		bucketAccountsByEmail, bucketProspects, bucketAccountTokens, bucketAppointments, bucketApptsByClient, bucketApptsDue} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	return nil
}

func migrate0to1(tx *bolt.Tx) error {
	for _, b := range [][]byte{bucketPractice, bucketStaff, bucketStaffByEmail, bucketSessions, bucketInvites, bucketOutbox, bucketOutboxDue} {
		if _, err := tx.CreateBucketIfNotExists(b); err != nil {
			return err
		}
	}
	// The keys are written after the migrations, wrapped (see Store.open).
	return nil
}

// migrate brings the schema up to CurrentSchema. Most opens find it
// current: a read transaction tells, and the start then writes (and syncs)
// nothing.
func (s *Store) migrate() error {
	current := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		if meta := tx.Bucket(bucketMeta); meta != nil {
			v := meta.Get(keySchema)
			current = v != nil && binary.BigEndian.Uint64(v) == uint64(len(migrations))
		}
		return nil
	}); err != nil || current {
		return err
	}
	start, from := time.Now(), uint64(0)
	var head JournalHeadUpgrade
	err := s.db.Update(func(tx *bolt.Tx) error {
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return fmt.Errorf("store: unable to create meta bucket: %w", err)
		}
		version := uint64(0)
		if v := meta.Get(keySchema); v != nil {
			version = binary.BigEndian.Uint64(v)
		}
		if version > uint64(len(migrations)) {
			return fmt.Errorf("store: data file has schema %d, newer than this Foyer (%d)", version, CurrentSchema)
		}
		from = version
		for ; version < uint64(len(migrations)); version++ {
			if err := migrations[version](tx); err != nil {
				return fmt.Errorf("store: unable to migrate schema %d: %w", version, err)
			}
			if err := meta.Put(keySchema, itob(version+1)); err != nil {
				return err
			}
		}
		if from < 14 {
			var err error
			if head, err = s.signJournalHead(tx); err != nil {
				return fmt.Errorf("store: unable to sign the journal's head: %w", err)
			}
		}
		if from > 0 && from < 6 {
			return s.sealLegacyMessages(tx)
		}
		return nil
	})
	// A new file (schema 0) is made, not upgraded.
	if err == nil && from > 0 && from < uint64(len(migrations)) {
		s.upgrade = Upgrade{From: from, To: uint64(len(migrations)), Took: time.Since(start), JournalHead: head}
	}
	return err
}

// SchemaVersion returns the schema version recorded in the file.
func (s *Store) SchemaVersion() (uint64, error) {
	var v uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		v = binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keySchema))
		return nil
	})
	return v, err
}

func itob(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

// getJSON reads and decodes key from bucket; ErrNotFound when absent.
func getJSON(tx *bolt.Tx, bucket, key []byte, v any) error {
	raw := tx.Bucket(bucket).Get(key)
	if raw == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: unable to decode %s record: %w", bucket, err)
	}
	return nil
}

func putJSON(tx *bolt.Tx, bucket, key []byte, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: unable to encode %s record: %w", bucket, err)
	}
	return tx.Bucket(bucket).Put(key, raw)
}

func unmarshal(raw []byte, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("store: unable to decode record: %w", err)
	}
	return nil
}

// deleteWhere deletes the keys of b for which match is true. Keys are collected
// first because deleting under a live cursor can skip the next item.
func deleteWhere(b *bolt.Bucket, match func(k, v []byte) bool) (int, error) {
	var doomed [][]byte
	if err := b.ForEach(func(k, v []byte) error {
		if match(k, v) {
			doomed = append(doomed, append([]byte(nil), k...))
		}
		return nil
	}); err != nil {
		return 0, err
	}
	for _, k := range doomed {
		if err := b.Delete(k); err != nil {
			return 0, err
		}
	}
	return len(doomed), nil
}

// Path is the data file's path.
func (s *Store) Path() string { return s.db.Path() }

// InUse reports whether a process holds the data file at path (a running
// Foyer): a restore must not replace it underneath.
func InUse(path string) bool {
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: 200 * time.Millisecond})
	if err != nil {
		return errors.Is(err, bolterrors.ErrTimeout)
	}
	db.Close()
	return false
}

// WriteFreelist writes the list of free pages into the data file at path,
// a copy no one holds open and CheckFile has passed (it changes no record).
// A copy has none, being written from a read transaction, and the first
// open of a file without one walks every page to find them, as after a
// crash, which the start then reports as a stop that was not clean: a
// restored copy should open as after a clean stop (see boltOptions).
func WriteFreelist(path string) error {
	return guarded(path, func() error {
		// With NoFreelistSync off, bolt.Open commits the freelist it finds
		// missing; CheckFile has read every page its walk reads.
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second, FreelistType: bolt.FreelistMapType})
		if err != nil {
			return openError(path, err)
		}
		return db.Close()
	})
}

// Fingerprint is a hash of every bucket, key, value and sequence number in
// the store: two stores holding the same records have the same fingerprint,
// whatever their pages. It reads the whole file in one transaction.
func (s *Store) Fingerprint() (string, error) {
	h := sha256.New()
	var walk func(b *bolt.Bucket) error
	walk = func(b *bolt.Bucket) error {
		fmt.Fprintf(h, "seq %d\n", b.Sequence())
		return b.ForEach(func(k, v []byte) error {
			fmt.Fprintf(h, "%d:%x", len(k), k)
			if v == nil {
				h.Write([]byte("{"))
				if err := walk(b.Bucket(k)); err != nil {
					return err
				}
				h.Write([]byte("}"))
				return nil
			}
			fmt.Fprintf(h, "=%d:", len(v))
			h.Write(v)
			return nil
		})
	}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			fmt.Fprintf(h, "bucket %x\n", name)
			return walk(b)
		})
	})
	return hex.EncodeToString(h.Sum(nil)), err
}
