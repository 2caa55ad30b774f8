package authz

import (
	"embed"
	"io/fs"
)

// DecisionQuery is the one query askmesh evaluates.
const DecisionQuery = "data.askmesh.authz.decision"

//go:embed policies/*.rego
var defaultPolicies embed.FS

// DefaultPolicies returns the embedded default policy bundle (its *.rego
// files, tests included, at the root), e.g. to copy into a policy
// directory before adding a module.
func DefaultPolicies() fs.FS {
	sub, err := fs.Sub(defaultPolicies, "policies")
	if err != nil {
		panic(err) // the embed pattern guarantees the directory
	}
	return sub
}
