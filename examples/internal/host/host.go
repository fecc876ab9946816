// Package host holds what the example programs do around the SCIM handler, the same way in each: print a URL
// that works, keep generated secrets off stdout, and serve with timeouts and a graceful shutdown.
package host

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// The server timeouts the examples use. The SCIM handler answers 503 when a request outlives its own bound
// (scim.Limits.RequestTimeout, 30 s by default); WriteTimeout must exceed that bound, or the connection is cut
// before the 503 is written and the client sees a reset instead of an answer it can retry.
const (
	ReadHeaderTimeout = 10 * time.Second  // slow-header clients hold no connection longer than this
	ReadTimeout       = 30 * time.Second  // the whole request, body included (SCIM bodies are at most 1 MiB)
	WriteTimeout      = 45 * time.Second  // above the handler's 30 s, with room to write its 503
	IdleTimeout       = 120 * time.Second // keep-alive connections between requests
	ShutdownTimeout   = 15 * time.Second  // how long in-flight requests get to finish at shutdown
)

// NewServer returns an http.Server for h with the timeouts above.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
	}
}

// Serve serves srv on ln until ctx ends (SIGINT or SIGTERM in the examples), then shuts it down: no new
// connections, in-flight requests finish within ShutdownTimeout. Only then are the closers closed, in order
// (the SCIM handler's event queue before the database its hook uses): a store closed under a running
// request would fail it, and closing the SQLite store is what checkpoints its write-ahead log into the
// database file.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, closers ...io.Closer) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	var err error
	select {
	case err = <-served: // failed before any signal
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
		err = srv.Shutdown(shutdown)
		cancel()
		if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
	}
	for _, c := range closers {
		err = errors.Join(err, c.Close())
	}
	return err
}

// URL is the http URL to print for a listener's address: "localhost" stands for a wildcard address (":8080",
// "0.0.0.0:8080", "[::]:8080"), any other host is kept, an IPv6 one in brackets.
func URL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// WriteSecret writes a generated secret (a token, demo passwords) to path, readable by its owner only, so
// that it never reaches stdout, a terminal's scrollback or a log collector. It writes a new file and renames
// it over path: an existing file with wider permissions, or a symbolic link planted at path, is replaced,
// never written through. It returns the absolute path to print.
func WriteSecret(path string, content []byte) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	f, err := os.CreateTemp(filepath.Dir(abs), ".secret-*") // mode 0600
	if err != nil {
		return "", err
	}
	_, err = f.Write(content)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), abs)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("writing %s: %w", abs, err)
	}
	return abs, nil
}
