package scim

import (
	"cmp"
	"context"
	"slices"

	"github.com/scimkit/scim/filter"
)

// ListGroups implements GroupStore. Filters that pin id, displayName or externalId with "eq", or a member
// (members[value eq "u"], members eq "u"), alone or inside an "and", start from an index; member
// comparisons are answered from the membership sets wherever they appear, so that no group's member list
// is built to answer them.
func (s *MemoryStore) ListGroups(ctx context.Context, q Query, read GroupRead) (*GroupPage, error) {
	maxMembers := read.MaxMembers
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	page := &GroupPage{Groups: []*Group{}}
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
	var matched []*memGroup
	var docs []map[string]any
	for _, e := range candidates {
		var doc map[string]any
		if q.Filter == nil || t.matchGroup(q.Filter, e, &doc) {
			matched = append(matched, e)
			docs = append(docs, doc)
		}
	}
	if q.SortBy.Attr != nil {
		for i := range docs {
			if docs[i] == nil {
				docs[i] = e2doc(matched[i])
			}
		}
		matched = sortByKey(matched, docs, q)
	}
	page.TotalResults = len(matched)
	for _, e := range pageOf(matched, q.StartIndex, q.Count) {
		page.Groups = append(page.Groups, t.withMembers(e, maxMembers))
	}
	return page, nil
}

func e2doc(e *memGroup) map[string]any { return e.g.doc() }

// sortByKey orders items by q.SortBy over their documents, stably (as ApplyQuery does for users).
func sortByKey[T any](items []T, docs []map[string]any, q Query) []T {
	keys := make([]any, len(docs))
	for i, d := range docs {
		keys[i] = filter.SortKey(d, q.SortBy)
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return filter.CompareSortKeys(keys[a], keys[b], q.Descending) })
	out := make([]T, len(items))
	for i, j := range idx {
		out[i] = items[j]
	}
	return out
}

