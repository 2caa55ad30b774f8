package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/askmesh/askmesh/catalog"
)

// MissingError is a product its API does not serve (404): a binding to fix,
// not an outage to wait out.
type MissingError struct {
	Product string
	URL     string
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("%s: the API at %s does not serve it (404)", e.Product, e.URL)
}

// Check asks the product's API for the product's public OpenAPI document,
// once, without retries or the circuit breaker: a probe must not trip what
// protects answers. A *MissingError when the API does not serve the
// product, an *UnavailableError when it cannot be reached or fails.
func (b *Backend) Check(ctx context.Context, p *catalog.Product) error {
	base := strings.TrimRight(p.Binding.URL, "/")
	if base == "" {
		return &MissingError{Product: p.Name, URL: "(no url in its binding)"}
	}
	ctx, cancel := context.WithTimeout(ctx, b.o.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/products/"+url.PathEscape(p.Name)+"/openapi.json", nil)
	if err != nil {
		return &UnavailableError{Product: p.Name, URL: base, Err: err}
	}
	resp, err := b.o.Client.Do(req)
	if err != nil {
		return &UnavailableError{Product: p.Name, URL: base, Err: err}
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return &MissingError{Product: p.Name, URL: base}
	case resp.StatusCode != http.StatusOK:
		return &UnavailableError{Product: p.Name, URL: base, Err: errors.New(problemText(resp.StatusCode, body))}
	}
	return nil
}
