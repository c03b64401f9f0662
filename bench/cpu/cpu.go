// Package cpu measures the process's CPU time for benchmarks: on a machine
// shared with other work, wall time per operation mostly measures waiting
// for a core, CPU time does not.
package cpu

import (
	"syscall"
	"testing"
	"time"
)

// Report adds the process CPU time per operation to a benchmark's result;
// call the function it returns when the timed loop is done.
func Report(b *testing.B) func() {
	start := Process()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(Process()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

// Process is the CPU time, user and system, the process has used so far.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
