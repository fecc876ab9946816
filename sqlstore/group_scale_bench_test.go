package sqlstore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// BenchmarkGroupFilterScale measures the list requests that page a large group's members and find users
// without groups, at the scale issue 16 tried them: a SQLite tenant of 200k users, half of them members of
// one group. The requests go through Store.List as the handler makes them (MaxScan 10000, the default; and 0,
// scim.Limits{MaxScan: scim.NoLimit}, which shows what the statements cost), each without a bookmark of an earlier
// page (the OFFSET path, the worst case). An op that fails (tooMany, the 2-minute deadline) is logged with
// its error. Seeding takes about a minute; SCIM_BENCH_GROUPS_DB keeps the
// database at that path between runs (it is created when absent):
//
//	SCIM_BENCH_GROUPS_DB=/tmp/groups200k.db go test ./sqlstore -run '^$' -bench GroupFilterScale -benchtime 3x -v
func BenchmarkGroupFilterScale(b *testing.B) {
	const users = 200_000
	ctx := scim.ContextWithTenant(context.Background(), "acme")
	path := os.Getenv("SCIM_BENCH_GROUPS_DB")
	if path == "" {
		path = filepath.Join(b.TempDir(), "groups.db")
	}
	_, statErr := os.Stat(path)
	s, err := openSQLite(ctx, path)
	require.NoError(b, err)
	defer s.Close()
	if statErr != nil {
		require.NoError(b, s.bulkInsert(ctx, users, benchUser))
		_, err := s.CreateGroup(ctx, group("big", "Big"))
		require.NoError(b, err)
		for i := range 10 { // a few small groups, so that "groups pr" is not that one group
			_, err := s.CreateGroup(ctx, group("small"+string(rune('a'+i)), "Small "+string(rune('a'+i)), benchUser(2*i+1).ID))
			require.NoError(b, err)
		}
		_, err = s.wdb.ExecContext(ctx, `INSERT INTO scim_members (tenant, group_id, user_id)
			SELECT tenant, 'big', id FROM scim_users WHERE tenant = 'acme' AND seq % 2 = 0`)
		require.NoError(b, err) // no ANALYZE: the store never runs it, so a host's planner has no statistics either
	}
	for _, c := range []struct {
		name, filter      string
		startIndex, count int
	}{
		{"member-page-1", `groups.value eq "big"`, 1, 100},
		{"member-page-101", `groups.value eq "big"`, 101, 100},
		{"member-page-50001", `groups.value eq "big"`, 50001, 100},
		{"not-groups-pr", `not (groups pr)`, 1, 10},
	} {
		f, err := filter.Parse(schema.User(), c.filter)
		require.NoError(b, err)
		for _, maxScan := range []int{10000, 0} { // the handler's default; scim.Limits{MaxScan: scim.NoLimit}
			q := scim.Query{Filter: f, StartIndex: c.startIndex, Count: c.count, MaxScan: maxScan, MaxBytes: 8 << 20}
			b.Run(fmt.Sprintf("%s/maxscan=%d", c.name, maxScan), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					_, err := s.wdb.ExecContext(ctx, `DELETE FROM scim_bookmarks`)
					require.NoError(b, err)
					qctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
					b.StartTimer()
					page, err := s.List(qctx, q)
					b.StopTimer()
					cancel()
					if err != nil {
						b.Logf("%s: %v", c.filter, err)
					} else {
						b.Logf("%s startIndex=%d: %d users, totalResults %d", c.filter, c.startIndex, len(page.Users), page.TotalResults)
					}
					b.StartTimer()
				}
			})
		}
	}
}
