package sqlstore

import (
	"database/sql"
	"runtime"
	"time"
)

// PoolConfig bounds a Store's connections. A bounded pool makes requests beyond it wait for a connection
// within their deadline (database/sql queues them) rather than open more than the database serves, fail
// with "too many connections" and answer 503. Zero fields keep the defaults; a negative field lifts the
// bound (no limit, no idle connection kept, no maximum age).
type PoolConfig struct {
	// MaxOpen bounds the open connections. Default for PostgreSQL: 2×GOMAXPROCS+8 (replicas × MaxOpen must
	// stay below the server's max_connections, 100 by default). For SQLite it bounds the readers, 2×GOMAXPROCS
	// (at least 4); writes have one connection of their own, as SQLite serves one writer at a time.
	MaxOpen int
	// MaxIdle is how many connections stay open between requests. Default: MaxOpen, so that bursts of
	// concurrent requests (Entra sends several at once) do not open and close connections all the time.
	MaxIdle int
	// MaxLifetime closes connections older than it, so that connections move to the new server after a
	// failover or DNS change and the server frees what each session accumulated. Default: 30 minutes for
	// PostgreSQL, none for SQLite.
	MaxLifetime time.Duration
	// MaxIdleTime closes connections unused for that long. Default: 5 minutes.
	MaxIdleTime time.Duration
}

// WithPool bounds the store's connections (PoolConfig). The driver modules' Open functions start from
// DefaultPool; a Store made by New over the host's own *sql.DB changes only the fields given (MaxIdle
// follows MaxOpen).
func WithPool(c PoolConfig) Option {
	return func(s *Store) {
		s.pool = PoolConfig{
			MaxOpen:     pick(c.MaxOpen, s.pool.MaxOpen),
			MaxIdle:     pick(c.MaxIdle, s.pool.MaxIdle),
			MaxLifetime: pick(c.MaxLifetime, s.pool.MaxLifetime),
			MaxIdleTime: pick(c.MaxIdleTime, s.pool.MaxIdleTime),
		}
	}
}

func pick[T int | time.Duration](set, def T) T {
	if set != 0 {
		return set
	}
	return def
}

// DefaultPool is the pool the driver modules' Open functions give a store of dialect d before its options:
// for PostgreSQL 2×GOMAXPROCS+8 connections recycled after 30 minutes, for SQLite 2×GOMAXPROCS readers (at
// least 4) kept as long as they are used.
func DefaultPool(d Dialect) PoolConfig {
	n := runtime.GOMAXPROCS(0)
	if d == SQLite {
		// Readers run in parallel in WAL mode, each on a CPU: more would only queue inside SQLite. The file is
		// local, so connections need no recycling.
		return PoolConfig{MaxOpen: max(4, 2*n), MaxLifetime: -1, MaxIdleTime: 5 * time.Minute}
	}
	// The usual sizing of a PostgreSQL pool (2×cores plus some for connections waiting on I/O), on the
	// assumption that the application's cores are like the server's.
	return PoolConfig{MaxOpen: 2*n + 8, MaxLifetime: 30 * time.Minute, MaxIdleTime: 5 * time.Minute}
}

// apply sets the pool's bounds on db; zero fields leave db's own settings.
func (c PoolConfig) apply(db *sql.DB) {
	if c.MaxOpen != 0 {
		db.SetMaxOpenConns(max(c.MaxOpen, 0))
	}
	idle := c.MaxIdle
	if idle == 0 && c.MaxOpen > 0 {
		idle = c.MaxOpen
	}
	if idle != 0 { // after MaxOpen, which would lower it
		db.SetMaxIdleConns(idle) // negative: none
	}
	if c.MaxLifetime != 0 {
		db.SetConnMaxLifetime(max(c.MaxLifetime, 0))
	}
	if c.MaxIdleTime != 0 {
		db.SetConnMaxIdleTime(max(c.MaxIdleTime, 0))
	}
}
