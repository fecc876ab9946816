package scimtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// The group checks run when the Store is a scim.GroupStore. They hold a Store to group.go's contract:
// memberships are deltas, displayName is unique without case, members are users of the tenant, versions
// are checked, and deleting a user or a group removes its memberships.

// groupType resolves the checks' group filters.
var groupType = schema.Group()

// gs returns the kit's Store as a GroupStore.
func (k *kit) gs() scim.GroupStore { return k.s.(scim.GroupStore) }

// newGroup returns a group fixture as the handler passes it to CreateGroup, its members named by fixture id.
func (k *kit) newGroup(fid, name string, members ...string) *scim.Group {
	g := &scim.Group{ID: fid, DisplayName: name, Meta: scim.Meta{ResourceType: "Group", Created: t0, LastModified: t0.Add(time.Second)}}
	for _, m := range members {
		g.Members = append(g.Members, scim.Member{Value: k.id(m)})
	}
	return g
}

// createGroup creates the group fixture g and fails the test if the Store refuses it.
func (k *kit) createGroup(t *testing.T, ctx context.Context, g *scim.Group) *scim.Group {
	t.Helper()
	fid, name := g.ID, g.DisplayName
	got, err := k.gs().CreateGroup(ctx, g)
	switch {
	case err != nil:
		t.Fatalf("CreateGroup(id %q, displayName %q) %s: unexpected error %v; want the created group", fid, name, where(ctx), err)
	case got == nil:
		t.Fatalf("CreateGroup(id %q) %s returned a nil group and no error", fid, where(ctx))
	case got.ID == "":
		t.Fatalf("CreateGroup(id %q) %s returned a group without an ID: keep the handler's or assign one", fid, where(ctx))
	case got.Meta.Version == "":
		t.Fatalf("CreateGroup(id %q) %s returned Meta.Version \"\"; want the Store to set a version", fid, where(ctx))
	}
	k.mu.Lock()
	k.ids[fid] = got.ID
	k.mu.Unlock()
	return got
}

// users creates users with the fixture ids (userName: the id, lower case) and returns the ids.
func (k *kit) users(t *testing.T, ctx context.Context, fids ...string) []string {
	t.Helper()
	for _, fid := range fids {
		k.create(t, ctx, k.minimalUser(fid, strings.ToLower(fid)+"@example.com"))
	}
	return fids
}

// getGroup gets the group fixture and fails the test if the Store cannot.
func (k *kit) getGroup(t *testing.T, ctx context.Context, fid string, maxMembers int) *scim.Group {
	t.Helper()
	g, err := k.gs().GetGroup(ctx, k.id(fid), scim.GroupRead{MaxMembers: maxMembers})
	if err != nil || g == nil {
		t.Fatalf("GetGroup(%q, maxMembers %d) %s = %v, error %v; want the group", fid, maxMembers, where(ctx), g, err)
	}
	return g
}

// update applies u (member ids given as fixture ids) and fails the test if the Store refuses it.
func (k *kit) update(t *testing.T, ctx context.Context, fid string, u scim.GroupUpdate, version string) *scim.Group {
	t.Helper()
	call := fmt.Sprintf("UpdateGroup(%q, add %v, remove %v, version %q) %s", fid, u.Add, u.Remove, version, where(ctx))
	u.Add, u.Remove = k.idsOf(u.Add), k.idsOf(u.Remove)
	g, err := k.gs().UpdateGroup(ctx, k.id(fid), u, version)
	switch {
	case err != nil:
		t.Fatalf("%s: unexpected error %v", call, err)
	case g == nil || g.Meta.Version == "" || g.Meta.Version == version:
		t.Fatalf("%s returned %v; want the group with a new version", call, g)
	case len(g.Members) > 0:
		t.Fatalf("%s returned %d members; want none loaded: an update never reads the member list", call, len(g.Members))
	}
	return g
}

func (k *kit) idsOf(fids []string) []string {
	out := make([]string, len(fids))
	for i, f := range fids {
		out[i] = k.id(f)
	}
	return out
}

// members returns the fixture ids of the group's members, sorted, through MemberIDs; it checks that
// MemberIDs yields them in a stable order, twice alike.
func (k *kit) members(t *testing.T, ctx context.Context, fid string) []string {
	t.Helper()
	read := func() []string {
		var ids []string
		for id, err := range k.gs().MemberIDs(ctx, k.id(fid)) {
			if err != nil {
				t.Fatalf("MemberIDs(%q) %s: unexpected error %v", fid, where(ctx), err)
			}
			ids = append(ids, id)
		}
		return ids
	}
	for range k.gs().MemberIDs(ctx, k.id(fid)) {
		break // a sequence stops when its caller does (range panics if it yields again)
	}
	first, second := read(), read()
	if !slices.Equal(first, second) {
		t.Fatalf("MemberIDs(%q) %s yielded %v, then %v: want a stable order", fid, where(ctx), first, second)
	}
	out := k.fixtureIDs(ctx, first)
	slices.Sort(out)
	return out
}

