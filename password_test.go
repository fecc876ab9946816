package scim_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/sqlstore"
	"github.com/scimkit/scim/sqlstore/sqlite"
)

// TestPasswordNowhereInPlaintext posts a marker password (and changes it by PATCH, path and path-less, and by
// PUT) under every password policy, then searches every table, the database files, the outbox, the events
// and the log output for it: it is found nowhere, in any case.
func TestPasswordNowhereInPlaintext(t *testing.T) {
	const marker = "Sup3rS3cret!Marker"
	for _, policy := range []scim.PasswordPolicy{scim.PasswordsIgnored, scim.PasswordsHashed} {
		for _, kind := range []string{"sqlite", "postgres"} {
			t.Run(fmt.Sprintf("%s/policy %d", kind, policy), func(t *testing.T) {
				var store *sqlstore.Store
				var dir string
				if kind == "sqlite" {
					dir = t.TempDir()
					var err error
					store, err = sqlite.Open(context.Background(), filepath.Join(dir, "scim.db"), sqlstore.WithOutbox())
					require.NoError(t, err)
					t.Cleanup(func() { store.Close() })
				} else {
					store = confOpenPostgres(t, sqlstore.WithOutbox())
				}
				var logs bytes.Buffer
				logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				var mu sync.Mutex
				var events []string
				s := confNewServer(t, kind, store, scim.WithPasswords(policy), scim.WithLogger(logger), scim.WithRequestLog(logger),
					scim.WithEvents(func(_ context.Context, e scim.Event) {
						b, _ := json.Marshal(e)
						mu.Lock()
						defer mu.Unlock()
						events = append(events, fmt.Sprintf("%+v %s", e, b))
					}))
				r := s.do("POST", "/Users", `{"userName":"pw@example.com","password":"`+marker+`"}`)
				require.Equal(t, 201, r.Status, "%s", r.Raw)
				id := r.Body["id"].(string)
				require.Equal(t, 200, s.patch(id, `{"op":"replace","path":"password","value":"`+marker+`2"}`).Status)
				require.Equal(t, 200, s.patch(id, `{"op":"replace","value":{"password":"`+marker+`3","displayName":"P"}}`).Status)
				require.Equal(t, 200, s.do("PUT", "/Users/"+id, `{"userName":"pw@example.com","password":"`+marker+`4"}`).Status)
				u, err := store.Get(single(), id)
				require.NoError(t, err)
				if policy == scim.PasswordsHashed {
					require.True(t, scim.CheckPassword(u, marker+"4"), "the hash of the last password is kept")
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
