package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// dropWalk removes what walkMigration created, for tests that roll the schema back to an earlier step.
func dropWalk(t *testing.T, s *Store) {
	t.Helper()
	// The later steps' tables go too (resources), as their versions are deleted with the walk's.
	stmts := []string{`DROP TABLE scim_resource_keys`, `DROP TABLE scim_resources`, `DROP TABLE scim_bookmarks`, `DROP TABLE scim_user_counts`}
	if s.dialect == Postgres {
		for _, f := range []string{"insert", "delete", "move", "truncate"} {
			stmts = append(stmts, `DROP FUNCTION scim_user_counts_`+f+` CASCADE`) // and its trigger
		}
	} else {
		for _, tr := range []string{"insert", "delete", "move"} {
			stmts = append(stmts, `DROP TRIGGER scim_users_count_`+tr)
		}
	}
	for _, q := range stmts {
		_, err := s.db.Exec(q)
		require.NoError(t, err, q)
	}
}

// seqIDs returns the ids of the tenant's users matching where (a condition on scim_users, "" for all) in
// creation order: the reference every index page is cut from.
func seqIDs(t *testing.T, s *Store, tenant, where string) []string {
	t.Helper()
	q := `SELECT id FROM scim_users WHERE tenant = ` + s.placeholder(1)
	if where != "" {
		q += ` AND ` + where
	}
	rows, err := s.db.Query(q+` ORDER BY seq`, tenant)
	require.NoError(t, err)
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		require.NoError(t, rows.Scan(&id))
		ids = append(ids, id)
	}
	require.NoError(t, rows.Err())
	return ids
}

// requireCountsExact compares every tenant's counter with COUNT(*) of its rows.
func requireCountsExact(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.db.Query(`SELECT u.tenant, u.n, COALESCE(c.n, -1) FROM
		(SELECT tenant, count(*) AS n FROM scim_users GROUP BY tenant) u
		LEFT JOIN scim_user_counts c ON c.tenant = u.tenant`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var tenant string
		var want, got int64
		require.NoError(t, rows.Scan(&tenant, &want, &got))
		require.Equal(t, want, got, "counter of tenant %q", tenant)
	}
	require.NoError(t, rows.Err())
	var drift int
	require.NoError(t, s.db.QueryRow(`SELECT count(*) FROM scim_user_counts c WHERE c.n <> 0 AND NOT EXISTS
		(SELECT 1 FROM scim_users u WHERE u.tenant = c.tenant)`).Scan(&drift))
	require.Zero(t, drift, "counters of tenants without users")
}

func pageIDs(p *scim.Page) []string {
	ids := []string{}
	for _, u := range p.Users {
		ids = append(ids, u.ID)
	}
	return ids
}

func walkUser(prefix string, i int) *scim.User {
	u := user(fmt.Sprintf("%s-%05d", prefix, i))
	u.Active = new(i%3 != 0)
	return u
}

func countBookmarks(t *testing.T, s *Store, tenant string) int {
	t.Helper()
	var n int
	require.NoError(t, s.db.QueryRow(s.q(`SELECT count(*) FROM scim_bookmarks WHERE tenant = ?`), tenant).Scan(&n))
	return n
}

// TestUserCounter: the per-tenant counter equals COUNT(*) after concurrent creates and deletes in two
// tenants, rows a host writes itself (multi-row inserts and deletes, moving a row between tenants), and a
// migration over a database that already holds users.
func TestUserCounter(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				ctx := scim.ContextWithTenant(context.Background(), fmt.Sprint("t", w%2))
				for i := range 40 {
					u := walkUser(fmt.Sprint("w", w), i)
					if _, err := s.Create(ctx, u); err != nil {
						t.Error(err)
						return
					}
					if i%3 == 0 {
						if err := s.Delete(ctx, u.ID, ""); err != nil {
							t.Error(err)
							return
						}
					}
					_ = s.Delete(ctx, "id-missing", "") // a delete of no row counts nothing
				}
			})
		}
		wg.Wait()
		requireCountsExact(t, s)

		ctx := scim.ContextWithTenant(context.Background(), "host")
		require.NoError(t, s.bulkInsert(ctx, 1200, func(i int) *scim.User { return walkUser("host", i) }))
		_, err := s.db.Exec(s.q(`DELETE FROM scim_users WHERE tenant = ? AND user_name LIKE ?`), "host", "host-000%")
		require.NoError(t, err)
		_, err = s.db.Exec(s.q(`UPDATE scim_users SET tenant = ? WHERE tenant = ? AND user_name LIKE ?`), "moved", "host", "host-001%")
		require.NoError(t, err)
		requireCountsExact(t, s)
		page, err := s.List(ctx, scim.Query{StartIndex: 1, Count: 0})
		require.NoError(t, err)
		require.Equal(t, len(seqIDs(t, s, "host", "")), page.TotalResults)

		// A database migrated with users in it starts with their count.
		_, err = s.db.Exec(s.q(`DELETE FROM scim_migrations WHERE version >= ?`), 7) // the walk step, and later ones
		require.NoError(t, err)
		dropWalk(t, s)
		require.NoError(t, s.migrate(context.Background()))
		requireCountsExact(t, s)
	})
}

