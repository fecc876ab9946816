package filter

import "github.com/scimkit/scim/schema"

// Source gives the values of a resource at an attribute path, in the form Values gives them from the
// resource's canonical document: one per element of a multi-valued attribute (each element's sub-attribute
// when p.Sub is set), strings, bools, json.Number for numbers, dateTimes as RFC 3339 strings, map[string]any
// for complex values, and nothing when unassigned. It lets a filter run over a typed resource without
// building its whole document.
type Source interface {
	Values(p schema.Path) []any
}

// MatchSource is Match over a Source: it reports whether the resource s gives values of satisfies e, with
// the same results as Match over the resource's canonical document. Value filters ("emails[type eq "work"]")
// are evaluated on the elements s gives for the attribute, which must be map[string]any.
func MatchSource(e Expr, s Source) bool {
	switch e := e.(type) {
	case *Logical:
		if e.Op == And {
			return MatchSource(e.Left, s) && MatchSource(e.Right, s)
		}
		return MatchSource(e.Left, s) || MatchSource(e.Right, s)
	case *Not:
		return !MatchSource(e.X, s)
	case *ValuePath:
		for _, v := range s.Values(e.Path) {
			if m, ok := v.(map[string]any); ok && Match(e.Filter, m) {
				return true
			}
		}
		return false
	case *Compare:
		return matchCompare(e, s.Values(e.Path))
	}
	return false
}

// Doc is a Source over a canonical document.
type Doc map[string]any

// Values implements Source.
func (d Doc) Values(p schema.Path) []any { return Values(d, p) }
