package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// TestStatementTimeoutOfContext: a transaction's statement_timeout is what remains of its context's
// deadline, or WithStatementTimeout's bound when that is shorter or there is no deadline; nothing bounds
// a context without either.
func TestStatementTimeoutOfContext(t *testing.T) {
	bg := context.Background()
	soon, cancel := context.WithTimeout(bg, 500*time.Millisecond)
	defer cancel()
	late, cancel := context.WithTimeout(bg, time.Hour)
	defer cancel()
	for _, tt := range []struct {
		name     string
		option   time.Duration
		ctx      context.Context
		min, max int64 // milliseconds; 0, 0: unbounded
	}{
		{"neither", 0, bg, 0, 0},
		{"option alone", 2 * time.Second, bg, 2000, 2000},
		{"option shorter than the deadline", 2 * time.Second, late, 2000, 2000},
		{"deadline shorter than the option", 2 * time.Second, soon, 1, 500},
		{"deadline alone", 0, soon, 1, 500},
	} {
		s := &Store{dialect: Postgres}
		WithStatementTimeout(tt.option)(s)
		ms, ok := s.statementTimeout(tt.ctx)
		require.Equal(t, tt.max > 0, ok, tt.name)
		if ok {
			n, err := strconv.ParseInt(ms, 10, 64)
			require.NoError(t, err)
			require.True(t, n >= tt.min && n <= tt.max, "%s: %d ms", tt.name, n)
		}
	}
}

// TestStatementEndsWithContext: a statement that would never end on its own (an endless recursive query
// on SQLite, pg_sleep on PostgreSQL) ends, in the database, once its context does: the error is the
// context's (or PostgreSQL's statement timeout, 57014, which the store answers 503), the server runs
// nothing of it afterwards, and the store serves the next request. On PostgreSQL the server ends it by
// itself: under WithStatementTimeout and a context that never ends, only the transaction's
// statement_timeout can stop it.
func TestStatementEndsWithContext(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		tenant := scim.ContextWithTenant(context.Background(), "acme")
		_, err := s.Create(tenant, user("kept@example.com"))
		require.NoError(t, err)
		var b [6]byte
		_, _ = rand.Read(b[:])
		marker := "endless_" + hex.EncodeToString(b[:])
		endless := `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) /* ` + marker + ` */ FROM c`
		if s.dialect == Postgres {
			endless = `SELECT pg_sleep(3600) /* ` + marker + ` */`
		}
		ctx, cancel := context.WithTimeout(tenant, 200*time.Millisecond)
		defer cancel()
		err = s.bounded(ctx, false, func(r reader) error {
			var x any
			return r.QueryRowContext(ctx, endless).Scan(&x)
		})
		require.Error(t, err)
		var pgErr interface{ SQLState() string }
		require.True(t, errors.Is(err, context.DeadlineExceeded) || errors.As(err, &pgErr) && pgErr.SQLState() == "57014" ||
			s.dialect == SQLite && ctx.Err() != nil, "%v", err)
		if s.dialect == Postgres {
			require.Eventually(t, func() bool { return running(t, s, marker) == 0 }, 30*time.Second, 20*time.Millisecond,
				"the statement runs on in the server")

			// The server's own bound: no context ends this one, the statement_timeout does.
			WithStatementTimeout(200 * time.Millisecond)(s)
			err = s.bounded(tenant, false, func(r reader) error {
				var x any
				return r.QueryRowContext(tenant, endless).Scan(&x)
			})
			s.stmtTimeout = 0
			require.True(t, errors.As(err, &pgErr) && pgErr.SQLState() == "57014", "%v", err)
			require.Zero(t, running(t, s, marker))
		}
		page, err := s.List(tenant, scim.Query{StartIndex: 1, Count: 10})
		require.NoError(t, err, "the store serves the next request")
		require.Equal(t, 1, page.TotalResults)
	})
}

// running counts the statements in progress on the PostgreSQL server whose text holds marker.
func running(t *testing.T, s *Store, marker string) int {
	t.Helper()
	var n int
	require.NoError(t, s.db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1 AND pid <> pg_backend_pid()`,
		"%"+marker+"%").Scan(&n))
	return n
}
