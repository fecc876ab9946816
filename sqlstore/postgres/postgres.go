// Package postgres opens a sqlstore.Store over PostgreSQL through github.com/jackc/pgx/v5. It is a module of
// its own, so that hosts using SQLite alone neither download nor link pgx, and hosts using PostgreSQL do not
// link SQLite.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/sqlstore"
)

// Open connects to the PostgreSQL database at dsn (a URL or key=value string, as pgx takes it), migrates it
// (or, with sqlstore.WithoutMigrations, checks its schema version) and returns the store, with a bounded pool
// (sqlstore.DefaultPool) and pgx's connection errors counted as temporary (Temporary). opts come after these
// defaults, so they may change them.
func Open(ctx context.Context, dsn string, opts ...sqlstore.Option) (*sqlstore.Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	s, err := sqlstore.New(ctx, db, sqlstore.Postgres, append([]sqlstore.Option{
		sqlstore.WithPool(sqlstore.DefaultPool(sqlstore.Postgres)), sqlstore.WithTemporary(Temporary)}, opts...)...)
	if err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Temporary reports the failures that only pgx's own types tell apart, beyond what sqlstore.Classify knows
// from SQLSTATE codes and network errors: a connection that could not be made or talked to
// (*pgconn.ConnectError with no server error inside), a connection pgx closed, pgx's timeouts.
func Temporary(err error) bool {
	var connectErr *pgconn.ConnectError
	var pgErr *pgconn.PgError // the server's verdict (bad credentials, say) stays sqlstore.Classify's
	return !errors.As(err, &pgErr) &&
		(errors.As(err, &connectErr) || errors.Is(err, pgconn.ErrConnClosed) || pgconn.Timeout(err))
}

// Classify is sqlstore.Classify with Temporary: it wraps err in scim.ErrUnavailable when it is a temporary
// failure of the database. A host's authenticator that looks tokens up through pgx can pass its errors
// through it, so an outage answers 503 and not 401.
func Classify(err error) error {
	if err != nil && !errors.Is(err, scim.ErrUnavailable) && Temporary(err) {
		return fmt.Errorf("%w: %w", scim.ErrUnavailable, err)
	}
	return sqlstore.Classify(err)
}
