package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/scimkit/scim"
)

// Classify wraps err in scim.ErrUnavailable when it is a temporary failure of the database, keeping it as
// the cause (errors.Is and errors.As still find it), and returns any other error as it is. Temporary are:
// the server unreachable or its connection lost, too many connections, the server shutting down or
// starting, a full disk, out of memory, a serialization failure or deadlock, a lock or statement timeout,
// SQLite's BUSY and LOCKED (after the busy timeout) and FULL. A host's authenticator that looks tokens up
// in its own database can pass its errors through Classify too, so an outage answers 503 and not 401.
func Classify(err error) error {
	if err == nil || errors.Is(err, scim.ErrUnavailable) || !temporary(err) {
		return err
	}
	return fmt.Errorf("%w: %w", scim.ErrUnavailable, err)
}

// classify is Classify for the store's own methods, which also know their context: an error after the
// context ended is the deadline's (or the client's) doing, whatever the driver made of it (SQLite's
// "interrupted", pgx's closed connection). The store's sentinel errors are answers, never failures.
func classify(ctx context.Context, err *error) {
	switch e := *err; {
	case e == nil, errors.Is(e, scim.ErrNotFound), errors.Is(e, scim.ErrConflict),
		errors.Is(e, scim.ErrVersionMismatch), errors.Is(e, scim.ErrInvalidCursor), errors.Is(e, scim.ErrUnavailable),
		errors.Is(e, scim.ErrTooMany):
	case ctx.Err() != nil:
		*err = fmt.Errorf("%w: %w (%w)", scim.ErrUnavailable, e, ctx.Err())
	default:
		*err = Classify(e)
	}
}

// temporary reports whether err is a failure that a retry after a short wait may well not meet again.
func temporary(err error) bool {
	// The server's own verdict first: a connection refused for bad credentials is a ConnectError too.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return temporaryState(pgErr.Code)
	}
	var liteErr *sqlite.Error
	if errors.As(err, &liteErr) {
		switch liteErr.Code() & 0xff { // the primary code of an extended one
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL, sqlite3.SQLITE_NOMEM,
			sqlite3.SQLITE_PROTOCOL: // PROTOCOL: a WAL lock race SQLite gave up retrying
			return true
		}
		return false
	}
	var netErr net.Error // refused, reset, unreachable, DNS, timeouts
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), // the server closed the connection mid-query
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, pgconn.ErrConnClosed),
		pgconn.Timeout(err), pgconn.SafeToRetry(err):
		return true
	}
	var connectErr *pgconn.ConnectError // no PgError inside: the server could not be reached or talked to
	return errors.As(err, &connectErr)
}

// temporaryState reports whether a PostgreSQL SQLSTATE names a temporary failure.
func temporaryState(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), // connection exception
		strings.HasPrefix(code, "53"): // insufficient resources: disk full, out of memory, too many connections
		return true
	}
	switch code {
	case "57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now (starting, stopping)
		"57P05",          // idle session timeout: the server closed a connection the pool kept
		"57014",          // query canceled: statement_timeout, or an administrator's cancel
		"40001", "40P01", // serialization failure, deadlock detected: the transaction may succeed again
		"55P03", // lock not available: lock_timeout
		"25006": // read-only transaction: a failover's standby, until the connection reaches the new primary
		return true
	}
	return false
}
