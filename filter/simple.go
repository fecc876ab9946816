package filter

import (
	"strings"

	"github.com/scimkit/scim/schema"
)

// parseSimple parses the single comparison that nearly all real traffic is (Entra ID sends only
// `userName eq "..."` and `externalId eq "..."`), or a run of them joined by one logical operator (an id list,
// a value filter's `type eq "work" and primary eq true`), without the general parser, whose machinery costs
// some 1,600 allocations and tens of microseconds a comparison. It reports false for anything else, and for
// anything invalid, which the general parser then parses or rejects. The two agree on every filter parseSimple
// accepts (TestSimpleAgrees, FuzzSimpleAgrees).
func parseSimple(rt *schema.ResourceType, s string) (Expr, bool) {
	return parseSimpleChain(rt.Resolve, s)
}

// parseSimpleChain parses comparisons joined by one operator, "and" or "or" (in any case, between runs of
// spaces, as the grammar has it), nested to the left as the general parser nests them: a or b or c is
// ((a or b) or c). Parentheses, "not", value filters and mixed operators are left to the general parser.
func parseSimpleChain(resolve func(string) (schema.Path, bool), s string) (Expr, bool) {
	s = strings.Trim(s, " \t\r\n")
	var out Expr
	var join Op
	for start, i := 0, 0; ; {
		next, op, end := nextJoin(s, i)
		if end < 0 { // a string literal is not closed
			return nil, false
		}
		piece := s[start:next]
		if piece == "" || piece != strings.Trim(piece, " \t\r\n") {
			return nil, false // the grammar allows only spaces, and only around the operator
		}
		e, ok := parseSimpleIn(resolve, piece)
		if !ok {
			return nil, false
		}
		if out == nil {
			out = e
		} else {
			out = &Logical{Op: join, Left: out, Right: e}
		}
		if op == "" {
			return out, true
		}
		if join != "" && op != join {
			return nil, false // and binds tighter than or: the general parser decides
		}
		join, start, i = op, end, end
	}
}

// nextJoin finds the first logical operator of s at or after i outside string literals: the index where the
// spaces before it start, the operator, and the index after the spaces that follow it. Without one it returns
// len(s), "" and len(s); end is -1 when a string literal is not closed.
func nextJoin(s string, i int) (at int, op Op, end int) {
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			for i++; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' {
					i++
				}
			}
			if i >= len(s) {
				return len(s), "", -1
			}
		case c == ' ':
			j := i
			for j < len(s) && s[j] == ' ' {
				j++
			}
			for _, o := range [...]Op{And, Or} {
				k := j + len(o)
				if k < len(s) && s[k] == ' ' && strings.EqualFold(s[j:k], string(o)) {
					e := k
					for e < len(s) && s[e] == ' ' {
						e++
					}
					return i, o, e
				}
			}
			i = j - 1
		}
	}
	return len(s), "", len(s)
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
// the general parser: an attribute path, then optionally a bracketed comparison (or a run of them joined by
// one operator) and a sub-attribute. It reports false for anything else, which ParsePath's general parser then decides
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
	f, ok := parseSimpleChain(subResolver(p.Attr), path[lb+1:rb])
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
