// Package project selects the attributes a response carries (RFC 7644 §3.4.2.5, §3.9): the attributes and
// excludedAttributes parameters, and the "returned" rule of each attribute.
package project

import (
	"slices"

	"github.com/scimkit/scim/internal/document"
	"github.com/scimkit/scim/schema"
)

// Projection selects the attributes a response carries (RFC 7644 §3.4.2.5, §3.9): with Attributes set only
// those (plus "returned: always" ones), else all "returned: default" ones minus Excluded. "returned: never"
// attributes (password) are never included, "returned: request" ones only when asked for by name.
type Projection struct {
	Attributes []schema.Path
	Excluded   []schema.Path
	// sel is what selects answers for every attribute and sub-attribute of the resource type, computed once
	// by Parse: rendering an element then costs a lookup, not a pass over every name listed (up to 100 names
	// times every sub-attribute of every element of every user of a page).
	sel map[selKey]selection
}

type selKey struct{ attr, sub *schema.Attribute }

// Parse resolves the comma-separated lists of the attributes and excludedAttributes parameters.
// Names that resolve to nothing are ignored, as RFC 7644 §3.4.2.5 asks of unknown attribute names.
func Parse(rt *schema.ResourceType, attributes, excluded []string) Projection {
	var p Projection
	for _, name := range attributes {
		if path, ok := rt.Resolve(name); ok {
			p.Attributes = append(p.Attributes, path)
		}
	}
	for _, name := range excluded {
		if path, ok := rt.Resolve(name); ok {
			p.Excluded = append(p.Excluded, path)
		}
	}
	if !p.IsDefault() {
		sel := map[selKey]selection{}
		for _, s := range rt.Schemas() {
			attrs := s.Attributes
			if s == rt.Core {
				attrs = append(slices.Clip(attrs), rt.Common...)
			}
			for _, a := range attrs {
				sel[selKey{a, nil}] = p.compute(schema.Path{Schema: s, Attr: a})
				for _, sub := range a.SubAttributes {
					sel[selKey{a, sub}] = p.compute(schema.Path{Schema: s, Attr: a, Sub: sub})
				}
			}
		}
		p.sel = sel
	}
	return p
}

// IsDefault reports whether the projection asks for nothing beyond the default attribute set.
func (p Projection) IsDefault() bool { return len(p.Attributes) == 0 && len(p.Excluded) == 0 }

// Includes reports whether the projection returns the attribute p names (some of its sub-attributes at
// least), so that the handler computes an attribute (a user's groups, a group's members) only when it will
// be sent.
func (p Projection) Includes(path schema.Path) bool {
	return path.Attr != nil && p.selects(schema.Path{Schema: path.Schema, Attr: path.Attr}) != selectNone
}

// Names reports whether Attributes names the attribute of path (or one of its sub-attributes) explicitly:
// what a list of groups needs before it loads members, which it leaves out by default.
func (p Projection) Names(path schema.Path) bool {
	for _, q := range p.Attributes {
		if path.Attr != nil && q.Schema == path.Schema && q.Attr == path.Attr {
			return true
		}
	}
	return false
}

// Apply returns a copy of the canonical document doc holding only the projected attributes. The "schemas"
// key is always kept.
func Apply(rt *schema.ResourceType, p Projection, doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for _, s := range rt.Schemas() {
		src := document.Container(doc, schema.Path{Schema: s}, false)
		if src == nil {
			continue
		}
		var dst map[string]any
		for _, a := range s.Attributes {
			applyAttr(p, schema.Path{Schema: s, Attr: a}, src, func() map[string]any {
				if dst == nil {
					dst = document.Container(out, schema.Path{Schema: s}, true)
				}
				return dst
			})
		}
		if s == rt.Core {
			for _, a := range rt.Common {
				applyAttr(p, schema.Path{Schema: s, Attr: a}, src, func() map[string]any { return out })
			}
		}
	}
	// schemas names the core schema and the extensions the projected resource still has.
	schemas := []any{rt.Core.ID}
	for _, e := range rt.Extensions {
		if _, ok := out[e.Schema.ID]; ok {
			schemas = append(schemas, e.Schema.ID)
		}
	}
	out["schemas"] = schemas
	return out
}

func applyAttr(p Projection, path schema.Path, src map[string]any, dst func() map[string]any) {
	v, ok := src[path.Attr.Name]
	if !ok {
		return
	}
	switch sel := p.selects(path); sel {
	case selectNone:
	case selectAll:
		dst()[path.Attr.Name] = v
	case selectSome:
		if sv := projectSubs(p, path, v); sv != nil {
			dst()[path.Attr.Name] = sv
		}
	}
}

type selection int

const (
	selectNone selection = iota
	selectSome           // only some sub-attributes
	selectAll
)

func (p Projection) selects(path schema.Path) selection {
	if sel, ok := p.sel[selKey{path.Attr, path.Sub}]; ok {
		return sel
	}
	return p.compute(path)
}

// compute is selects without the table Parse made.
func (p Projection) compute(path schema.Path) selection {
	a := path.Target()
	switch a.Returned {
	case schema.Never:
		return selectNone
	case schema.Always:
		return selectAll
	}
	if len(p.Attributes) > 0 {
		best := selectNone
		for _, q := range p.Attributes {
			switch {
			case !sameAttr(q, path):
			case q.Attr == nil || q.Sub == nil || path.Sub != nil && q.Sub == path.Sub:
				return selectAll
			case path.Sub == nil:
				best = selectSome // asked for a sub-attribute of this attribute
			}
		}
		return best
	}
	if a.Returned == schema.Request {
		return selectNone
	}
	for _, q := range p.Excluded {
		switch {
		case !sameAttr(q, path):
		case q.Attr == nil || q.Sub == nil || q.Sub == path.Sub:
			return selectNone
		case path.Sub == nil:
			return selectSome
		}
	}
	if path.Sub == nil && hasSubRule(a) {
		return selectSome
	}
	return selectAll
}

// hasSubRule reports whether a complex attribute has sub-attributes whose own "returned" rule differs from
// the default, so it must be projected sub-attribute by sub-attribute.
func hasSubRule(a *schema.Attribute) bool {
	for _, s := range a.SubAttributes {
		if s.Returned == schema.Never || s.Returned == schema.Request {
			return true
		}
	}
	return false
}

// sameAttr reports whether the requested path q names path's attribute, or the whole extension it is in.
func sameAttr(q, path schema.Path) bool {
	return q.Schema == path.Schema && (q.Attr == nil || q.Attr == path.Attr)
}

// projectSubs projects the sub-attributes of a complex value (or of each element of a multi-valued one).
func projectSubs(p Projection, path schema.Path, v any) any {
	one := func(m map[string]any) map[string]any {
		out := map[string]any{}
		for _, sub := range path.Attr.SubAttributes {
			sv, ok := m[sub.Name]
			if !ok {
				continue
			}
			if p.selects(schema.Path{Schema: path.Schema, Attr: path.Attr, Sub: sub}) == selectAll {
				out[sub.Name] = sv
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	switch v := v.(type) {
	case map[string]any:
		if m := one(v); m != nil {
			return m
		}
	case []any:
		var out []any
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				if pm := one(m); pm != nil {
					out = append(out, pm)
				}
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return nil
}
