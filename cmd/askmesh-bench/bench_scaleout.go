package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/audit/auditlog"
)

// Scale-out figures: the load spread over 1, 2 and 3 askmesh serve
// processes sharing one PostgreSQL database, and durable audit appends from
// 1, 2 and 3 processes on one chain (where its lock limits).

const (
	replicaClients      = 32                    // clients in every replicated run, whatever the replica count
	replicaModelLatency = 10 * time.Millisecond // per model turn: short, so the replicas' CPU is what limits
	chainWriters        = 32                    // concurrent appenders per process
)

func (e *benchEnv) benchReplicas() *benchSection {
	sec := &benchSection{Title: "Replicas sharing PostgreSQL",
		What: fmt.Sprintf("`askmesh-bench load --replicas N`: N real `askmesh serve` processes (the built binary, each on a loopback port) sharing one fresh PostgreSQL database for the audit chain, conversations and Slack de-duplication, each with the OpenAI adapter pointed at the scripted OpenAI-compatible server in the bench process (a `query_metrics` call then the answer, %s per turn, short so that CPU, not the model, limits). %d clients, spread evenly over the replicas, ask the load command's question mix as the six demo users for %s, after %d warm-up questions per replica; the same run continues one conversation on another replica and delivers one signed Slack event to one replica and its retry to another. Value: questions/s in all and per replica, and CPU per answered question (the replicas' own processes, user + system time from /proc over the timed window: not the clients' or the model's). Baseline: the same run with 1 replica; ratio: questions/s and CPU per question against it. The checks (as many audit records as tool calls the model asked the replicas for, one per tool call the answers cite, in one intact chain; the first turn in the second replica's model request, the retried event answered once) must pass at every level.",
			fmtDur(replicaModelLatency), replicaClients, e.replicaDuration(), benchWarmups)}
	bin, err := findAskmesh("")
	if err != nil {
		sec.Err = err
		return sec
	}
	var one *loadReport
	for n := 1; n <= maxReplicas; n++ {
		rep, err := e.replicatedRun(bin, n)
		if err != nil {
			sec.Err = fmt.Errorf("%d replica(s): %w", n, err)
			return sec
		}
		if n == 1 {
			one = rep
		}
		per := make([]string, len(rep.Servers))
		for i, s := range rep.Servers {
			per[i] = fmt.Sprintf("%.1f", s.PerSecond)
		}
		row := benchRow{Case: fmt.Sprintf("%d replica(s), %s questions", n, fmtCount(int64(rep.OK))),
			Value: fmt.Sprintf("%.1f questions/s (per replica %s); CPU %s per question; p50 %s, p99 %s",
				rep.Throughput, strings.Join(per, ", "), fmtDur(msDur(rep.CPUPerQuestionMS)), fmtDur(msDur(rep.Latency.P50)), fmtDur(msDur(rep.Latency.P99))),
			Baseline: fmt.Sprintf("1 replica: %.1f questions/s, CPU %s per question", one.Throughput, fmtDur(msDur(one.CPUPerQuestionMS))),
			Ratio:    fmt.Sprintf("%s questions/s, %s CPU per question", fmtRatio(ratio(rep.Throughput, one.Throughput)), fmtRatio(ratio(rep.CPUPerQuestionMS, one.CPUPerQuestionMS))),
			Target:   "every check passes", Met: met(rep.passed() && rep.Errors == 0)}
		if !rep.passed() || rep.Errors > 0 {
			row.Value += fmt.Sprintf("; **checks failed**: %d errors; audit: %s; tool calls asked %d, recorded %d; conversation: %s; Slack: %s",
				rep.Errors, orDash(rep.Audit.Problem), rep.Calls.Made, rep.Calls.Recorded, orDash(rep.Continuation.Problem), orDash(rep.SlackRetry.Problem))
		}
		sec.Rows = append(sec.Rows, row)
		if n == maxReplicas {
			sec.Notes = append(sec.Notes, fmt.Sprintf("At %d replicas: the model asked the replicas for %s tool calls in the whole run and the chain gained %s records; %s audit records of the timed load, one per tool call its answers cite, in a chain of %s records that verifies; a conversation begun on replica %d was continued on replica %d, whose model request carried the first turn; Slack event %s went to replica %d and its retry to replica %d: %d chat.postMessage, %d audit record.",
				n, fmtCount(int64(rep.Calls.Made)), fmtCount(int64(rep.Calls.Recorded)), fmtCount(int64(rep.Audit.RunRecords)), fmtCount(rep.Audit.ChainRecords), rep.Continuation.FirstReplica, rep.Continuation.SecondReplica,
				rep.SlackRetry.EventID, rep.SlackRetry.Replicas[0], rep.SlackRetry.Replicas[1], rep.SlackRetry.Placements, rep.SlackRetry.Records))
		}
	}
	sec.Notes = append(sec.Notes, fmt.Sprintf("All replicas, the clients, the scripted model and PostgreSQL share this machine's %d cores: replicas here add processes, not cores, so what questions/s gains with them comes from cores one replica left idle (while it waits on its model, database and audit commits), and CPU per question shows what sharing one database costs each question. On separate machines each replica brings its own cores and the shared database is what they contend for: the appends to one chain below measure that.", runtime.NumCPU()))

	rows, notes, err := e.chainLock()
	if err != nil {
		sec.Notes = append(sec.Notes, "audit appends from several processes: not measured: "+err.Error())
	}
	sec.Rows = append(sec.Rows, rows...)
	sec.Notes = append(sec.Notes, notes...)
	return sec
}

