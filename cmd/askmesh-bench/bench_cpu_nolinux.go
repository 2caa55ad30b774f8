//go:build !linux

package main

import (
	"errors"
	"time"
)

// processCPU needs /proc: elsewhere the replicas' CPU is not measured.
func processCPU(int) (time.Duration, error) {
	return 0, errors.New("process CPU: measured from /proc on Linux only")
}
