package sqlstore

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// TestGoFallbackBounded: what SQL cannot answer (sortBy a multi-valued attribute, a dateTime out of the
// column's range) streams at most Query.MaxScan rows, then is ErrTooMany; under it the page is right, and
// a sort SQL cannot express still filters in SQL: after an index lookup (externalId eq), only its matches
// count; after a filter SQL tests on every row (title eq), the tenant does.
func TestGoFallbackBounded(t *testing.T) {
	for name, s := range map[string]*Store{"sqlite": newSQLite(t), "postgres": newPostgres(t)} {
		t.Run(name, func(t *testing.T) {
			ctx := scim.ContextWithTenant(context.Background(), "bounds-"+name)
			for i := range 30 {
				_, err := s.Create(ctx, &scim.User{ID: fmt.Sprintf("b%02d", i), UserName: fmt.Sprintf("u%02d", i),
					Title: []string{"odd", "even"}[i%2], ExternalID: []string{"odd", "even"}[i%2],
					Emails: []scim.MultiValue{{Value: fmt.Sprintf("e%02d@x", 29-i)}},
					Meta:   scim.Meta{Created: time.Now().UTC().Truncate(time.Millisecond)}})
				require.NoError(t, err)
			}
			rt := schema.User()
			byEmail, _ := rt.Resolve("emails")
			farFuture, err := filter.Parse(rt, `meta.created lt "9999-12-31T23:00:00-05:00"`)
			require.NoError(t, err)
			even, err := filter.Parse(rt, `externalId eq "even"`)
			require.NoError(t, err)
			evenTitle, err := filter.Parse(rt, `title eq "even"`)
			require.NoError(t, err)

			_, err = s.List(ctx, scim.Query{SortBy: byEmail, Count: 5, StartIndex: 1, MaxScan: 20})
			require.ErrorIs(t, err, scim.ErrTooMany)
			_, err = s.List(ctx, scim.Query{Filter: farFuture, Count: 5, StartIndex: 1, MaxScan: 20})
			require.ErrorIs(t, err, scim.ErrTooMany)
			_, err = s.ListCursor(ctx, scim.Query{Filter: farFuture, Count: 5, MaxScan: 20}, "")
			require.ErrorIs(t, err, scim.ErrTooMany)

			p, err := s.List(ctx, scim.Query{Filter: even, SortBy: byEmail, Count: 2, StartIndex: 2, MaxScan: 20})
			require.NoError(t, err, "15 matches: SQL filtered before Go sorted")
			require.Equal(t, 15, p.TotalResults)
			require.Equal(t, []string{"u27", "u25"}, []string{p.Users[0].UserName, p.Users[1].UserName})
			_, err = s.List(ctx, scim.Query{Filter: evenTitle, SortBy: byEmail, Count: 2, StartIndex: 2, MaxScan: 20})
			require.ErrorIs(t, err, scim.ErrTooMany, "30 users tested by SQL")
			p, err = s.List(ctx, scim.Query{Filter: farFuture, Count: 3, StartIndex: 29, MaxScan: 30})
			require.NoError(t, err)
			require.Equal(t, 30, p.TotalResults)
			require.Len(t, p.Users, 2)
		})
	}
}

// TestMaxBytesShortensPages: a page stops once its users pass Query.MaxBytes, and a cursor page's next
// cursor follows its last user.
func TestMaxBytesShortensPages(t *testing.T) {
	s := newSQLite(t)
	ctx := scim.ContextWithTenant(context.Background(), "bytes")
	for i := range 6 {
		_, err := s.Create(ctx, &scim.User{ID: fmt.Sprintf("m%d", i), UserName: fmt.Sprintf("m%d", i), DisplayName: fmt.Sprintf("%01000d", i)})
		require.NoError(t, err)
	}
	p, err := s.List(ctx, scim.Query{Count: 10, StartIndex: 1, MaxBytes: 2500})
	require.NoError(t, err)
	require.Len(t, p.Users, 2)
	require.Equal(t, 6, p.TotalResults)
	p, err = s.ListCursor(ctx, scim.Query{Count: 10, MaxBytes: 2500}, "")
	require.NoError(t, err)
	require.Len(t, p.Users, 2)
	next, err := s.ListCursor(ctx, scim.Query{Count: 10, MaxBytes: 2500}, p.NextCursor)
	require.NoError(t, err)
	require.Equal(t, "m2", next.Users[0].UserName)
}
