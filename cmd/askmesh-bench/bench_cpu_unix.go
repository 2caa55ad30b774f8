//go:build unix

package main

import (
	"syscall"
	"time"
)

// cpuTime is the CPU this process has used so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// flushDisks writes out the page cache's dirty data (sync(2)), so that
// writeback left by earlier steps (the generated mesh, PostgreSQL's
// checkpoints) does not stall the fsyncs of the step timed next.
func flushDisks() { syscall.Sync() }
