package scim

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// Matches reports whether u satisfies the query's filter (a nil filter matches every user). A Store that
// cannot translate a filter into its database's terms evaluates it with this.
func (q Query) Matches(u *User) bool {
	return q.Filter == nil || filter.MatchSource(q.Filter, newUserSource(u))
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

// pageOf cuts the 1-based page [start, start+count) out of items, clamping both ends.
func pageOf[T any](items []T, start, count int) []T {
	from := max(start, 1) - 1
	if from >= len(items) || count <= 0 {
		return []T{}
	}
	return items[from:min(from+count, len(items))]
}

// SortKey returns the value a resource sorts by for path p (RFC 7644 §3.4.2.3): for a multi-valued attribute
// its primary value, else its first; for a complex one its "value" sub-attribute unless p names another.
// Strings of attributes with caseExact false are folded; nil means unassigned.
func SortKey(doc map[string]any, p schema.Path) any {
	vals := filter.Values(doc, schema.Path{Schema: p.Schema, Attr: p.Attr})
	if len(vals) == 0 {
		return nil
	}
	v := vals[0]
	for _, e := range vals {
		if m, ok := e.(map[string]any); ok && m["primary"] == true {
			v = e
			break
		}
	}
	target := p.Attr
	if p.Attr.Type == schema.Complex {
		target = p.Sub
		if target == nil {
			target = p.Attr.Sub("value")
		}
		m, _ := v.(map[string]any)
		if target == nil || m == nil {
			return nil
		}
		v = m[target.Name]
	}
	switch x := v.(type) {
	case string:
		if target.Type == schema.DateTime {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return t
			}
		}
		if !target.CaseExact {
			return filter.Fold(x)
		}
		return x
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return v
}

// CompareSortKeys orders two sort keys; unassigned values sort last in ascending order and first in
// descending order, as if they were greater than every value.
func CompareSortKeys(a, b any, descending bool) int {
	c := compareKeys(a, b)
	if descending {
		return -c
	}
	return c
}

func compareKeys(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return cmp.Compare(x, y)
		}
	case float64:
		if y, ok := b.(float64); ok {
			return cmp.Compare(x, y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			return cmp.Compare(boolInt(x), boolInt(y))
		}
	case time.Time:
		if y, ok := b.(time.Time); ok {
			return x.Compare(y)
		}
	}
	return 0
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// doc returns the canonical JSON form of u as generic values (numbers as json.Number): the form that
// filters, PATCH and projection work on, all driven by the schema.
func (u *User) doc() map[string]any {
	b, err := json.Marshal(u)
	if err != nil {
		return map[string]any{} // a User always marshals: it holds only strings, bools and times
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	_ = d.Decode(&m)
	return m
}

// userFromDoc builds a User from a canonical document, as produced by schema.Normalize.
func userFromDoc(doc map[string]any) (*User, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	u := new(User)
	if err := json.Unmarshal(b, u); err != nil {
		return nil, err
	}
	return u, nil
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
