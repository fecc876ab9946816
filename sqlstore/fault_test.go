package sqlstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// Fault tests: the database fails under load, through HTTP. Every answer is a success or a well-formed 503
// with Retry-After (never a 500 or a 401), the store recovers by itself when the database does, and no
// write that was acknowledged is lost.

const faultToken = "fault-token"

// faultLoad is clients POSTing users to a SCIM server over and over, recording every answer.
type faultLoad struct {
	t      *testing.T
	url    string
	pad    string
	mu     sync.Mutex
	acked  map[string]string // userName → id, for every 201
	counts map[int]int
	bad    []string // answers that are neither 201 nor a well-formed 503
	stop   chan struct{}
	wg     sync.WaitGroup
}

// startFaultLoad starts clients that each POST users (with pad bytes of displayName) until finish.
func startFaultLoad(t *testing.T, url string, clients, pad int) *faultLoad {
	l := &faultLoad{t: t, url: url, pad: strings.Repeat("p", pad), acked: map[string]string{}, counts: map[int]int{},
		stop: make(chan struct{})}
	var tag [4]byte
	_, _ = rand.Read(tag[:])
	for c := range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for i := 0; ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				l.post(fmt.Sprintf("c%d-%d-%x@example.com", c, i, tag))
				time.Sleep(2 * time.Millisecond) // an outage answers fast: do not spin
			}
		}()
	}
	return l
}

func (l *faultLoad) post(name string) {
	body := `{"userName":"` + name + `","displayName":"` + l.pad + `"}`
	r, err := faultDo(l.url, "POST", "/Users", body)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		l.bad = append(l.bad, "POST: "+err.Error())
		return
	}
	l.counts[r.status]++
	switch {
	case r.status == http.StatusCreated:
		l.acked[name] = r.body["id"].(string)
	case !r.wellFormed503():
		l.bad = append(l.bad, r.String())
	}
}

// count returns how many answers had the status so far.
func (l *faultLoad) count(status int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts[status]
}

// waitFor waits until n more answers with the status arrived.
func (l *faultLoad) waitFor(status, n int, within time.Duration) {
	l.t.Helper()
	want := l.count(status) + n
	require.Eventually(l.t, func() bool { return l.count(status) >= want }, within, 20*time.Millisecond,
		"waiting for %d answers %d: %v", n, status, l.summary())
}

// finish stops the clients and checks that every answer was a 201 or a well-formed 503.
func (l *faultLoad) finish() map[string]string {
	l.t.Helper()
	close(l.stop)
	l.wg.Wait()
	l.t.Logf("answers: %s", l.summary())
	require.Empty(l.t, l.bad, "every answer is a 201 or a 503 with Retry-After and a SCIM error")
	return l.acked
}

func (l *faultLoad) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var parts []string
	for s, n := range l.counts {
		parts = append(parts, fmt.Sprintf("%d×%d", n, s))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// faultAnswer is one HTTP answer.
type faultAnswer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r faultAnswer) String() string { return strconv.Itoa(r.status) + " " + string(r.raw) }

// wellFormed503 reports whether the answer is a 503 that says when to retry, as a SCIM error.
func (r faultAnswer) wellFormed503() bool {
	n, err := strconv.Atoi(r.header.Get("Retry-After"))
	schemas, _ := r.body["schemas"].([]any)
	return r.status == http.StatusServiceUnavailable && err == nil && n > 0 && r.body["status"] == "503" &&
		len(schemas) == 1 && schemas[0] == "urn:ietf:params:scim:api:messages:2.0:Error"
}

var faultClient = &http.Client{Timeout: 30 * time.Second}

func faultDo(base, method, path, body string) (faultAnswer, error) {
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		return faultAnswer{}, err
	}
	req.Header.Set("Authorization", "Bearer "+faultToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := faultClient.Do(req)
	if err != nil {
		return faultAnswer{}, err
	}
	defer resp.Body.Close()
	r := faultAnswer{status: resp.StatusCode, header: resp.Header}
	if r.raw, err = io.ReadAll(resp.Body); err != nil {
		return r, err
	}
	if len(bytes.TrimSpace(r.raw)) > 0 {
		if err := json.Unmarshal(r.raw, &r.body); err != nil {
			return r, fmt.Errorf("%d: not JSON: %s", r.status, r.raw)
		}
	}
	return r, nil
}

