package sqlstore

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
)

// TestScanBudgetHTTP: the database's work counts against Limits.MaxScan as the Go evaluator's does. Over a
// tenant of 60 users with a budget of 20, a filter SQL tests on every user (not (groups pr), groups pr,
// title eq, and on PostgreSQL an "or" of groups), a sort of the tenant, or an OFFSET past the budget in a filtered list answers 400 tooMany
// before any statement runs; index lookups and a group's members (groups.value eq) are served, a group's
// members sorted while there are at most 20, and a filtered walk continues past the budget from its
// bookmarks, as Okta pages.
func TestScanBudgetHTTP(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "")
		require.NoError(t, s.bulkInsert(ctx, 60, benchUser))
		var big, small []string
		for i := range 40 {
			big = append(big, benchUser(i).ID)
		}
		for i := range 5 {
			small = append(small, benchUser(50+i).ID)
		}
		_, err := s.CreateGroup(ctx, group("big", "Big", big...))
		require.NoError(t, err)
		_, err = s.CreateGroup(ctx, group("small", "Small", small...))
		require.NoError(t, err)
		c := serve(t, s, scim.WithLimits(scim.Limits{MaxScan: 20}))
		list := func(want int, query string) map[string]any {
			t.Helper()
			return c.do(want, "GET", "/Users?"+query, "")
		}
		f := func(expr string) string { return "filter=" + url.QueryEscape(expr) }
		for _, q := range []string{
			f(`not (groups pr)`) + "&count=10",
			f(`groups pr`) + "&count=10",
			f(`groups.value ne "big"`) + "&count=10",
			f(`title eq "x"`) + "&count=10",
			f(`groups.value eq "big" or title eq "x"`) + "&count=10",
			f(`not (groups pr)`) + "&count=0",
			"sortBy=userName&count=10",
			"sortBy=emails&count=10", // sorted in Go
			f(`groups.value eq "big"`) + "&sortBy=userName&count=10",
			f(`groups.value eq "big"`) + "&startIndex=30&count=5",
		} {
			body := list(http.StatusBadRequest, q)
			require.Equal(t, "tooMany", body["scimType"], q)
		}
		for q, total := range map[string]float64{
			f(`groups.value eq "big"`) + "&count=10":                          40,
			f(`groups eq "big" and active eq true`) + "&count=10":             40,
			f(`groups.value eq "small"`) + "&sortBy=userName&count=10":        5,
			f(`userName eq "`+benchUser(3).UserName+`"`) + "&sortBy=title":    1,
			f(`groups.value eq "big"`) + "&startIndex=21&count=5":             40, // an OFFSET of 20: within
			"startIndex=55&count=10":                                          60, // the (tenant, seq) index alone
			f(`externalId eq "none"`) + "&count=10":                           0,
			f(`groups.value eq "small" and not (title eq "x")`) + "&count=10": 5,
		} {
			body := list(http.StatusOK, q)
			require.Equal(t, total, body["totalResults"], q)
		}
		// Two groups' members: SQLite drives both lookups (MULTI-INDEX OR); PostgreSQL tests every user against
		// the hashed subqueries, which counts the tenant.
		two := f(`groups[value eq "small" or value eq "big"]`) + "&count=10"
		if s.dialect == SQLite {
			require.Equal(t, float64(45), list(http.StatusOK, two)["totalResults"])
		} else {
			require.Equal(t, "tooMany", list(http.StatusBadRequest, two)["scimType"])
		}
		// A walk of the big group, page after page: each page continues from the last one's bookmark.
		seen := map[string]bool{}
		for start := 1; start <= 40; start += 10 {
			body := list(http.StatusOK, f(`groups.value eq "big"`)+fmt.Sprintf("&startIndex=%d&count=10", start))
			for _, r := range body["Resources"].([]any) {
				seen[r.(map[string]any)["id"].(string)] = true
			}
		}
		require.Len(t, seen, 40)
	})
}
