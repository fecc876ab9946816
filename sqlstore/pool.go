package sqlstore

import (
	"context"
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
	// TenantShare is how many of each pool's connections one tenant's calls hold at once while other
	// tenants have calls in the store (a tenant alone may use all but one, so that a tenant arriving finds
	// one free); its other calls wait in the store, in a queue of their own, until one of its connections
	// is free or their context ends (then scim.ErrBusy: 429). Tenants waiting take freed connections in turn, so one tenant's flood
	// of slow queries leaves the others MaxOpen−TenantShare connections, and the writer (SQLite's one, or
	// PostgreSQL's pool) waits for no more than one statement of each other tenant waiting. Default: half
	// of MaxOpen, at least 1 (SQLite's writer: 1). A negative share (scim.NoLimit) lets a tenant take the
	// whole pool, still in turn with the others. The shares are per process: see docs/limits.md for
	// replicas. A pool without MaxOpen (a host's *sql.DB left unbounded) has nothing to share and admits
	// every call.
	TenantShare int
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
			TenantShare: pick(c.TenantShare, s.pool.TenantShare),
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

// gates makes the store's admission of tenants to its pools (share.go), from the pools' bounds as
// database/sql reports them once the options are applied: one gate for the readers and one for the writer
// when they are two pools (SQLite's one writer: one write at a time, tenants in turn), the same gate for
// both when they are one (PostgreSQL).
func (s *Store) gates() {
	share := func(size int) int {
		switch {
		case s.pool.TenantShare > 0:
			return s.pool.TenantShare
		case s.pool.TenantShare < 0:
			return size
		}
		return max(1, size/2)
	}
	rsize := s.db.Stats().MaxOpenConnections
	s.readers = newGate(rsize, share(rsize))
	s.writers = s.readers
	if s.wdb != s.db {
		wsize := s.wdb.Stats().MaxOpenConnections
		s.writers = newGate(wsize, share(wsize))
	}
}

// enter admits a call of the context's tenant to the readers' pool (or the writer's, when write), and
// returns the context to run it with and the turn whose leave ends it. A call made within an admitted one (List
// reading each batch's groups with GroupsOf) is already inside: it runs on the outer call's share rather
// than waiting for a second one, which two such calls of a tenant at its share would wait for forever.
func (s *Store) enter(ctx context.Context, write bool) (context.Context, turn, error) {
	return s.enterAs(ctx, write, tenantOf(ctx))
}

// enterAs is enter for the calls of lane, a tenant or one of the store's own consumers (outboxLane).
func (s *Store) enterAs(ctx context.Context, write bool, lane string) (context.Context, turn, error) {
	if ctx.Value(enteredKey{}) == s {
		return ctx, turn{}, nil
	}
	g := s.readers
	if write {
		g = s.writers
	}
	l, err := g.enter(ctx, lane)
	if err != nil {
		return ctx, turn{}, err
	}
	return context.WithValue(ctx, enteredKey{}, s), turn{g, l}, nil
}

// turn is a call's admission by a gate (enter); leave ends it. A value, not a closure: every call of the
// store takes one, and a closure would be one more allocation each.
type turn struct {
	g *gate
	l *lane
}

// leave gives the turn back; the zero turn (a call inside an admitted one) gives nothing back.
func (t turn) leave() {
	if t.g != nil {
		t.g.leave(t.l)
	}
}

// outboxLane is the outbox consumer's place in the gates: its reads and acknowledgements take their turn
// as one more tenant would, so a backlog being drained never holds every connection. A tenant cannot be
// named so: PostgreSQL's text holds no NUL, and no authenticator hands one out.
const outboxLane = "\x00outbox"

// enteredKey is the context key of the Store a call was admitted to (enter).
type enteredKey struct{}