func (e *benchEnv) replicaDuration() time.Duration {
	if e.quick {
		return 2 * time.Second
	}
	return 6 * time.Second
}

func msDur(ms float64) time.Duration { return time.Duration(ms * float64(time.Millisecond)) }

// replicatedRun is `load --replicas n` on a fresh database, dropped after.
func (e *benchEnv) replicatedRun(bin string, n int) (*loadReport, error) {
	dsn, drop, err := scratchDatabase(e.ctx, e.dsn)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := drop(); err != nil {
			e.logf("replicas: %v", err)
		}
	}()
	flushDisks()
	return runReplicated(e.ctx, loadOptions{replicas: n, askmesh: bin, databaseURL: dsn, dataDir: e.dataDir,
		concurrency: replicaClients, duration: e.replicaDuration(), timeout: 2 * time.Minute, users: defaultLoadUsers,
		modelLatency: replicaModelLatency}, e.progress)
}

// chainAppendResult is what one appending process reports.
type chainAppendResult struct {
	Records   int     `json:"records"`
	PerSecond float64 `json:"per_second"`
}

// chainLock measures durable appends to one chain from 1, 2 and 3
// processes at once, each with chainWriters writers, against one process
// with them all.
func (e *benchEnv) chainLock() ([]benchRow, []string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, nil, err
	}
	perProcess := e.n(10000)
	sum := func(rates []float64) float64 {
		var t float64
		for _, r := range rates {
			t += r
		}
		return t
	}
	var rows []benchRow
	totals := make([]float64, maxReplicas+1)
	for n := 1; n <= maxReplicas; n++ {
		rates, verified, err := chainAppendProcesses(e.ctx, self, e.dsn, n, chainWriters, perProcess)
		if err != nil {
			return rows, nil, fmt.Errorf("%d processes: %w", n, err)
		}
		totals[n] = sum(rates)
		per := make([]string, n)
		for i, r := range rates {
			per[i] = fmtRate(r)
		}
		row := benchRow{Case: fmt.Sprintf("audit appends to one chain from %d process(es) × %d writers", n, chainWriters),
			Value:    fmt.Sprintf("%s in all (per process %s); chain of %s records verified", fmtRate(totals[n]), strings.Join(per, ", "), fmtCount(verified)),
			Baseline: fmt.Sprintf("1 process × %d writers: %s", chainWriters, fmtRate(totals[1])), Ratio: fmtRatio(ratio(totals[n], totals[1]))}
		if n > 1 {
			// The same writers in one process share its group commits: what
			// the processes lose against it is the price of taking turns at
			// the chain's lock.
			all, _, err := chainAppendProcesses(e.ctx, self, e.dsn, 1, n*chainWriters, n*perProcess)
			if err != nil {
				return rows, nil, fmt.Errorf("1 process × %d writers: %w", n*chainWriters, err)
			}
			row.Baseline += fmt.Sprintf("; 1 process × %d writers: %s", n*chainWriters, fmtRate(all[0]))
			row.Ratio += fmt.Sprintf(" of 1 × %d; %s of 1 × %d", chainWriters, fmtRatio(ratio(totals[n], all[0])), n*chainWriters)
		}
		rows = append(rows, row)
	}
	notes := []string{fmt.Sprintf("Audit appends from several processes: 1, 2 and 3 processes (`askmesh-bench chain-append`, each its own `auditlog.PostgresStore` and connection pool, as a replica has) each append %s records from %d concurrent writers to one chain in a fresh database, all starting at the same instant; each process's rate is its records over its own time, and the sum is the chain's. Baselines: 1 process with %d writers, and 1 process with as many writers as the N processes together (its group commit batches them all). Every batch commit of every process holds the chain's lock (a PostgreSQL advisory lock taken in the append transaction) from reading the chain head to COMMIT, so commits to one chain are serialized whatever the number of processes, and a process whose last known head another moved re-reads it under the lock (one round trip more). After each run the whole chain is verified and must hold exactly the records appended.",
		fmtCount(int64(perProcess)), chainWriters, chainWriters)}
	limit := ""
	for n := 2; n <= maxReplicas; n++ {
		if totals[n] < 1.1*totals[n-1] {
			limit = fmt.Sprintf("Where the lock limits: from %d to %d processes the chain went from %s to %s (%s): at about %s, adding appending processes no longer adds records/s to one chain on this machine; the processes take turns at the lock, and each turn after another process's costs a re-read of the head.",
				n-1, n, fmtRate(totals[n-1]), fmtRate(totals[n]), fmtRatio(ratio(totals[n], totals[n-1])), fmtRate(max(totals[n], totals[n-1])))
			break
		}
	}
	if limit == "" {
		limit = fmt.Sprintf("Where the lock limits: up to %d processes each added records/s to the chain (%s with %d), so the lock did not limit below that rate here.",
			maxReplicas, fmtRate(totals[maxReplicas]), maxReplicas)
	}
	return rows, append(notes, limit), nil
}

