package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// TestLibPQ: a store over lib/pq's driver (New with the host's own *sql.DB) works, and lib/pq's errors are
// classified like pgx's: a unique violation is ErrConflict, a statement timeout ErrUnavailable, a bug (an
// undefined table) neither.
func TestLibPQ(t *testing.T) {
	dsn := freshPostgres(t)
	connector, err := pq.NewConnector(dsn)
	require.NoError(t, err)
	db := sql.OpenDB(connector)
	ctx := scim.ContextWithTenant(context.Background(), "t1")
	s, err := New(ctx, db, Postgres)
	require.NoError(t, err)
	defer s.Close()

	u, err := s.Create(ctx, user("jane@example.com"))
	require.NoError(t, err)
	got, err := s.Get(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, "jane@example.com", got.UserName)
	_, err = s.Create(ctx, user("JANE@example.com"))
	require.ErrorIs(t, err, scim.ErrConflict)

	_, err = db.ExecContext(ctx, `SET statement_timeout = 1; SELECT pg_sleep(1)`)
	var pqErr *pq.Error
	require.ErrorAs(t, err, &pqErr)
	require.Equal(t, "57014", string(pqErr.Code))
	require.ErrorIs(t, Classify(err), scim.ErrUnavailable)

	_, err = db.ExecContext(ctx, `SELECT * FROM no_such_table`)
	require.Error(t, err)
	require.False(t, errors.Is(Classify(err), scim.ErrUnavailable), "%v", err)
}
