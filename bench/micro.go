package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// The hot paths in process, without the network: what bench_test.go's benchmarks and the allocation
// figures printed by `go run ./bench` measure.

// microOps are the hot paths measured per request.
var microOps = []string{opGet, opEqHit, opPost, opPatch}

// microEnv holds both servers over the same n users.
type microEnv struct {
	n          int
	ours, elim http.Handler
}

func newMicroEnv(n int) (*microEnv, error) {
	mem, err := seedMemory(n)
	if err != nil {
		return nil, err
	}
	elim, err := newElimityServer(seedElimity(n), benchToken)
	if err != nil {
		return nil, err
	}
	return &microEnv{n: n, ours: ourHandler(mem), elim: elim}, nil
}

func (e *microEnv) handler(server string) http.Handler {
	if server == "ours" {
		return e.ours
	}
	return e.elim
}

// microRequest is the first request of an iteration of op, as the load generator sends it.
func microRequest(op string, n int, d draw) (*http.Request, int) {
	c := calls(op, n, d)[0]
	var body io.Reader
	if c.body != nil {
		body = bytes.NewReader(c.body)
	}
	req := httptest.NewRequest(c.method, c.uri, body)
	req.Header.Set("Authorization", "Bearer "+benchToken)
	if c.body != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	return req, c.status
}

// statusWriter is the cheapest ResponseWriter that still checks the answer: it keeps the status and a
// little of the body, so the allocations counted are the handler's, not a recorder's (httptest's clones
// the headers and buffers the body).
type statusWriter struct {
	h    http.Header
	code int
	head []byte
}

func (w *statusWriter) Header() http.Header { return w.h }
func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if len(w.head) < cap(w.head) {
		w.head = append(w.head, b[:min(len(b), cap(w.head)-len(w.head))]...)
	}
	return len(b), nil
}

func newStatusWriter() *statusWriter {
	return &statusWriter{h: http.Header{}, head: make([]byte, 0, 300)}
}

// serveOnce serves one request of op through h and checks its status.
func serveOnce(h http.Handler, op string, n int, d draw) error {
	req, want := microRequest(op, n, d)
	w := newStatusWriter()
	h.ServeHTTP(w, req)
	if w.code != want {
		return fmt.Errorf("%s %s: status %d, want %d: %s", req.Method, req.URL, w.code, want, w.head)
	}
	return nil
}

// requestOnly builds the request and the writer and serves nothing: the harness's own allocations,
// subtracted to get the handler's.
func requestOnly(op string, n int, d draw) {
	req, _ := microRequest(op, n, d)
	w := newStatusWriter()
	_, _ = req, w
}

type allocRow struct {
	server, op     string
	total, harness float64
}

// measureAllocs counts allocations per request of each hot path, for ours and elimity, over 10k users.
func measureAllocs() ([]allocRow, error) {
	env, err := newMicroEnv(10_000)
	if err != nil {
		return nil, err
	}
	var rows []allocRow
	for _, op := range microOps {
		i := 0
		harness := testing.AllocsPerRun(200, func() { i++; requestOnly(op, env.n, draw{r: i % env.n, k: nextK()}) })
		for _, server := range []string{"ours", "elimity"} {
			h := env.handler(server)
			var failed error
			total := testing.AllocsPerRun(500, func() {
				i++
				if err := serveOnce(h, op, env.n, draw{r: (i * 7919) % env.n, k: nextK()}); err != nil && failed == nil {
					failed = err
				}
			})
			if failed != nil {
				return nil, fmt.Errorf("%s %s: %w", server, op, failed)
			}
			rows = append(rows, allocRow{server: server, op: op, total: total, harness: harness})
		}
	}
	return rows, nil
}
