//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// processCPU is the CPU another process has used so far, user and system,
// all its threads, exited ones included, to the nanosecond: the process's
// CPU-time clock (clock_getcpuclockid(3) makes the same id). The replicas
// are children still running, which getrusage(RUSAGE_CHILDREN) does not
// count, and /proc/<pid>/stat counts in 10 ms ticks, too coarse for a few
// questions.
func processCPU(pid int) (time.Duration, error) {
	// MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED) of the kernel's headers.
	clock := int32(^pid)<<3 | 2
	var ts unix.Timespec
	if err := unix.ClockGettime(clock, &ts); err != nil {
		return 0, fmt.Errorf("process CPU of %d: %w", pid, err)
	}
	return time.Duration(ts.Nano()), nil
}

// userHZ is the unit of /proc/stat's times (USER_HZ, 100 on every Linux
// architecture Go supports).
const userHZ = 100

// machineCPU is the time all CPUs of the machine have been busy (any
// process, the kernel included: all but idle and I/O wait) and their
// total time so far, from /proc/stat.
func machineCPU() (busy, total time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("machine CPU: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, errors.New("machine CPU: /proc/stat has no cpu line")
	}
	var ticks, idle int64
	// user nice system idle iowait irq softirq steal (guest time is in user).
	for i, v := range f[1:min(len(f), 9)] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("machine CPU: /proc/stat: %w", err)
		}
		ticks += n
		if i == 3 || i == 4 {
			idle += n
		}
	}
	tick := time.Second / userHZ
	return time.Duration(ticks-idle) * tick, time.Duration(ticks) * tick, nil
}
