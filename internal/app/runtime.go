package app

import (
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// Serving defaults of the Go runtime's collector. A served askmesh keeps a
// small live heap and allocates much per question, so at Go's default
// target (GOGC=100) the collector ran often and was a large share of the
// server's CPU; a target of 400 collects a quarter as often for a heap up
// to five times the live one. The soft memory limit bounds that trade: as
// the heap nears it the collector runs sooner, whatever the target, so the
// server does not grow into its container's limit (docs/deployment.md).
const (
	ServeGCPercent = 400
	// serveMemoryShare is the part of the container's (cgroup) memory
	// limit, else of the machine's memory, the soft limit is set to.
	serveMemoryShare = 0.75
)

// RuntimeSettings are the collector settings ServeRuntime applied.
type RuntimeSettings struct {
	GCPercent   int   // -1: GOGC was set, the runtime's own reading stands
	MemoryLimit int64 // 0: GOMEMLIMIT was set, or no memory size was found
}

// ServeRuntime sets the serving defaults of the Go runtime's collector,
// each only when its environment variable (GOGC, GOMEMLIMIT) is unset or
// empty, so an operator's setting always wins. Commands that serve call it once,
// before building the stack.
func ServeRuntime() RuntimeSettings {
	var s RuntimeSettings
	s.GCPercent = -1
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(ServeGCPercent)
		s.GCPercent = ServeGCPercent
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		if total := memoryAvailable(); total > 0 {
			s.MemoryLimit = int64(float64(total) * serveMemoryShare)
			debug.SetMemoryLimit(s.MemoryLimit)
		}
	}
	return s
}

// memoryAvailable is the memory the process may use: its cgroup's limit
// (v2, then v1) when it has one, else the machine's; 0 when neither reads.
func memoryAvailable() int64 {
	machine := meminfoTotal("/proc/meminfo")
	for _, f := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		if n := cgroupLimit(f); n > 0 && (machine == 0 || n < machine) {
			return n
		}
	}
	return machine
}

// cgroupLimit reads a cgroup memory limit file; 0 when it is missing or
// says there is no limit ("max").
func cgroupLimit(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

// meminfoTotal reads MemTotal (kB) from a /proc/meminfo file, in bytes.
func meminfoTotal(path string) int64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "MemTotal:")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 {
			return 0
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || kb <= 0 {
			return 0
		}
		return kb << 10
	}
	return 0
}
