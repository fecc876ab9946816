package normalize

import (
	"strings"

	"github.com/scimkit/scim/schema"
)

// IsFull reports whether rt has every attribute of the core and enterprise User schemas, as the undeclared
// default does: the handler then needs no trimming of what a Store returns.
func IsFull(rt *schema.ResourceType) bool {
	full := schema.User()
	if len(rt.Core.Attributes) != len(full.Core.Attributes) || len(rt.Common) != len(full.Common) {
		return false
	}
	for _, e := range full.Extensions {
		if mine := rt.Extension(e.Schema.ID); mine == nil || len(mine.Attributes) != len(e.Schema.Attributes) {
			return false
		}
	}
	return true
}

// Trim removes from the canonical document doc every attribute and sub-attribute rt does not have: what a
// Store kept from before its declaration shrank is dropped at the next write instead of carried along.
func Trim(rt *schema.ResourceType, doc map[string]any) {
	for k, v := range doc {
		if k == "schemas" {
			continue
		}
		if ext := rt.Extension(k); ext != nil {
			if m, ok := v.(map[string]any); ok {
				trimAttrs(ext.Attributes, m)
				if len(m) > 0 {
					continue
				}
			}
			delete(doc, k)
			continue
		}
		a := rt.Core.Attr(k)
		if a == nil {
			a = find(rt.Common, k)
		}
		if a == nil {
			delete(doc, k)
			continue
		}
		trimSubs(a, v)
	}
}

func trimAttrs(attrs []*schema.Attribute, m map[string]any) {
	for k, v := range m {
		a := find(attrs, k)
		if a == nil {
			delete(m, k)
			continue
		}
		trimSubs(a, v)
	}
}

// trimSubs removes the sub-attributes a does not have from a complex value (or each element of one).
func trimSubs(a *schema.Attribute, v any) {
	if a.Type != schema.Complex {
		return
	}
	switch v := v.(type) {
	case map[string]any:
		trimAttrs(a.SubAttributes, v)
	case []any:
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				trimAttrs(a.SubAttributes, m)
			}
		}
	}
}

// find returns the attribute of attrs called name, compared without case, or nil.
func find(attrs []*schema.Attribute, name string) *schema.Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}