// TestWalkUnderChurn walks a tenant page by page (count=100) while users are created and deleted, between
// pages and from another goroutine at once: every user that existed for the whole walk is seen exactly
// once, and no user twice. An OFFSET walk would skip users here: the deletes are before its position.
func TestWalkUnderChurn(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "acme")
		const stable, doomed = 1000, 300
		var stableIDs, doomedIDs []string
		require.NoError(t, s.bulkInsert(ctx, stable+doomed, func(i int) *scim.User { return walkUser("u", i) }))
		for i := range stable + doomed {
			if id := walkUser("u", i).ID; i%4 == 1 && len(doomedIDs) < doomed {
				doomedIDs = append(doomedIDs, id)
			} else {
				stableIDs = append(stableIDs, id)
			}
		}
		// Another tenant's walk of the same query records bookmarks at the same positions.
		other := scim.ContextWithTenant(context.Background(), "other")
		require.NoError(t, s.bulkInsert(other, 250, func(i int) *scim.User { return walkUser("o", i) }))
		for start := 1; start <= 250; start += 100 {
			_, err := s.List(other, scim.Query{StartIndex: start, Count: 100})
			require.NoError(t, err)
		}

		stop := make(chan struct{})
		var churned atomic.Int64
		var wg sync.WaitGroup
		wg.Go(func() { // creates new users and deletes them again, concurrently with the walk
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				u := walkUser("c", i)
				if _, err := s.Create(ctx, u); err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					if err := s.Delete(ctx, u.ID, ""); err != nil {
						t.Error(err)
						return
					}
				}
				churned.Add(1)
			}
		})
		seen := map[string]int{}
		next := 0
		for start := 1; ; start += 100 {
			page, err := s.List(ctx, scim.Query{StartIndex: start, Count: 100})
			require.NoError(t, err)
			for _, u := range page.Users {
				seen[u.ID]++
				require.Equal(t, 1, seen[u.ID], "user %s repeated at startIndex %d", u.ID, start)
			}
			if len(page.Users) < 100 {
				break
			}
			// Between pages: delete doomed users before the walk's position, create some more.
			for range 30 {
				if next < len(doomedIDs) {
					require.NoError(t, s.Delete(ctx, doomedIDs[next], ""))
					next++
				}
			}
			_, err = s.Create(ctx, walkUser(fmt.Sprint("p", start), 0))
			require.NoError(t, err)
			require.LessOrEqual(t, start, 100_000, "the walk does not end")
		}
		close(stop)
		wg.Wait()
		for _, id := range stableIDs {
			require.Equal(t, 1, seen[id], "stable user %s seen %d times", id, seen[id])
		}
		require.Equal(t, doomed, next, "every doomed user was deleted during the walk")
		require.Positive(t, countBookmarks(t, s, "acme"))
		t.Logf("%d concurrent creates during the walk", churned.Load())
		requireCountsExact(t, s)
	})
}

// TestIndexPagesMatchOffset: random pages (deep, bookmarked or not, filtered or not, past the end) are the
// slice of the creation order that OFFSET defines, with the true totalResults, in two tenants whose users
// interleave.
func TestIndexPagesMatchOffset(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		tenants := []string{"a", "b"}
		for i := range 9 { // interleaved: two batches of a's for one of b's
			tenant := tenants[i%3/2]
			ctx := scim.ContextWithTenant(context.Background(), tenant)
			require.NoError(t, s.bulkInsert(ctx, 100, func(j int) *scim.User { return walkUser(tenant, i*100+j) }))
		}
		active, err := filter.Parse(schema.User(), `active eq true`)
		require.NoError(t, err)
		rng := rand.New(rand.NewPCG(7, 8))
		for _, tenant := range tenants {
			ctx := scim.ContextWithTenant(context.Background(), tenant)
			for _, c := range []struct {
				f     filter.Expr
				where string
			}{{nil, ""}, {active, "active = " + map[Dialect]string{SQLite: "1", Postgres: "true"}[s.dialect]}} {
				want := seqIDs(t, s, tenant, c.where)
				check := func(start, count int) {
					t.Helper()
					page, err := s.List(ctx, scim.Query{Filter: c.f, StartIndex: start, Count: count})
					require.NoError(t, err)
					from := min(max(start, 1)-1, len(want))
					require.Equal(t, want[from:min(from+count, len(want))], pageIDs(page), "tenant %s startIndex %d count %d", tenant, start, count)
					require.Equal(t, len(want), page.TotalResults)
				}
				for start := 1; start <= len(want)+1; start += 50 { // a walk: bookmarks at every 51st index
					check(start, 50)
				}
				for range 30 {
					check(rng.IntN(len(want)+20), rng.IntN(120))
				}
				check(0, 10)
				check(51, 0)
			}
		}
	})
}

