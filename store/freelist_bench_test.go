package store

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// freelistBenchMiB is how many MiB of blobs BenchmarkFreelistSync writes and
// purges before measuring: 256 as the question asks when FOYER_BENCH_FREED_MIB
// says so, a small default so CI's one-iteration run stays quick.
func freelistBenchMiB(b *testing.B) int64 {
	if v := os.Getenv("FOYER_BENCH_FREED_MIB"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			b.Fatalf("FOYER_BENCH_FREED_MIB=%q is not a size in MiB", v)
		}
		return n
	}
	return 16
}

// openBolt opens a store file as OpenFile does, with NoFreelistSync set or not.
func openBolt(b *testing.B, path string, noSync bool) *Store {
	opts := boltOptions()
	opts.NoFreelistSync = noSync
	db, err := bolt.Open(path, 0o600, opts)
	if err != nil {
		b.Fatal(err)
	}
	s := &Store{db: newGatedDB(db, path)}
	if err := s.open("", filepath.Join(filepath.Dir(path), KeyFileName)); err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkFreelistSync compares three ways of keeping bbolt's freelist on a
// file where many blobs were written then purged, so the freelist is large:
//
//   - synced: NoFreelistSync false, a small commit (a session save) writes
//     the whole freelist;
//   - unsynced: NoFreelistSync true and a plain close, so every open
//     rebuilds the freelist by walking the file;
//   - store: what the store does, NoFreelistSync true and Close writing the
//     freelist once, so the next open reads it.
//
// Each reports the open time after a close (open-ms), the file size after one
// round and after a second one (are freed pages used again?); ns/op is one
// small commit.
func BenchmarkFreelistSync(b *testing.B) {
	mib := freelistBenchMiB(b)
	for _, mode := range []string{"synced", "unsynced", "store"} {
		b.Run(mode, func(b *testing.B) {
			noSync := mode != "synced"
			closeStore := func(s *Store) error {
				if mode == "store" {
					return s.Close()
				}
				return s.db.Close()
			}
			path := filepath.Join(b.TempDir(), FileName)
			s := openBolt(b, path, noSync)
			writeAndPurge(b, s, mib)
			free := s.db.Stats().FreePageN
			if err := closeStore(s); err != nil {
				b.Fatal(err)
			}
			start := time.Now()
			s = openBolt(b, path, noSync)
			opened := time.Since(start)
			b.Cleanup(func() { closeStore(s) })
			size1 := fileMiB(b, path)
			// A second round shows whether the freed pages are used again.
			writeAndPurge(b, s, mib)
			free = max(free, s.db.Stats().FreePageN)
			if free < int(mib<<20)/4096/2 {
				b.Fatalf("only %d free pages after purging %d MiB", free, mib)
			}
			now := time.Now()
			sess := Session{CreatedAt: now, LastSeen: now}
			for b.Loop() {
				if err := s.SaveSession("bench-session-id-of-forty-three-characters!!", sess); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(opened.Microseconds())/1000, "open-ms")
			b.ReportMetric(size1, "file-MiB")
			b.ReportMetric(fileMiB(b, path), "file-2nd-MiB")
			b.ReportMetric(float64(free), "free-pages")
		})
	}
}

// writeAndPurge writes mib MiB of blobs, 8 MiB each, then deletes them all.
func writeAndPurge(b *testing.B, s *Store, mib int64) {
	var ids []uint64
	for written := int64(0); written < mib<<20; written += 8 << 20 {
		bl := Blob{Name: "x", CreatedAt: time.Now()}
		if err := s.CreateBlob(&bl, io.LimitReader(zeros{}, 8<<20), 8<<20); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, bl.ID)
	}
	for _, id := range ids {
		if err := s.DeleteBlob(id); err != nil {
			b.Fatal(err)
		}
	}
}

func fileMiB(b *testing.B, path string) float64 {
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return float64(st.Size()) / (1 << 20)
}
