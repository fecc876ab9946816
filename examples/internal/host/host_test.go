package host

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestURL(t *testing.T) {
	for _, tc := range []struct{ addr, want string }{
		{"127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"0.0.0.0:8080", "http://localhost:8080"},
		{"[::]:8080", "http://localhost:8080"},
		{"[::1]:8080", "http://[::1]:8080"},
		{"192.0.2.7:443", "http://192.0.2.7:443"},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			a, err := net.ResolveTCPAddr("tcp", tc.addr)
			require.NoError(t, err)
			require.Equal(t, tc.want, URL(a))
		})
	}
}

// The timeouts let the handler's 503 (after scim.Limits.RequestTimeout's default 30 s) reach the client.
func TestWriteTimeoutExceedsTheHandlersBound(t *testing.T) {
	require.Greater(t, WriteTimeout, 30*time.Second)
	srv := NewServer(http.NotFoundHandler())
	require.Equal(t, WriteTimeout, srv.WriteTimeout)
	require.NotZero(t, srv.ReadHeaderTimeout)
	require.NotZero(t, srv.IdleTimeout)
}

func TestWriteSecret(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "token.txt")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o644)) // a leftover with wider permissions
	got, err := WriteSecret(path, []byte("s3cret\n"))
	require.NoError(t, err)
	require.Equal(t, path, got)
	info, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	require.Equal(t, "s3cret\n", string(b))

	// A symbolic link at path is replaced, not written through.
	target := filepath.Join(dir, "elsewhere")
	require.NoError(t, os.WriteFile(target, []byte("untouched"), 0o644))
	require.NoError(t, os.Remove(path))
	require.NoError(t, os.Symlink(target, path))
	_, err = WriteSecret(path, []byte("new"))
	require.NoError(t, err)
	b, err = os.ReadFile(target)
	require.NoError(t, err)
	require.Equal(t, "untouched", string(b))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "no temporary file left behind")
}

// closerFunc adapts a function to io.Closer.
type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// TestServeShutsDownGracefully: when the context ends, a request in flight finishes, Serve waits for it, and
// only then closes the store.
func TestServeShutsDownGracefully(t *testing.T) {
	started, release := make(chan struct{}), make(chan struct{})
	var finished, closedAfter atomic.Bool
	srv := NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		finished.Store(true)
		_, _ = io.WriteString(w, "done")
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, srv, ln, closerFunc(func() error { closedAfter.Store(finished.Load()); return nil }))
	}()

	answer := make(chan string, 1)
	go func() {
		resp, err := http.Get(URL(ln.Addr()))
		if err != nil {
			answer <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answer <- string(b)
	}()
	<-started
	cancel() // SIGTERM
	select {
	case err := <-served:
		t.Fatalf("Serve returned with a request in flight: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	_, err = net.DialTimeout("tcp", ln.Addr().String(), time.Second)
	require.Error(t, err, "no new connections once shutting down")
	close(release)
	require.Equal(t, "done", <-answer)
	require.NoError(t, <-served)
	require.True(t, closedAfter.Load(), "the store is closed after the last request finished")
}
