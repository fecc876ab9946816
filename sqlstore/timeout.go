package sqlstore

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/scimkit/scim"
)

// pinned reports whether the matches of q are found by an index lookup of the attributes indexed (id,
// userName, externalId eq) and need no sort: a few rows.
func pinned(q scim.Query, indexed map[string]bool) bool {
	return q.Filter != nil && q.SortBy.Attr == nil && driven(q.Filter, indexed, nil, false)
}

// No statement outlives its request. A request's context ends its statements on both databases, in the
// server as well as in the client:
//
//   - SQLite: modernc.org/sqlite interrupts a statement (sqlite3_interrupt, and a progress handler every
//     1000 steps) once its context is done while it computes its first row, where the sorts, counts and
//     subqueries of a list run (TestStatementEndsWithContext). The search for each later row is not
//     interrupted (database/sql closes the rows after it): the scan budget bounds it (budget.go).
//   - PostgreSQL: a driver that gives up on a context stops the server's statement only by a cancel
//     request, best effort and asynchronous (pgx sends one as it closes the connection; it is a new
//     connection to the server, which a server at max_connections or a pooler may refuse or not forward).
//     Write transactions and the statements of a list therefore run in a transaction whose
//     statement_timeout (SET LOCAL, through set_config) is what remains of the context's deadline, or
//     WithStatementTimeout's bound when that is shorter or the context has none: the server ends the
//     statement itself (SQLSTATE 57014, answered 503 like any statement timeout).

// WithStatementTimeout bounds every PostgreSQL statement of a list or a write transaction to d when its
// context has no earlier deadline (the handler's contexts have one: Limits.RequestTimeout, 30 s by default).
// The default, 0, bounds statements by their context's deadline alone. SQLite needs no bound: its
// statements end with their context.
func WithStatementTimeout(d time.Duration) Option {
	return func(s *Store) { s.stmtTimeout = max(d, 0) }
}

// statementTimeout returns the statement_timeout of a transaction for ctx, in milliseconds (rounded up,
// at least 1), and false when nothing bounds it.
func (s *Store) statementTimeout(ctx context.Context) (string, bool) {
	d, ok := s.stmtTimeout, s.stmtTimeout > 0
	if dl, has := ctx.Deadline(); has {
		if left := time.Until(dl); !ok || left < d {
			d, ok = left, true
		}
	}
	if !ok {
		return "", false
	}
	ms := max((d+time.Millisecond-1)/time.Millisecond, 1)
	return strconv.FormatInt(int64(ms), 10), true
}

// bound sets the statement timeout of ctx on a PostgreSQL transaction (a no-op elsewhere, and when nothing
// bounds ctx). set_config(..., true) is SET LOCAL with a bind argument: it ends with the transaction.
func (s *Store) bound(ctx context.Context, tx *sql.Tx) error {
	if s.dialect != Postgres {
		return nil
	}
	ms, ok := s.statementTimeout(ctx)
	if !ok {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT set_config('statement_timeout', $1, true)`, ms)
	return err
}

// reader is what the statements of a list need of the database: *sql.DB, or the transaction bounding them.
type reader interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// bounded runs f, the statements of a list, under the statement bound of ctx: on PostgreSQL in a read-only
// transaction with its statement_timeout, when something bounds ctx; otherwise on the readers' pool. f must
// not take a second connection (the transaction holds one). A list pinned by an index lookup (pinned) reads
// a few rows, and skips the transaction's three round trips: Entra's userName eq and displayName eq.
func (s *Store) bounded(ctx context.Context, pinned bool, f func(r reader) error) error {
	if s.dialect != Postgres || pinned {
		return f(s.db)
	}
	if _, ok := s.statementTimeout(ctx); !ok {
		return f(s.db)
	}
	return s.inTx(ctx, s.db, &sql.TxOptions{ReadOnly: true}, func(tx *sql.Tx) error { return f(tx) })
}

// inTx runs f in a transaction of db whose statements are bounded by ctx (bound), committed when f
// succeeds.
func (s *Store) inTx(ctx context.Context, db *sql.DB, opts *sql.TxOptions, f func(*sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := s.bound(ctx, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := f(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}
