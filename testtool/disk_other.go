//go:build !linux

package testtool

import (
	"os"
	"testing"
)

// SmallDisk would mount a small file system; only Linux tests do.
func SmallDisk(t testing.TB, size int64) string {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but a small file system can only be mounted on Linux")
	}
	t.Skip("a small file system can only be mounted on Linux")
	return ""
}

// FillDisk is not reached where SmallDisk skips.
func FillDisk(t testing.TB, dir string) string {
	t.Helper()
	t.Skip("a small file system can only be mounted on Linux")
	return ""
}
