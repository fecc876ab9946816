package sqlstore

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"encoding/json"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

// TestResourcePlans: a declared type's eq lookups (a keyed attribute, id) and the statements that walk a
// tenant's resources of the type (a batch after a seq, the capped count) are index searches in both
// databases, never scans of scim_resources or scim_resource_keys.
func TestResourcePlans(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		r := s.Resources(deviceType)

		// Planners scan tiny tables: give them rows of several tenants (the rowid range is then no shortcut
		// to one tenant's), and their statistics.
		rows := 6000 // SCIM_PLAN_ROWS=200000 checks the plans at a large tenant's size (minutes)
		if n, err := strconv.Atoi(os.Getenv("SCIM_PLAN_ROWS")); err == nil && n > 0 {
			rows = n
		}
		insertDocs(t, s, rows, func(i int) (string, map[string]any) {
			return []string{"acme", "globex", "initech"}[i%3], map[string]any{"serial": fmt.Sprintf("SN-%d", i), "label": fmt.Sprintf("Desk %d", i%100)}
		})
		noScan := `(?i)SCAN scim_resources\b|SCAN scim_resource_keys\b|Seq Scan|SCAN [rk]\b|tenant_seq`
		lookups := func() {
			for _, f := range []string{`serial eq "sn-7"`, `label eq "DESK 3"`, `id eq "d-9"`, `serial eq "sn-7" and rank gt 2`} {
				e, err := filter.Parse(deviceType, f)
				require.NoError(t, err)
				attr, key, ok := r.lookup(e)
				require.True(t, ok, "%s is an index lookup", f)
				plan := explain(t, s, s.q(selectDocs+`tenant = ? AND type = ? AND id IN (?, ?)`), []any{"acme", deviceType.Name, key, "d-2"})
				if attr != "id" {
					keys := explain(t, s, s.q(keyIDs), []any{"acme", deviceType.Name, attr, key})
					require.Regexp(t, `scim_resource_keys_(pkey|unique)|scim_resource_keys USING PRIMARY KEY`, keys, "%s: %s", f, keys)
					require.NotRegexp(t, noScan, keys, "%s must not scan a table: %s", f, keys)
				}
				require.Contains(t, plan, "scim_resources_id", "%s: %s", f, plan)
				require.NotRegexp(t, noScan, plan, "%s must not scan a table: %s", f, plan)
			}
		}
		if s.dialect == SQLite { // without statistics, as SQLite runs until ANALYZE (PostgreSQL's autovacuum analyzes)
			lookups()
		}
		_, err := s.db.Exec(`ANALYZE`)
		require.NoError(t, err)
		lookups()
		noScan = `(?i)SCAN scim_resources\b|SCAN scim_resource_keys\b|Seq Scan|SCAN [rk]\b`
		plan := explain(t, s, s.q(r.scanStmt()), []any{"acme", deviceType.Name, 10, resourceBatch})
		require.Contains(t, plan, "scim_resources_tenant_seq", plan)
		require.NotRegexp(t, noScan, plan, "a batch must not scan the table: %s", plan)
		plan = explain(t, s, s.q(cappedCount(101)), []any{"acme", deviceType.Name})
		require.Regexp(t, `scim_resources_(tenant_seq|id)`, plan)
		require.NotRegexp(t, noScan, plan, "the capped count must not scan the table: %s", plan)
	})
}

// insertDocs inserts n resources of deviceType (tenant and attributes from doc(i)) with their keys, in one
// transaction of multi-row statements: a table worth planning over, in a second.
func insertDocs(t testing.TB, s *Store, n int, doc func(i int) (string, map[string]any)) {
	t.Helper()
	r := s.Resources(deviceType)
	now := time.Now().UTC().Format(timeFormat)
	tx, err := s.db.Begin()
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	for start := 0; start < n; start += 200 {
		var docs, keys []string
		var dargs, kargs []any
		for i := start; i < min(n, start+200); i++ {
			tenant, attrs := doc(i)
			id := "d-" + strconv.Itoa(i)
			data, err := json.Marshal(attrs)
			require.NoError(t, err)
			docs = append(docs, "(?, ?, ?, 1, ?, ?, ?)")
			dargs = append(dargs, tenant, deviceType.Name, id, now, now, string(data))
			for _, k := range r.keys(&scim.Document{ID: id, Attributes: attrs}) {
				keys = append(keys, "(?, ?, ?, ?, ?, ?)")
				kargs = append(kargs, tenant, deviceType.Name, k.attr, k.fold, id, k.uniq)
			}
		}
		_, err = tx.Exec(s.q(`INSERT INTO scim_resources (tenant, type, id, version, created, last_modified, doc) VALUES `+
			strings.Join(docs, ", ")), dargs...)
		require.NoError(t, err)
		_, err = tx.Exec(s.q(`INSERT INTO scim_resource_keys (tenant, type, attr, fold, id, uniq) VALUES `+
			strings.Join(keys, ", ")), kargs...)
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
}
