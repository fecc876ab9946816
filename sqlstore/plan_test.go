package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// TestQueryPlanUsesIndexes: the queries List runs for Entra's lookups (userName eq, externalId eq) are index
// searches, not scans, in both databases.
func TestQueryPlanUsesIndexes(t *testing.T) {
	cases := []struct{ filter, index string }{
		{`userName eq "Jane@Contoso.com"`, "scim_users_user_name"},
		{`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`, "scim_users_external_id"},
		{`id eq "2819c223-7f76-453a-919d-413861904646"`, "scim_users_id"},
	}
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "acme")
		// Planners scan tiny tables: give them a table worth an index, and its statistics.
		require.NoError(t, s.bulkInsert(ctx, 5000, benchUser))
		_, err := s.db.Exec(`ANALYZE`)
		require.NoError(t, err)
		for _, c := range cases {
			f, err := filter.Parse(schema.User(), c.filter)
			require.NoError(t, err)
			where, args, err := s.where(ctx, f)
			require.NoError(t, err)
			query, args := s.seqPage(where, args, true, -1, 0, 101)
			plan := explain(t, s, query, args)
			require.Contains(t, plan, c.index, "%s: %s", c.filter, plan)
			require.NotRegexp(t, `(?i)SCAN scim_users\b|Seq Scan`, plan, "%s must not scan the table: %s", c.filter, plan)
		}
	})
}

func explain(t *testing.T, s *Store, query string, args []any) string {
	t.Helper()
	ctx := scim.ContextWithTenant(context.Background(), "")
	conn, err := s.db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	prefix := "EXPLAIN QUERY PLAN "
	if s.dialect == Postgres {
		prefix = "EXPLAIN "
		_, err := conn.ExecContext(ctx, "SET enable_seqscan = off")
		require.NoError(t, err)
	}
	rows, err := conn.QueryContext(ctx, prefix+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		lines = append(lines, fmt.Sprint(vals...))
	}
	require.NoError(t, rows.Err())
	return strings.Join(lines, "\n")
}
