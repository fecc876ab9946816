package main

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// benchAppName is the application_name of the benchmark's PostgreSQL connections (openSQLStore), by which
// pgBackendCPU finds the backends that serve it.
const benchAppName = "scimbench"

// pgBackendCPU measures the CPU time PostgreSQL's backends spend for the benchmark's store while a request
// runs, when the server runs on this machine: it samples every pgCPUEvery the backends of the store's
// connections (application_name benchAppName) and their parallel workers (leader_pid) in pg_stat_activity,
// and reads each one's user + system time from /proc/<pid>/stat. A parallel worker's CPU after its last
// sample before it exits is missed, so the figure can be short by up to pgCPUEvery per worker.
type pgBackendCPU struct {
	db   *sql.DB // its own connection: not the store's, and left out of the sums
	tick float64 // clock ticks per second of /proc's times
}

const pgCPUEvery = 50 * time.Millisecond

func newPGBackendCPU(dsn string) (*pgBackendCPU, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	p := &pgBackendCPU{db: db, tick: 100} // USER_HZ: 100 on every Linux architecture Go runs on
	if _, err := p.sample(context.Background()); err != nil {
		db.Close()
		return nil, err
	}
	return p, nil
}

func (p *pgBackendCPU) close() { p.db.Close() }

// sample returns the CPU time so far of every backend serving the benchmark, by pid.
func (p *pgBackendCPU) sample(ctx context.Context) (map[int]time.Duration, error) {
	rows, err := p.db.QueryContext(ctx, `SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid()
		AND (application_name = $1 OR leader_pid IN (SELECT pid FROM pg_stat_activity WHERE application_name = $1))`,
		benchAppName)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cpu := map[int]time.Duration{}
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			return nil, err
		}
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			if os.IsNotExist(err) {
				continue // exited since the query
			}
			return nil, fmt.Errorf("PostgreSQL's CPU: %w (is the server on this machine?)", err)
		}
		// After "pid (comm) " come state, ppid, … with utime and stime the 12th and 13th (fields 14 and 15).
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			return nil, fmt.Errorf("PostgreSQL's CPU: /proc/%d/stat: %.100q", pid, s)
		}
		u, _ := strconv.ParseFloat(f[11], 64)
		st, _ := strconv.ParseFloat(f[12], 64)
		cpu[pid] = time.Duration((u + st) / p.tick * float64(time.Second))
	}
	return cpu, rows.Err()
}

// during runs f and returns the backends' CPU time over it.
func (p *pgBackendCPU) during(f func()) (time.Duration, error) {
	ctx := context.Background()
	base, err := p.sample(ctx)
	if err != nil {
		return 0, err
	}
	last := map[int]time.Duration{}
	var mu sync.Mutex
	var sampleErr error
	record := func() {
		cpu, err := p.sample(ctx)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			sampleErr = err
			return
		}
		for pid, c := range cpu {
			last[pid] = c
		}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tk := time.NewTicker(pgCPUEvery)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				record()
			}
		}
	})
	f()
	close(done)
	wg.Wait()
	record()
	var total time.Duration
	for pid, c := range last {
		total += c - base[pid] // a backend first seen during f started during f: base 0
	}
	return total, sampleErr
}
