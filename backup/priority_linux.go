package backup

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// ioprioBestEffortLowest is the I/O priority of class best-effort, level 7
// (ioprio_set(2): class << 13 | level), the lowest that is never starved.
const ioprioBestEffortLowest = 2<<13 | 7

// lowPriority runs work on a thread of its own with the lowest CPU and I/O
// priority, and returns its error. Taking a copy of a large store is
// seconds of compression and encryption and a gigabyte written: at normal
// priority it competes with the requests for the cores and with each
// commit's fsync for the disk. The thread is dropped afterwards (the
// goroutine ends locked to it), so no other goroutine inherits its priority.
func lowPriority(work func() error) error {
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		tid := unix.Gettid()
		// Best effort: a system that refuses leaves the normal priority.
		_ = unix.Setpriority(unix.PRIO_PROCESS, tid, 19)
		_, _, _ = unix.Syscall(unix.SYS_IOPRIO_SET, 1 /* IOPRIO_WHO_PROCESS */, uintptr(tid), ioprioBestEffortLowest)
		done <- work()
	}()
	return <-done
}
