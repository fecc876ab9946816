package memstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
)

func TestGroupStore(t *testing.T) {
	s := memstore.New()
	a, b := scim.ContextWithTenant(context.Background(), "a"), scim.ContextWithTenant(context.Background(), "b")
	for _, id := range []string{"u1", "u2", "u3"} {
		_, err := s.Create(a, &scim.User{ID: id, UserName: id + "@x", DisplayName: "User " + id})
		require.NoError(t, err)
	}
	_, err := s.Create(b, &scim.User{ID: "ub", UserName: "ub@x"})
	require.NoError(t, err)

	g, err := s.CreateGroup(a, &scim.Group{ID: "g1", DisplayName: "Eng", Members: []scim.Member{{Value: "u2"}, {Value: "u1"}}})
	require.NoError(t, err)
	require.Equal(t, "1", g.Meta.Version)
	_, err = s.CreateGroup(a, &scim.Group{ID: "g2", DisplayName: "ENG"})
	require.ErrorIs(t, err, scim.ErrConflict)
	_, err = s.CreateGroup(b, &scim.Group{ID: "gb", DisplayName: "Eng", Members: []scim.Member{{Value: "ub"}}})
	require.NoError(t, err, "displayName is unique per tenant")
	_, err = s.CreateGroup(a, &scim.Group{ID: "g3", DisplayName: "Cross", Members: []scim.Member{{Value: "ub"}}})
	var um *scim.UnknownMemberError
	require.ErrorAs(t, err, &um, "another tenant's user is no user here")
	require.Equal(t, "ub", um.ID)
	_, err = s.CreateGroup(a, &scim.Group{ID: "g4", DisplayName: "Nested", Members: []scim.Member{{Value: "g1"}}})
	require.ErrorAs(t, err, &um, "a group is not a member")

	// GetGroup's maxMembers: none, all (in id order, with displays), or omitted above it.
	g, err = s.GetGroup(a, "g1", scim.GroupRead{})
	require.NoError(t, err)
	require.Nil(t, g.Members)
	g, _ = s.GetGroup(a, "g1", scim.GroupRead{MaxMembers: 2})
	require.Equal(t, []scim.Member{{Value: "u1", Display: "User u1", Type: "User"}, {Value: "u2", Display: "User u2", Type: "User"}}, g.Members)
	g, _ = s.GetGroup(a, "g1", scim.GroupRead{MaxMembers: 1})
	require.Nil(t, g.Members)
	require.True(t, g.MembersOmitted)
	_, err = s.GetGroup(b, "g1", scim.GroupRead{})
	require.ErrorIs(t, err, scim.ErrNotFound)

	// UpdateGroup: atomic, versioned; a no-op keeps the version.
	_, err = s.UpdateGroup(a, "g1", scim.GroupUpdate{Add: []string{"u3", "nobody"}, Remove: []string{"u1"}}, "")
	require.ErrorAs(t, err, &um)
	g, _ = s.GetGroup(a, "g1", scim.GroupRead{MaxMembers: 10})
	require.Len(t, g.Members, 2)
	require.Equal(t, "1", g.Meta.Version)
	g, err = s.UpdateGroup(a, "g1", scim.GroupUpdate{Add: []string{"u1"}, Remove: []string{"u3"}}, "1")
	require.NoError(t, err)
	require.Equal(t, "1", g.Meta.Version, "nothing changed")
	_, err = s.UpdateGroup(a, "g1", scim.GroupUpdate{Add: []string{"u3"}}, "7")
	require.ErrorIs(t, err, scim.ErrVersionMismatch)
	g, err = s.UpdateGroup(a, "g1", scim.GroupUpdate{Group: &scim.Group{DisplayName: "Engineering"}, Add: []string{"u3"}, Remove: []string{"u1"}}, "1")
	require.NoError(t, err)
	require.Equal(t, "2", g.Meta.Version)
	require.Equal(t, "Engineering", g.DisplayName)
	require.Nil(t, g.Members)

	var ids []string
	for id, err := range s.MemberIDs(a, "g1") {
		require.NoError(t, err)
		ids = append(ids, id)
	}
	require.Equal(t, []string{"u2", "u3"}, ids)
	for id, err := range s.MemberIDs(a, "nope") {
		require.Equal(t, "", id)
		require.ErrorIs(t, err, scim.ErrNotFound)
	}

	_, err = s.CreateGroup(a, &scim.Group{ID: "g2", DisplayName: "Ops", ExternalID: "ext", Members: []scim.Member{{Value: "u3"}}})
	require.NoError(t, err)
	of, err := s.GroupsOf(a, []string{"u1", "u2", "u3"})
	require.NoError(t, err)
	require.Equal(t, map[string][]scim.GroupRef{
		"u2": {{Value: "g1", Display: "Engineering", Type: "direct"}},
		"u3": {{Value: "g1", Display: "Engineering", Type: "direct"}, {Value: "g2", Display: "Ops", Type: "direct"}},
	}, of)

	// ListGroups from the indexes and the reverse index.
	gt := schema.Group()
	list := func(f string, maxMembers int) []string {
		t.Helper()
		q := scim.Query{StartIndex: 1, Count: 10}
		if f != "" {
			e, err := filter.Parse(gt, f)
			require.NoError(t, err)
			q.Filter = e
		}
		p, err := s.ListGroups(a, q, scim.GroupRead{MaxMembers: maxMembers})
		require.NoError(t, err)
		out := []string{}
		for _, g := range p.Groups {
			out = append(out, g.ID)
			require.Equal(t, maxMembers == 0, g.Members == nil)
		}
		return out
	}
	require.Equal(t, []string{"g1", "g2"}, list("", 0))
	require.Equal(t, []string{"g1", "g2"}, list("", 5))
	require.Equal(t, []string{"g1", "g2"}, list(`members[value eq "u3"]`, 0))
	require.Equal(t, []string{"g1"}, list(`members eq "u2"`, 0))
	require.Equal(t, []string{"g2"}, list(`id eq "g2" and members eq "u3"`, 0))
	require.Equal(t, []string{"g2"}, list(`externalId eq "ext"`, 0))
	require.Equal(t, []string{"g1"}, list(`displayName eq "ENGINEERING"`, 0))
	require.Equal(t, []string{}, list(`members eq "U3"`, 0), "ids compare exactly")
	// Filters over the member list (loaded to match, then dropped unless GroupRead asks for members).
	require.Equal(t, []string{"g1", "g2"}, list(`members pr`, 0))
	require.Equal(t, []string{"g1", "g2"}, list(`members pr`, 5))
	require.Equal(t, []string{"g2"}, list(`members.display eq "User u3" and not (members eq "u2")`, 0))

	// Deleting a user removes its memberships (and changes its groups' versions); deleting a group its own.
	require.NoError(t, s.Delete(a, "u3", ""))
	g, _ = s.GetGroup(a, "g2", scim.GroupRead{MaxMembers: 10})
	require.Nil(t, g.Members)
	require.Equal(t, "2", g.Meta.Version)
	require.NoError(t, s.DeleteGroup(a, "g1", ""))
	of, _ = s.GroupsOf(a, []string{"u2"})
	require.Empty(t, of)
	require.ErrorIs(t, s.DeleteGroup(a, "g1", ""), scim.ErrNotFound)
	require.ErrorIs(t, s.DeleteGroup(a, "g2", "1"), scim.ErrVersionMismatch)
	// A new group may take a deleted group's name.
	_, err = s.CreateGroup(a, &scim.Group{ID: "g5", DisplayName: "engineering"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(a)
	cancel()
	_, err = s.GetGroup(ctx, "g5", scim.GroupRead{})
	require.True(t, errors.Is(err, context.Canceled))
}
