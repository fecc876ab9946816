package sqlfilter_test

import (
	"database/sql"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

// groupsLink is how sqlstore finds a user's groups: rows of its membership table, those of the tenant
// (Mapping.Scope) bound as an argument.
var groupsLink = sqlfilter.Link{Table: "m", Scope: "m.t", Key: "u.id", Ref: "m.user_id", Value: "m.group_id"}

func TestCompileLinks(t *testing.T) {
	rt := schema.User()
	tests := []struct {
		filter string
		sqlite string
		pg     string
		args   []any
	}{
		{`groups.value eq "g1"`, `u.id IN (SELECT m.user_id FROM m WHERE m.t = ? AND m.group_id = ?)`,
			`EXISTS (SELECT 1 FROM m WHERE m.t = $2 AND m.group_id = $3 AND m.user_id = u.id)`, []any{"a", "g1"}},
		{`groups eq "g1"`, `u.id IN (SELECT m.user_id FROM m WHERE m.t = ? AND m.group_id = ?)`,
			`EXISTS (SELECT 1 FROM m WHERE m.t = $2 AND m.group_id = $3 AND m.user_id = u.id)`, []any{"a", "g1"}},
		{`groups[value eq "g1"]`, `u.id IN (SELECT m.user_id FROM m WHERE m.t = ? AND m.group_id = ?)`,
			`EXISTS (SELECT 1 FROM m WHERE m.t = $2 AND m.group_id = $3 AND m.user_id = u.id)`, []any{"a", "g1"}},
		{`groups.value ne "g1"`, `NOT u.id IN (SELECT m.user_id FROM m WHERE m.t = ? AND m.group_id = ?)`,
			`NOT EXISTS (SELECT 1 FROM m WHERE m.t = $2 AND m.group_id = $3 AND m.user_id = u.id)`, []any{"a", "g1"}},
		{`groups pr`, `u.id IN (SELECT m.user_id FROM m WHERE m.t = ?)`, `EXISTS (SELECT 1 FROM m WHERE m.t = $2 AND m.user_id = u.id)`, []any{"a"}},
		{`groups[value eq "a" or value eq "b"] and id eq "u1"`,
			`((u.id IN (SELECT m.user_id FROM m WHERE m.t = ? AND m.group_id = ?) OR u.id IN (SELECT m.user_id FROM m WHERE m.t = ? AND m.group_id = ?)) AND (id = ? AND id IS NOT NULL))`,
			`((EXISTS (SELECT 1 FROM m WHERE m.t = $2 AND m.group_id = $3 AND m.user_id = u.id) OR EXISTS (SELECT 1 FROM m WHERE m.t = $4 AND m.group_id = $5 AND m.user_id = u.id)) AND (id = $6 AND id IS NOT NULL))`,
			[]any{"a", "a", "a", "b", "u1"}},
	}
	for _, tt := range tests {
		for _, d := range []sqlfilter.Dialect{sqlfilter.SQLite, sqlfilter.Postgres} {
			m := sqlfilter.Mapping{Dialect: d, Columns: map[string]string{"id": "id"}, JSON: "data", Links: map[string]sqlfilter.Link{"groups": groupsLink}, Scope: "a"}
			got, args, err := m.Compile(mustParse(t, rt, tt.filter), 2)
			require.NoError(t, err, tt.filter)
			want := map[sqlfilter.Dialect]string{sqlfilter.SQLite: tt.sqlite, sqlfilter.Postgres: tt.pg}[d]
			require.Equal(t, want, got, tt.filter)
			require.Equal(t, tt.args, args, tt.filter)
		}
	}
	for _, f := range []string{`groups.display eq "x"`, `groups.value sw "g"`, `groups[value eq "a" and type eq "direct"]`,
		`groups[display eq "x"]`, `groups[value ne "a"]`} {
		m := sqlfilter.Mapping{Dialect: sqlfilter.SQLite, JSON: "data", Links: map[string]sqlfilter.Link{"groups": groupsLink}, Scope: "a"}
		_, _, err := m.Compile(mustParse(t, rt, f), 1)
		require.True(t, errors.Is(err, sqlfilter.ErrUnsupported), "%s: %v", f, err)
	}
	// A scoped link without the value to scope it by is the store's mistake, not an unsupported filter.
	m := sqlfilter.Mapping{Dialect: sqlfilter.SQLite, JSON: "data", Links: map[string]sqlfilter.Link{"groups": groupsLink}}
	_, _, err := m.Compile(mustParse(t, rt, `groups pr`), 1)
	require.Error(t, err)
	require.False(t, errors.Is(err, sqlfilter.ErrUnsupported), "%v", err)
}

// TestCompileLinksSQLite runs the link filters over a membership table and checks which rows they select.
func TestCompileLinksSQLite(t *testing.T) {
	db, err := sql.Open("sqlite", ":memory:")
	require.NoError(t, err)
	defer db.Close()
	db.SetMaxOpenConns(1)
	_, err = db.Exec(`CREATE TABLE u (t TEXT, id TEXT NOT NULL, data TEXT); CREATE TABLE m (t TEXT, user_id TEXT NOT NULL, group_id TEXT);
		INSERT INTO u VALUES ('a', 'u1', '{}'), ('a', 'u2', '{}'), ('a', 'u3', '{}'), ('b', 'u3', '{}');
		INSERT INTO m VALUES ('a', 'u1', 'g1'), ('a', 'u1', 'g2'), ('a', 'u2', 'g2'), ('b', 'u3', 'g1')`)
	require.NoError(t, err)
	m := sqlfilter.Mapping{Dialect: sqlfilter.SQLite, Columns: map[string]string{"id": "id"}, JSON: "data", Links: map[string]sqlfilter.Link{"groups": groupsLink}, Scope: "a"}
	for f, want := range map[string][]string{
		`groups.value eq "g1"`:                       {"u1"},
		`groups eq "g2"`:                             {"u1", "u2"},
		`groups[value eq "g2"] and not (id eq "u1")`: {"u2"},
		`groups.value ne "g1"`:                       {"u2", "u3"},
		`groups pr`:                                  {"u1", "u2"},
		`groups eq null`:                             {"u3"},
		`groups[value eq "g1" or value eq "g9"]`:     {"u1"},
	} {
		frag, args, err := m.Compile(mustParse(t, schema.User(), f), 1)
		require.NoError(t, err, f)
		rows, err := db.Query(`SELECT id FROM u WHERE u.t = 'a' AND `+frag+` ORDER BY id`, args...)
		require.NoError(t, err, f)
		var got []string
		for rows.Next() {
			var id string
			require.NoError(t, rows.Scan(&id))
			got = append(got, id)
		}
		require.NoError(t, rows.Err())
		rows.Close()
		require.Equal(t, want, got, f)
	}
}
