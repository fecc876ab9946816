package scim

import (
	"context"
	"slices"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/listing"
	"github.com/scimkit/scim/shared/sortkey"
)

// GroupCollector answers a query over groups handed to it one at a time, in the GroupStore's stable order:
// Collector's counterpart for ListGroups, for a GroupStore whose database cannot express a filter (its
// attribute paths resolved against the Group schema) or a sort. It keeps only what the page needs (the page
// itself or, when sorting, at most about twice the groups up to the page's end), and refuses the query with
// ErrTooMany once it has examined more than q.MaxScan groups.
//
// A filter on members (members[value eq "<id>"], members eq "<id>") is evaluated over each group's
// Members: when NeedsMembers reports true, add groups with their Members loaded (the ids suffice), or
// narrow the rows to the member's groups first. The page holds the groups as they were added; the Store
// then loads the members its GroupRead asks for (and clears any it loaded only to filter).
type GroupCollector struct {
	ctx     context.Context
	q       Query
	from    int // 0-based index of the page's first group among the matches
	depth   int // matches a page needs kept: from + Count
	scanned int
	matched int
	page    []*Group
	sorted  []groupItem // when sorting: the best matches so far, cut back to depth now and then
}

// groupItem is a group kept for a sorted page, with its sort key and its position in the Store's order.
type groupItem struct {
	g   *Group
	key any
	seq int
}

// NewGroupCollector returns a GroupCollector for q. ctx is checked as groups are added, so a request that
// ran out of time stops scanning.
func NewGroupCollector(ctx context.Context, q Query) *GroupCollector {
	from := min(max(q.StartIndex, 1)-1, 1<<40) // 1<<40: no overflow below, and more than any tenant
	return &GroupCollector{ctx: ctx, q: q, from: from, depth: from + max(q.Count, 0)}
}

// NeedsMembers reports whether the query's filter compares members, so that the groups added must carry
// their Members.
func (c *GroupCollector) NeedsMembers() bool {
	return c.q.Filter != nil && listing.Names(c.q.Filter, "members")
}

// Add examines one group. It returns ErrTooMany (wrapped) past q.MaxScan groups, and the context's error
// once the context is done.
func (c *GroupCollector) Add(g *Group) error {
	c.scanned++
	if c.q.MaxScan > 0 && c.scanned > c.q.MaxScan {
		return ErrTooMany
	}
	if c.scanned%64 == 0 { // as Collector: one check in 64 bounds the work after the deadline
		if err := c.ctx.Err(); err != nil {
			return err
		}
	}
	var doc map[string]any
	if c.q.Filter != nil {
		doc = g.doc()
		if !filter.Match(c.q.Filter, doc) {
			return nil
		}
	}
	i := c.matched
	c.matched++
	if c.q.SortBy.Attr == nil {
		if i >= c.from && i < c.depth {
			c.page = append(c.page, g)
		}
		return nil
	}
	if c.depth == 0 {
		return nil
	}
	if doc == nil {
		doc = g.doc()
	}
	c.sorted = append(c.sorted, groupItem{g: g, key: sortkey.Of(doc, c.q.SortBy), seq: i})
	if len(c.sorted) >= 2*c.depth+64 { // amortised: a sort every depth+64 matches keeps memory at O(depth)
		c.cut()
	}
	return nil
}

// cut sorts the kept groups and drops those past the page's end.
func (c *GroupCollector) cut() {
	slices.SortFunc(c.sorted, func(a, b groupItem) int {
		if k := sortkey.Compare(a.key, b.key, c.q.Descending); k != 0 {
			return k
		}
		return a.seq - b.seq
	})
	c.sorted = c.sorted[:min(len(c.sorted), c.depth)]
}

// Page returns the page of the groups added so far and how many of them matched.
func (c *GroupCollector) Page() *GroupPage {
	groups := c.page
	if c.q.SortBy.Attr != nil {
		c.cut()
		groups = nil
		for _, it := range listing.Page(c.sorted, c.from+1, c.depth-c.from) {
			groups = append(groups, it.g)
		}
	}
	if groups == nil {
		groups = []*Group{}
	}
	return &GroupPage{Groups: groups, TotalResults: c.matched}
}

// Scanned returns how many groups were examined.
func (c *GroupCollector) Scanned() int { return c.scanned }

// ApplyGroupQuery answers q over groups in Go, as ApplyQuery does over users: it filters, sorts (stably)
// and cuts out the page, ignoring MaxScan. It is the whole ListGroups of a GroupStore that keeps few
// groups; a filter on members sees each group's Members, so pass groups with them loaded when
// NeedsMembers would say so.
func ApplyGroupQuery(groups []*Group, q Query) *GroupPage {
	q.MaxScan = 0
	c := NewGroupCollector(context.Background(), q)
	for _, g := range groups {
		_ = c.Add(g) // without MaxScan and with a context that never ends, Add cannot fail
	}
	return c.Page()
}
