package scim_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
)

// ApplyGroupQuery and a GroupCollector answer every query as memstore's ListGroups, which answers from
// its indexes: filters (members included, over the groups' Members), sorting with ties, pages.
func TestGroupCollectorAgreesWithMemstore(t *testing.T) {
	s := memstore.New()
	ctx := scim.ContextWithTenant(context.Background(), "")
	for i := range 5 {
		_, err := s.Create(ctx, &scim.User{ID: fmt.Sprint("u", i), UserName: fmt.Sprint("u", i, "@x")})
		require.NoError(t, err)
	}
	t0 := time.Date(2024, 3, 10, 9, 30, 0, 0, time.UTC)
	var all []*scim.Group
	for i, name := range []string{"Eng", "ops", "Sales", "eng-2", "Ops Team", "Zed", "alpha"} {
		g := &scim.Group{ID: fmt.Sprint("g", i), DisplayName: name, ExternalID: fmt.Sprint("ext-", i%3),
			Meta: scim.Meta{Created: t0.Add(time.Duration(i%4) * time.Hour), LastModified: t0}}
		for u := range i % 4 {
			g.Members = append(g.Members, scim.Member{Value: fmt.Sprint("u", u)})
		}
		_, err := s.CreateGroup(ctx, g)
		require.NoError(t, err)
	}
	page, err := s.ListGroups(ctx, scim.Query{StartIndex: 1, Count: 100}, scim.GroupRead{MaxMembers: 100})
	require.NoError(t, err)
	all = page.Groups
	gt := schema.Group()
	for _, f := range []string{"", `displayName sw "e"`, `displayName eq "OPS"`, `externalId eq "ext-1"`, `members eq "u2"`,
		`members[value eq "u0"] and not (displayName co "team")`, `members pr`, `not (members pr)`, `id eq "g3" or displayName ew "D"`,
		`meta.created gt "2024-03-10T10:00:00Z"`} {
		for _, sortBy := range []string{"", "displayName", "externalId", "meta.created"} {
			for _, desc := range []bool{false, true} {
				for _, pg := range [][2]int{{1, 100}, {2, 2}, {1, 0}, {6, 3}} {
					q := scim.Query{StartIndex: pg[0], Count: pg[1], Descending: desc}
					if f != "" {
						q.Filter, err = filter.Parse(gt, f)
						require.NoError(t, err, f)
					}
					if sortBy != "" {
						q.SortBy, _ = gt.Resolve(sortBy)
					}
					want, err := s.ListGroups(ctx, q, scim.GroupRead{})
					require.NoError(t, err)
					got := scim.ApplyGroupQuery(all, q)
					what := fmt.Sprintf("filter %q sortBy %q desc %v page %v", f, sortBy, desc, pg)
					require.Equal(t, want.TotalResults, got.TotalResults, what)
					require.Equal(t, ids(want.Groups), ids(got.Groups), what)
				}
			}
		}
	}
}

func ids(groups []*scim.Group) []string {
	out := []string{}
	for _, g := range groups {
		out = append(out, g.ID)
	}
	return out
}

// A GroupCollector refuses past MaxScan groups, says when a filter needs members, and stops on a done context.
func TestGroupCollectorBounds(t *testing.T) {
	gt := schema.Group()
	f, err := filter.Parse(gt, `members eq "u1" or displayName eq "x"`)
	require.NoError(t, err)
	c := scim.NewGroupCollector(context.Background(), scim.Query{Filter: f, MaxScan: 3, Count: 10})
	require.True(t, c.NeedsMembers())
	for i := range 3 {
		require.NoError(t, c.Add(&scim.Group{ID: fmt.Sprint(i), Members: []scim.Member{{Value: "u1"}}}))
	}
	require.ErrorIs(t, c.Add(&scim.Group{ID: "4"}), scim.ErrTooMany)
	require.Equal(t, 3, c.Page().TotalResults)
	require.False(t, scim.NewGroupCollector(context.Background(), scim.Query{}).NeedsMembers())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c = scim.NewGroupCollector(ctx, scim.Query{Count: 10})
	var last error
	for i := range 64 {
		last = c.Add(&scim.Group{ID: fmt.Sprint(i)})
	}
	require.ErrorIs(t, last, context.Canceled)
}

// A sorted page deep in many groups comes out as a stable sort of them all would cut it, though the collector
// keeps only about twice the page's depth at a time.
func TestGroupCollectorSortsManyStably(t *testing.T) {
	var groups []*scim.Group
	for i := range 500 {
		groups = append(groups, &scim.Group{ID: fmt.Sprint(i), DisplayName: fmt.Sprint("g", (i*37)%50)})
	}
	by, _ := schema.Group().Resolve("displayName")
	got := scim.ApplyGroupQuery(groups, scim.Query{SortBy: by, StartIndex: 21, Count: 10})
	require.Equal(t, 500, got.TotalResults)
	want := slices.Clone(groups)
	slices.SortStableFunc(want, func(a, b *scim.Group) int { return strings.Compare(a.DisplayName, b.DisplayName) })
	require.Equal(t, ids(want[20:30]), ids(got.Groups))
}
