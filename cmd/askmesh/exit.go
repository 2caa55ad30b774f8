package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/app"
)

// Exit codes: 0 done; 1 it failed; 2 a check found a fault (audit verify);
// 64 the command line is wrong (sysexits EX_USAGE: an unknown --as, a bad
// flag); 78 the configuration is wrong (EX_CONFIG: a missing data
// directory, descriptor faults, data the catalog names but the backends
// lack). With 64 and 78 nothing was attempted: fix it and run again;
// restarting will not help (systemd: RestartPreventExitStatus=78).
const (
	exitFailed = 1
	exitUsage  = 64
	exitConfig = 78
)

// execute runs the command line and prints its error, if any, to stderr as
// "askmesh: ..."; it returns the process's exit code.
func execute(ctx context.Context, root *cobra.Command, stderr io.Writer) int {
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var exit exitError
	if errors.As(err, &exit) {
		return exit.code
	}
	fmt.Fprintln(stderr, "askmesh:", err)
	return codeFor(err)
}

// usageError is a mistake on the command line: an unknown user, a bad flag.
type usageError struct{ error }

func (e usageError) Unwrap() error { return e.error }

// codeFor sorts an error into an exit code.
func codeFor(err error) int {
	var usage usageError
	var missing *app.MissingDataError
	switch {
	case errors.As(err, &usage):
		return exitUsage
	case errors.Is(err, app.ErrNoDataDir), errors.As(err, &missing), len(catalog.Faults(err)) > 0:
		return exitConfig
	}
	return exitFailed
}
