package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/sqlstore/internal/sqlfilter"
)

func group(id, name string, members ...string) *scim.Group {
	now := time.Now().UTC().Truncate(time.Millisecond)
	g := &scim.Group{ID: id, DisplayName: name, Meta: scim.Meta{Created: now, LastModified: now}}
	for _, m := range members {
		g.Members = append(g.Members, scim.Member{Value: m})
	}
	return g
}

func seedUsers(t *testing.T, s *Store, ctx context.Context, n int) []string {
	t.Helper()
	ids := make([]string, n)
	for i := range n {
		u := user(fmt.Sprintf("u%03d@example.com", i))
		if i%2 == 0 {
			u.DisplayName = fmt.Sprintf("User %d", i)
		}
		_, err := s.Create(ctx, u)
		require.NoError(t, err)
		ids[i] = u.ID
	}
	return ids
}

// TestUsersInGroup: GET /Users?filter=groups.value eq "g" pages a group's members as users.
func TestUsersInGroup(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "acme")
		ids := seedUsers(t, s, ctx, 5)
		_, err := s.CreateGroup(ctx, group("g1", "One", ids[1], ids[3], ids[4]))
		require.NoError(t, err)
		_, err = s.CreateGroup(scim.ContextWithTenant(context.Background(), "other"), group("g1", "One"))
		require.NoError(t, err)
		rt := schema.User()
		for f, want := range map[string][]string{
			`groups.value eq "g1"`:                        {ids[1], ids[3], ids[4]},
			`groups eq "g1"`:                              {ids[1], ids[3], ids[4]},
			`groups[value eq "g1"] and userName sw "u00"`: {ids[1], ids[3], ids[4]},
			`groups.value eq "g2"`:                        nil,
			`not (groups pr)`:                             {ids[0], ids[2]},
		} {
			e, err := filter.Parse(rt, f)
			require.NoError(t, err)
			page, err := s.List(ctx, scim.Query{Filter: e, StartIndex: 1, Count: 2})
			require.NoError(t, err, f)
			require.Equal(t, len(want), page.TotalResults, f)
			var got []string
			for _, u := range page.Users {
				got = append(got, u.ID)
			}
			require.Equal(t, want[:min(2, len(want))], got, f)
		}
	})
}

// TestListGroupsInGo: what the mapping cannot express is answered in Go, with the same paging.
func TestListGroupsInGo(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "acme")
		ids := seedUsers(t, s, ctx, 2)
		for i, name := range []string{"delta", "Alpha", "charlie", "Bravo"} {
			_, err := s.CreateGroup(ctx, group(fmt.Sprint("g", i), name, ids...))
			require.NoError(t, err)
		}
		rt := schema.Group()
		e, err := filter.Parse(rt, `members[value eq "`+ids[0]+`" and display pr] or displayName eq "ALPHA"`)
		require.NoError(t, err)
		_, _, err = groupMapping(s.dialect, "acme").Compile(e, 1)
		require.True(t, errors.Is(err, sqlfilter.ErrUnsupported))
		page, err := s.ListGroups(ctx, scim.Query{Filter: e, StartIndex: 2, Count: 2}, scim.GroupRead{})
		require.NoError(t, err)
		require.Equal(t, 4, page.TotalResults) // the Go fallback matches members too, as memstore does
		require.Equal(t, []string{"Alpha", "charlie"}, []string{page.Groups[0].DisplayName, page.Groups[1].DisplayName})
		e, err = filter.Parse(rt, `members[display eq "user 1"] or displayName eq "ALPHA"`) // displays of users without one: userName
		require.NoError(t, err)
		page, err = s.ListGroups(ctx, scim.Query{Filter: e, StartIndex: 1, Count: 10}, scim.GroupRead{})
		require.NoError(t, err)
		require.Equal(t, 1, page.TotalResults)
		require.Equal(t, "Alpha", page.Groups[0].DisplayName)

		by, _ := rt.Resolve("displayName")
		page, err = s.ListGroups(ctx, scim.Query{SortBy: by, StartIndex: 2, Count: 2}, scim.GroupRead{MaxMembers: 10})
		require.NoError(t, err)
		require.Equal(t, 4, page.TotalResults)
		require.Equal(t, []string{"Bravo", "charlie"}, []string{page.Groups[0].DisplayName, page.Groups[1].DisplayName})
		require.Len(t, page.Groups[0].Members, 2)
		require.Equal(t, "User 0", page.Groups[0].Members[0].Display)
		require.Equal(t, "u001@example.com", page.Groups[0].Members[1].Display)
	})
}

