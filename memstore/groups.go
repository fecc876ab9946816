package memstore

import (
	"cmp"
	"context"
	"iter"
	"slices"
	"strconv"
	"time"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
)

// Store keeps groups too (it is a scim.GroupStore): per tenant, indexes by id, displayName (without case)
// and externalId, and the memberships twice, group → users and user → groups, so that a membership change
// costs O(K) for K members changed, and "the groups of this user" and "the members of this group" are map
// lookups. Everything sits under the store's one lock, with the users: a member is checked to be a user, and
// a deleted user leaves its groups, atomically.

// memGroups is one tenant's groups; its maps are made on the tenant's first group.
type memGroups struct {
	byID         map[string]*memGroup
	byName       map[string]*memGroup   // filter.Fold(displayName): unique per tenant
	byExternalID map[string][]*memGroup // externalId is not unique
	order        []*memGroup            // by seq: creation order
	members      map[string]map[string]struct{}
	of           map[string]map[string]struct{} // the reverse index: user id → group ids
}

// memGroup is one stored group: its attributes without members (replaced on every write, never modified,
// so that a returned copy may share its slices), creation order and version.
type memGroup struct {
	g       *scim.Group
	seq     int64
	version int64
}

var _ scim.GroupStore = (*Store)(nil)

func (gs *memGroups) init() {
	if gs.byID == nil {
		gs.byID = map[string]*memGroup{}
		gs.byName = map[string]*memGroup{}
		gs.byExternalID = map[string][]*memGroup{}
		gs.members = map[string]map[string]struct{}{}
		gs.of = map[string]map[string]struct{}{}
	}
}

func (gs *memGroups) index(e *memGroup) {
	gs.byName[filter.Fold(e.g.DisplayName)] = e
	if x := e.g.ExternalID; x != "" {
		gs.byExternalID[x] = append(gs.byExternalID[x], e)
	}
}

func (gs *memGroups) unindex(e *memGroup) {
	delete(gs.byName, filter.Fold(e.g.DisplayName))
	if x := e.g.ExternalID; x != "" {
		list := slices.DeleteFunc(gs.byExternalID[x], func(o *memGroup) bool { return o == e })
		if len(list) == 0 {
			delete(gs.byExternalID, x)
		} else {
			gs.byExternalID[x] = list
		}
	}
}

// link makes the user a member of the group; it reports whether it was not one already.
func (gs *memGroups) link(gid, uid string) bool {
	m := gs.members[gid]
	if _, ok := m[uid]; ok {
		return false
	}
	if m == nil {
		m = map[string]struct{}{}
		gs.members[gid] = m
	}
	m[uid] = struct{}{}
	o := gs.of[uid]
	if o == nil {
		o = map[string]struct{}{}
		gs.of[uid] = o
	}
	o[gid] = struct{}{}
	return true
}

// unlink removes the membership; it reports whether there was one.
func (gs *memGroups) unlink(gid, uid string) bool {
	if _, ok := gs.members[gid][uid]; !ok {
		return false
	}
	delete(gs.members[gid], uid)
	if len(gs.members[gid]) == 0 {
		delete(gs.members, gid)
	}
	delete(gs.of[uid], gid)
	if len(gs.of[uid]) == 0 {
		delete(gs.of, uid)
	}
	return true
}

// bump gives the group a new version and lastModified, as every change of its members does.
func (gs *memGroups) bump(e *memGroup, g *scim.Group, modified bool) {
	c := *e.g
	if g != nil {
		c.DisplayName, c.ExternalID = g.DisplayName, g.ExternalID
		if !g.Meta.LastModified.IsZero() {
			c.Meta.LastModified = g.Meta.LastModified
		}
	} else if modified {
		c.Meta.LastModified = time.Now().UTC().Truncate(time.Millisecond) // as the handler stamps times
	}
	e.version++
	c.Meta.Version = strconv.FormatInt(e.version, 10)
	e.g = &c
}

