package main

import (
	"os"
	"runtime/debug"

	"foyer/auth"
)

// gcPercent is how far the heap grows past what is live before the
// garbage collector runs: 400 %, against Go's default of 100 %. Foyer's
// live heap is small (about 5 MB: phonenumbers' metadata, the messages,
// the templates), so by default a busy server collected about fifteen
// times a second and spent a seventh of its CPU doing so; at 400 % it
// spends about a twentieth, for a heap of about 25 MB under load.
const gcPercent = 400

// gcLimitBase is the soft memory limit, before what password hashing may
// hold is added to it.
const gcLimitBase = 128 << 20

// tuneGC sets the garbage collector for serving, unless the GOGC or
// GOMEMLIMIT environment variables set it. The soft limit keeps a heap
// that grows fivefold from growing with what hashing holds during a flood
// of sign-ins (each check holds argon2's memory): past it the collector runs
// sooner. It lies above anything Foyer keeps live, so it never makes the
// collector run without end.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcLimitBase + 2*auth.HashingMemory())
	}
}

// releaseStartMemory hands back what the start left behind (parsed files,
// the freelist's reading): with the heap allowed to grow fivefold, it would
// otherwise stay until the first collection under load.
func releaseStartMemory() { debug.FreeOSMemory() }
