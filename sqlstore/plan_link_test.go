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

// correlated matches a subquery the database runs again for each row it scans: SQLite's CORRELATED LIST or
// SCALAR SUBQUERY, PostgreSQL's SubPlan unless hashed (a hashed SubPlan and an InitPlan run once). A link-table subquery must be neither: with
// the tenant compared to the outer row, SQLite rebuilt a group's member list for every user it scanned.
const correlated = `CORRELATED|\(SubPlan \d+\)|alternatives: SubPlan`

// TestLinkQueryPlansUncorrelated: every filter on a link table (a user's groups, a group's members) is
// planned with its subquery run once, in every statement List and ListGroups make of it (the page with its
// total, the index walk, a count), on both databases.
func TestLinkQueryPlansUncorrelated(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "acme")
		require.NoError(t, s.bulkInsert(ctx, 3000, benchUser))
		for i := range 200 {
			_, err := s.CreateGroup(ctx, group(fmt.Sprintf("g%03d", i), fmt.Sprintf("Group %d", i), benchUser(2*i).ID, benchUser(2*i+1).ID))
			require.NoError(t, err)
		}
		_, err := s.db.Exec(`ANALYZE`)
		require.NoError(t, err)
		for _, f := range []string{
			`groups.value eq "g001"`,
			`groups eq "g001" and active eq true`,
			`groups[value eq "g001" or value eq "g002"]`,
			`groups pr`,
			`not (groups pr)`,
			`groups eq null`,
			`groups.value ne "g001"`,
			`groups.value eq "g001" or userName eq "x"`,
		} {
			e, err := filter.Parse(schema.User(), f)
			require.NoError(t, err)
			where, args, err := s.where(ctx, e)
			require.NoError(t, err, f)
			for name, stmt := range map[string]func() (string, []any){
				"seq page": func() (string, []any) { return s.seqPage(where, args, true, -1, 0, 101) },
				"deep seq page": func() (string, []any) {
					return s.seqPage(where, args, true, -1, 500, 101)
				},
				"sorted page": func() (string, []any) {
					return s.pageQuery(where, len(args), "user_name_fold, seq"), s.twice(args, 100, 0)
				},
				"count": func() (string, []any) { return `SELECT ` + countOf(where, true), args },
			} {
				query, qargs := stmt()
				plan := explain(t, s, query, qargs)
				require.NotRegexp(t, correlated, plan, "%s, %s: %s", f, name, plan)
			}
		}
		m := groupMapping(s.dialect, "acme")
		for _, f := range []string{
			`members eq "` + benchUser(7).ID + `"`,
			`members[value eq "` + benchUser(7).ID + `"]`,
			`members pr`,
			`not (members pr)`,
			`members.value ne "` + benchUser(7).ID + `"`,
		} {
			e, err := filter.Parse(schema.Group(), f)
			require.NoError(t, err)
			frag, args, err := m.Compile(e, 2)
			require.NoError(t, err, f)
			where := `tenant = ` + s.placeholder(1) + ` AND (` + frag + `)`
			args = append([]any{"acme"}, args...)
			plan := explain(t, s, fmt.Sprintf(`SELECT data, version, (SELECT count(*) FROM scim_groups WHERE %s) FROM scim_groups
				WHERE %s ORDER BY seq LIMIT 100`, where, where), s.twice(args))
			require.NotRegexp(t, correlated, plan, "%s: %s", f, plan)
		}
	})
}
