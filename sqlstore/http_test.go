package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/scimtest"
)

// The HTTP side of the SQL stores: scimtest's HTTP conformance suite over SQLite and PostgreSQL, and what
// only a database can show (no plaintext password anywhere in it; group PATCHes from two replicas).

// TestConformanceHTTP runs scimtest.TestHandler, the suite the root runs over memstore, over each SQL
// store, a fresh database (SQLite file or PostgreSQL schema) for every requirement.
func TestConformanceHTTP(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		scimtest.TestHandler(t, func(t *testing.T) scim.Store { return open(t) }, scimtest.HandlerOptions{Parallel: true})
	})
}

// httpTestToken is the bearer token of serve's handlers.
const httpTestToken = "sql-test-token"

// httpClient talks to a handler served by serve, as Entra does (bearer token, application/scim+json, no
// User-Agent).
type httpClient struct {
	t   *testing.T
	url string        // the handler's root
	h   *scim.Handler // the handler, for Shutdown
}

// serve serves a handler over store with the options, shut down when the test ends (delivering its last
// events), and returns its client.
func serve(t *testing.T, store scim.Store, opts ...scim.Option) httpClient {
	t.Helper()
	h := scim.MustNew(store, append([]scim.Option{scim.WithTokens(httpTestToken)}, opts...)...)
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		require.NoError(t, h.Shutdown(ctx))
	})
	return httpClient{t: t, url: srv.URL, h: h}
}

// send sends a request and returns the status and the decoded JSON body (nil when there is none); for any
// goroutine, it returns what would fail the test as an error.
func (c httpClient) send(method, path, body string) (int, map[string]any, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, c.url+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+httpTestToken)
	req.Header.Set("User-Agent", "")
	if body != "" {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err
	}
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			return resp.StatusCode, nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, m, nil
}

// do is send, which must answer want.
func (c httpClient) do(want int, method, path, body string) map[string]any {
	c.t.Helper()
	status, m, err := c.send(method, path, body)
	require.NoError(c.t, err)
	require.Equal(c.t, want, status, "%s %s: %v", method, path, m)
	return m
}

func patchOp(ops ...string) string {
	return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + strings.Join(ops, ",") + `]}`
}

// TestPasswordNowhereInPlaintext posts a marker password (and changes it by PATCH, path and path-less, and by
// PUT) under every password policy, then searches every table, the database files, the outbox, the events
// and the log output for it: it is found nowhere, in any case.
func TestPasswordNowhereInPlaintext(t *testing.T) {
	const marker = "Sup3rS3cret!Marker"
	for _, policy := range []scim.PasswordPolicy{scim.PasswordsIgnored, scim.PasswordsHashed} {
		for _, kind := range []string{"sqlite", "postgres"} {
			t.Run(fmt.Sprintf("%s/policy %d", kind, policy), func(t *testing.T) {
				var store *Store
				var dir string
				if kind == "sqlite" {
					dir = t.TempDir()
					var err error
					store, err = openSQLite(context.Background(), filepath.Join(dir, "scim.db"), WithOutbox())
					require.NoError(t, err)
					t.Cleanup(func() { store.Close() })
				} else {
					var err error
					store, err = openPostgres(context.Background(), freshPostgres(t), WithOutbox())
					require.NoError(t, err)
					t.Cleanup(func() { store.Close() })
				}
				var logs bytes.Buffer
				logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				var mu sync.Mutex
				var events []string
				c := serve(t, store, scim.WithPasswords(policy), scim.WithLogger(logger), scim.WithRequestLog(logger),
					scim.WithEvents(func(_ context.Context, e scim.Event) {
						b, _ := json.Marshal(e)
						mu.Lock()
						defer mu.Unlock()
						events = append(events, fmt.Sprintf("%+v %s", e, b))
					}))
				id := c.do(201, "POST", "/Users", `{"userName":"pw@example.com","password":"`+marker+`"}`)["id"].(string)
				c.do(200, "PATCH", "/Users/"+id, patchOp(`{"op":"replace","path":"password","value":"`+marker+`2"}`))
				c.do(200, "PATCH", "/Users/"+id, patchOp(`{"op":"replace","value":{"password":"`+marker+`3","displayName":"P"}}`))
				c.do(200, "PUT", "/Users/"+id, `{"userName":"pw@example.com","password":"`+marker+`4"}`)
				u, err := store.Get(scim.ContextWithTenant(context.Background(), ""), id)
				require.NoError(t, err)
				if policy == scim.PasswordsHashed {
					require.True(t, scim.CheckPassword(u.PasswordHash, marker+"4"), "the hash of the last password is kept")
				} else {
					require.Empty(t, u.PasswordHash)
				}

				var everything strings.Builder
				for _, row := range dumpTables(t, store.DB(), kind) {
					everything.WriteString(row)
				}
				entries, err := store.ReadOutbox(context.Background(), 100)
				require.NoError(t, err)
				require.NotEmpty(t, entries)
				for _, e := range entries {
					fmt.Fprintf(&everything, "%+v", e)
				}
				require.NoError(t, c.h.Shutdown(t.Context())) // delivers every event queued
				mu.Lock()
				require.NotEmpty(t, events)
				everything.WriteString(strings.Join(events, "\n"))
				mu.Unlock()
				everything.WriteString(logs.String())
				if dir != "" {
					require.NoError(t, store.Close())
					files, _ := filepath.Glob(filepath.Join(dir, "*"))
					require.NotEmpty(t, files)
					for _, f := range files {
						b, err := os.ReadFile(f)
						require.NoError(t, err)
						everything.Write(b)
					}
				}
				require.NotContains(t, strings.ToLower(everything.String()), strings.ToLower(marker))
				require.Contains(t, everything.String(), "pw@example.com", "the search did look at the data")
			})
		}
	}
}