// dropUser removes a deleted user from all its groups, each of which gets a new version.
func (gs *memGroups) dropUser(uid string) {
	for gid := range gs.of[uid] {
		gs.unlink(gid, uid)
		if e := gs.byID[gid]; e != nil {
			gs.bump(e, nil, true)
		}
	}
}

// memberIDs returns the group's member ids in ascending (bytewise) id order: stable, as MemberIDs promises,
// and the order in which sqlstore yields them from its primary key.
func (t *memTenant) memberIDs(gid string) []string {
	ids := make([]string, 0, len(t.groups.members[gid]))
	for uid := range t.groups.members[gid] {
		ids = append(ids, uid)
	}
	slices.Sort(ids)
	return ids
}

// memberList returns the group's members as Member values, with the users' display names.
func (t *memTenant) memberList(gid string) []scim.Member {
	ids := t.memberIDs(gid)
	out := make([]scim.Member, len(ids))
	for i, id := range ids {
		out[i] = scim.Member{Value: id, Type: "User"}
		if e := t.byID[id]; e != nil {
			out[i].Display = cmp.Or(e.displayName(), e.userName())
		}
	}
	return out
}

// withMembers returns a copy of the group with its members loaded as GetGroup's maxMembers says (any
// loaded only to match a filter dropped).
func (t *memTenant) withMembers(g *scim.Group, maxMembers int) *scim.Group {
	c := *g
	c.Members = nil
	if maxMembers > 0 {
		if len(t.groups.members[c.ID]) > maxMembers {
			c.MembersOmitted = true
		} else if list := t.memberList(c.ID); len(list) > 0 {
			c.Members = list
		}
	}
	return &c
}

// unknownMember returns the first id that is not a user of the tenant, as an *UnknownMemberError.
func (t *memTenant) unknownMember(ids []string) error {
	for _, id := range ids {
		if t.byID[id] == nil { // a group's id is not a user's: groups as members are refused
			return &scim.UnknownMemberError{ID: id}
		}
	}
	return nil
}

// CreateGroup implements scim.GroupStore.
func (s *Store) CreateGroup(ctx context.Context, g *scim.Group) (*scim.Group, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := s.tenant(ctx, true)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	gs := &t.groups
	gs.init()
	if _, taken := gs.byName[filter.Fold(g.DisplayName)]; taken {
		return nil, scim.ErrConflict
	}
	if _, taken := gs.byID[g.ID]; taken {
		return nil, scim.ErrConflict
	}
	ids := make([]string, len(g.Members))
	for i, m := range g.Members {
		ids[i] = m.Value
	}
	if err := t.unknownMember(ids); err != nil {
		return nil, err
	}
	c := *g
	c.Members, c.MembersOmitted = nil, false
	c.Meta.Version = "1"
	e := &memGroup{g: &c, seq: s.seq.Add(1), version: 1} // under t.mu: gs.order stays sorted by seq
	gs.byID[c.ID] = e
	gs.index(e)
	gs.order = append(gs.order, e)
	for _, id := range ids {
		gs.link(c.ID, id)
	}
	out := c
	return &out, nil
}

// GetGroup implements scim.GroupStore.
func (s *Store) GetGroup(ctx context.Context, id string, read scim.GroupRead) (*scim.Group, error) {
	maxMembers := read.MaxMembers
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	if t != nil {
		t.mu.RLock()
		defer t.mu.RUnlock()
		if e := t.groups.byID[id]; e != nil {
			return t.withMembers(e.g, maxMembers), nil
		}
	}
	return nil, scim.ErrNotFound
}

