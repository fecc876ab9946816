package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/scimkit/scim/sqlstore"
	"github.com/scimkit/scim/sqlstore/postgres"
	"github.com/scimkit/scim/sqlstore/sqlite"
)

// openSQLStore opens an empty store of kind: a file in a temporary directory, or a fresh PostgreSQL schema
// on SCIM_TEST_POSTGRES_DSN's server (its search_path). The function returned closes and removes it.
func openSQLStore(kind string) (*sqlstore.Store, func(), error) {
	ctx := context.Background()
	if kind == "sqlite" {
		dir, err := os.MkdirTemp("", "scimbench-")
		if err != nil {
			return nil, nil, err
		}
		s, err := sqlite.Open(ctx, filepath.Join(dir, "bench.db"))
		if err != nil {
			os.RemoveAll(dir)
			return nil, nil, err
		}
		return s, func() { s.Close(); os.RemoveAll(dir) }, nil
	}
	dsn := os.Getenv("SCIM_TEST_POSTGRES_DSN")
	admin, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, nil, err
	}
	var b [6]byte
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	name := "scimbench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		admin.Close()
		return nil, nil, err
	}
	drop := func() {
		_, _ = admin.ExecContext(ctx, "DROP SCHEMA "+name+" CASCADE")
		admin.Close()
	}
	sdsn, err := withSearchPath(dsn, name)
	if err != nil {
		drop()
		return nil, nil, err
	}
	s, err := postgres.Open(ctx, sdsn)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return s, func() { s.Close(); drop() }, nil
}

// withSearchPath is dsn with schema as its search_path, and benchAppName as the connections'
// application_name (by which pgBackendCPU finds their backends).
func withSearchPath(dsn, schema string) (string, error) {
	if !strings.Contains(dsn, "://") { // key=value form
		return dsn + " search_path=" + schema + " application_name=" + benchAppName, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", benchAppName)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func freeMemory() {
	runtime.GC()
	debug.FreeOSMemory()
}

// measureHeap returns the heap bytes per user that memstore holds for n Entra-mapped users, and (if
// elimity) the same for the elimity handler's maps: the live heap after GC, after seeding minus before.
func measureHeap(n int, elimity bool) (float64, float64, error) {
	heap := func() uint64 {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	s, err := seedMemory(n)
	if err != nil {
		return 0, 0, err
	}
	ours := float64(heap()-before) / float64(n)
	runtime.KeepAlive(s)
	s = nil
	if !elimity {
		return ours, 0, nil
	}
	before = heap()
	e := seedElimity(n)
	theirs := float64(heap()-before) / float64(n)
	runtime.KeepAlive(e)
	e = nil
	freeMemory()
	return ours, theirs, nil
}
