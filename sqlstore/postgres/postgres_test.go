package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/scimtest"
	"github.com/scimkit/scim/sqlstore"
	"github.com/scimkit/scim/sqlstore/postgres"
)

// TestClassify: pgx's connection errors, which only its types tell, are temporary; the server's verdicts
// stay sqlstore.Classify's.
func TestClassify(t *testing.T) {
	for _, tt := range []struct {
		err       error
		temporary bool
	}{
		{&pgconn.ConnectError{}, true},
		{pgconn.ErrConnClosed, true},
		{fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{&pgconn.PgError{Code: "53300"}, true},
		{&pgconn.PgError{Code: "28P01"}, false}, // wrong password: misconfiguration
		{errors.New("a bug"), false},
	} {
		got := postgres.Classify(tt.err)
		require.Equal(t, tt.temporary, errors.Is(got, scim.ErrUnavailable), "%v", tt.err)
		require.ErrorIs(t, got, tt.err)
	}
	require.NoError(t, postgres.Classify(nil))
}

// TestOpen: Open migrates a fresh schema and bounds the pool, and its stores pass scimtest's kit.
func TestOpen(t *testing.T) {
	dsn := os.Getenv("SCIM_TEST_POSTGRES_DSN")
	if dsn == "" {
		t.Skip("SCIM_TEST_POSTGRES_DSN is not set (see docs/running.md)")
	}
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	n := 0
	open := func(t *testing.T) *sqlstore.Store {
		n++
		name := fmt.Sprintf("scimpg_%d_%d", os.Getpid(), n)
		_, err := admin.Exec(`CREATE SCHEMA ` + name)
		require.NoError(t, err)
		t.Cleanup(func() { _, _ = admin.Exec(`DROP SCHEMA ` + name + ` CASCADE`) })
		u, err := url.Parse(dsn)
		require.NoError(t, err)
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		s, err := postgres.Open(context.Background(), u.String())
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	require.Equal(t, 2*runtime.GOMAXPROCS(0)+8, open(t).DB().Stats().MaxOpenConnections)
	scimtest.TestStore(t, func(t *testing.T) scim.Store { return open(t) })
}
