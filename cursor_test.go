package scim_test

import (
	"context"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
)

// walkCursor pages through GET /Users?cursor=... (RFC 9865) and returns the userNames in order and the
// number of pages. between runs after each page.
func walkCursor(t *testing.T, s *testServer, query string, between func(page int)) ([]string, int) {
	t.Helper()
	var names []string
	cursor, pages := "", 0
	for {
		r := s.do("GET", "/Users?cursor="+url.QueryEscape(cursor)+query, "")
		require.Equal(t, 200, r.Status, "%s", r.Raw)
		require.NotContains(t, r.Body, "startIndex", "cursor answers have no startIndex")
		got := userNames(t, r.Body)
		require.Equal(t, float64(len(got)), r.Body["itemsPerPage"])
		names = append(names, got...)
		pages++
		next, ok := r.Body["nextCursor"].(string)
		if !ok {
			return names, pages
		}
		require.NotEmpty(t, next)
		require.Regexp(t, `^[A-Za-z0-9\-._~]+$`, next, "RFC 9865: only unreserved characters")
		if between != nil {
			between(pages)
		}
		cursor = next
		require.Less(t, pages, 100, "the walk must end")
	}
}

func TestCursorPagination(t *testing.T) {
	s := newTestServer(t)
	for i := range 10 {
		s.createUser("cur" + strconv.Itoa(i))
	}
	names, pages := walkCursor(t, s, "&count=3", nil)
	require.Equal(t, []string{"cur0", "cur1", "cur2", "cur3", "cur4", "cur5", "cur6", "cur7", "cur8", "cur9"}, names)
	require.Equal(t, 4, pages, "3+3+3+1, and no nextCursor on the last page")

	// An exact multiple of the page size ends without an empty extra page.
	names, pages = walkCursor(t, s, "&count=5", nil)
	require.Len(t, names, 10)
	require.Equal(t, 2, pages)

	// With a filter, totalResults counts every match, not the page.
	r := s.do("GET", "/Users?cursor=&count=2&filter="+url.QueryEscape(`userName sw "cur"`), "")
	require.Equal(t, 10.0, r.Body["totalResults"])
	require.Len(t, resources(t, r.Body), 2)

	// POST /.search takes the cursor in its body.
	r = s.do("POST", "/Users/.search", `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],"cursor":"","count":4}`)
	require.Equal(t, 200, r.Status, "%s", r.Raw)
	require.Equal(t, []string{"cur0", "cur1", "cur2", "cur3"}, userNames(t, r.Body))
	require.NotEmpty(t, r.Body["nextCursor"])
}

// TestCursorStableUnderWrites: users created or deleted between pages neither repeat nor hide the others.
func TestCursorStableUnderWrites(t *testing.T) {
	s := newTestServer(t)
	ids := map[string]string{}
	for i := range 9 {
		name := "st" + strconv.Itoa(i)
		ids[name] = s.createUser(name)
	}
	names, _ := walkCursor(t, s, "&count=3", func(page int) {
		if page == 1 {
			require.Equal(t, 204, s.do("DELETE", "/Users/"+ids["st0"], "").Status) // already seen
			require.Equal(t, 204, s.do("DELETE", "/Users/"+ids["st5"], "").Status) // not yet seen
			s.createUser("late")
		}
	})
	require.Equal(t, []string{"st0", "st1", "st2", "st3", "st4", "st6", "st7", "st8", "late"}, names)
}

func TestCursorErrors(t *testing.T) {
	s := newTestServer(t)
	s.createUser("e1")
	requireError(t, s.do("GET", "/Users?cursor=not-a-cursor", ""), 400, "invalidCursor")
	requireError(t, s.do("GET", "/Users?cursor=&startIndex=1", ""), 400, "invalidValue")
	requireError(t, s.do("GET", "/Users?cursor=&sortBy=userName", ""), 400, "invalidValue")

	spc := s.do("GET", "/ServiceProviderConfig", "").Body["pagination"].(map[string]any)
	require.Equal(t, map[string]any{"cursor": true, "index": true, "defaultPaginationMethod": "index",
		"defaultPageSize": 1000.0, "maxPageSize": 1000.0}, spc)
}

// indexOnlyStore hides memstore's cursor support, as a Store without it would be.
type indexOnlyStore struct{ inner *memstore.Store }

func (s indexOnlyStore) Create(ctx context.Context, u *scim.User) (*scim.User, error) {
	return s.inner.Create(ctx, u)
}
func (s indexOnlyStore) Get(ctx context.Context, id string) (*scim.User, error) {
	return s.inner.Get(ctx, id)
}
func (s indexOnlyStore) Replace(ctx context.Context, u *scim.User, v string) (*scim.User, error) {
	return s.inner.Replace(ctx, u, v)
}
func (s indexOnlyStore) Delete(ctx context.Context, id, v string) error {
	return s.inner.Delete(ctx, id, v)
}
func (s indexOnlyStore) List(ctx context.Context, q scim.Query) (*scim.Page, error) {
	return s.inner.List(ctx, q)
}

// TestCursorUnsupported: a Store without CursorLister is advertised truthfully and refuses cursors clearly.
func TestCursorUnsupported(t *testing.T) {
	s := serveHandler(t, scim.MustNew(indexOnlyStore{memstore.New()}, scim.WithTokens(testToken)))
	require.Equal(t, false, s.do("GET", "/ServiceProviderConfig", "").Body["pagination"].(map[string]any)["cursor"])
	requireError(t, s.do("GET", "/Users?cursor=", ""), 400, "invalidValue")
	require.Equal(t, 200, s.do("GET", "/Users?startIndex=1", "").Status)
}