// fixtureIDs translates the Store's user ids in ctx's tenant into fixture ids.
func (k *kit) fixtureIDs(ctx context.Context, ids []string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]string, len(ids))
	for i, id := range ids {
		if f := k.fix[tenantOf(ctx)][id]; f != "" {
			out[i] = f
		} else {
			out[i] = "<id " + id + ">"
		}
	}
	return out
}

// checkMembers fails the test unless the group's members are exactly want (fixture ids).
func (k *kit) checkMembers(t *testing.T, ctx context.Context, fid, after string, want ...string) {
	t.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	if got := k.members(t, ctx, fid); !slices.Equal(got, want) {
		t.Fatalf("MemberIDs(%q) %s after %s = %v; want %v", fid, where(ctx), after, got, want)
	}
}

// groupNames returns the displayNames of groups, in order.
func groupNames(gs []*scim.Group) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		if g == nil {
			out[i] = "<nil>"
		} else {
			out[i] = g.DisplayName
		}
	}
	return out
}

// listGroups lists and fails the test if the Store cannot.
func (k *kit) listGroups(t *testing.T, ctx context.Context, f string, maxMembers int) *scim.GroupPage {
	t.Helper()
	q := scim.Query{StartIndex: 1, Count: 1000}
	if f != "" {
		f = placeholder.ReplaceAllStringFunc(f, func(m string) string {
			b, _ := json.Marshal(k.id(placeholder.FindStringSubmatch(m)[1]))
			return string(b[1 : len(b)-1])
		})
		e, err := filter.Parse(groupType, f)
		if err != nil {
			t.Fatalf("scimtest: group filter %q does not parse: %v", f, err)
		}
		q.Filter = e
	}
	page, err := k.gs().ListGroups(ctx, q, scim.GroupRead{MaxMembers: maxMembers})
	if err != nil || page == nil {
		t.Fatalf("ListGroups(filter %q, maxMembers %d) %s = %v, error %v", f, maxMembers, where(ctx), page, err)
	}
	return page
}

// wantUnknown fails the test unless err is a *scim.UnknownMemberError naming id.
func wantUnknown(t *testing.T, err error, id, call string) {
	t.Helper()
	var ue *scim.UnknownMemberError
	switch {
	case err == nil:
		t.Fatalf("%s succeeded; want a *scim.UnknownMemberError naming %q: members must be users of the tenant", call, id)
	case !errors.As(err, &ue):
		t.Fatalf("%s returned error %q; want a *scim.UnknownMemberError naming %q", call, err, id)
	case ue.ID != id:
		t.Fatalf("%s returned an UnknownMemberError naming %q; want %q, the first id that is no user of the tenant", call, ue.ID, id)
	}
}

