//go:build linux

package main

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// processCPU reads the CPU clock of the process it is given: for this
// process it lies between getrusage's user+system time read just before
// and just after (give or take a scheduler tick), and it grows with work.
func TestProcessCPUIsThatProcesssClock(t *testing.T) {
	rusage := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			t.Fatal(err)
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	burn := func() {
		x := 0
		for i := range 50_000_000 {
			x ^= i
		}
		_ = x
	}
	burn()
	before := rusage()
	got, err := processCPU(os.Getpid())
	after := rusage()
	if err != nil {
		t.Fatal(err)
	}
	const tick = 10 * time.Millisecond
	if got < before-tick || got > after+tick {
		t.Errorf("processCPU = %v, getrusage %v before and %v after", got, before, after)
	}
	burn()
	if again, _ := processCPU(os.Getpid()); again <= got {
		t.Errorf("processCPU did not grow with work: %v then %v", got, again)
	}
	// A process that has exited and been waited for has no clock left.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := processCPU(gone.Process.Pid); err == nil {
		t.Error("no error for a process that has exited")
	}
}
