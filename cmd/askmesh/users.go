package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/askmesh/askmesh/authz"
	"github.com/askmesh/askmesh/catalog"
	"github.com/askmesh/askmesh/internal/app"
)

// unknownUser is the error for an --as the directory does not list: the
// question is not run, since every answer would be a denial.
func unknownUser(d *authz.Directory, as string) error {
	ids := userIDs(d)
	var names []string
	for _, id := range ids {
		names = append(names, strings.SplitN(id, "@", 2)[0])
	}
	msg := fmt.Sprintf("--as %s: no such user in the directory", as)
	if s, ok := catalog.Closest(as, ids); ok {
		msg += fmt.Sprintf("; did you mean %s?", s)
	} else if s, ok := catalog.Closest(strings.SplitN(as, "@", 2)[0], names); ok {
		msg += fmt.Sprintf("; did you mean %s?", s)
	}
	const most = 20
	if len(ids) > most {
		return usageError{fmt.Errorf("%s\n  the directory has %d users, e.g. %s", msg, len(ids), strings.Join(ids[:most], ", "))}
	}
	return usageError{fmt.Errorf("%s\n  the directory's users are %s (a first name is enough: --as %s)", msg, strings.Join(ids, ", "), names[0])}
}

// buildChecked builds the stack for a command that answers questions and
// checks that every product's data is where the catalog says: a missing
// file or table is named now, not answered as "unavailable" later. Products
// that are only unreachable now get a warning.
func (g *globals) buildChecked(cmd *cobra.Command, opts ...app.Option) (*app.App, error) {
	a, err := g.build(cmd, opts...)
	if err != nil {
		return nil, err
	}
	if err := checkData(cmd.Context(), a, cmd.ErrOrStderr()); err != nil {
		a.Close()
		return nil, err
	}
	return a, nil
}

func checkData(ctx context.Context, a *app.App, warn io.Writer) error {
	statuses := a.CheckBackends(ctx)
	if err := app.MissingData(statuses); err != nil {
		return err
	}
	for _, s := range statuses {
		if s.Err != nil {
			fmt.Fprintf(warn, "warning: %v\n", s.Err)
		}
	}
	return nil
}