// dumpTables returns every row of every table of the store's database, as text.
func dumpTables(t *testing.T, db *sql.DB, kind string) []string {
	t.Helper()
	list := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if kind == "postgres" {
		list = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	rows, err := db.Query(list)
	require.NoError(t, err)
	var tables []string
	for rows.Next() {
		var n string
		require.NoError(t, rows.Scan(&n))
		tables = append(tables, n)
	}
	require.NoError(t, rows.Close())
	require.Contains(t, tables, "scim_users")
	var out []string
	for _, table := range tables {
		q := `SELECT * FROM "` + table + `"`
		if kind == "postgres" {
			q = `SELECT t::text FROM "` + table + `" t`
		}
		rows, err := db.Query(q)
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, rows.Scan(ptrs...))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			out = append(out, fmt.Sprintf("%s %s", table, vals))
		}
		require.NoError(t, rows.Close())
	}
	return out
}

// TestGroupConcurrentPatchesAcrossReplicas: Entra ID's first sync of a large group, 50 single-member PATCHes
// at once, alternating between two replicas of a host app (two Stores over one PostgreSQL schema, each behind
// its own handler and server). No lock of a handler's process can order them: the Store's transactions must.
func TestGroupConcurrentPatchesAcrossReplicas(t *testing.T) {
	for _, events := range []bool{false, true} {
		t.Run(fmt.Sprintf("events=%v", events), func(t *testing.T) {
			t.Parallel()
			dsn := freshPostgres(t)
			var replicas []httpClient
			for range 2 {
				s, err := openPostgres(context.Background(), dsn)
				require.NoError(t, err)
				t.Cleanup(func() { s.Close() })
				// 50 requests at once are over the default tenant limits (8 served, 32 queued): Entra sends
				// about 5 at a time, and retries after a 429. Here all 50 are served, so every one races.
				opts := []scim.Option{scim.WithLimits(scim.Limits{Tenant: scim.TenantLimits{MaxConcurrent: 8, MaxQueue: 64, MaxWait: time.Minute}})}
				if events {
					opts = append(opts, scim.WithEvents(func(context.Context, scim.Event) {}))
				}
				replicas = append(replicas, serve(t, s, opts...))
			}
			a := replicas[0]
			g := a.do(201, "POST", "/Groups", `{"displayName":"Concurrent"}`)["id"].(string)
			ids := make([]string, 50)
			for i := range ids {
				ids[i] = a.do(201, "POST", "/Users", fmt.Sprintf(`{"userName":"c%d@x"}`, i))["id"].(string)
			}
			var wg sync.WaitGroup
			statuses := make([]string, len(ids))
			for i, id := range ids {
				wg.Go(func() {
					status, body, err := replicas[i%2].send("PATCH", "/Groups/"+g,
						patchOp(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+id+`"}]}`))
					statuses[i] = fmt.Sprint(status, body, err)
				})
			}
			wg.Wait()
			for i, st := range statuses {
				require.Equal(t, "204 map[] <nil>", st, "PATCH %d", i)
			}
			want := slices.Sorted(slices.Values(ids))
			for _, c := range replicas {
				var got []string
				for _, m := range c.do(200, "GET", "/Groups/"+g, "")["members"].([]any) {
					got = append(got, m.(map[string]any)["value"].(string))
				}
				slices.Sort(got)
				require.Equal(t, want, got)
			}
		})
	}
}
