package sqlstore

import (
	"context"
	"database/sql/driver"
	"errors"
	"os"
	"strconv"
	"time"
)

// WALConfig keeps an SQLite store's write-ahead log small under sustained load. SQLite's own automatic
// checkpoints are passive: they copy what no reader still needs back into the database, but the log only
// starts over from its beginning when no reader is using it, which concurrent readers can prevent for as
// long as the load lasts, so the log grows without bound. The store therefore looks at the log's size in the
// background and, past Limit, checkpoints it with PRAGMA wal_checkpoint(TRUNCATE): that waits (briefly) for
// the readers of older snapshots, copies everything back and truncates the log to nothing.
type WALConfig struct {
	// Limit is the log size in bytes past which the store truncates it; it is also SQLite's
	// journal_size_limit, the size the log is cut back to whenever it starts over. Default 16 MiB; negative
	// leaves the log to SQLite's automatic checkpoints alone.
	Limit int64
	// Interval is how often the store looks at the log's size (a stat of the file). Default 250 ms.
	Interval time.Duration
}

// defaultWAL bounds the log to a few seconds of heavy writing: large enough that truncating it is rare, small
// next to the database of any sizeable tenant.
var defaultWAL = WALConfig{Limit: 16 << 20, Interval: 250 * time.Millisecond}

// WithWAL sets how an SQLite store keeps its write-ahead log small (WALConfig); zero fields keep the defaults.
// PostgreSQL stores ignore it.
func WithWAL(c WALConfig) Option {
	return func(s *Store) {
		s.wal.Limit = pick64(c.Limit, s.wal.Limit)
		s.wal.Interval = pick(c.Interval, s.wal.Interval)
	}
}

func pick64(set, def int64) int64 {
	if set != 0 {
		return set
	}
	return def
}

// EffectiveWAL returns the WALConfig that opts result in, defaults included: sqlite.Open sets SQLite's
// journal_size_limit of every connection to its Limit.
func EffectiveWAL(opts ...Option) WALConfig {
	s := &Store{wal: defaultWAL}
	for _, o := range opts {
		o(s)
	}
	return s.wal
}

// checkpointTimeout is how long, in milliseconds, the background checkpoint waits for readers; it holds the
// writer connection meanwhile, so it tries again at its next look rather than hold writes up for long.
const checkpointTimeout = 1000

// startCheckpointer starts the goroutine that truncates the log of an SQLite database file when it
// outgrows the limit; Close stops it. An in-memory database has no log to keep.
func (s *Store) startCheckpointer(ctx context.Context) error {
	var file string
	err := s.db.QueryRowContext(ctx, `SELECT file FROM pragma_database_list WHERE name = 'main'`).Scan(&file)
	if err != nil || file == "" {
		return err
	}
	walPath := file + "-wal"
	s.stop = make(chan struct{})
	s.stopped.Add(1)
	go func() {
		defer s.stopped.Done()
		t := time.NewTicker(s.wal.Interval)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
			if fi, err := os.Stat(walPath); err != nil || fi.Size() <= s.wal.Limit {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*checkpointTimeout*time.Millisecond)
			_ = s.checkpoint(ctx, checkpointTimeout) // busy: readers held on, so the next look tries again
			cancel()
		}
	}()
	return nil
}

// errCheckpointBusy says a checkpoint could not wait for every reader: the log was not truncated.
var errCheckpointBusy = errors.New("sqlstore: WAL checkpoint blocked by readers")

// checkpoint copies the whole log into the database and truncates it, on the writer connection, so writes
// queue behind it (in database/sql, within their deadlines) instead of meeting it as SQLITE_BUSY; it waits
// for readers at most wait milliseconds, or the connection's own busy timeout when wait is negative.
func (s *Store) checkpoint(ctx context.Context, wait int) error {
	conn, err := s.wdb.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if wait >= 0 {
		var own int // the driver's setting (sqlite.Open's DSN), restored afterwards
		if err := conn.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&own); err != nil {
			return err
		}
		if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = `+strconv.Itoa(wait)); err != nil {
			return err
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA busy_timeout = `+strconv.Itoa(own)); err != nil {
				_ = conn.Raw(func(any) error { return driver.ErrBadConn }) // discarded: the writer must not keep the short wait
			}
		}()
	}
	var busy, logFrames, done int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return err
	}
	if busy != 0 {
		return errCheckpointBusy
	}
	return nil
}
