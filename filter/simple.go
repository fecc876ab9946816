package filter

import (
	"strings"

	"github.com/scimkit/scim/schema"
)

// parseSimple parses the single comparison that nearly all real traffic is (Entra ID sends only
// `userName eq "..."` and `externalId eq "..."`) without the general parser, whose machinery costs some 1,600
// allocations a filter. It reports false for anything else, and for anything invalid, which the general parser
// then parses or rejects. The two agree on every filter parseSimple accepts (TestSimpleAgrees, FuzzSimpleAgrees).
func parseSimple(rt *schema.ResourceType, s string) (Expr, bool) {
	return parseSimpleIn(rt.Resolve, s)
}

// parseSimpleIn is parseSimple with attribute names resolved by resolve: the resource type's, or, inside a
// value filter, a multi-valued attribute's sub-attributes (subResolver).
func parseSimpleIn(resolve func(string) (schema.Path, bool), s string) (Expr, bool) {
	s = strings.Trim(s, " \t\r\n")
	// The attribute path: letters, digits and the punctuation of sub-attributes and URNs. Brackets, quotes,
	// parentheses and spaces end it; the grammar's details are left to Resolve.
	i := 0
	for i < len(s) && isPathByte(s[i]) {
		i++
	}
	path, rest := s[:i], s[i:]
	if path == "" || !startsWithSpace(rest) {
		return nil, false
	}
	rest = strings.TrimLeft(rest, " \t\r\n")
	j := 0
	for j < len(rest) && isLetter(rest[j]) {
		j++
	}
	op, rest := Op(strings.ToLower(rest[:j])), rest[j:]
	var value any
	if op == Pr {
		if rest != "" {
			return nil, false
		}
	} else {
		switch op {
		case Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le:
		default:
			return nil, false
		}
		if !startsWithSpace(rest) {
			return nil, false
		}
		rest = strings.TrimLeft(rest, " \t\r\n")
		var ok bool
		if value, ok = simpleLiteral(rest); !ok {
			return nil, false
		}
	}
	p, ok := resolve(path)
	if !ok || p.Attr == nil {
		return nil, false
	}
	c, err := newCompare(p, op, value)
	if err != nil {
		return nil, false
	}
	return c, true
}

// simpleLiteral reads a whole compare value: a JSON string, true, false or null (in any case, as the general
// parser reads them). Numbers are left to the general parser.
func simpleLiteral(s string) (any, bool) {
	if strings.HasPrefix(s, `"`) {
		end, v, err := scanString(s, 0)
		if err != nil || end != len(s)-1 {
			return nil, false
		}
		return v, true
	}
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	case "null":
		return nil, true
	}
	return nil, false
}

func isPathByte(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '.' || c == ':' || c == '_' || c == '-' || c == '$'
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func startsWithSpace(s string) bool {
	return s != "" && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n')
}

// subResolver resolves the plain names of parent's sub-attributes, as value filters name them.
func subResolver(parent *schema.Attribute) func(string) (schema.Path, bool) {
	return func(name string) (schema.Path, bool) {
		if strings.ContainsAny(name, ".:") {
			return schema.Path{}, false
		}
		sub := parent.Sub(name)
		return schema.Path{Attr: sub}, sub != nil
	}
}

// parseSimplePath parses the PATCH paths real clients send (Entra's emails[type eq "work"].value) without
// the general parser: an attribute path, then optionally one bracketed single comparison and a
// sub-attribute. It reports false for anything else, which ParsePath's general parser then decides
// (TestSimplePathAgrees, FuzzSimplePathAgrees).
func parseSimplePath(rt *schema.ResourceType, path string) (PatchPath, bool) {
	path = strings.Trim(path, " \t\r\n")
	lb := strings.IndexByte(path, '[')
	if lb < 0 {
		for i := 0; i < len(path); i++ {
			if !isPathByte(path[i]) {
				return PatchPath{}, false
			}
		}
		p, ok := rt.Resolve(path)
		return PatchPath{Path: p}, ok && path != ""
	}
	rb := strings.LastIndexByte(path, ']')
	if rb < lb {
		return PatchPath{}, false
	}
	for i := 0; i < lb; i++ {
		if !isPathByte(path[i]) {
			return PatchPath{}, false
		}
	}
	p, ok := rt.Resolve(path[:lb])
	if !ok || p.Attr == nil || p.Sub != nil || !p.Attr.MultiValued || p.Attr.Type != schema.Complex {
		return PatchPath{}, false
	}
	f, ok := parseSimpleIn(subResolver(p.Attr), path[lb+1:rb])
	if !ok {
		return PatchPath{}, false
	}
	out := PatchPath{Path: p, Filter: f}
	switch suffix := path[rb+1:]; {
	case suffix == "":
	case len(suffix) > 1 && suffix[0] == '.' && allLetters(suffix[1:]):
		if out.Path.Sub = p.Attr.Sub(suffix[1:]); out.Path.Sub == nil {
			return PatchPath{}, false
		}
	default:
		return PatchPath{}, false
	}
	return out, true
}

func allLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) && s[i] != '$' {
			return false
		}
	}
	return true
}
