package scim

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/listing"
)

// scanBatch is how many users a List call hands the handler at a time when it resolves groups terms itself,
// and how many users' groups one GroupsOf call reads.
const scanBatch = 500

// listUsers answers a list of users. A query that names the users' groups attribute reaches the Store's
// List only when the Store answers such queries itself (a GroupFilterer); otherwise the handler resolves it
// through the GroupStore, since a Store's List sees users without their groups (they are computed for
// output) and would answer groups.value eq "<id>" with no users.
func (h *handler) listUsers(ctx context.Context, q Query) (*Page, error) {
	if gs, ok := h.resolvesGroups(q); ok {
		return h.listByGroups(ctx, gs, q)
	}
	return h.store.List(ctx, q)
}

// resolvesGroups returns the GroupStore when q names groups and the handler, not the Store, must answer it.
func (h *handler) resolvesGroups(q Query) (GroupStore, bool) {
	gs, ok := h.groupStore()
	if !ok || !listing.Names(q.Filter, "groups") && !listing.SortsBy(q.SortBy, "groups") {
		return nil, false
	}
	if f, ok := h.store.(GroupFilterer); ok && f.FiltersGroups() {
		return nil, false
	}
	return gs, true
}

// errCursorGroups answers a cursor-paginated query naming groups that the handler would have to resolve:
// its pages come from the GroupStore, which has no cursors.
var errCursorGroups = errorf(http.StatusBadRequest, InvalidValue,
	"cursor pagination of a filter or sortBy on groups is not supported by this service provider: use startIndex")

// listByGroups answers q, which names groups, for a Store that cannot: the members of one group are paged
// from MemberIDs (memberPage); any other query examines its candidates one by one, each with its groups from
// GroupsOf, through a Collector that holds to q.MaxScan. The candidates are the members of the group the
// filter requires (groups.value eq "<id>" and …), when they are no more than q.MaxScan, or else the users
// the Store's List returns for the filter without its groups terms (withoutGroups), refused up front when
// they are more than q.MaxScan. So groups pr and not (groups pr) cost a scan of the tenant, answered over a
// small tenant and refused (400 tooMany) over a large one, as any filter no index answers.
func (h *handler) listByGroups(ctx context.Context, gs GroupStore, q Query) (*Page, error) {
	if gid, ok := listing.ValueEq(q.Filter, "groups"); ok && q.SortBy.Attr == nil {
		return h.memberPage(ctx, gs, gid, q)
	}
	c := NewCollector(ctx, q)
	add := func(batch []*User) error {
		if len(batch) == 0 {
			return nil
		}
		ids := make([]string, len(batch))
		for i, u := range batch {
			ids[i] = u.ID
		}
		of, err := gs.GroupsOf(ctx, ids)
		if err != nil {
			return err
		}
		for _, u := range batch {
			cp := *u // Store users are shared: a copy carries the groups
			cp.Groups = nil
			for _, g := range of[u.ID] {
				cp.Groups = append(cp.Groups, GroupRef{Value: g.Value, Display: g.Display, Type: "direct"})
			}
			if err := c.Add(&cp); err != nil {
				return err
			}
		}
		return nil
	}
	done := false
	if gid, ok := listing.PinnedValue(q.Filter, "groups"); ok {
		ids, within, err := memberIDsWithin(ctx, gs, gid, q.MaxScan)
		if err != nil {
			return nil, err
		}
		if within {
			if err := h.getUsers(ctx, ids, add); err != nil {
				return nil, err
			}
			done = true
		}
	}
	if !done {
		if f, some := withoutGroups(q.Filter, true); some {
			if err := h.scanUsers(ctx, f, q.MaxScan, add); err != nil {
				return nil, err
			}
		}
	}
	page := c.Page()
	for _, u := range page.Users {
		u.Groups = nil // the copies' groups: computed again for output, with $ref, when the projection sends them
	}
	return page, nil
}

