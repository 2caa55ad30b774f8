package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// profile runs work repeatedly for about d under the CPU profiler and
// returns the profile's top frames (flat time), as `go tool pprof -top`
// prints them; tagFocus, when set (key=value), keeps only the samples of
// goroutines with that pprof label. The profile is symbolized by
// runtime/pprof, so no binary is needed to read it; without a go toolchain
// the file's path is returned.
func (e *benchEnv) profile(name string, d time.Duration, tagFocus string, work func(ctx context.Context) error) string {
	path := filepath.Join(e.tmp, name+".pprof")
	f, err := os.Create(path)
	if err != nil {
		return "profile: " + err.Error()
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return "profile: " + err.Error()
	}
	ctx, cancel := context.WithTimeout(e.ctx, d)
	var werr error
	for ctx.Err() == nil && werr == nil {
		werr = work(ctx)
	}
	cancel()
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return "profile: " + err.Error()
	}
	if werr != nil && ctx.Err() == nil {
		return "profile: the workload failed: " + werr.Error()
	}
	// Keep a copy beside the report's working directory for deeper looks.
	keep := filepath.Join(os.TempDir(), "askmesh-bench-"+name+".pprof")
	if b, err := os.ReadFile(path); err == nil {
		_ = os.WriteFile(keep, b, 0o644)
	}
	tctx, tcancel := context.WithTimeout(e.ctx, time.Minute)
	defer tcancel()
	var focus []string
	if tagFocus != "" {
		focus = []string{"-tagfocus=" + tagFocus}
	}
	all, err := exec.CommandContext(tctx, "go", slices.Concat([]string{"tool", "pprof", "-top", "-nodecount=100000", "-nodefraction=0"}, focus, []string{path})...).Output()
	if err != nil {
		return fmt.Sprintf("profile saved to %s (go tool pprof -top %s); it could not be summarized here: %v", keep, keep, err)
	}
	cum, err := exec.CommandContext(tctx, "go", slices.Concat([]string{"tool", "pprof", "-top", "-cum", "-nodecount=20",
		// The benchmark's own frames (command, loop) sit on top of every
		// stack and say nothing.
		`-hide=^(main\.|github\.com/spf13/cobra|runtime\.main$|runtime\.goexit$)`}, focus, []string{path})...).Output()
	if err != nil {
		return fmt.Sprintf("profile saved to %s; it could not be summarized here: %v", keep, err)
	}
	shares, kept := byPackage(string(all))
	head := "CPU by package (flat share of samples): " + shares
	if tagFocus != "" {
		head = fmt.Sprintf("CPU by package of the goroutines labelled %s, %.0f%% of the process's samples (flat share of all samples): %s", tagFocus, kept, shares)
	}
	return head + "\n\nTop frames by cumulative time (go tool pprof -top -cum):\n" + trimPprof(string(cum))
}

// byPackage sums pprof -top's flat percentages (of the whole profile) by
// the package group a frame belongs to, largest first; kept is their sum,
// under 100 when pprof filtered samples out.
func byPackage(top string) (_ string, kept float64) {
	shares := map[string]float64{}
	for _, line := range strings.Split(top, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") {
			continue
		}
		pct, err := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		if err != nil {
			continue
		}
		shares[packageGroup(strings.Join(f[5:], " "))] += pct
		kept += pct
	}
	type share struct {
		name string
		pct  float64
	}
	var list []share
	for k, v := range shares {
		list = append(list, share{k, v})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].pct > list[j].pct })
	var parts []string
	for i, s := range list {
		if i == 10 || s.pct < 1 {
			break
		}
		parts = append(parts, fmt.Sprintf("%s %.0f%%", s.name, s.pct))
	}
	return strings.Join(parts, ", "), kept
}

func packageGroup(fn string) string {
	groups := []struct{ prefix, name string }{
		{"modernc.org/sqlite", "SQLite (modernc)"},
		{"modernc.org/libc", "SQLite (modernc)"},
		{"github.com/open-policy-agent/", "OPA"},
		{"github.com/google/jsonschema-go", "jsonschema-go (tool spec JSON)"},
		{"github.com/jackc/pgx", "pgx"},
		{"github.com/sashabaranov/go-openai", "go-openai"},
		{"encoding/json", "encoding/json"},
		{"net/http", "net/http"},
		{"net.", "net"},
		{"crypto/", "crypto"},
		{"internal/runtime/syscall", "syscalls"},
		{"syscall.", "syscalls"},
		{"runtime.", "Go runtime (GC, allocation, scheduler)"},
		{"internal/runtime", "Go runtime (GC, allocation, scheduler)"},
		{"github.com/askmesh/askmesh/", ""},
	}
	for _, g := range groups {
		if strings.HasPrefix(fn, g.prefix) {
			if g.name == "" { // askmesh's own packages, by package
				rest := strings.TrimPrefix(fn, g.prefix)
				if i := strings.Index(rest, "."); i > 0 {
					rest = rest[:i]
				}
				return "askmesh/" + rest
			}
			return g.name
		}
	}
	if i := strings.IndexAny(fn, "(."); i > 0 {
		return fn[:i]
	}
	return fn
}

// trimPprof drops pprof's preamble lines that name temporary files.
func trimPprof(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "File:") || strings.HasPrefix(line, "Build ID:") || strings.HasPrefix(line, "Type:") || strings.HasPrefix(line, "Time:") ||
			strings.HasPrefix(line, "Active filters:") || strings.HasPrefix(strings.TrimSpace(line), "hide=") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "\n")
}