// UpdateGroup implements scim.GroupStore: the attributes and both deltas in one step under the lock, or nothing
// when a check fails. A change that changes nothing (members already there, or not there) keeps the version.
func (s *Store) UpdateGroup(ctx context.Context, id string, u scim.GroupUpdate, version string) (*scim.Group, error) {
	t, err := s.existing(ctx)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.groups.byID[id] == nil {
		return nil, scim.ErrNotFound
	}
	gs := &t.groups
	e := gs.byID[id]
	if version != "" && version != e.g.Meta.Version {
		return nil, scim.ErrVersionMismatch
	}
	if u.Group != nil {
		if other, taken := gs.byName[filter.Fold(u.Group.DisplayName)]; taken && other != e {
			return nil, scim.ErrConflict
		}
	}
	if err := t.unknownMember(u.Add); err != nil {
		return nil, err
	}
	changed := u.Group != nil && (u.Group.DisplayName != e.g.DisplayName || u.Group.ExternalID != e.g.ExternalID)
	membersChanged := false
	for _, uid := range u.Add {
		membersChanged = gs.link(id, uid) || membersChanged
	}
	for _, uid := range u.Remove {
		membersChanged = gs.unlink(id, uid) || membersChanged
	}
	if changed || membersChanged {
		gs.unindex(e)
		g := u.Group
		if !changed {
			g = nil
		}
		gs.bump(e, g, true)
		gs.index(e)
	}
	out := *e.g
	return &out, nil
}

// DeleteGroup implements scim.GroupStore.
func (s *Store) DeleteGroup(ctx context.Context, id, version string) error {
	t, err := s.existing(ctx)
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.groups.byID[id] == nil {
		return scim.ErrNotFound
	}
	gs := &t.groups
	e := gs.byID[id]
	if version != "" && version != e.g.Meta.Version {
		return scim.ErrVersionMismatch
	}
	for uid := range gs.members[id] {
		gs.unlink(id, uid)
	}
	gs.unindex(e)
	delete(gs.byID, id)
	if i, found := slices.BinarySearchFunc(gs.order, e.seq, func(x *memGroup, seq int64) int {
		return cmp.Compare(x.seq, seq)
	}); found {
		gs.order = slices.Delete(gs.order, i, i+1)
	}
	return nil
}

// MemberIDs implements scim.GroupStore. The ids are copied under the lock and yielded after it, so the caller
// may call the Store while it ranges.
func (s *Store) MemberIDs(ctx context.Context, id string) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		ids, err := s.memberIDs(ctx, id)
		if err != nil {
			yield("", err)
			return
		}
		for _, uid := range ids {
			if !yield(uid, nil) {
				return
			}
		}
		if err := ctx.Err(); err != nil {
			yield("", err)
		}
	}
}

// memberIDs returns a copy of the ids of the group's members, or ErrNotFound.
func (s *Store) memberIDs(ctx context.Context, id string) ([]string, error) {
	t, err := s.existing(ctx)
	if err != nil {
		return nil, err
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.groups.byID[id] == nil {
		return nil, scim.ErrNotFound
	}
	return t.memberIDs(id), nil
}

// GroupsOf implements scim.GroupStore, from the reverse index.
func (s *Store) GroupsOf(ctx context.Context, userIDs []string) (map[string][]scim.GroupRef, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := map[string][]scim.GroupRef{}
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return out, nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, uid := range userIDs {
		if refs := t.groupRefs(uid); len(refs) > 0 {
			out[uid] = refs
		}
	}
	return out, nil
}

// groupRefs returns the groups of a user (value, display and type "direct", as sqlstore gives them), in the
// groups' creation order.
func (t *memTenant) groupRefs(uid string) []scim.GroupRef {
	gs := &t.groups
	es := make([]*memGroup, 0, len(gs.of[uid]))
	for gid := range gs.of[uid] {
		if e := gs.byID[gid]; e != nil {
			es = append(es, e)
		}
	}
	slices.SortFunc(es, func(a, b *memGroup) int { return cmp.Compare(a.seq, b.seq) })
	refs := make([]scim.GroupRef, len(es))
	for i, e := range es {
		refs[i] = scim.GroupRef{Value: e.g.ID, Display: e.g.DisplayName, Type: "direct"}
	}
	return refs
}

// existing returns the context's tenant for a call on an existing group: ErrNotFound when the tenant has
// nothing yet, the context's error when it has ended.
func (s *Store) existing(ctx context.Context) (*memTenant, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, scim.ErrNotFound
	}
	return t, nil
}
