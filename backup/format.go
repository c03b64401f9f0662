package backup

import (
	"encoding/binary"
	"fmt"
	"io"

	"filippo.io/age"
	"github.com/klauspost/compress/zstd"
)

// The format of a copy, so that it opens without Foyer:
//
//	foyer-YYYYMMDDTHHMMSSZ.db.zst.age = age( zstd( foyer.db ) )
//
// age (age-encryption.org/v1) with a passphrase recipient (scrypt), the
// passphrase being the secret key as secret.key holds it (or
// FOYER_SECRET_KEY); inside, the bbolt data file compressed with zstd. So:
//
//	age -d foyer-20260102T030405Z.db.zst.age | zstd -d -o foyer.db
//
// (age asks for the passphrase: paste the contents of secret.key).
//
// age is a small, audited format with a Go library by its author and
// command-line tools in every distribution; zstd compresses text pages
// well and passes over encrypted documents (most of a large store) at
// hundreds of MB/s where gzip crawls.

// scryptWorkFactor is log2 of scrypt's cost. The passphrase is the secret
// key, 256 random bits (or 32 characters at least): scrypt's slowness adds
// nothing against guessing it, and at age's default (18) it would take
// 256 MiB of memory for each backup. 2^12 takes 4 MiB.
const scryptWorkFactor = 12

// encrypt writes src to dst compressed and encrypted for key.
func encrypt(dst io.Writer, src io.Reader, key string) error {
	r, err := age.NewScryptRecipient(key)
	if err != nil {
		return err
	}
	r.SetWorkFactor(scryptWorkFactor)
	sealed, err := age.Encrypt(dst, r)
	if err != nil {
		return err
	}
	// One goroutine and a 1 MiB window: a backup runs beside the pages and
	// must stay small (a few MB) whatever the size of the store.
	z, err := zstd.NewWriter(sealed, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(1<<20), zstd.WithLowerEncoderMem(true))
	if err != nil {
		return err
	}
	if _, err := z.ReadFrom(src); err != nil {
		z.Close()
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}
	return sealed.Close()
}

// decrypt writes to dst what encrypt wrote to src. A wrong key or a changed
// byte is an error: age authenticates every 64 KiB.
func decrypt(dst io.Writer, src io.Reader, key string) error {
	id, err := age.NewScryptIdentity(key)
	if err != nil {
		return err
	}
	plain, err := age.Decrypt(src, id)
	if err != nil {
		return fmt.Errorf("backup: the copy does not open with this key: %w", err)
	}
	z, err := zstd.NewReader(plain, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(1<<27))
	if err != nil {
		return err
	}
	defer z.Close()
	if _, err := z.WriteTo(dst); err != nil {
		return fmt.Errorf("%w: %w", ErrDamaged, err)
	}
	return nil
}

// isPlain reports whether head, the start of a copy, is a bbolt data file
// as it is (its first meta page's magic number) rather than an age file.
func isPlain(head []byte) bool {
	return len(head) >= 24 && binary.NativeEndian.Uint32(head[16:]) == 0xED0CDAED
}
