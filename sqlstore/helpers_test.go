package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// The store's tests live here, beside its unexported parts, and reach the databases through the drivers the
// driver modules use (a test-only requirement of this module; see the README's Modules). openSQLite
// and openPostgres open a store as sqlite.Open and postgres.Open do, which these tests cannot import (those
// packages import this one); the driver modules test their Open against the same defaults.

// sqliteDSN is sqlite.DSN.
func sqliteDSN(path string, opts ...Option) string {
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if limit := EffectiveWAL(opts...).Limit; limit > 0 {
		dsn += "&_pragma=journal_size_limit(" + strconv.FormatInt(limit, 10) + ")"
	}
	return dsn
}

// openSQLite is sqlite.Open.
func openSQLite(ctx context.Context, path string, opts ...Option) (*Store, error) {
	dsn := sqliteDSN(path, opts...)
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	wdb, err := sql.Open("sqlite", dsn)
	if err != nil {
		db.Close()
		return nil, err
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	s, err := New(ctx, db, SQLite, append([]Option{WithPool(DefaultPool(SQLite)), WithWriter(wdb)}, opts...)...)
	if err != nil {
		db.Close()
		wdb.Close()
		return nil, err
	}
	return s, nil
}

// openPostgres is postgres.Open, less its pgx-specific Temporary (Classify's interfaces see what tests cause).
func openPostgres(ctx context.Context, dsn string, opts ...Option) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	s, err := New(ctx, db, Postgres, append([]Option{WithPool(DefaultPool(Postgres))}, opts...)...)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// newSQLite returns a store over a fresh SQLite file.
func newSQLite(t testing.TB) *Store {
	t.Helper()
	s, err := openSQLite(context.Background(), filepath.Join(t.TempDir(), "scim.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// postgresDSN returns the DSN of the test PostgreSQL server, skipping the test when there is none. CI
// starts one (.ci/postgres); locally: export SCIM_TEST_POSTGRES_DSN=$(bash .ci/postgres).
func postgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("SCIM_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SCIM_TEST_POSTGRES_DSN is not set (see docs/running.md)")
	}
	return dsn
}

// freshPostgres returns the DSN of a new, empty PostgreSQL schema, dropped when the test ends, so that tests
// and replicas can share one server without seeing each other's tables.
func freshPostgres(t testing.TB) string {
	t.Helper()
	dsn := postgresDSN(t)
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "scimtest_" + hex.EncodeToString(b[:])
	_, err = admin.Exec("CREATE SCHEMA " + name)
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = admin.Exec("DROP SCHEMA " + name + " CASCADE") })
	return withSearchPath(t, dsn, name)
}

func withSearchPath(t testing.TB, dsn, schema string) string {
	if !strings.Contains(dsn, "://") { // key=value form
		return dsn + " search_path=" + schema
	}
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// newPostgres returns a store over a fresh PostgreSQL schema.
func newPostgres(t testing.TB) *Store {
	t.Helper()
	s, err := openPostgres(context.Background(), freshPostgres(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}
