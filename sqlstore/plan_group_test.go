package sqlstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// TestGroupQueryPlans: the group lookups Entra and Okta make (displayName eq, externalId eq, members eq) and
// a group's members paged as users (groups.value eq) are index searches in both databases: on SQLite the
// membership subquery drives lookups by id; on PostgreSQL it is a semi-join over scim_members' indexes.
func TestGroupQueryPlans(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "acme")
		require.NoError(t, s.bulkInsert(ctx, 5000, benchUser))
		for i := range 2000 {
			_, err := s.CreateGroup(ctx, group(fmt.Sprintf("g%03d", i), fmt.Sprintf("Group %d", i), benchUser(i).ID, benchUser(i+1).ID))
			require.NoError(t, err)
		}
		_, err := s.db.Exec(`ANALYZE`)
		require.NoError(t, err)
		noScan := `(?i)SCAN scim_(users|groups|members)\b|Seq Scan`
		for _, c := range []struct{ filter, sqlite, pg string }{
			{`groups.value eq "g001"`, "SEARCH scim_users USING INDEX scim_users_id (tenant=? AND id=?)", "scim_members"},
			{`groups eq "g001" and active eq true`, "SEARCH scim_users USING INDEX scim_users_id (tenant=? AND id=?)", "scim_members"},
		} {
			f, err := filter.Parse(schema.User(), c.filter)
			require.NoError(t, err)
			where, args, err := s.where(ctx, f)
			require.NoError(t, err)
			plan := explain(t, s, s.pageQuery(where, len(args), "seq"), s.twice(args, 100, 0))
			require.Contains(t, plan, map[Dialect]string{SQLite: c.sqlite, Postgres: c.pg}[s.dialect], "%s: %s", c.filter, plan)
			require.NotRegexp(t, noScan, plan, "%s: %s", c.filter, plan)
		}
		m := groupMapping(s.dialect, "acme")
		for _, c := range []struct{ filter, sqlite, pg string }{
			{`displayName eq "GROUP 7"`, "scim_groups_display_name", "scim_groups_display_name"},
			{`externalId eq "x"`, "scim_groups_external_id", "scim_groups_external_id"},
			{`members eq "` + benchUser(7).ID + `"`, "SEARCH scim_groups USING INDEX scim_groups_id (tenant=? AND id=?)", "scim_members"},
			{`members[value eq "` + benchUser(7).ID + `"]`, "scim_members_user", "scim_members"},
		} {
			f, err := filter.Parse(schema.Group(), c.filter)
			require.NoError(t, err)
			frag, args, err := m.Compile(f, 2)
			require.NoError(t, err)
			plan := explain(t, s, `SELECT data FROM scim_groups WHERE tenant = `+s.placeholder(1)+` AND (`+frag+`) ORDER BY seq LIMIT 100`,
				append([]any{"acme"}, args...))
			require.Contains(t, plan, map[Dialect]string{SQLite: c.sqlite, Postgres: c.pg}[s.dialect], "%s: %s", c.filter, plan)
			require.NotRegexp(t, noScan, plan, "%s: %s", c.filter, plan)
		}
	})
}
