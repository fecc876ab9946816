package memstore_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
)

// newMemUser returns a user ready for Store.Create, as the handler would pass it.
func newMemUser(id, userName, externalID string) *scim.User {
	return &scim.User{ID: id, UserName: userName, ExternalID: externalID, Meta: scim.Meta{ResourceType: "User"}}
}

// listAll lists the users of ctx's tenant matching filter ("" for all), in the Store's order.
func listAll(t *testing.T, s scim.Store, ctx context.Context, f string) []string {
	t.Helper()
	q := scim.Query{StartIndex: 1, Count: 1 << 20}
	if f != "" {
		e, err := filter.Parse(schema.User(), f)
		require.NoError(t, err)
		q.Filter = e
	}
	page, err := s.List(ctx, q)
	require.NoError(t, err)
	require.Len(t, page.Users, page.TotalResults)
	ids := []string{}
	for _, u := range page.Users {
		ids = append(ids, u.ID)
	}
	return ids
}

func TestTenants(t *testing.T) {
	s := memstore.New()
	bg := scim.ContextWithTenant(context.Background(), "")
	a, b := scim.ContextWithTenant(bg, "a"), scim.ContextWithTenant(bg, "b")

	_, err := s.Create(a, newMemUser("ua", "same@example.com", "x"))
	require.NoError(t, err)
	_, err = s.Create(b, newMemUser("ub", "SAME@example.com", "x"))
	require.NoError(t, err, "userName is unique within a tenant only")
	_, err = s.Create(bg, newMemUser("u0", "same@example.com", "x"))
	require.NoError(t, err, `the tenant "" is a tenant like any other`)

	require.Equal(t, []string{"ua"}, listAll(t, s, a, ""))
	require.Equal(t, []string{"ub"}, listAll(t, s, b, ""))
	require.Equal(t, []string{"u0"}, listAll(t, s, bg, ""))
	for _, f := range []string{`userName eq "same@example.com"`, `externalId eq "x"`, `id eq "ub"`, `id eq "ua" or id eq "ub"`, `userName pr`} {
		require.Subset(t, []string{"ua"}, listAll(t, s, a, f), f)
		require.Subset(t, []string{"ub"}, listAll(t, s, b, f), f)
	}
	require.Empty(t, listAll(t, s, scim.ContextWithTenant(bg, "c"), ""), "an unknown tenant has no users")

	// Another tenant's user does not exist, whatever the operation.
	_, err = s.Get(a, "ub")
	require.ErrorIs(t, err, scim.ErrNotFound)
	_, err = s.Replace(a, newMemUser("ub", "stolen", ""), "")
	require.ErrorIs(t, err, scim.ErrNotFound)
	require.ErrorIs(t, s.Delete(a, "ub", ""), scim.ErrNotFound)
	_, err = s.Get(scim.ContextWithTenant(bg, "c"), "ua")
	require.ErrorIs(t, err, scim.ErrNotFound)

	u, err := s.Get(b, "ub")
	require.NoError(t, err)
	require.Equal(t, "SAME@example.com", u.UserName)
	require.NoError(t, s.Delete(b, "ub", ""))
	_, err = s.Get(a, "ua")
	require.NoError(t, err, "deleting in b leaves a")
}

func TestUniqueness(t *testing.T) {
	s := memstore.New()
	ctx := scim.ContextWithTenant(context.Background(), "")
	_, err := s.Create(ctx, newMemUser("1", "Jane@Example.com", ""))
	require.NoError(t, err)
	for _, name := range []string{"Jane@Example.com", "jane@example.com", "JANE@EXAMPLE.COM"} {
		_, err = s.Create(ctx, newMemUser("x"+name, name, ""))
		require.ErrorIs(t, err, scim.ErrConflict, name)
	}
	_, err = s.Create(ctx, newMemUser("2", "bob@example.com", ""))
	require.NoError(t, err)

	_, err = s.Replace(ctx, newMemUser("2", "JANE@example.com", ""), "")
	require.ErrorIs(t, err, scim.ErrConflict, "renaming onto another user's userName")
	u, err := s.Replace(ctx, newMemUser("1", "JANE@example.com", ""), "")
	require.NoError(t, err, "changing the case of one's own userName")
	require.Equal(t, "JANE@example.com", u.UserName)

	// A rename frees the old userName and takes the new one.
	_, err = s.Replace(ctx, newMemUser("1", "janet@example.com", ""), "")
	require.NoError(t, err)
	_, err = s.Create(ctx, newMemUser("3", "jane@example.com", ""))
	require.NoError(t, err)
	_, err = s.Create(ctx, newMemUser("4", "Janet@example.com", ""))
	require.ErrorIs(t, err, scim.ErrConflict)

	// A delete frees it too.
	require.NoError(t, s.Delete(ctx, "1", ""))
	_, err = s.Create(ctx, newMemUser("5", "JANET@example.com", ""))
	require.NoError(t, err)
}

func TestVersions(t *testing.T) {
	s := memstore.New()
	ctx := scim.ContextWithTenant(context.Background(), "")
	u, err := s.Create(ctx, newMemUser("1", "v@example.com", ""))
	require.NoError(t, err)
	v1 := u.Meta.Version
	require.NotEmpty(t, v1)

	u, err = s.Replace(ctx, newMemUser("1", "v@example.com", ""), v1)
	require.NoError(t, err)
	v2 := u.Meta.Version
	require.NotEqual(t, v1, v2)

	_, err = s.Replace(ctx, newMemUser("1", "v@example.com", ""), v1)
	require.ErrorIs(t, err, scim.ErrVersionMismatch)
	require.ErrorIs(t, s.Delete(ctx, "1", v1), scim.ErrVersionMismatch)
	got, err := s.Get(ctx, "1")
	require.NoError(t, err)
	require.Equal(t, v2, got.Meta.Version)

	u, err = s.Replace(ctx, newMemUser("1", "v@example.com", ""), "")
	require.NoError(t, err, "no version: any")
	require.NotContains(t, []string{v1, v2}, u.Meta.Version)
	require.NoError(t, s.Delete(ctx, "1", u.Meta.Version))
	require.ErrorIs(t, s.Delete(ctx, "1", ""), scim.ErrNotFound)
	_, err = s.Replace(ctx, newMemUser("1", "v@example.com", ""), "")
	require.ErrorIs(t, err, scim.ErrNotFound)
}

