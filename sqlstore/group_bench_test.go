package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// BenchmarkGroupAddMember measures adding one member to a group of 100 and of 100,000 members (the op is
// UpdateGroup with Add of one user; its removal, untimed in p50-ns, restores the group). A membership is a
// row of its own, so the two must cost about the same: the target is the 100k add within 1.5× of the 100.
//
//	go test ./sqlstore -run '^$' -bench GroupAddMember -benchtime 2000x
//
// PostgreSQL runs when SCIM_TEST_POSTGRES_DSN is set.
func BenchmarkGroupAddMember(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		for _, n := range []int{100, 100_000} {
			b.Run(fmt.Sprintf("store=%s/members=%d", kind, n), func(b *testing.B) {
				s := openBench(b, kind)
				ctx := scim.ContextWithTenant(context.Background(), "")
				const spare = 100 // users outside the group, added and removed in turn
				require.NoError(b, s.bulkInsert(ctx, n+spare, benchUser))
				g := &scim.Group{ID: "g", DisplayName: "Big", Meta: scim.Meta{Created: time.Now().UTC(), LastModified: time.Now().UTC()}}
				_, err := s.CreateGroup(ctx, g)
				require.NoError(b, err)
				_, err = s.db.ExecContext(ctx, s.q(`INSERT INTO scim_members (tenant, group_id, user_id)
					SELECT tenant, 'g', id FROM scim_users WHERE seq <= ?`), n)
				require.NoError(b, err)
				analyze(b, s)
				var took []time.Duration
				i := 0
				for b.Loop() {
					id := benchUser(n + i%spare).ID
					i++
					start := time.Now()
					_, err := s.UpdateGroup(ctx, "g", scim.GroupUpdate{Add: []string{id}}, "")
					took = append(took, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
					if _, err := s.UpdateGroup(ctx, "g", scim.GroupUpdate{Remove: []string{id}}, ""); err != nil {
						b.Fatal(err)
					}
				}
				slices.Sort(took)
				b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
				b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-ns")
			})
		}
	}
}

// BenchmarkListGroupsPage measures ListGroups' first page (count=100, members not loaded) over 1,000 groups
// of 1,000 members each: the page must not read a membership (target: under 50 ms).
//
//	go test ./sqlstore -run '^$' -bench ListGroupsPage -benchtime 200x
func BenchmarkListGroupsPage(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run("store="+kind, func(b *testing.B) {
			s := openBench(b, kind)
			ctx := scim.ContextWithTenant(context.Background(), "")
			require.NoError(b, s.bulkInsert(ctx, 1000, benchUser))
			now := time.Now().UTC()
			for i := range 1000 {
				_, err := s.CreateGroup(ctx, &scim.Group{ID: fmt.Sprintf("g%04d", i), DisplayName: fmt.Sprintf("Group %d", i),
					ExternalID: fmt.Sprint("ext-", i), Meta: scim.Meta{Created: now, LastModified: now}})
				require.NoError(b, err)
			}
			_, err := s.db.ExecContext(ctx, `INSERT INTO scim_members (tenant, group_id, user_id)
				SELECT g.tenant, g.id, u.id FROM scim_groups g CROSS JOIN scim_users u`)
			require.NoError(b, err)
			analyze(b, s)
			var took []time.Duration
			for b.Loop() {
				start := time.Now()
				page, err := s.ListGroups(ctx, scim.Query{StartIndex: 1, Count: 100}, scim.GroupRead{})
				took = append(took, time.Since(start))
				if err != nil || len(page.Groups) != 100 || page.TotalResults != 1000 {
					b.Fatalf("ListGroups: %v, %v", page, err)
				}
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
		})
	}
}

func openBench(b *testing.B, kind string) *Store {
	b.Helper()
	ctx := scim.ContextWithTenant(context.Background(), "")
	var s *Store
	var err error
	if kind == "postgres" {
		s, err = openPostgres(ctx, freshPostgres(b))
	} else {
		s, err = openSQLite(ctx, b.TempDir()+"/bench.db")
	}
	require.NoError(b, err)
	b.Cleanup(func() { s.Close() })
	return s
}

// analyze refreshes the planner's statistics after seeding, as autovacuum would soon after a bulk load.
func analyze(b *testing.B, s *Store) {
	b.Helper()
	_, err := s.db.ExecContext(context.Background(), "ANALYZE")
	require.NoError(b, err)
}
