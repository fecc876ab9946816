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
	p, ok := rt.Resolve(path)
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