// TestIndexes: the answers of the indexed lookups (userName, externalId, id with eq, alone or in
// an and) are exactly those of a full scan, also after renames and deletes.
func TestIndexes(t *testing.T) {
	s := memstore.New()
	ctx := scim.ContextWithTenant(context.Background(), "")
	for i := range 20 {
		u := newMemUser("id"+strconv.Itoa(i), fmt.Sprintf("User%02d@Example.com", i), "ext"+strconv.Itoa(i%3))
		u.Title = []string{"a", "b"}[i%2]
		_, err := s.Create(ctx, u)
		require.NoError(t, err)
	}
	// Renames, externalId changes and deletes must keep the indexes right.
	for _, i := range []int{3, 7, 11} {
		u := newMemUser("id"+strconv.Itoa(i), fmt.Sprintf("renamed%02d@example.com", i), "moved")
		_, err := s.Replace(ctx, u, "")
		require.NoError(t, err)
	}
	for _, id := range []string{"id4", "id7", "id15"} {
		require.NoError(t, s.Delete(ctx, id, ""))
	}
	filters := []string{
		`userName eq "user01@example.com"`, `userName eq "USER03@example.com"`, `userName eq "renamed03@example.com"`,
		`userName eq "RENAMED07@example.com"`, `userName eq "user04@example.com"`, `userName eq "nobody"`,
		`externalId eq "ext0"`, `externalId eq "ext1"`, `externalId eq "EXT1"`, `externalId eq "moved"`,
		`id eq "id5"`, `id eq "id4"`, `id eq "ID5"`,
		`externalId eq "ext2" and title eq "a"`, `title eq "b" and externalId eq "ext0"`,
		`userName eq "user02@example.com" and title eq "b"`, `externalId eq "moved" and userName sw "renamed1"`,
		`urn:ietf:params:scim:schemas:core:2.0:User:userName eq "user09@example.com"`,
		`userName eq "user01@example.com" or externalId eq "moved"`, `not (externalId eq "ext0")`, `title eq "a"`,
	}
	var all []*scim.User
	page, err := s.List(ctx, scim.Query{StartIndex: 1, Count: 1000})
	require.NoError(t, err)
	all = page.Users
	require.Len(t, all, 17)
	for _, f := range filters {
		e, err := filter.Parse(schema.User(), f)
		require.NoError(t, err)
		q := scim.Query{Filter: e, StartIndex: 1, Count: 1000}
		want := scim.ApplyQuery(all, q)
		got, err := s.List(ctx, q)
		require.NoError(t, err)
		require.Equal(t, want.TotalResults, got.TotalResults, f)
		require.Equal(t, want.Users, got.Users, f)
	}
	require.Equal(t, []string{"id3", "id11"}, listAll(t, s, ctx, `externalId eq "moved"`), "creation order")
	require.Empty(t, listAll(t, s, ctx, `externalId eq "ext1" and id eq "id7"`))
}

// TestOrder: listing is in creation order, stable across deletes and replaces, and pages
// consistently.
func TestOrder(t *testing.T) {
	s := memstore.New()
	ctx := scim.ContextWithTenant(context.Background(), "")
	var want []string
	for i := range 10 {
		id := "id" + strconv.Itoa(i)
		_, err := s.Create(ctx, newMemUser(id, id, ""))
		require.NoError(t, err)
		want = append(want, id)
	}
	require.NoError(t, s.Delete(ctx, "id0", ""))
	require.NoError(t, s.Delete(ctx, "id5", ""))
	require.NoError(t, s.Delete(ctx, "id9", ""))
	_, err := s.Replace(ctx, newMemUser("id3", "id3-renamed", ""), "")
	require.NoError(t, err)
	want = slices.DeleteFunc(want, func(id string) bool { return id == "id0" || id == "id5" || id == "id9" })
	require.Equal(t, want, listAll(t, s, ctx, ""))
	require.Equal(t, want, listAll(t, s, ctx, "userName pr"), "the scan keeps creation order too")

	page, err := s.List(ctx, scim.Query{StartIndex: 3, Count: 2})
	require.NoError(t, err)
	require.Equal(t, 7, page.TotalResults)
	require.Equal(t, []string{want[2], want[3]}, []string{page.Users[0].ID, page.Users[1].ID})
	page, err = s.List(ctx, scim.Query{StartIndex: 1, Count: 0})
	require.NoError(t, err)
	require.Equal(t, 7, page.TotalResults)
	require.NotNil(t, page.Users)
	require.Empty(t, page.Users)
}

func TestCanceledContext(t *testing.T) {
	s := memstore.New()
	ctx, cancel := context.WithCancel(scim.ContextWithTenant(context.Background(), ""))
	cancel()
	_, err := s.Create(ctx, newMemUser("1", "x", ""))
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.Get(ctx, "1")
	require.ErrorIs(t, err, context.Canceled)
	_, err = s.List(ctx, scim.Query{StartIndex: 1, Count: 1})
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.Delete(ctx, "1", ""), context.Canceled)
	_, err = s.Replace(ctx, newMemUser("1", "x", ""), "")
	require.ErrorIs(t, err, context.Canceled)
}
