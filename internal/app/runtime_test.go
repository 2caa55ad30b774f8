package app

import (
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// restoreGC puts the collector back as the test found it.
func restoreGC(t *testing.T) {
	pct, lim := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(pct)
	t.Cleanup(func() { debug.SetGCPercent(pct); debug.SetMemoryLimit(lim) })
}

func TestServeRuntimeSetsDefaults(t *testing.T) {
	restoreGC(t)
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	s := ServeRuntime()
	if s.GCPercent != ServeGCPercent || debug.SetGCPercent(ServeGCPercent) != ServeGCPercent {
		t.Errorf("GC percent: applied %d, want %d", s.GCPercent, ServeGCPercent)
	}
	if avail := memoryAvailable(); avail > 0 && (s.MemoryLimit <= 0 || s.MemoryLimit >= avail || debug.SetMemoryLimit(-1) != s.MemoryLimit) {
		t.Errorf("memory limit %d, of %d available", s.MemoryLimit, avail)
	}
}

func TestServeRuntimeLeavesOperatorsSettings(t *testing.T) {
	restoreGC(t)
	t.Setenv("GOGC", "150")
	t.Setenv("GOMEMLIMIT", "1GiB")
	before, lim := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1)
	debug.SetGCPercent(before)
	s := ServeRuntime()
	if s.GCPercent != -1 || s.MemoryLimit != 0 {
		t.Errorf("settings applied over the environment's: %+v", s)
	}
	if got := debug.SetGCPercent(before); got != before {
		t.Errorf("GC percent changed to %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != lim {
		t.Errorf("memory limit changed to %d", got)
	}
}

func TestMemoryFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if got := meminfoTotal(write("meminfo", "MemTotal:       24684216 kB\nMemFree:        22262536 kB\n")); got != 24684216<<10 {
		t.Errorf("MemTotal: %d", got)
	}
	for s, want := range map[string]int64{"max\n": 0, "536870912\n": 536870912, "": 0, "-1": 0} {
		if got := cgroupLimit(write("memory.max", s)); got != want {
			t.Errorf("cgroup limit %q: %d, want %d", s, got, want)
		}
	}
	if meminfoTotal(filepath.Join(dir, "missing")) != 0 || cgroupLimit(filepath.Join(dir, "missing")) != 0 {
		t.Error("a missing file reads as a size")
	}
}
