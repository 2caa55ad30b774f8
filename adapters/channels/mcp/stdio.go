package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/askmesh/askmesh/assistant"
	"github.com/askmesh/askmesh/authz"
)

// ServeIO serves MCP for one subject over r and w (stdin and stdout), with
// JSON-RPC batches bounded as over HTTP: refused once the client asked for
// protocol 2025-06-18 or later in initialize (the spec removed batches), at
// most Options.MaxBatch messages before. The SDK would run a batch of any
// length from an older client; each call still spends the subject's tool
// call budget when exec is limited.
func ServeIO(ctx context.Context, exec assistant.ToolRunner, subject authz.Subject, r io.ReadCloser, w io.WriteCloser, o Options) error {
	if o.MaxBatch <= 0 {
		o.MaxBatch = 10
	}
	out := &lockedWriter{w: w}
	pr, pw := io.Pipe()
	go filterBatches(r, pw, out, o.MaxBatch)
	defer pr.Close()
	return Serve(ctx, exec, subject, &sdk.IOTransport{Reader: pr, Writer: out}, o)
}

// filterBatches copies JSON-RPC messages from r to the server, answering a
// refused batch itself (on out, shared with the server's replies) instead.
func filterBatches(r io.Reader, server *io.PipeWriter, out io.Writer, maxBatch int) {
	dec := json.NewDecoder(r)
	version := ""
	for {
		var msg json.RawMessage
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			server.CloseWithError(err)
			return
		}
		if refusal := batchRefusal(msg, version, maxBatch); refusal != "" {
			b, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": nil,
				"error": map[string]any{"code": jsonrpc.CodeInvalidRequest, "message": refusal}})
			if _, err := out.Write(append(b, '\n')); err != nil {
				server.CloseWithError(err)
				return
			}
			continue
		}
		var init struct {
			Method string `json:"method"`
			Params struct {
				ProtocolVersion string `json:"protocolVersion"`
			} `json:"params"`
		}
		if json.Unmarshal(msg, &init) == nil && init.Method == "initialize" {
			version = init.Params.ProtocolVersion
		}
		if _, err := server.Write(append(msg, '\n')); err != nil {
			return // the server stopped reading
		}
	}
}

// lockedWriter lets the batch filter's refusals and the server's replies
// share stdout without interleaving: each Write is one whole message.
type lockedWriter struct {
	mu sync.Mutex
	w  io.WriteCloser
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) Close() error { return l.w.Close() }
