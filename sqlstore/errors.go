package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"strings"
	"syscall"

	"github.com/scimkit/scim"
)

// Classify wraps err in scim.ErrUnavailable when it is a temporary failure of the database, keeping it as
// the cause (errors.Is and errors.As still find it), and returns any other error as it is. Temporary are:
// the server unreachable or its connection lost, too many connections, the server shutting down or
// starting, a full disk, out of memory, a serialization failure or deadlock, a lock or statement timeout,
// SQLite's BUSY and LOCKED (after the busy timeout) and FULL. A host's authenticator that looks tokens up
// in its own database can pass its errors through Classify too, so an outage answers 503 and not 401.
//
// Classify knows drivers by the shapes of their errors (see temporary), so it serves any database/sql
// driver of PostgreSQL or SQLite that reports SQLSTATE codes or SQLite result codes: pgx, lib/pq,
// modernc.org/sqlite, mattn/go-sqlite3. The driver modules' Classify functions add what only their
// driver's types tell (postgres.Classify: pgx's connection errors).
func Classify(err error) error { return classifyWith(err, nil) }

// classifyWith is Classify with extra, a driver's own test for temporary failures (WithTemporary), or nil.
func classifyWith(err error, extra func(error) bool) error {
	if err == nil || errors.Is(err, scim.ErrUnavailable) || !(temporary(err) || extra != nil && extra(err)) {
		return err
	}
	return fmt.Errorf("%w: %w", scim.ErrUnavailable, err)
}

// WithTemporary adds f to what the store counts as a temporary failure of the database (answered 503,
// wrapping scim.ErrUnavailable), for errors whose driver-specific types Classify cannot see. The driver
// modules set it; a host passing its own *sql.DB to New may too.
func WithTemporary(f func(error) bool) Option {
	return func(s *Store) { s.temporary = f }
}

// classify is Classify for the store's own methods, which also know their context: an error after the
// context ended is the deadline's (or the client's) doing, whatever the driver made of it (SQLite's
// "interrupted", pgx's closed connection). The store's sentinel errors are answers, never failures.
func (s *Store) classify(ctx context.Context, err *error) {
	switch e := *err; {
	case e == nil, errors.Is(e, scim.ErrNotFound), errors.Is(e, scim.ErrConflict),
		errors.Is(e, scim.ErrVersionMismatch), errors.Is(e, scim.ErrInvalidCursor), errors.Is(e, scim.ErrUnavailable),
		errors.Is(e, scim.ErrTooMany), errors.Is(e, scim.ErrBusy):
	case ctx.Err() != nil:
		*err = fmt.Errorf("%w: %w (%w)", scim.ErrUnavailable, e, ctx.Err())
	default:
		*err = classifyWith(e, s.temporary)
	}
}

// temporary reports whether err is a failure that a retry after a short wait may well not meet again. It
// knows drivers by the shapes of their errors, not by their packages, so that sqlstore imports none: a
// PostgreSQL driver's error with SQLState() (pgx's *pgconn.PgError, lib/pq's *pq.Error), an SQLite driver's
// result code (sqliteCode), and the conventions of database/sql, net and pgx (SafeToRetry).
func temporary(err error) bool {
	// The server's own verdict first: a connection refused for bad credentials is a connection error too.
	var pgErr interface{ SQLState() string }
	if errors.As(err, &pgErr) {
		return temporaryState(pgErr.SQLState())
	}
	if code, ok := sqliteCode(err); ok {
		switch code & 0xff { // the primary code of an extended one
		case sqliteBusy, sqliteLocked, sqliteFull, sqliteNoMem,
			sqliteProtocol: // PROTOCOL: a WAL lock race SQLite gave up retrying
			return true
		}
		return false
	}
	var netErr net.Error                      // refused, reset, unreachable, DNS, timeouts
	var retry interface{ SafeToRetry() bool } // pgx: nothing reached the server
	var timeout interface{ Timeout() bool }
	switch {
	case errors.As(err, &netErr),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), // the server closed the connection mid-query
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, context.DeadlineExceeded), // a driver's own timeout (pgx's connect_timeout)
		errors.As(err, &retry) && retry.SafeToRetry(),
		errors.As(err, &timeout) && timeout.Timeout():
		return true
	}
	return false
}

// SQLite's primary result codes (sqlite3.h) that temporary and mapErr need; sqlstore imports no driver.
const (
	sqliteBusy                 = 5
	sqliteLocked               = 6
	sqliteNoMem                = 7
	sqliteFull                 = 13
	sqliteProtocol             = 15
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT | 8<<8
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT | 6<<8
)

// sqliteCode returns the result code (extended where the driver keeps it) of the SQLite error in err's
// chain: modernc.org/sqlite's *sqlite.Error has a Code() int method; github.com/mattn/go-sqlite3's
// sqlite3.Error keeps it in fields, Code and ExtendedCode, read here by reflection.
func sqliteCode(err error) (int, bool) {
	var coder interface{ Code() int }
	if errors.As(err, &coder) {
		return coder.Code(), true
	}
	for _, e := range chain(err) {
		v := reflect.ValueOf(e)
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		if v.Kind() != reflect.Struct {
			continue
		}
		code, ext := v.FieldByName("Code"), v.FieldByName("ExtendedCode")
		if code.IsValid() && ext.IsValid() && code.CanInt() && ext.CanInt() {
			return int(ext.Int()), true
		}
	}
	return 0, false
}

// chain returns err and every error it wraps, depth first.
func chain(err error) []error {
	var out []error
	for stack := []error{err}; len(stack) > 0; {
		e := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if e == nil {
			continue
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			stack = append(stack, u.Unwrap())
		case interface{ Unwrap() []error }:
			w := u.Unwrap()
			for i := len(w) - 1; i >= 0; i-- {
				stack = append(stack, w[i])
			}
		}
	}
	return out
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