// memberPage answers groups.value eq "<gid>" alone and unsorted, the member paging that docs/groups.md
// recommends: the group's members in MemberIDs' stable order, totalResults their number. The ids are walked
// as an index is (not counted against MaxScan), only the page's are kept, and only the page's users are
// read, with Get. A group that does not exist has no members.
func (h *handler) memberPage(ctx context.Context, gs GroupStore, gid string, q Query) (*Page, error) {
	from := min(max(q.StartIndex, 1)-1, 1<<40)
	to := from + max(q.Count, 0)
	var ids []string
	n := 0
	var stop error
	err := eachMember(gs.MemberIDs(ctx, gid), func(id string) bool {
		if n%1024 == 1023 {
			if stop = ctx.Err(); stop != nil {
				return false
			}
		}
		if n >= from && n < to {
			ids = append(ids, id)
		}
		n++
		return true
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return &Page{Users: []*User{}}, nil
	case err != nil:
		return nil, err
	case stop != nil:
		return nil, stop
	}
	page := &Page{Users: make([]*User, 0, len(ids)), TotalResults: n}
	for _, id := range ids {
		u, err := h.store.Get(ctx, id)
		if errors.Is(err, ErrNotFound) { // deleted since MemberIDs: no longer a member either
			page.TotalResults--
			continue
		}
		if err != nil {
			return nil, err
		}
		page.Users = append(page.Users, u)
	}
	return page, nil
}

// memberIDsWithin returns the ids of the group's members when they are at most limit (any number when limit
// is not positive); within is false, and ids nil, when there are more. A group that does not exist has none.
func memberIDsWithin(ctx context.Context, gs GroupStore, gid string, limit int) (ids []string, within bool, err error) {
	within = true
	var stop error
	err = eachMember(gs.MemberIDs(ctx, gid), func(id string) bool {
		if len(ids)%1024 == 1023 {
			if stop = ctx.Err(); stop != nil {
				return false
			}
		}
		if limit > 0 && len(ids) >= limit {
			within = false
			return false
		}
		ids = append(ids, id)
		return true
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, true, nil
	case err != nil:
		return nil, false, err
	case stop != nil:
		return nil, false, stop
	case !within:
		return nil, false, nil
	}
	return ids, true, nil
}

// getUsers reads the users with the ids, scanBatch at a time, and hands each batch to add. Ids of users
// deleted in the meantime are skipped.
func (h *handler) getUsers(ctx context.Context, ids []string, add func([]*User) error) error {
	for chunk := range slices.Chunk(ids, scanBatch) {
		batch := make([]*User, 0, len(chunk))
		for _, id := range chunk {
			u, err := h.store.Get(ctx, id)
			if errors.Is(err, ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			batch = append(batch, u)
		}
		if err := add(batch); err != nil {
			return err
		}
	}
	return nil
}

// scanUsers hands add the users the Store's List returns for f (nil: every user), scanBatch at a time, in
// the Store's order: by cursor when the Store is a CursorLister (each page costs the same however deep),
// by index otherwise. More than maxScan of them (when positive) is ErrTooMany, known from the first page's
// TotalResults before any is examined. A user that index pages show twice (users created or deleted
// between pages) is handed over once.
func (h *handler) scanUsers(ctx context.Context, f filter.Expr, maxScan int, add func([]*User) error) error {
	q := Query{Filter: f, StartIndex: 1, Count: scanBatch, MaxScan: maxScan}
	cl, cursors := h.store.(CursorLister)
	cursor := ""
	seen := map[string]struct{}{}
	for {
		var page *Page
		var err error
		if cursors {
			q.StartIndex = 0
			page, err = cl.ListCursor(ctx, q, cursor)
		} else {
			page, err = h.store.List(ctx, q)
		}
		if err != nil {
			return err
		}
		if maxScan > 0 && (page.TotalResults > maxScan || len(seen)+len(page.Users) > maxScan) {
			return ErrTooMany
		}
		batch := make([]*User, 0, len(page.Users))
		for _, u := range page.Users {
			if _, dup := seen[u.ID]; !dup {
				seen[u.ID] = struct{}{}
				batch = append(batch, u)
			}
		}
		if err := add(batch); err != nil {
			return err
		}
		if cursors {
			if cursor = page.NextCursor; cursor == "" || len(page.Users) == 0 {
				return nil
			}
			continue
		}
		if len(page.Users) == 0 || q.StartIndex-1+len(page.Users) >= page.TotalResults {
			return nil
		}
		q.StartIndex += len(page.Users)
	}
}

// withoutGroups returns a filter without e's terms on groups that every user matching e matches too (on
// the side of a match, pos; under a not, !pos): a groups term is taken as true where a match needs it true
// and as false where it needs it false, so the result only widens. some is false when no user can match
// (the result is "false"); the filter is nil when every user can.
func withoutGroups(e filter.Expr, pos bool) (f filter.Expr, some bool) {
	switch x := e.(type) {
	case nil:
		return nil, true
	case *filter.Logical:
		l, lsome := withoutGroups(x.Left, pos)
		r, rsome := withoutGroups(x.Right, pos)
		if x.Op == filter.And {
			switch {
			case !lsome || !rsome:
				return nil, false
			case l == nil:
				return r, true
			case r == nil:
				return l, true
			}
			return &filter.Logical{Op: filter.And, Left: l, Right: r}, true
		}
		switch {
		case !lsome:
			return r, rsome
		case !rsome:
			return l, lsome
		case l == nil || r == nil:
			return nil, true
		}
		return &filter.Logical{Op: filter.Or, Left: l, Right: r}, true
	case *filter.Not:
		inner, some := withoutGroups(x.X, !pos)
		switch {
		case !some: // not false
			return nil, true
		case inner == nil: // not true
			return nil, false
		}
		return &filter.Not{X: inner}, true
	}
	if listing.Names(e, "groups") { // a comparison or value filter on groups
		return nil, pos
	}
	return e, true
}
