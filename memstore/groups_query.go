package memstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/listing"
)

// ListGroups implements scim.GroupStore. Filters that pin id, displayName or externalId with "eq", or a
// member (members[value eq "u"], members eq "u"), alone or inside an "and", start from an index; member
// comparisons are answered from the membership sets wherever they appear, so that no group's member list
// is built to answer them. Like every list of this Store it examines no more than its candidates, so it
// does not refuse queries as too many to examine (MaxScan).
func (s *Store) ListGroups(ctx context.Context, q scim.Query, read scim.GroupRead) (*scim.GroupPage, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	page := &scim.GroupPage{Groups: []*scim.Group{}}
	t, err := s.tenant(ctx, false)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return page, nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.groups.byID == nil {
		return page, nil
	}
	gs := &t.groups
	candidates, indexed := gs.lookup(q.Filter)
	if !indexed {
		candidates = gs.order
	}
	// A filter with a member comparison is matched here, the comparison from the membership sets, and the
	// collector sorts and pages the matches; any other the collector matches itself, building each group's
	// document once for the filter and the sort key.
	cq := q
	cq.MaxScan = 0
	direct := !hasMemberEq(q.Filter)
	if !direct {
		cq.Filter = nil
	}
	c := scim.NewGroupCollector(ctx, cq)
	loadMembers := direct && c.NeedsMembers() // members.display co "…", say: over the member list
	for _, e := range candidates {
		g := e.g
		if !direct && !t.matchGroup(q.Filter, g) {
			continue
		}
		if loadMembers {
			withList := *g
			withList.Members = t.memberList(g.ID)
			g = &withList
		}
		if err := c.Add(g); err != nil {
			return nil, err
		}
	}
	page = c.Page()
	for i, g := range page.Groups {
		page.Groups[i] = t.withMembers(g, read.MaxMembers)
	}
	return page, nil
}

// lookup returns, in creation order, the groups that can match e when e pins an indexed attribute or a
// member with "eq" (alone or as a side of an "and"); false when e needs a scan.
func (gs *memGroups) lookup(e filter.Expr) ([]*memGroup, bool) {
	if uid, ok := listing.ValueEq(e, "members"); ok {
		out := make([]*memGroup, 0, len(gs.of[uid]))
		for gid := range gs.of[uid] {
			out = append(out, gs.byID[gid])
		}
		slices.SortFunc(out, func(a, b *memGroup) int { return cmp.Compare(a.seq, b.seq) })
		return out, true
	}
	return lookupEq(e, gs.lookup, func(attr, v string) ([]*memGroup, bool) {
		var out []*memGroup
		switch attr {
		case "id":
			if x := gs.byID[v]; x != nil {
				out = append(out, x)
			}
		case "displayName":
			if x := gs.byName[filter.Fold(v)]; x != nil {
				out = append(out, x)
			}
		case "externalId":
			out = slices.Clone(gs.byExternalID[v])
			slices.SortFunc(out, func(a, b *memGroup) int { return cmp.Compare(a.seq, b.seq) })
		default:
			return nil, false
		}
		return out, true
	})
}

// matchGroup evaluates e for a stored group: member comparisons (members[value eq "u"], members eq "u")
// from the membership set, and every largest part of e without one over the group (Query.MatchesGroup),
// with its member list built only when that part still names members.
func (t *memTenant) matchGroup(e filter.Expr, g *scim.Group) bool {
	if uid, ok := listing.ValueEq(e, "members"); ok {
		_, member := t.groups.members[g.ID][uid]
		return member
	}
	if hasMemberEq(e) {
		switch x := e.(type) {
		case *filter.Logical:
			if x.Op == filter.And {
				return t.matchGroup(x.Left, g) && t.matchGroup(x.Right, g)
			}
			return t.matchGroup(x.Left, g) || t.matchGroup(x.Right, g)
		case *filter.Not:
			return !t.matchGroup(x.X, g)
		}
	}
	if listing.Names(e, "members") {
		c := *g
		c.Members = t.memberList(g.ID)
		g = &c
	}
	return scim.Query{Filter: e}.MatchesGroup(g)
}

// hasMemberEq reports whether e holds a member comparison matchGroup answers from the membership set.
func hasMemberEq(e filter.Expr) bool {
	if _, ok := listing.ValueEq(e, "members"); ok {
		return true
	}
	switch x := e.(type) {
	case *filter.Logical:
		return hasMemberEq(x.Left) || hasMemberEq(x.Right)
	case *filter.Not:
		return hasMemberEq(x.X)
	}
	return false
}

