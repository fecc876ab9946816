package sqlite_test

import (
	"context"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/scimtest"
	"github.com/scimkit/scim/sqlstore"
	"github.com/scimkit/scim/sqlstore/sqlite"
)

// TestOpen: Open makes a WAL-mode file with a bounded pool of readers, and its stores pass scimtest's kit.
func TestOpen(t *testing.T) {
	open := func(t *testing.T) *sqlstore.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "scim.db"))
		require.NoError(t, err)
		t.Cleanup(func() { s.Close() })
		return s
	}
	s := open(t)
	require.Equal(t, max(4, 2*runtime.GOMAXPROCS(0)), s.DB().Stats().MaxOpenConnections)
	var mode string
	require.NoError(t, s.DB().QueryRow(`PRAGMA journal_mode`).Scan(&mode))
	require.Equal(t, "wal", mode)
	scimtest.TestStore(t, func(t *testing.T) scim.Store { return open(t) })
}

// TestDSN: the WAL limit of the options becomes the journal_size_limit of every connection.
func TestDSN(t *testing.T) {
	require.Contains(t, sqlite.DSN("x.db"), "journal_size_limit(16777216)")
	require.Contains(t, sqlite.DSN("x.db", sqlstore.WithWAL(sqlstore.WALConfig{Limit: 1 << 20})), "journal_size_limit(1048576)")
	require.False(t, strings.Contains(sqlite.DSN("x.db", sqlstore.WithWAL(sqlstore.WALConfig{Limit: -1})), "journal_size_limit"))
}
