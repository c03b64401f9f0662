//go:build !linux

package backup

// lowPriority runs work; only Linux lowers its priority (see priority_linux.go).
func lowPriority(work func() error) error { return work() }
