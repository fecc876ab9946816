// Package sqlite opens a sqlstore.Store over an SQLite database file through modernc.org/sqlite (pure Go, no
// cgo). It is a module of its own, so that hosts using PostgreSQL alone neither download nor link SQLite.
package sqlite

import (
	"context"
	"database/sql"
	"strconv"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/scimkit/scim/sqlstore"
)

// BusyTimeout is how long, in milliseconds, a connection waits for SQLite's write lock (another process's,
// or a checkpoint's) before failing with SQLITE_BUSY, which the store answers as scim.ErrUnavailable.
const BusyTimeout = 10000

// DSN returns the modernc.org/sqlite data source name Open uses for the file at path: WAL mode, so that
// readers never wait for the writer; synchronous NORMAL (durable at checkpoints, safe in WAL mode);
// transactions that take the write lock when they begin (no deadlock upgrading a read); and the log's
// journal_size_limit from opts (sqlstore.WithWAL). Hosts that open the file with database/sql themselves,
// to share it with their own tables, may use it with sqlstore.New.
func DSN(path string, opts ...sqlstore.Option) string {
	// busy_timeout first: the pragmas run in order on every new connection, and switching a new file to WAL
	// takes a lock that, without the timeout, fails at once with SQLITE_BUSY when replicas open it together.
	dsn := "file:" + path + "?_pragma=busy_timeout(" + strconv.Itoa(BusyTimeout) +
		")&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	if limit := sqlstore.EffectiveWAL(opts...).Limit; limit > 0 {
		dsn += "&_pragma=journal_size_limit(" + strconv.FormatInt(limit, 10) + ")"
	}
	return dsn
}

// Open opens (creating if needed) the SQLite database file at path (DSN), migrates it (or, with
// sqlstore.WithoutMigrations, checks its schema version) and returns the store. Reads share a pool
// (sqlstore.DefaultPool), half of it at most per tenant while others use it; writes queue for one
// connection of their own (sqlstore.WithWriter), as SQLite serves one writer at a time, tenants taking it
// in turn; the write-ahead log is kept small (sqlstore.WithWAL). opts come after these defaults, so they
// may change them.
func Open(ctx context.Context, path string, opts ...sqlstore.Option) (*sqlstore.Store, error) {
	dsn := DSN(path, opts...)
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
	s, err := sqlstore.New(ctx, db, sqlstore.SQLite, append([]sqlstore.Option{
		sqlstore.WithPool(sqlstore.DefaultPool(sqlstore.SQLite)), sqlstore.WithWriter(wdb)}, opts...)...)
	if err != nil {
		db.Close()
		wdb.Close()
		return nil, err
	}
	return s, nil
}
