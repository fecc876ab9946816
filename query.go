package scim

import (
	"context"
	"strings"

	"github.com/scimkit/scim/filter"
)

// Matches reports whether u satisfies the query's filter (a nil filter matches every user). A Store that
// cannot translate a filter into its database's terms evaluates it with this.
func (q Query) Matches(u *User) bool {
	return q.Filter == nil || filter.MatchSource(q.Filter, newUserSource(u))
}

// MatchesGroup reports whether g satisfies the query's filter (a nil filter matches every group), its
// attribute paths resolved against the Group schema and members compared over g.Members: the group
// counterpart of Matches, for a GroupStore that pages groups itself but cannot translate a filter.
func (q Query) MatchesGroup(g *Group) bool {
	return q.Filter == nil || filter.Match(q.Filter, g.doc())
}

// ApplyQuery answers q over users in Go: it filters, sorts (stably, so users keep their given order among
// equals) and cuts out the page. It is the whole List of a Store that keeps few users. Its cost is a
// conversion of every user to its canonical document and the evaluation of the filter on it (some
// microseconds a user), on top of holding users in memory: a Store of thousands of users should stream them
// into a Collector instead, which keeps only the page and enforces q.MaxScan. ApplyQuery ignores MaxScan.
func ApplyQuery(users []*User, q Query) *Page {
	q.MaxScan = 0
	c := NewCollector(context.Background(), q)
	for _, u := range users {
		_ = c.Add(u) // without MaxScan and with a context that never ends, Add cannot fail
	}
	return c.Page()
}

// Equal returns the value v when the query's filter is exactly `attr eq v` for the named top-level attribute
// of the core schema (compared without case: "userName", "externalId", "id"), so that a Store answers the hot
// lookups (Entra ID's `userName eq "…"` before every create, `externalId eq "…"`) from an index without
// taking the filter apart itself. userName compares without case (filter.Fold gives the key every part of
// the library compares); externalId and id compare exactly.
func (q Query) Equal(attr string) (string, bool) {
	c, ok := q.Filter.(*filter.Compare)
	if !ok || c.Op != filter.Eq || c.Path.Sub != nil || c.Path.Attr == nil || c.Path.Extension() ||
		!strings.EqualFold(c.Path.Attr.Name, attr) {
		return "", false
	}
	v, ok := c.Value.(string)
	return v, ok
}
