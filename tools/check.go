package tools

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/askmesh/askmesh/catalog"
)

// CheckCall validates a call's arguments against the catalog as the
// executor would, without authorizing, running or recording it: the
// message is the one the executor would give.
func CheckCall(cat Catalog, tc Call, now time.Time) error {
	spec, ok := SpecFor(tc.Tool)
	if !ok {
		return fmt.Errorf("unknown tool %q; tools are %s", tc.Tool, strings.Join(ToolNames(), ", "))
	}
	var notes []string
	product := func(a productArgs, capability string) (*catalog.Product, error) {
		if err := spec.decodeArgs(tc.Arguments, a); err != nil {
			return nil, err
		}
		return lookupProduct(cat, a.productName(), capability, tc.Tool)
	}
	switch tc.Tool {
	case ToolSearch:
		var a SearchArgs
		return spec.decodeArgs(tc.Arguments, &a)
	case ToolDescribe:
		_, err := product(&DescribeArgs{}, "")
		return err
	case ToolGetRecord:
		_, err := product(&GetRecordArgs{}, catalog.CapGet)
		return err
	case ToolQueryRecords:
		var a QueryRecordsArgs
		p, err := product(&a, catalog.CapRecords)
		if err == nil {
			_, err = recordsPlan(p, a, now, &notes)
		}
		return err
	case ToolQueryMetrics:
		var a QueryMetricsArgs
		p, err := product(&a, catalog.CapMetrics)
		if err == nil {
			_, err = metricsPlan(p, a, now, &notes)
		}
		return err
	case ToolFindAnomalies:
		var a FindAnomaliesArgs
		p, err := product(&a, catalog.CapAnomalies)
		if err == nil {
			_, err = anomaliesPlan(p, a, now, &notes)
		}
		return err
	}
	return fmt.Errorf("tool %q cannot be checked", tc.Tool)
}

// CheckVerified checks every verified question's calls against the
// catalog, so a descriptor change that breaks one (a renamed metric, a
// dropped column) fails catalog loading with the question, the call and
// the reason, instead of failing when someone asks it.
func CheckVerified(cat Catalog, now time.Time) error {
	var errs []error
	for _, p := range cat.List() {
		for _, v := range p.Verified {
			for j, c := range v.Calls {
				if err := CheckCall(cat, Call{Tool: c.Tool, Arguments: c.Arguments}, now); err != nil {
					errs = append(errs, &catalog.Fault{Source: productSourceOf(p), Line: v.Line, Path: fmt.Sprintf("%s.calls[%d]", v.Path, j),
						Msg: fmt.Sprintf("verified question %q: its %s call no longer validates: %v", v.Question, c.Tool, err)})
				}
			}
		}
	}
	return errors.Join(errs...)
}

func productSourceOf(p *catalog.Product) string {
	if p.Source != "" {
		return p.Source
	}
	return "product " + p.Name
}
