package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// TestClassify: temporary failures are wrapped in scim.ErrUnavailable with their cause kept; the rest (bugs,
// misconfiguration, the store's answers) are not.
func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	tests := []struct {
		err       error
		temporary bool
	}{
		{refused, true},
		{fmt.Errorf("failed to receive message: %w", io.ErrUnexpectedEOF), true},
		{driver.ErrBadConn, true},
		{&pgconn.PgError{Code: "53300"}, true},  // too many connections
		{&pgconn.PgError{Code: "53100"}, true},  // disk full
		{&pgconn.PgError{Code: "57P01"}, true},  // admin shutdown
		{&pgconn.PgError{Code: "57P03"}, true},  // cannot connect now
		{&pgconn.PgError{Code: "08006"}, true},  // connection failure
		{&pgconn.PgError{Code: "40001"}, true},  // serialization failure
		{&pgconn.PgError{Code: "40P01"}, true},  // deadlock
		{&pgconn.PgError{Code: "42P01"}, false}, // undefined table: a bug
		{&pgconn.PgError{Code: "28P01"}, false}, // wrong password: misconfiguration
		{&pgconn.PgError{Code: "23505"}, false},
		{errors.New("sqlstore: decoding a stored user"), false},
		// Drivers are known by the shapes of their errors: lib/pq's *pq.Error (SQLState method),
		// modernc.org/sqlite's *sqlite.Error (Code method), mattn/go-sqlite3's sqlite3.Error (fields).
		{&pq.Error{Code: "53300"}, true},
		{&pq.Error{Code: "23505"}, false},
		{fmt.Errorf("wrapped: %w", codeErr(5)), true}, // SQLITE_BUSY
		{codeErr(261), true},                          // SQLITE_BUSY_RECOVERY: an extended code
		{codeErr(19), false},                          // SQLITE_CONSTRAINT
		{mattnErr{Code: 6, ExtendedCode: 6}, true},    // SQLITE_LOCKED
		{fmt.Errorf("x: %w", mattnErr{Code: 1, ExtendedCode: 1}), false},
		{errors.Join(errors.New("other"), &mattnErr{Code: 13, ExtendedCode: 13}), true}, // SQLITE_FULL
		{fmt.Errorf("connect: %w", context.DeadlineExceeded), true},
	}
	for _, tt := range tests {
		got := Classify(tt.err)
		require.Equal(t, tt.temporary, errors.Is(got, scim.ErrUnavailable), "%v", tt.err)
		require.ErrorIs(t, got, tt.err, "the cause is kept")
	}
	require.NoError(t, Classify(nil))

	// A method's error after its context ended is the deadline's, whatever the driver made of it.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := errors.New("interrupted (9)")
	(&Store{}).classify(ctx, &err)
	require.ErrorIs(t, err, scim.ErrUnavailable)
	require.ErrorIs(t, err, context.Canceled)
	err = scim.ErrNotFound
	(&Store{}).classify(ctx, &err)
	require.Equal(t, scim.ErrNotFound, err, "answers are not failures")
}

// codeErr has the shape of modernc.org/sqlite's *sqlite.Error.
type codeErr int

func (e codeErr) Error() string { return "sqlite error " + strconv.Itoa(int(e)) }
func (e codeErr) Code() int     { return int(e) }

// mattnErr has the shape of github.com/mattn/go-sqlite3's sqlite3.Error (a cgo driver, not built here).
type mattnErr struct {
	Code         int
	ExtendedCode int
}

func (e mattnErr) Error() string { return "sqlite3 error " + strconv.Itoa(e.ExtendedCode) }