// lookup returns, in creation order, the groups that can match e when e pins an indexed attribute or a
// member with "eq" (alone or as a side of an "and"); false when e needs a scan.
func (gs *memGroups) lookup(e filter.Expr) ([]*memGroup, bool) {
	if uid, ok := valueEq(e, "members"); ok {
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

// matchGroup evaluates e for a group: member comparisons (members[value eq "u"], members eq "u") from the
// membership set, the rest over the group's document, made once (in *doc) and with its members only when
// the rest still names them.
func (t *memTenant) matchGroup(e filter.Expr, g *memGroup, doc *map[string]any) bool {
	if uid, ok := valueEq(e, "members"); ok {
		_, member := t.groups.members[g.g.ID][uid]
		return member
	}
	switch x := e.(type) {
	case *filter.Logical:
		if x.Op == filter.And {
			return t.matchGroup(x.Left, g, doc) && t.matchGroup(x.Right, g, doc)
		}
		return t.matchGroup(x.Left, g, doc) || t.matchGroup(x.Right, g, doc)
	case *filter.Not:
		return !t.matchGroup(x.X, g, doc)
	}
	if *doc == nil {
		*doc = g.g.doc()
	}
	d := *doc
	if _, has := d["members"]; !has && names(e, "members") {
		if list := t.memberList(g.g.ID); len(list) > 0 {
			ms := make([]any, len(list))
			for i, m := range list {
				ms[i] = map[string]any{"value": m.Value, "display": m.Display, "type": m.Type}
			}
			d["members"] = ms
		}
	}
	return filter.Match(e, d)
}

// valueEq recognises the comparison of a multi-valued reference attribute's value with one id: attr.value
// eq "x", attr eq "x" (the parser reads it as attr.value) or attr[value eq "x"], for attr "members" of a
// group or "groups" of a user.
func valueEq(e filter.Expr, attr string) (string, bool) {
	var c *filter.Compare
	switch x := e.(type) {
	case *filter.Compare:
		if x.Path.Attr == nil || x.Path.Attr.Name != attr || x.Path.Sub == nil || x.Path.Sub.Name != "value" {
			return "", false
		}
		c = x
	case *filter.ValuePath:
		inner, ok := x.Filter.(*filter.Compare)
		if x.Path.Attr == nil || x.Path.Attr.Name != attr || !ok || inner.Path.Attr == nil || inner.Path.Attr.Name != "value" {
			return "", false
		}
		c = inner
		e = x
	default:
		return "", false
	}
	p := c.Path
	if vp, ok := e.(*filter.ValuePath); ok {
		p = vp.Path
	}
	if p.Schema == nil || p.Extension() || c.Op != filter.Eq {
		return "", false
	}
	v, ok := c.Value.(string)
	return v, ok
}

// names reports whether the filter compares the core attribute attr anywhere.
func names(e filter.Expr, attr string) bool {
	switch x := e.(type) {
	case *filter.Logical:
		return names(x.Left, attr) || names(x.Right, attr)
	case *filter.Not:
		return names(x.X, attr)
	case *filter.ValuePath:
		return x.Path.Attr != nil && x.Path.Attr.Name == attr && !x.Path.Extension()
	case *filter.Compare:
		return x.Path.Attr != nil && x.Path.Attr.Name == attr && x.Path.Schema != nil && !x.Path.Extension()
	}
	return false
}

// mentionsGroups reports whether a user filter compares the read-only groups attribute, which the stored
// users do not hold: MemoryStore answers it from the membership index.
func mentionsGroups(e filter.Expr) bool {
	return e != nil && names(e, "groups")
}

// listByGroups answers a user query whose filter or sortBy names groups: candidates from the reverse index
// when the filter pins a group (groups.value eq "g", alone or in an "and") or is groups pr, each checked
// with its groups filled in. A group's members alone are a page of the index; any other query examines
// its candidates one by one, refused (ErrTooMany) up front when they are more than q.MaxScan, as List
// refuses any scan: not (groups pr) over a large tenant, say.
func (t *memTenant) listByGroups(ctx context.Context, q Query) (*Page, error) {
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
	if gid, ok := pinnedGroup(q.Filter); ok {
		candidates = t.memberEntries(gid)
		if _, exact := valueEq(q.Filter, "groups"); exact && q.SortBy.Attr == nil {
			// The whole filter is the group's membership: a page of its members, in creation order.
			users := make([]*User, 0, len(candidates))
			for _, e := range pageOf(candidates, q.StartIndex, q.Count) {
				users = append(users, e.get())
			}
			return &Page{Users: users, TotalResults: len(candidates)}, nil
		}
	}
	if q.MaxScan > 0 && len(candidates) > q.MaxScan {
		return nil, ErrTooMany
	}
	var matched []*User
	var docs []map[string]any
	var scratch User // a compact user is rebuilt here to be matched
	for i, e := range candidates {
		if i%64 == 63 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		d := e.view(&scratch).doc()
		if refs := t.groupRefs(e.id()); len(refs) > 0 {
			gs := make([]any, len(refs))
			for i, r := range refs {
				gs[i] = map[string]any{"value": r.Value, "display": r.Display, "type": "direct"}
			}
			d["groups"] = gs
		}
		if filter.Match(q.Filter, d) {
			matched = append(matched, e.get())
			docs = append(docs, d)
		}
	}
	if q.SortBy.Attr != nil {
		matched = sortByKey(matched, docs, q)
	}
	return &Page{Users: pageOf(matched, q.StartIndex, q.Count), TotalResults: len(matched)}, nil
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
	_, ok := valueEq(e, "groups")
	return ok
}

// pinnedGroup returns the group a user filter requires membership of (groups.value eq "g", alone or as a
// side of an "and").
func pinnedGroup(e filter.Expr) (string, bool) {
	if gid, ok := valueEq(e, "groups"); ok {
		return gid, true
	}
	if l, ok := e.(*filter.Logical); ok && l.Op == filter.And {
		if gid, ok := pinnedGroup(l.Left); ok {
			return gid, true
		}
		return pinnedGroup(l.Right)
	}
	return "", false
}

// FiltersGroups implements GroupFilterer: List and ListCursor answer filters and sortBy on groups from the
// membership index.
func (s *MemoryStore) FiltersGroups() bool { return true }
