package filter

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim/internal/document"
	"github.com/scimkit/scim/schema"
)

// Match reports whether the canonical JSON form of a resource (as produced by encoding/json, numbers as
// float64 or json.Number) satisfies e. Multi-valued attributes match when any value does (RFC 7644
// §3.4.2.2); "ne" is the negation of "eq", so a resource without the attribute matches "title ne "x"".
func Match(e Expr, doc map[string]any) bool {
	switch e := e.(type) {
	case *Logical:
		if e.Op == And {
			return Match(e.Left, doc) && Match(e.Right, doc)
		}
		return Match(e.Left, doc) || Match(e.Right, doc)
	case *Not:
		return !Match(e.X, doc)
	case *ValuePath:
		for _, v := range Values(doc, e.Path) {
			if m, ok := v.(map[string]any); ok && Match(e.Filter, m) {
				return true
			}
		}
		return false
	case *Compare:
		return matchCompare(e, Values(doc, e.Path))
	}
	return false
}

// Values returns the values at path p of the canonical document doc: one per element for a multi-valued
// attribute (each element's sub-attribute when p.Sub is set), nothing when unassigned. Inside a value filter
// (p.Schema nil) doc is the element itself.
func Values(doc map[string]any, p schema.Path) []any {
	c := document.Container(doc, p, false)
	if c == nil || p.Attr == nil {
		return nil
	}
	v, ok := c[p.Attr.Name]
	if !ok || v == nil {
		return nil
	}
	list, multi := v.([]any)
	if !multi {
		list = []any{v}
	}
	if p.Sub == nil {
		return list
	}
	out := make([]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			if sv, ok := m[p.Sub.Name]; ok && sv != nil {
				out = append(out, sv)
			}
		}
	}
	return out
}

func matchCompare(c *Compare, values []any) bool {
	switch {
	case c.Op == Pr:
		for _, v := range values {
			if present(v) {
				return true
			}
		}
		return false
	case c.Value == nil: // eq null: unassigned; ne null: assigned
		has := false
		for _, v := range values {
			has = has || present(v)
		}
		return has == (c.Op == Ne)
	case c.Op == Ne:
		return !anyMatch(c, Eq, values)
	}
	return anyMatch(c, c.Op, values)
}

func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

func anyMatch(c *Compare, op Op, values []any) bool {
	a := c.Path.Target()
	for _, v := range values {
		if compareOne(a, op, v, c.Value) {
			return true
		}
	}
	return false
}

// compareOne applies op to one attribute value and the filter's literal, by the attribute's type. A literal of
// the wrong type (only possible in an Expr built by hand, Parse checks them) matches nothing.
func compareOne(a *schema.Attribute, op Op, v, lit any) bool {
	switch a.Type {
	case schema.Boolean:
		b, ok := v.(bool)
		l, lok := lit.(bool)
		return ok && lok && op == Eq && b == l
	case schema.Integer, schema.Decimal:
		x, ok := number(v)
		y, lok := number(lit)
		return ok && lok && ordered(op, cmpFloat(x, y))
	case schema.DateTime:
		s, ok := v.(string)
		l, lok := lit.(string)
		if !ok || !lok {
			return false
		}
		if op == Co || op == Sw || op == Ew {
			return substring(op, s, l)
		}
		x, err1 := time.Parse(time.RFC3339Nano, s)
		y, err2 := time.Parse(time.RFC3339Nano, l)
		return err1 == nil && err2 == nil && ordered(op, x.Compare(y))
	}
	s, ok := v.(string)
	l, lok := lit.(string)
	if !ok || !lok {
		return false
	}
	if !a.CaseExact {
		s, l = Fold(s), Fold(l)
	}
	if op == Co || op == Sw || op == Ew {
		return substring(op, s, l)
	}
	return ordered(op, strings.Compare(s, l))
}

func substring(op Op, s, l string) bool {
	switch op {
	case Co:
		return strings.Contains(s, l)
	case Sw:
		return strings.HasPrefix(s, l)
	}
	return strings.HasSuffix(s, l)
}

func ordered(op Op, c int) bool {
	switch op {
	case Eq:
		return c == 0
	case Gt:
		return c > 0
	case Ge:
		return c >= 0
	case Lt:
		return c < 0
	case Le:
		return c <= 0
	}
	return false
}

func cmpFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

func number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}