// serveStore serves a SCIM handler over s, answering 503s with Retry-After: 1.
func serveStore(t *testing.T, s scim.Store) string {
	srv := httptest.NewServer(scim.MustNew(s, scim.WithTokens(faultToken),
		scim.WithLimits(scim.Limits{RequestTimeout: 5 * time.Second, RetryAfter: time.Second}),
		scim.WithLogger(slog.New(slog.DiscardHandler)))) // an outage logs every request it fails
	t.Cleanup(srv.Close)
	return srv.URL
}

// requireAllPresent checks through HTTP that every acknowledged user is there.
func requireAllPresent(t *testing.T, base string, acked map[string]string) {
	t.Helper()
	for name, id := range acked {
		r, err := faultDo(base, "GET", "/Users/"+id, "")
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.status, "acknowledged user %s: %s", name, r)
		require.Equal(t, name, r.body["userName"])
	}
}

// ownPostgres is a PostgreSQL server of the test's own, which it may stop and start.
type ownPostgres struct {
	t        *testing.T
	bin, dir string
	port     int
	dsn      string
}

// startOwnPostgres starts a throwaway PostgreSQL server from the binaries Debian's package installs (CI's
// .ci/postgres installs them), skipping the test when there are none.
func startOwnPostgres(t *testing.T) *ownPostgres {
	t.Helper()
	initdbs, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(initdbs) == 0 {
		t.Skip("no PostgreSQL binaries in /usr/lib/postgresql/*/bin (bash .ci/postgres installs them)")
	}
	sort.Strings(initdbs)
	p := &ownPostgres{t: t, bin: filepath.Dir(initdbs[len(initdbs)-1])}
	dir, err := os.MkdirTemp("", "scim-fault-pg-")
	require.NoError(t, err)
	p.dir = dir
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 { // PostgreSQL refuses to run as root: run it as the package's postgres user
		u, err := osuser.Lookup("postgres")
		if err != nil {
			t.Skip("running as root without a postgres user to run PostgreSQL as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	if out, err := p.cmd("initdb", "-D", dir, "-U", "scim", "-A", "trust", "-E", "UTF8", "--no-locale").CombinedOutput(); err != nil {
		t.Skipf("initdb failed, cannot run an own PostgreSQL: %v: %s", err, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	p.dsn = fmt.Sprintf("postgres://scim@127.0.0.1:%d/postgres?sslmode=disable", p.port)
	p.start()
	t.Cleanup(func() { _ = p.cmd("pg_ctl", "-D", dir, "-m", "immediate", "stop").Run() })
	return p
}

func (p *ownPostgres) cmd(name string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, name)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (p *ownPostgres) start() {
	p.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off", p.port, p.dir)
	out, err := p.cmd("pg_ctl", "-D", p.dir, "-l", filepath.Join(p.dir, "server.log"), "-w", "-t", "60", "-o", opts, "start").CombinedOutput()
	require.NoError(p.t, err, "%s", out)
}

// stop stops the server: "fast" (sessions get admin_shutdown) or "immediate" (a crash: connections drop,
// and the next start recovers from the WAL).
func (p *ownPostgres) stop(mode string) {
	p.t.Helper()
	out, err := p.cmd("pg_ctl", "-D", p.dir, "-m", mode, "-w", "stop").CombinedOutput()
	require.NoError(p.t, err, "%s", out)
}

// TestFaultPostgresStopped: PostgreSQL stops under load (cleanly, then as in a crash): requests answer 503
// with Retry-After, the store reconnects by itself when the server is back, and every acknowledged user is
// there afterwards.
func TestFaultPostgresStopped(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and stops a PostgreSQL server")
	}
	pg := startOwnPostgres(t)
	s, err := openPostgres(context.Background(), pg.dsn)
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	base := serveStore(t, s)
	load := startFaultLoad(t, base, 4, 100)
	for _, mode := range []string{"fast", "immediate"} {
		load.waitFor(http.StatusCreated, 20, 30*time.Second)
		pg.stop(mode)
		load.waitFor(http.StatusServiceUnavailable, 20, 30*time.Second)
		r, err := faultDo(base, "GET", "/Users?filter="+url.QueryEscape(`userName sw "c"`), "")
		require.NoError(t, err)
		require.True(t, r.wellFormed503(), "a read during the outage: %s", r)
		pg.start()
		load.waitFor(http.StatusCreated, 20, 60*time.Second) // recovered without being told
	}
	acked := load.finish()
	require.Greater(t, load.count(http.StatusServiceUnavailable), 0)
	requireAllPresent(t, base, acked)
}

// TestFaultPostgresConnectionLimit: a role allowed 3 connections serves 16 concurrent clients. With a pool
// bounded to the limit, requests queue for a connection and all succeed; with a pool larger than the limit,
// those that cannot connect answer 503 with Retry-After, never 500.
func TestFaultPostgresConnectionLimit(t *testing.T) {
	dsn := postgresDSN(t)
	admin, err := sql.Open("pgx", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { admin.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	role := "scimlimit_" + hex.EncodeToString(b[:])
	_, err = admin.Exec(`CREATE ROLE ` + role + ` LOGIN CONNECTION LIMIT 3`)
	require.NoError(t, err)
	t.Cleanup(func() {
		_, _ = admin.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role)
		_, _ = admin.Exec(`DROP SCHEMA IF EXISTS ` + role + ` CASCADE`)
		_, _ = admin.Exec(`DROP ROLE IF EXISTS ` + role)
	})
	_, err = admin.Exec(`CREATE SCHEMA ` + role + ` AUTHORIZATION ` + role)
	require.NoError(t, err)
	u, err := url.Parse(dsn)
	require.NoError(t, err)
	u.User = url.User(role)
	roleDSN := withSearchPath(t, u.String(), role)

	for _, tt := range []struct {
		name    string
		maxOpen int
		all201  bool
	}{
		{"pool within the limit", 3, true},
		{"pool beyond the limit", 12, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := openPostgres(context.Background(), roleDSN, WithPool(PoolConfig{MaxOpen: tt.maxOpen}))
			require.NoError(t, err)
			defer s.Close()
			base := serveStore(t, s)
			load := startFaultLoad(t, base, 16, 100)
			load.waitFor(http.StatusCreated, 200, 60*time.Second)
			acked := load.finish()
			if tt.all201 {
				require.Zero(t, load.count(http.StatusServiceUnavailable), "requests queue for a connection")
			}
			requireAllPresent(t, base, acked)
		})
	}
}

// TestFaultSQLiteDiskFull: the disk under an SQLite store fills up under load: writes answer 503 with
// Retry-After, reads go on, writes succeed again once there is room, and every acknowledged user survives
// closing and reopening. It mounts a small tmpfs, so it needs root (CI runs as root).
func TestFaultSQLiteDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a small tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "full")
	require.NoError(t, os.Mkdir(dir, 0o700))
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s): a container without CAP_SYS_ADMIN", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { _ = exec.Command("umount", dir).Run() })
	path := filepath.Join(dir, "scim.db")
	ctx := scim.ContextWithTenant(context.Background(), "")
	s, err := openSQLite(ctx, path)
	require.NoError(t, err)
	closed := false
	t.Cleanup(func() {
		if !closed {
			s.Close()
		}
	})
	base := serveStore(t, s)

	load := startFaultLoad(t, base, 4, 2000)
	load.waitFor(http.StatusServiceUnavailable, 20, 60*time.Second)
	load.mu.Lock()
	var someName, someID string
	for someName, someID = range load.acked {
		break
	}
	load.mu.Unlock()
	require.NotEmpty(t, someID, "users were created before the disk filled up")
	r, err := faultDo(base, "GET", "/Users/"+someID, "")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.status, "reads go on with the disk full: %s", r)

	out, err := exec.Command("mount", "-o", "remount,size=64m", dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	load.waitFor(http.StatusCreated, 20, 30*time.Second)
	acked := load.finish()
	t.Logf("%d users acknowledged; %s was created before the disk filled up", len(acked), someName)

	require.NoError(t, s.Close())
	closed = true
	s, err = openSQLite(ctx, path)
	require.NoError(t, err)
	defer s.Close()
	var check string
	require.NoError(t, s.DB().QueryRow(`PRAGMA integrity_check`).Scan(&check))
	require.Equal(t, "ok", check)
	for name, id := range acked {
		u, err := s.Get(ctx, id)
		require.NoError(t, err, "acknowledged user %s", name)
		require.Equal(t, name, u.UserName)
	}
}