// selfMainEnv tells a test binary started as askmesh-bench to be it (see
// TestMain) rather than run the tests again; askmesh-bench ignores it.
const selfMainEnv = "ASKMESH_BENCH_MAIN"

// chainAppendProcesses starts n processes of `chain-append` (self) on a fresh database on the server adminDSN names, waits for
// them, verifies the chain and returns each one's records/s and the
// verified chain length.
func chainAppendProcesses(ctx context.Context, self string, adminDSN string, n, writers, records int) ([]float64, int64, error) {
	dsn, drop, err := scratchDatabase(ctx, adminDSN)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = drop() }()
	// The schema first, so that no process's time includes creating it.
	store, err := auditlog.OpenPostgres(ctx, dsn)
	if err != nil {
		return nil, 0, err
	}
	defer store.Close()
	flushDisks()
	start := time.Now().Add(3 * time.Second) // time for every process to start and connect
	cmds := make([]*exec.Cmd, n)
	outs := make([]*bytes.Buffer, n)
	for i := range cmds {
		cmds[i] = exec.CommandContext(ctx, self, "chain-append", "--database-url", dsn, "--writers", fmt.Sprint(writers),
			"--records", fmt.Sprint(records), "--start", start.Format(time.RFC3339Nano))
		cmds[i].Env = append(os.Environ(), selfMainEnv+"=1")
		outs[i] = &bytes.Buffer{}
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
		if err := cmds[i].Start(); err != nil {
			return nil, 0, err
		}
	}
	var errs []error
	rates := make([]float64, n)
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			errs = append(errs, fmt.Errorf("process %d: %v: %s", i+1, err, strings.TrimSpace(outs[i].String())))
			continue
		}
		var r chainAppendResult
		out := outs[i].Bytes()
		if err := json.Unmarshal(out[max(0, bytes.LastIndex(out, []byte("{"))):], &r); err != nil || r.Records != records {
			errs = append(errs, fmt.Errorf("process %d reported %q", i+1, strings.TrimSpace(string(out))))
			continue
		}
		rates[i] = r.PerSecond
	}
	if err := errors.Join(errs...); err != nil {
		return nil, 0, err
	}
	res, err := store.Verify(ctx)
	if err != nil {
		return nil, 0, err
	}
	if want := int64(n * (records + chainWarmups)); !res.OK || res.Records != want || res.HeadSeq != want {
		return nil, 0, fmt.Errorf("after %d processes appended %d records each: chain %+v, want %d records intact", n, records+chainWarmups, res, want)
	}
	return rates, res.Records, nil
}

// chainWarmups are appended by each process before the timed ones: its
// pool's connections and prepared statements are made then.
const chainWarmups = 64

// chainAppendCmd is one appending process of the chain-lock figures; not
// for people, hence hidden.
func chainAppendCmd() *cobra.Command {
	var (
		dsn, startAt     string
		writers, records int
	)
	cmd := &cobra.Command{
		Use:    "chain-append --database-url DSN --writers N --records N --start TIME",
		Short:  "Append records to a PostgreSQL audit chain from one process, starting at TIME (for bench)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			at, err := time.Parse(time.RFC3339Nano, startAt)
			if err != nil {
				return fmt.Errorf("--start: %w", err)
			}
			ctx := cmd.Context()
			store, err := auditlog.OpenPostgres(ctx, dsn)
			if err != nil {
				return err
			}
			defer store.Close()
			if _, err := auditlog.BenchmarkAppends(ctx, store, min(writers, chainWarmups), chainWarmups); err != nil {
				return err
			}
			if !sleepCtx(ctx, time.Until(at)) {
				return ctx.Err()
			}
			perSec, err := auditlog.BenchmarkAppends(ctx, store, writers, records)
			if err != nil {
				return err
			}
			return writeJSON(cmd.OutOrStdout(), chainAppendResult{Records: records, PerSecond: perSec})
		},
	}
	f := cmd.Flags()
	f.StringVar(&dsn, "database-url", "", "the PostgreSQL database holding the chain")
	f.IntVar(&writers, "writers", chainWriters, "concurrent appenders")
	f.IntVar(&records, "records", 1000, "records to append")
	f.StringVar(&startAt, "start", "", "when to start appending (RFC 3339), so that several processes start together")
	return cmd
}