// TestBookmarkAmbiguous: two walks of one query that end a page on different users (a user before it was
// deleted between them) leave that index to OFFSET, which is right for both.
func TestBookmarkAmbiguous(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "x")
		for i := range 30 {
			_, err := s.Create(ctx, walkUser("x", i))
			require.NoError(t, err)
		}
		_, err := s.List(ctx, scim.Query{StartIndex: 1, Count: 10}) // walk 1: bookmark at 11
		require.NoError(t, err)
		require.NoError(t, s.Delete(ctx, "id-x-00003", ""))
		_, err = s.List(ctx, scim.Query{StartIndex: 1, Count: 10}) // walk 2 ends index 10 on another user
		require.NoError(t, err)
		page, err := s.List(ctx, scim.Query{StartIndex: 11, Count: 10})
		require.NoError(t, err)
		require.Equal(t, seqIDs(t, s, "x", "")[10:20], pageIDs(page))
		var after *int64
		require.NoError(t, s.db.QueryRow(s.q(`SELECT after_seq FROM scim_bookmarks WHERE tenant = ? AND pos = ?`), "x", 11).Scan(&after))
		require.Nil(t, after, "the bookmark at 11 is ambiguous")
	})
}

// TestBookmarksBounded: a tenant keeps at most bookmarksPerTenant bookmarks whatever the queries, and
// expired ones are removed as new ones are recorded, in every tenant.
func TestBookmarksBounded(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "busy")
		for i := range 20 {
			_, err := s.Create(ctx, walkUser("b", i))
			require.NoError(t, err)
		}
		_, err := s.db.Exec(s.q(`INSERT INTO scim_bookmarks (tenant, query, pos, after_seq, created) VALUES (?, ?, ?, ?, ?)`),
			"gone", "q", 2, 1, time.Now().Add(-2*bookmarkTTL).UnixMilli())
		require.NoError(t, err)
		for i := range bookmarksPerTenant + 40 {
			f, err := filter.Parse(schema.User(), fmt.Sprintf(`userName ne "nobody%d"`, i))
			require.NoError(t, err)
			_, err = s.List(ctx, scim.Query{Filter: f, StartIndex: 1, Count: 5})
			require.NoError(t, err)
		}
		require.Equal(t, bookmarksPerTenant, countBookmarks(t, s, "busy"))
		require.Zero(t, countBookmarks(t, s, "gone"), "an expired bookmark of another tenant")
	})
}

// TestFilteredTotalBounded: a filter matching more than filteredCountCap users answers a lower bound that
// stays beyond the last index served while users remain; the unfiltered total stays exact.
func TestFilteredTotalBounded(t *testing.T) {
	s := newSQLite(t)
	ctx := scim.ContextWithTenant(context.Background(), "")
	n := filteredCountCap + 500
	require.NoError(t, s.bulkInsert(ctx, n, benchUser))
	f, err := filter.Parse(schema.User(), `active eq true`)
	require.NoError(t, err)
	page, err := s.List(ctx, scim.Query{Filter: f, StartIndex: 1, Count: 10})
	require.NoError(t, err)
	require.Equal(t, filteredCountCap+1, page.TotalResults, "a lower bound past the cap")
	page, err = s.List(ctx, scim.Query{Filter: f, StartIndex: n - 100, Count: 50})
	require.NoError(t, err)
	require.Len(t, page.Users, 50)
	require.Equal(t, n-50, page.TotalResults, "beyond the last index served")
	page, err = s.List(ctx, scim.Query{Filter: f, StartIndex: n - 40, Count: 50})
	require.NoError(t, err)
	require.Len(t, page.Users, 41)
	require.Equal(t, n, page.TotalResults, "the last page ends at the total")
	page, err = s.List(ctx, scim.Query{StartIndex: 1, Count: 10})
	require.NoError(t, err)
	require.Equal(t, n, page.TotalResults)
}

// TestWalkPlanUsesIndexes: a bookmarked page of the unfiltered list is an index range from the bookmark, and
// its total the counter's row, never a scan or a sort of the tenant's users.
func TestWalkPlanUsesIndexes(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "acme")
		require.NoError(t, s.bulkInsert(ctx, 5000, benchUser))
		_, err := s.db.Exec(`ANALYZE`)
		require.NoError(t, err)
		where, args, err := s.where(ctx, nil)
		require.NoError(t, err)
		query, args := s.seqPage(where, args, false, 4000, 0, 101)
		plan := explain(t, s, query, args)
		require.NotRegexp(t, `(?i)SCAN scim_users\b|Seq Scan|TEMP B-TREE|Sort`, plan, "%s", plan)
		require.NotContains(t, query, "count(", "the total is the counter, not a count")
	})
}