// listByGroups answers a user query whose filter or sortBy names groups: candidates from the reverse index
// when the filter pins a group (groups.value eq "g", alone or in an "and") or is groups pr, each checked
// with its groups filled in. A group's members alone are a page of the index; any other query examines
// its candidates one by one, refused (ErrTooMany) up front when they are more than q.MaxScan, as List
// refuses any scan: not (groups pr) over a large tenant, say.
func (t *memTenant) listByGroups(ctx context.Context, q scim.Query) (*scim.Page, error) {
	candidates := t.order
	if anyGroup(q.Filter) {
		candidates = nil
		for uid := range t.groups.of {
			if e := t.byID[uid]; e != nil && len(t.groups.of[uid]) > 0 {
				candidates = append(candidates, e)
			}
		}
		slices.SortFunc(candidates, func(a, b *memEntry) int { return cmp.Compare(a.seq, b.seq) })
	}
	if gid, ok := listing.PinnedValue(q.Filter, "groups"); ok {
		candidates = t.memberEntries(gid)
		if isGroupPin(q.Filter) && q.SortBy.Attr == nil {
			// The whole filter is the group's membership: a page of its members, in creation order.
			users := make([]*scim.User, 0, len(candidates))
			for _, e := range listing.Page(candidates, q.StartIndex, q.Count) {
				users = append(users, e.get())
			}
			return &scim.Page{Users: users, TotalResults: len(candidates)}, nil
		}
		q.Filter = besidePin(q.Filter) // every candidate is a member: only the rest is left to check
	}
	if q.MaxScan > 0 && len(candidates) > q.MaxScan {
		return nil, scim.ErrTooMany
	}
	c := scim.NewCollector(ctx, q)
	var scratch scim.User // a compact user is rebuilt here to be matched; the user kept is the stored one
	if !listing.Names(q.Filter, "groups") && !listing.SortsBy(q.SortBy, "groups") {
		for _, e := range candidates {
			if err := c.AddView(e.view(&scratch), e.get); err != nil {
				return nil, err
			}
		}
		return c.Page(), nil
	}
	var view scim.User // the user matched: scratch with its groups filled in (outside the loop: one allocation)
	for _, e := range candidates {
		view = *e.view(&scratch)
		view.Groups = t.groupRefs(e.id())
		if err := c.AddView(&view, e.get); err != nil {
			return nil, err
		}
	}
	return c.Page(), nil
}

// besidePin returns what a user filter `groups.value eq "g" and rest` (either way round) asks beyond
// membership of g: rest, or the filter itself when it is of another shape.
func besidePin(e filter.Expr) filter.Expr {
	if l, ok := e.(*filter.Logical); ok && l.Op == filter.And {
		if isGroupPin(l.Left) {
			return l.Right
		}
		if isGroupPin(l.Right) {
			return l.Left
		}
	}
	return e
}

// anyGroup reports whether a user filter requires membership of some group: groups pr (or groups.value
// pr), alone or as a side of an "and".
func anyGroup(e filter.Expr) bool {
	switch x := e.(type) {
	case *filter.Compare:
		return x.Op == filter.Pr && x.Path.Attr != nil && x.Path.Attr.Name == "groups" && x.Path.Schema != nil &&
			!x.Path.Extension() && (x.Path.Sub == nil || x.Path.Sub.Name == "value")
	case *filter.Logical:
		return x.Op == filter.And && (anyGroup(x.Left) || anyGroup(x.Right))
	}
	return false
}

// memberEntries returns the entries of the group's members, in creation order.
func (t *memTenant) memberEntries(gid string) []*memEntry {
	var out []*memEntry
	for uid := range t.groups.members[gid] {
		if e := t.byID[uid]; e != nil {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b *memEntry) int { return cmp.Compare(a.seq, b.seq) })
	return out
}

// isGroupPin reports whether a user filter is exactly a group's membership: groups.value eq "g".
func isGroupPin(e filter.Expr) bool {
	_, ok := listing.ValueEq(e, "groups")
	return ok
}

// FiltersGroups implements scim.GroupFilterer: List and ListCursor answer filters and sortBy on groups from the
// membership index.
func (s *Store) FiltersGroups() bool { return true }