// TestMapErrConflict: a unique violation is scim.ErrConflict whichever driver reports it.
func TestMapErrConflict(t *testing.T) {
	for _, err := range []error{
		&pgconn.PgError{Code: "23505"}, &pq.Error{Code: "23505"}, codeErr(2067), codeErr(1555),
		mattnErr{Code: 19, ExtendedCode: 2067}, fmt.Errorf("insert: %w", &mattnErr{Code: 19, ExtendedCode: 1555}),
	} {
		require.Equal(t, scim.ErrConflict, mapErr(err), "%v", err)
	}
	for _, err := range []error{&pgconn.PgError{Code: "23503"}, codeErr(19), mattnErr{Code: 19, ExtendedCode: 787}} {
		require.Equal(t, err, mapErr(err), "%v", err)
	}
}

// TestSQLiteBusyAnswers503: a store whose writes meet another process's write lock past the busy timeout
// answers ErrUnavailable.
func TestSQLiteBusyAnswers503(t *testing.T) {
	s := newSQLite(t)
	var file string
	require.NoError(t, s.DB().QueryRow(`SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file))
	other, err := openSQLite(context.Background(), file)
	require.NoError(t, err)
	defer other.Close()
	// Another "process" holds the write lock.
	tx, err := other.DB().Begin() // _txlock=immediate: takes the write lock now
	require.NoError(t, err)
	defer tx.Rollback()
	conn, err := s.wdb.Conn(context.Background())
	require.NoError(t, err)
	_, err = conn.ExecContext(context.Background(), `PRAGMA busy_timeout = 50`)
	require.NoError(t, err)
	conn.Close()
	_, err = s.Create(scim.ContextWithTenant(context.Background(), ""), user("busy@example.com"))
	require.ErrorIs(t, err, scim.ErrUnavailable)
}

// TestPoolDefaults: postgres.Open and sqlite.Open (as openPostgres and openSQLite do) bound their pools; WithPool overrides the bounds given.
func TestPoolDefaults(t *testing.T) {
	n := runtime.GOMAXPROCS(0)
	s := newSQLite(t)
	require.Equal(t, max(4, 2*n), s.DB().Stats().MaxOpenConnections)
	require.Equal(t, 1, s.wdb.Stats().MaxOpenConnections, "SQLite: one writer")
	s, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "scim.db"), WithPool(PoolConfig{MaxOpen: 7}))
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, 7, s.DB().Stats().MaxOpenConnections)
	t.Run("postgres", func(t *testing.T) {
		s := newPostgres(t)
		require.Equal(t, 2*n+8, s.DB().Stats().MaxOpenConnections)
	})
}

// TestSQLiteWALBounded: under concurrent writes and reads (readers that SQLite's passive checkpoints would
// wait for forever) the WAL stays near its limit, and Close leaves none. The figures of a longer run:
// go run ./sqlstore/sqlite/internal/walload (docs/sqlstore.md).
func TestSQLiteWALBounded(t *testing.T) {
	const limit = 256 << 10
	path := filepath.Join(t.TempDir(), "scim.db")
	ctx := scim.ContextWithTenant(context.Background(), "")
	s, err := openSQLite(ctx, path, WithWAL(WALConfig{Limit: limit, Interval: 20 * time.Millisecond}))
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var failures atomic.Int64
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := user(fmt.Sprintf("w%d-%d@example.com", w, i))
				u.DisplayName = string(make([]byte, 300))
				if _, err := s.Create(ctx, u); err != nil {
					failures.Add(1)
				}
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := s.List(ctx, scim.Query{StartIndex: 1, Count: 50}); err != nil {
					failures.Add(1)
				}
			}
		}()
	}
	var largest int64
	for start := time.Now(); time.Since(start) < 2*time.Second; time.Sleep(10 * time.Millisecond) {
		if fi, err := os.Stat(path + "-wal"); err == nil {
			largest = max(largest, fi.Size())
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("largest WAL: %d KiB (limit %d KiB)", largest>>10, limit>>10)
	require.Zero(t, failures.Load())
	require.Less(t, largest, int64(32*limit), "the WAL stays near its limit (without the checkpointer: tens of MiB)")
	require.NoError(t, s.Close())
	if fi, err := os.Stat(path + "-wal"); err == nil {
		require.Zero(t, fi.Size(), "Close checkpoints and truncates the WAL")
	}
}