var groupChecks = []check{
	{"CreateGroup and GetGroup round-trip displayName, externalId, meta and members", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "U-1", "U-2", "U-3")
		g := k.newGroup("G-1", "Tour Guides ✓", "U-1", "U-2", "U-3")
		g.ExternalID = "Ext-G-1"
		created := k.createGroup(t, ctx, g)
		got := k.getGroup(t, ctx, "G-1", 10)
		call := fmt.Sprintf("GetGroup(%q, maxMembers 10) %s", "G-1", where(ctx))
		if got.ID != created.ID || got.DisplayName != "Tour Guides ✓" || got.ExternalID != "Ext-G-1" || got.Meta.Version != created.Meta.Version {
			t.Fatalf("%s = {ID %q displayName %q externalId %q version %q}; want {%q %q %q %q}", call, got.ID, got.DisplayName,
				got.ExternalID, got.Meta.Version, created.ID, "Tour Guides ✓", "Ext-G-1", created.Meta.Version)
		}
		checkTime(t, call, "Meta.Created", got.Meta.Created, t0)
		checkTime(t, call, "Meta.LastModified", got.Meta.LastModified, t0.Add(time.Second))
		if got.MembersOmitted || len(got.Members) != 3 {
			t.Fatalf("%s returned %d members (MembersOmitted %v); want the 3 created", call, len(got.Members), got.MembersOmitted)
		}
		var ids []string
		for _, m := range got.Members {
			ids = append(ids, m.Value)
			if user := k.fixtureIDs(ctx, []string{m.Value})[0]; m.Display != "" && m.Display != strings.ToLower(user)+"@example.com" {
				t.Errorf("%s: member %q has display %q; want its user's displayName or userName, or none", call, user, m.Display)
			}
			if m.Type != "" && m.Type != "User" {
				t.Errorf("%s: member %q has type %q; want \"User\" (members are users) or none", call, m.Value, m.Type)
			}
		}
		if got := k.fixtureIDs(ctx, ids); !slices.Equal(sorted(got), []string{"U-1", "U-2", "U-3"}) {
			t.Fatalf("%s members = %v; want U-1, U-2, U-3", call, got)
		}
		if g0 := k.getGroup(t, ctx, "G-1", 0); g0.Members != nil || g0.MembersOmitted {
			t.Fatalf("GetGroup(%q, maxMembers 0) returned %d members, MembersOmitted %v; want none loaded and MembersOmitted false",
				"G-1", len(g0.Members), g0.MembersOmitted)
		}
		k.checkMembers(t, ctx, "G-1", "CreateGroup", "U-1", "U-2", "U-3")
		k.createGroup(t, ctx, k.newGroup("G-2", "Empty"))
		if g2 := k.getGroup(t, ctx, "G-2", 10); len(g2.Members) != 0 || g2.MembersOmitted || g2.ExternalID != "" {
			t.Fatalf("GetGroup of a group created without members or externalId = %d members, MembersOmitted %v, externalId %q; want none",
				len(g2.Members), g2.MembersOmitted, g2.ExternalID)
		}
	}},
	{"UpdateGroup applies membership deltas: adding a member twice or removing a non-member changes nothing", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "U-1", "U-2", "U-3", "U-4")
		k.createGroup(t, ctx, k.newGroup("G-1", "Deltas", "U-1", "U-2"))
		k.update(t, ctx, "G-1", scim.GroupUpdate{Add: []string{"U-1", "U-1"}, Remove: []string{"U-3"}}, "")
		k.checkMembers(t, ctx, "G-1", "adding a member and removing a non-member", "U-1", "U-2")
		k.update(t, ctx, "G-1", scim.GroupUpdate{Add: []string{"U-3", "U-4"}, Remove: []string{"U-1"}}, "")
		k.checkMembers(t, ctx, "G-1", "adding U-3, U-4 and removing U-1", "U-2", "U-3", "U-4")
		g := k.update(t, ctx, "G-1", scim.GroupUpdate{Group: &scim.Group{DisplayName: "Renamed", ExternalID: "E",
			Meta: scim.Meta{LastModified: t0.Add(time.Hour)}}, Remove: []string{"U-4"}}, "")
		if g.DisplayName != "Renamed" {
			t.Fatalf("UpdateGroup with a new displayName returned displayName %q; want %q", g.DisplayName, "Renamed")
		}
		got := k.getGroup(t, ctx, "G-1", 0)
		if got.DisplayName != "Renamed" || got.ExternalID != "E" || got.Meta.Version != g.Meta.Version {
			t.Fatalf("GetGroup after a rename = {%q %q version %q}; want {Renamed E version %q}", got.DisplayName, got.ExternalID,
				got.Meta.Version, g.Meta.Version)
		}
		checkTime(t, "GetGroup after UpdateGroup", "Meta.LastModified", got.Meta.LastModified, t0.Add(time.Hour))
		checkTime(t, "GetGroup after UpdateGroup", "Meta.Created", got.Meta.Created, t0)
		k.checkMembers(t, ctx, "G-1", "renaming and removing U-4", "U-2", "U-3")
	}},
	{"an UpdateGroup that changes nothing keeps the version and lastModified; one that changes members moves both", func(t *testing.T, k *kit) {
		// The handler passes a nil Group for member-only changes and relies on this rule (group.go's GroupUpdate):
		// Entra ID re-adds members that are there, Okta removes members that are not, and neither may change
		// the group's ETag.
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "U-1", "U-2", "U-3")
		created := k.createGroup(t, ctx, k.newGroup("G-1", "Steady", "U-1", "U-2"))
		v := created.Meta.Version
		for _, c := range []struct {
			what string
			u    scim.GroupUpdate
		}{
			{"adding a member that is one", scim.GroupUpdate{Add: []string{"U-1"}}},
			{"removing a user that is no member", scim.GroupUpdate{Remove: []string{"U-3"}}},
			{"both at once", scim.GroupUpdate{Add: []string{"U-2", "U-1"}, Remove: []string{"U-3"}}},
			{"nothing", scim.GroupUpdate{}},
		} {
			call := fmt.Sprintf("UpdateGroup(G-1, %s, version %q) %s", c.what, v, where(ctx))
			u := c.u
			u.Add, u.Remove = k.idsOf(u.Add), k.idsOf(u.Remove)
			g, err := k.gs().UpdateGroup(ctx, k.id("G-1"), u, v)
			switch {
			case err != nil:
				t.Fatalf("%s: unexpected error %v", call, err)
			case g == nil || g.Meta.Version != v:
				t.Fatalf("%s returned %+v; want the group with its version %q kept: nothing changed", call, g, v)
			}
			got := k.getGroup(t, ctx, "G-1", 0)
			if got.Meta.Version != v {
				t.Fatalf("GetGroup(G-1) after %s = version %q; want %q kept", call, got.Meta.Version, v)
			}
			checkTime(t, "GetGroup(G-1) after "+call, "Meta.LastModified", got.Meta.LastModified, t0.Add(time.Second))
			k.checkMembers(t, ctx, "G-1", call, "U-1", "U-2")
		}
		g := k.update(t, ctx, "G-1", scim.GroupUpdate{Add: []string{"U-3"}}, v)
		got := k.getGroup(t, ctx, "G-1", 0)
		if got.Meta.Version != g.Meta.Version || got.Meta.Version == v {
			t.Fatalf("GetGroup(G-1) after adding U-3 = version %q; want %q, a new one", got.Meta.Version, g.Meta.Version)
		}
		if !got.Meta.LastModified.After(t0.Add(time.Second)) {
			t.Fatalf("GetGroup(G-1) after adding U-3 (a nil Group) = Meta.LastModified %v; want it moved on from %v: with no Group "+
				"given, the Store moves lastModified itself when the members change", got.Meta.LastModified, t0.Add(time.Second))
		}
		k.checkMembers(t, ctx, "G-1", "adding U-3", "U-1", "U-2", "U-3")
	}},
	{"member ids compare exactly (members.value is caseExact)", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "Case-1")
		k.createGroup(t, ctx, k.newGroup("G-1", "Exact", "Case-1"))
		id := k.id("Case-1")
		other := strings.ToUpper(id)
		if other == id {
			other = strings.ToLower(id)
		}
		if other == id {
			t.Skipf("the Store's user id %q has no letters to change the case of", id)
		}
		_, err := k.gs().UpdateGroup(ctx, k.id("G-1"), scim.GroupUpdate{Add: []string{other}}, "")
		wantUnknown(t, err, other, fmt.Sprintf("UpdateGroup(G-1, add %q, the id of Case-1 in another case)", other))
		k.update(t, ctx, "G-1", scim.GroupUpdate{Remove: []string{other}}, "")
		k.checkMembers(t, ctx, "G-1", fmt.Sprintf("removing %q, the id of Case-1 in another case", other), "Case-1")
		for _, f := range []string{`members eq "` + other + `"`, `members[value eq "` + other + `"]`} {
			if page := k.listGroups(t, ctx, f, 0); page.TotalResults != 0 {
				t.Errorf("ListGroups(filter %q) %s = %v; want none: member ids compare exactly", f, where(ctx), groupNames(page.Groups))
			}
		}
		if got, err := k.gs().GroupsOf(ctx, []string{other}); err != nil || len(got[other]) != 0 {
			t.Errorf("GroupsOf(%q) %s = %v, error %v; want no groups: ids compare exactly", other, where(ctx), got, err)
		}
	}},
	{"adding and removing K members of a large group changes exactly those K", func(t *testing.T, k *kit) {
		// The contract's cost (O(K) writes whatever the group's size) cannot be seen through results: a
		// Store's own benchmark shows it. What can be seen: nothing else in the group changes.
		ctx := inTenant(t, k.tenantA)
		const n = 300
		var fids []string
		for i := range n + 3 {
			fids = append(fids, fmt.Sprintf("L-%03d", i))
		}
		k.users(t, ctx, fids...)
		k.createGroup(t, ctx, k.newGroup("G-L", "Large", fids[:n]...))
		k.update(t, ctx, "G-L", scim.GroupUpdate{Add: fids[n:], Remove: []string{fids[0], fids[n/2]}}, "")
		want := slices.Concat(fids[1:n/2], fids[n/2+1:])
		k.checkMembers(t, ctx, "G-L", "adding 3 and removing 2 of 300", want...)
	}},
	{"displayName is unique per tenant without case (ErrConflict)", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.createGroup(t, ctx, k.newGroup("G-1", "Admins"))
		_, err := k.gs().CreateGroup(ctx, k.newGroup("G-2", "ADMINS"))
		wantErr(t, err, scim.ErrConflict, `CreateGroup(displayName "ADMINS") `+where(ctx), `group "Admins" exists: displayName is unique without case`)
		k.createGroup(t, ctx, k.newGroup("G-3", "Users"))
		_, err = k.gs().UpdateGroup(ctx, k.id("G-3"), scim.GroupUpdate{Group: &scim.Group{DisplayName: "admins", Meta: scim.Meta{LastModified: t0}}}, "")
		wantErr(t, err, scim.ErrConflict, `UpdateGroup(G-3, displayName "admins")`, `group "Admins" exists`)
		if g := k.getGroup(t, ctx, "G-3", 0); g.DisplayName != "Users" {
			t.Fatalf("GetGroup(G-3) after a refused rename = displayName %q; want %q", g.DisplayName, "Users")
		}
		k.update(t, ctx, "G-1", scim.GroupUpdate{Group: &scim.Group{DisplayName: "ADMINS", Meta: scim.Meta{LastModified: t0}}}, "")
		k.createGroup(t, inTenant(t, k.tenantB), k.newGroup("G-4", "admins"))
	}},
	{"a member that is no user of the tenant gives UnknownMemberError naming it, and changes nothing", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "U-1", "U-2")
		k.users(t, inTenant(t, k.tenantB), "U-B")
		_, err := k.gs().CreateGroup(ctx, k.newGroup("G-0", "Never", "U-1", "no-such-user"))
		wantUnknown(t, err, "no-such-user", `CreateGroup(members U-1, "no-such-user")`)
		if page := k.listGroups(t, ctx, "", 0); page.TotalResults != 0 {
			t.Fatalf("ListGroups after a refused CreateGroup = %v; want no group", groupNames(page.Groups))
		}
		g := k.createGroup(t, ctx, k.newGroup("G-1", "Real", "U-1"))
		k.createGroup(t, ctx, k.newGroup("G-2", "Other"))
		bads := []string{k.id("U-B"), "no-such-user"}
		if id := k.id("G-2"); id != k.id("U-1") && id != k.id("U-2") { // a Store's group and user ids may coincide (two integer keys)
			bads = append(bads, id)
		}
		for _, bad := range bads {
			_, err := k.gs().UpdateGroup(ctx, k.id("G-1"), scim.GroupUpdate{Group: &scim.Group{DisplayName: "Changed", Meta: scim.Meta{LastModified: t0}},
				Add: []string{k.id("U-2"), bad}, Remove: []string{k.id("U-1")}}, "")
			wantUnknown(t, err, bad, fmt.Sprintf("UpdateGroup(G-1, add U-2 and %q)", bad))
			k.checkMembers(t, ctx, "G-1", "a refused UpdateGroup", "U-1")
			if got := k.getGroup(t, ctx, "G-1", 0); got.DisplayName != "Real" || got.Meta.Version != g.Meta.Version {
				t.Fatalf("GetGroup(G-1) after a refused UpdateGroup = {%q version %q}; want it unchanged {Real version %q}",
					got.DisplayName, got.Meta.Version, g.Meta.Version)
			}
		}
	}},
	{"tenants are isolated: no group method sees another tenant's groups", func(t *testing.T, k *kit) {
		a, b := inTenant(t, k.tenantA), inTenant(t, k.tenantB)
		k.users(t, a, "U-1")
		g := k.createGroup(t, a, k.newGroup("G-1", "Mine", "U-1"))
		if _, err := k.gs().GetGroup(b, g.ID, scim.GroupRead{MaxMembers: 10}); !errors.Is(err, scim.ErrNotFound) {
			t.Fatalf("GetGroup(%q) %s, a group of %s: error %v; want ErrNotFound", g.ID, where(b), where(a), err)
		}
		if page := k.listGroups(t, b, "", 0); page.TotalResults != 0 || len(page.Groups) != 0 {
			t.Fatalf("ListGroups %s = %v; want nothing of %s", where(b), groupNames(page.Groups), where(a))
		}
		_, err := k.gs().UpdateGroup(b, g.ID, scim.GroupUpdate{Remove: []string{k.id("U-1")}}, "")
		wantErr(t, err, scim.ErrNotFound, "UpdateGroup "+where(b), "the group is another tenant's")
		wantErr(t, k.gs().DeleteGroup(b, g.ID, ""), scim.ErrNotFound, "DeleteGroup "+where(b), "the group is another tenant's")
		var seen []string
		for id, err := range k.gs().MemberIDs(b, g.ID) {
			if err == nil {
				seen = append(seen, id)
			}
		}
		if len(seen) > 0 {
			t.Fatalf("MemberIDs(%q) %s yielded %v; want nothing of %s", g.ID, where(b), seen, where(a))
		}
		if got, err := k.gs().GroupsOf(b, []string{k.id("U-1")}); err != nil || len(got[k.id("U-1")]) != 0 {
			t.Fatalf("GroupsOf(U-1) %s = %v, error %v; want no groups of %s", where(b), got, err, where(a))
		}
		k.checkMembers(t, a, "G-1", "the other tenant's attempts", "U-1")
	}},
	{"versions: a stale version gives ErrVersionMismatch and changes nothing; every update sets a new one", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "U-1", "U-2")
		v1 := k.createGroup(t, ctx, k.newGroup("G-1", "Versioned")).Meta.Version
		v2 := k.update(t, ctx, "G-1", scim.GroupUpdate{Add: []string{"U-1"}}, v1).Meta.Version
		_, err := k.gs().UpdateGroup(ctx, k.id("G-1"), scim.GroupUpdate{Add: []string{k.id("U-2")}}, v1)
		wantErr(t, err, scim.ErrVersionMismatch, fmt.Sprintf("UpdateGroup(G-1, version %q)", v1), "the version moved on to "+v2)
		k.checkMembers(t, ctx, "G-1", "a stale UpdateGroup", "U-1")
		wantErr(t, k.gs().DeleteGroup(ctx, k.id("G-1"), v1), scim.ErrVersionMismatch, fmt.Sprintf("DeleteGroup(G-1, version %q)", v1), "the version moved on")
		if got := k.getGroup(t, ctx, "G-1", 0); got.Meta.Version != v2 {
			t.Fatalf("GetGroup(G-1) version %q; want %q, as the last UpdateGroup returned", got.Meta.Version, v2)
		}
		if err := k.gs().DeleteGroup(ctx, k.id("G-1"), v2); err != nil {
			t.Fatalf("DeleteGroup(G-1, version %q), the current one: %v", v2, err)
		}
		_, err = k.gs().GetGroup(ctx, k.id("G-1"), scim.GroupRead{})
		wantErr(t, err, scim.ErrNotFound, "GetGroup(G-1) after DeleteGroup", "the group was deleted")
	}},
	{"deleting a user removes its memberships", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "U-1", "U-2")
		k.createGroup(t, ctx, k.newGroup("G-1", "One", "U-1", "U-2"))
		k.createGroup(t, ctx, k.newGroup("G-2", "Two", "U-1"))
		if err := k.s.Delete(ctx, k.id("U-1"), ""); err != nil {
			t.Fatalf("Delete(U-1): %v", err)
		}
		k.checkMembers(t, ctx, "G-1", "deleting user U-1", "U-2")
		k.checkMembers(t, ctx, "G-2", "deleting user U-1")
		if got, err := k.gs().GroupsOf(ctx, []string{k.id("U-1")}); err != nil || len(got[k.id("U-1")]) != 0 {
			t.Fatalf("GroupsOf(U-1) after deleting U-1 = %v, error %v; want none", got, err)
		}
		_, err := k.gs().UpdateGroup(ctx, k.id("G-2"), scim.GroupUpdate{Add: []string{k.id("U-1")}}, "")
		wantUnknown(t, err, k.id("U-1"), "UpdateGroup(G-2, add the deleted U-1)")
	}},
	{"deleting a group removes its memberships", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "U-1")
		k.createGroup(t, ctx, k.newGroup("G-1", "Doomed", "U-1"))
		k.createGroup(t, ctx, k.newGroup("G-2", "Kept", "U-1"))
		if err := k.gs().DeleteGroup(ctx, k.id("G-1"), ""); err != nil {
			t.Fatalf("DeleteGroup(G-1): %v", err)
		}
		got, err := k.gs().GroupsOf(ctx, []string{k.id("U-1")})
		if err != nil || len(got[k.id("U-1")]) != 1 || got[k.id("U-1")][0].Value != k.id("G-2") {
			t.Fatalf("GroupsOf(U-1) after DeleteGroup(G-1) = %v, error %v; want G-2 alone", got, err)
		}
		k.createGroup(t, ctx, k.newGroup("G-3", "Doomed"))
		k.checkMembers(t, ctx, "G-3", "recreating a deleted group's displayName")
		wantErr(t, k.gs().DeleteGroup(ctx, k.id("G-1"), ""), scim.ErrNotFound, "DeleteGroup(G-1) again", "it was deleted")
	}},
	{"members above maxMembers are omitted, never sent in part", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "U-1", "U-2", "U-3", "U-4", "U-5")
		k.createGroup(t, ctx, k.newGroup("G-5", "Five", "U-1", "U-2", "U-3", "U-4", "U-5"))
		k.createGroup(t, ctx, k.newGroup("G-1", "One", "U-1"))
		if g := k.getGroup(t, ctx, "G-5", 5); len(g.Members) != 5 || g.MembersOmitted {
			t.Fatalf("GetGroup(G-5, maxMembers 5) = %d members, MembersOmitted %v; want 5, false", len(g.Members), g.MembersOmitted)
		}
		if g := k.getGroup(t, ctx, "G-5", 4); g.Members != nil || !g.MembersOmitted {
			t.Fatalf("GetGroup(G-5, maxMembers 4) = %d members, MembersOmitted %v; want nil, true", len(g.Members), g.MembersOmitted)
		}
		page := k.listGroups(t, ctx, "", 4)
		for _, g := range page.Groups {
			switch g.DisplayName {
			case "Five":
				if g.Members != nil || !g.MembersOmitted {
					t.Fatalf("ListGroups(maxMembers 4): Five has %d members, MembersOmitted %v; want nil, true", len(g.Members), g.MembersOmitted)
				}
			case "One":
				if len(g.Members) != 1 || g.MembersOmitted || g.Members[0].Value != k.id("U-1") {
					t.Fatalf("ListGroups(maxMembers 4): One has members %v, MembersOmitted %v; want U-1", g.Members, g.MembersOmitted)
				}
			}
		}
		for _, g := range k.listGroups(t, ctx, "", 0).Groups {
			if g.Members != nil || g.MembersOmitted {
				t.Fatalf("ListGroups(maxMembers 0): %s has %d members, MembersOmitted %v; want none loaded, false", g.DisplayName, len(g.Members), g.MembersOmitted)
			}
		}
	}},
	{"ListGroups filters by displayName (without case), externalId, id and members", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "U-1", "U-2", "U-3")
		for i, name := range []string{"Admins", "Sales Team", "Support"} {
			g := k.newGroup(fmt.Sprintf("G-%d", i+1), name, []string{"U-1", "U-2", "U-3"}[:i+1]...)
			g.ExternalID = fmt.Sprintf("Ext-%d", i+1)
			k.createGroup(t, ctx, g)
		}
		for _, c := range []struct {
			filter string
			want   []string
		}{
			{``, []string{"Admins", "Sales Team", "Support"}},
			{`displayName eq "sales team"`, []string{"Sales Team"}},
			{`displayName eq "SUPPORT"`, []string{"Support"}},
			{`displayName eq "Nobody"`, nil},
			{`externalId eq "Ext-2"`, []string{"Sales Team"}},
			{`externalId eq "ext-2"`, nil},
			{`id eq "{id:G-3}"`, []string{"Support"}},
			{`members[value eq "{id:U-2}"]`, []string{"Sales Team", "Support"}},
			{`members eq "{id:U-3}"`, []string{"Support"}},
			{`members.value eq "{id:U-1}"`, []string{"Admins", "Sales Team", "Support"}},
			{`id eq "{id:G-2}" and members eq "{id:U-2}"`, []string{"Sales Team"}},
			{`id eq "{id:G-1}" and members eq "{id:U-2}"`, nil},
			{`displayName sw "s"`, []string{"Sales Team", "Support"}},
		} {
			page := k.listGroups(t, ctx, c.filter, 0)
			got := groupNames(page.Groups)
			if !slices.Equal(sorted(got), c.want) || page.TotalResults != len(c.want) {
				t.Errorf("ListGroups(filter %q) %s = %v, TotalResults %d; want %v", c.filter, where(ctx), got, page.TotalResults, c.want)
			}
		}
		q := scim.Query{StartIndex: 2, Count: 1}
		page, err := k.gs().ListGroups(ctx, q, scim.GroupRead{})
		if err != nil || page.TotalResults != 3 || len(page.Groups) != 1 {
			t.Fatalf("ListGroups(startIndex 2, count 1) = %v, error %v; want one group of 3", page, err)
		}
	}},
	{"50 parallel single-member adds to one group keep all 50 members", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		const n = 50
		var fids []string
		for i := range n {
			fids = append(fids, fmt.Sprintf("P-%02d", i))
		}
		k.users(t, ctx, fids...)
		k.createGroup(t, ctx, k.newGroup("G-1", "Parallel"))
		errs := race(n, func(i int) error {
			_, err := k.gs().UpdateGroup(ctx, k.id("G-1"), scim.GroupUpdate{Add: []string{k.id(fids[i])}}, "")
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("UpdateGroup(G-1, add %s) racing %d others: %v; want success (a membership delta conflicts with nothing)", fids[i], n-1, err)
			}
		}
		k.checkMembers(t, ctx, "G-1", fmt.Sprintf("%d parallel adds: a read-modify-write of the member list loses some", n), fids...)
	}},
	{"List pages a group's members (groups.value eq) with exact totalResults, when the Store is a scim.GroupFilterer", func(t *testing.T, k *kit) {
		// A Store whose List does not answer filters on groups leaves them to the handler, which pages the
		// members from MemberIDs; TestHandler checks that path through HTTP.
		if f, ok := k.s.(scim.GroupFilterer); !ok || !f.FiltersGroups() {
			t.Skip("the Store is not a scim.GroupFilterer: the handler answers filters on groups")
		}
		ctx := inTenant(t, k.tenantA)
		var fids []string
		for i := range 37 {
			fids = append(fids, fmt.Sprintf("U-%02d", i))
		}
		k.users(t, ctx, append(fids, "U-out")...)
		k.createGroup(t, ctx, k.newGroup("G-1", "Many", fids...))
		k.createGroup(t, ctx, k.newGroup("G-2", "Few", fids[3], "U-out"))
		for _, f := range []string{`groups.value eq "{id:G-1}"`, `groups[value eq "{id:G-1}"]`, `groups eq "{id:G-1}"`} {
			f = placeholder.ReplaceAllStringFunc(f, func(m string) string { return k.id(placeholder.FindStringSubmatch(m)[1]) })
			e, err := filter.Parse(k.full, f)
			if err != nil {
				t.Fatalf("scimtest: filter %q does not parse: %v", f, err)
			}
			var got []string
			for start := 1; start <= 37; start += 10 {
				q := scim.Query{Filter: e, StartIndex: start, Count: 10}
				page, err := k.s.List(ctx, q)
				if err != nil || page == nil {
					t.Fatalf("List(filter %q, startIndex %d, count 10) %s = %v, error %v", f, start, where(ctx), page, err)
				}
				if page.TotalResults != 37 || len(page.Users) != min(10, 38-start) {
					t.Fatalf("List(filter %q, startIndex %d, count 10) %s = %d users, TotalResults %d; want %d, 37",
						f, start, where(ctx), len(page.Users), page.TotalResults, min(10, 38-start))
				}
				for _, u := range page.Users {
					got = append(got, u.ID)
				}
			}
			got = k.fixtureIDs(ctx, got)
			slices.Sort(got)
			if !slices.Equal(got, fids) {
				t.Fatalf("List(filter %q) %s paged by 10 = %v; want every member of G-1 once: %v", f, where(ctx), got, fids)
			}
		}
	}},
	{"GroupsOf returns each user's groups", func(t *testing.T, k *kit) {
		ctx := inTenant(t, k.tenantA)
		k.users(t, ctx, "U-1", "U-2", "U-3")
		k.createGroup(t, ctx, k.newGroup("G-1", "Alpha", "U-1", "U-2"))
		k.createGroup(t, ctx, k.newGroup("G-2", "Beta", "U-1"))
		got, err := k.gs().GroupsOf(ctx, k.idsOf([]string{"U-1", "U-2", "U-3"}))
		if err != nil {
			t.Fatalf("GroupsOf(U-1, U-2, U-3): %v", err)
		}
		for user, want := range map[string][]string{"U-1": {"Alpha", "Beta"}, "U-2": {"Alpha"}, "U-3": nil} {
			var names []string
			for _, r := range got[k.id(user)] {
				if r.Value != k.id(map[string]string{"Alpha": "G-1", "Beta": "G-2"}[r.Display]) {
					t.Errorf("GroupsOf(%s) has {value %q display %q}; want each group's id and its displayName", user, r.Value, r.Display)
				}
				if r.Type != "" && r.Type != "direct" {
					t.Errorf("GroupsOf(%s) has group %q of type %q; want \"direct\" (the membership is the user's own) or none", user, r.Display, r.Type)
				}
				names = append(names, r.Display)
			}
			if !slices.Equal(sorted(names), want) {
				t.Errorf("GroupsOf(%s) = %v; want %v", user, names, want)
			}
		}
	}},
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if len(s) == 0 {
		return nil
	}
	return s
}
