// Package listing holds what both the handler and memstore need to answer a list: the page cut out of
// matches, and the questions they ask of a filter about multi-valued references (a group's members, a
// user's groups), which the handler resolves through a GroupStore and memstore from its membership index.
package listing

import (
	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// Page cuts the 1-based page [start, start+count) out of items, clamping both ends.
func Page[T any](items []T, start, count int) []T {
	from := max(start, 1) - 1
	if from >= len(items) || count <= 0 {
		return []T{}
	}
	return items[from:min(from+count, len(items))]
}

// ValueEq recognises the comparison of a multi-valued reference attribute's value with one id: attr.value
// eq "x", attr eq "x" (the parser reads it as attr.value) or attr[value eq "x"], for attr "members" of a
// group or "groups" of a user.
func ValueEq(e filter.Expr, attr string) (string, bool) {
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

// PinnedValue returns the id a filter requires attr to hold (attr.value eq "x" as ValueEq reads it, alone or
// as a side of an "and"): for "groups", the group whose members alone can match.
func PinnedValue(e filter.Expr, attr string) (string, bool) {
	if v, ok := ValueEq(e, attr); ok {
		return v, true
	}
	if l, ok := e.(*filter.Logical); ok && l.Op == filter.And {
		if v, ok := PinnedValue(l.Left, attr); ok {
			return v, true
		}
		return PinnedValue(l.Right, attr)
	}
	return "", false
}

// Names reports whether the filter compares the core attribute attr anywhere (false for a nil filter).
func Names(e filter.Expr, attr string) bool {
	switch x := e.(type) {
	case *filter.Logical:
		return Names(x.Left, attr) || Names(x.Right, attr)
	case *filter.Not:
		return Names(x.X, attr)
	case *filter.ValuePath:
		return x.Path.Attr != nil && x.Path.Attr.Name == attr && !x.Path.Extension()
	case *filter.Compare:
		return x.Path.Attr != nil && x.Path.Attr.Name == attr && x.Path.Schema != nil && !x.Path.Extension()
	}
	return false
}

// SortsBy reports whether a sortBy path is the core attribute attr.
func SortsBy(p schema.Path, attr string) bool {
	return p.Attr != nil && p.Attr.Name == attr && !p.Extension()
}
