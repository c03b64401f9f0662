package store

import "golang.org/x/sys/unix"

// freeSpace measures the file system holding dir: the bytes this process may
// still write there, and its size.
func freeSpace(dir string) (avail, size uint64, ok bool) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, false
	}
	return st.Bavail * uint64(st.Bsize), st.Blocks * uint64(st.Bsize), true
}
