package scim

import (
	"container/heap"
	"context"
	"slices"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/listing"
	"github.com/scimkit/scim/shared/sortkey"
)

// Collector answers a query over users handed to it one at a time, in the Store's stable order: the
// streaming form of ApplyQuery, for a Store whose database cannot express a filter or a sort. It keeps only
// what the page needs (the page itself or, when sorting, a heap of the first StartIndex+Count-1 users in
// sort order, so memory grows with the page's depth, never with the tenant), and refuses the query with
// ErrTooMany once it has examined more than q.MaxScan users.
type Collector struct {
	ctx     context.Context
	q       Query
	from    int // 0-based index of the page's first user among the matches
	depth   int // matches a sorted page needs kept: from + Count
	scanned int
	matched int
	page    []*User
	heap    sortHeap
}

// NewCollector returns a Collector for q. ctx is checked as users are added, so a request that ran out of
// time stops scanning.
func NewCollector(ctx context.Context, q Query) *Collector {
	from := min(max(q.StartIndex, 1)-1, 1<<40) // 1<<40: no overflow below, and more than any tenant
	count := max(q.Count, 0)
	c := &Collector{ctx: ctx, q: q, from: from, depth: from + count}
	c.heap.desc = q.Descending
	return c
}

// Add examines one user. It returns ErrTooMany (wrapped) past q.MaxScan users, and the context's error once
// the context is done.
func (c *Collector) Add(u *User) error { return c.AddView(u, nil) }

// AddView is Add for a user the Store must not hand out as it is: view is examined and never retained (a
// scratch User the Store decodes each row into, or rebuilds a compact entry into, as memstore does), and
// keep, called only when the page keeps the user, returns the user to keep in its place. So a scan allocates
// a User for the page's users only. A nil keep keeps view.
func (c *Collector) AddView(view *User, keep func() *User) error {
	c.scanned++
	if c.q.MaxScan > 0 && c.scanned > c.q.MaxScan {
		return ErrTooMany
	}
	if c.scanned%64 == 0 { // cheap enough every time, but one in 64 is as good a bound
		if err := c.ctx.Err(); err != nil {
			return err
		}
	}
	src := newUserSource(view) // reads the struct; builds the document only if a path needs it, once
	if c.q.Filter != nil && !filter.MatchSource(c.q.Filter, src) {
		return nil
	}
	i := c.matched
	c.matched++
	if keep == nil {
		keep = func() *User { return view }
	}
	if c.q.SortBy.Attr == nil {
		if i >= c.from && i < c.depth {
			c.page = append(c.page, keep())
		}
		return nil
	}
	if c.depth == 0 {
		return nil
	}
	it := sortItem{key: sortkey.Of(src.doc(), c.q.SortBy), seq: i}
	switch {
	case c.heap.Len() < c.depth:
		it.u = keep()
		heap.Push(&c.heap, it)
	case c.heap.less(it, c.heap.items[0]): // better than the worst kept: it takes its place
		it.u = keep()
		c.heap.items[0] = it
		heap.Fix(&c.heap, 0)
	}
	return nil
}

// Page returns the page of the users added so far and how many of them matched.
func (c *Collector) Page() *Page {
	users := c.page
	if c.q.SortBy.Attr != nil {
		items := slices.Clone(c.heap.items)
		slices.SortFunc(items, func(a, b sortItem) int { return c.heap.cmp(a, b) })
		items = listing.Page(items, c.from+1, c.depth-c.from)
		users = make([]*User, len(items))
		for i, it := range items {
			users[i] = it.u
		}
	}
	if users == nil {
		users = []*User{}
	}
	return &Page{Users: users, TotalResults: c.matched}
}

// Scanned returns how many users were examined: what a Store reports to its metrics, and what tests count.
func (c *Collector) Scanned() int { return c.scanned }

// sortItem is a user kept for a sorted page, with its sort key and its position in the Store's order (the
// tiebreaker that keeps the sort stable).
type sortItem struct {
	u   *User
	key any
	seq int
}

// sortHeap is a max-heap in sort order: its root is the worst user kept, the first to go.
type sortHeap struct {
	items []sortItem
	desc  bool
}

func (h *sortHeap) cmp(a, b sortItem) int {
	if c := sortkey.Compare(a.key, b.key, h.desc); c != 0 {
		return c
	}
	return a.seq - b.seq
}

func (h *sortHeap) less(a, b sortItem) bool { return h.cmp(a, b) < 0 }

// Len, Less, Swap, Push and Pop implement heap.Interface (reversed Less: a max-heap).
func (h *sortHeap) Len() int           { return len(h.items) }
func (h *sortHeap) Less(i, j int) bool { return h.cmp(h.items[i], h.items[j]) > 0 }
func (h *sortHeap) Swap(i, j int)      { h.items[i], h.items[j] = h.items[j], h.items[i] }
func (h *sortHeap) Push(x any)         { h.items = append(h.items, x.(sortItem)) }
func (h *sortHeap) Pop() any {
	it := h.items[len(h.items)-1]
	h.items = h.items[:len(h.items)-1]
	return it
}
