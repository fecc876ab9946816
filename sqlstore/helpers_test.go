package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// newSQLite returns a store over a fresh SQLite file.
func newSQLite(t testing.TB) *Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "scim.db"))
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
		t.Skip("SCIM_TEST_POSTGRES_DSN is not set (see README: Running the PostgreSQL tests)")
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
	s, err := OpenPostgres(context.Background(), freshPostgres(t))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}
