//go:build !linux

package main

import (
	"errors"
	"time"
)

// processCPU needs Linux's per-process CPU clocks: elsewhere the replicas'
// and the served askmesh's CPU is not measured.
func processCPU(int) (time.Duration, error) {
	return 0, errors.New("process CPU: measured on Linux only")
}

// machineCPU needs /proc/stat.
func machineCPU() (busy, total time.Duration, err error) {
	return 0, 0, errors.New("machine CPU: measured from /proc on Linux only")
}