// TestGroupOutbox: group writes leave entries of the group types, carrying the memberships they changed.
func TestGroupOutbox(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		s.outbox = true
		ctx := scim.ContextWithTenant(context.Background(), "acme")
		ids := seedUsers(t, s, ctx, 3)
		_, err := s.CreateGroup(ctx, group("g1", "One", ids[0]))
		require.NoError(t, err)
		_, err = s.UpdateGroup(ctx, "g1", scim.GroupUpdate{Add: []string{ids[0], ids[1]}, Remove: []string{ids[2]}}, "")
		require.NoError(t, err)
		_, err = s.UpdateGroup(ctx, "g1", scim.GroupUpdate{Group: group("g1", "Renamed"), Remove: []string{ids[0]}}, "")
		require.NoError(t, err)
		require.NoError(t, s.DeleteGroup(ctx, "g1", ""))
		entries, err := s.ReadOutbox(ctx, 100)
		require.NoError(t, err)
		entries = entries[3:] // the users' creations
		require.Len(t, entries, 4)
		for i, want := range []struct {
			typ            scim.EventType
			name           string
			added, removed []string
		}{
			{GroupCreated, "One", []string{ids[0]}, nil},
			{GroupMembers, "One", []string{ids[1]}, nil},
			{GroupUpdated, "Renamed", nil, []string{ids[0]}},
			{GroupDeleted, "Renamed", nil, nil},
		} {
			e := entries[i]
			require.Equal(t, want.typ, e.Type)
			require.Equal(t, "g1", e.GroupID)
			require.Empty(t, e.UserID)
			require.Nil(t, e.User)
			require.Equal(t, want.name, e.Group.DisplayName)
			require.Equal(t, want.added, e.Added)
			require.Equal(t, want.removed, e.Removed)
		}
	})
}

// TestDeleteUserRacesAdd: a user deleted while a group write adds it leaves no membership behind.
func TestDeleteUserRacesAdd(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "acme")
		_, err := s.CreateGroup(ctx, group("g1", "One"))
		require.NoError(t, err)
		for i := range 20 {
			u := user(fmt.Sprintf("race%02d@example.com", i))
			_, err := s.Create(ctx, u)
			require.NoError(t, err)
			var wg sync.WaitGroup
			var addErr error
			wg.Go(func() { _, addErr = s.UpdateGroup(ctx, "g1", scim.GroupUpdate{Add: []string{u.ID}}, "") })
			wg.Go(func() { require.NoError(t, s.Delete(ctx, u.ID, "")) })
			wg.Wait()
			var unknown *scim.UnknownMemberError
			require.True(t, addErr == nil || errors.As(addErr, &unknown), "%v", addErr)
		}
		var n int
		require.NoError(t, s.db.QueryRow(`SELECT count(*) FROM scim_members`).Scan(&n))
		require.Zero(t, n)
	})
}

// TestDeleteUserRacesReAdd: a member re-added (Entra re-sends adds) while it is deleted. The group write holds
// the group's row and then wants a key-share lock on the user's; the delete, which must give the group a new
// version, takes the group's row before the user's, so neither waits on the other in a cycle: no deadlock,
// and no membership or stale version left behind.
func TestDeleteUserRacesReAdd(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		s := open(t)
		ctx := scim.ContextWithTenant(context.Background(), "acme")
		_, err := s.CreateGroup(ctx, group("g1", "One"))
		require.NoError(t, err)
		for i := range 20 {
			u := user(fmt.Sprintf("again%02d@example.com", i))
			_, err := s.Create(ctx, u)
			require.NoError(t, err)
			_, err = s.UpdateGroup(ctx, "g1", scim.GroupUpdate{Add: []string{u.ID}}, "")
			require.NoError(t, err)
			before, err := s.GetGroup(ctx, "g1", scim.GroupRead{})
			require.NoError(t, err)
			var wg sync.WaitGroup
			addErrs := make([]error, 4)
			for k := range addErrs {
				wg.Go(func() { _, addErrs[k] = s.UpdateGroup(ctx, "g1", scim.GroupUpdate{Add: []string{u.ID}}, "") })
			}
			wg.Go(func() { require.NoError(t, s.Delete(ctx, u.ID, "")) })
			wg.Wait()
			for _, err := range addErrs {
				var unknown *scim.UnknownMemberError
				require.True(t, err == nil || errors.As(err, &unknown), "%v", err)
			}
			after, err := s.GetGroup(ctx, "g1", scim.GroupRead{})
			require.NoError(t, err)
			require.NotEqual(t, before.Meta.Version, after.Meta.Version, "the group lost a member")
		}
		var n int
		require.NoError(t, s.db.QueryRow(`SELECT count(*) FROM scim_members`).Scan(&n))
		require.Zero(t, n)
	})
}
