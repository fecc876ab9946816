// Package sortkey is the order of sortBy (RFC 7644 §3.4.2.3) over canonical documents, beside filter.Match,
// which selects them: the reference order. Every store of this repository that sorts in Go uses it (the root
// module's list collectors, through which memstore sorts, and sqlstore's group lists), and sqlstore's SQL
// compiler writes the same order in SQL, tested against it.
//
// It exists for the sibling modules of this repository and follows no compatibility promise (see package
// github.com/scimkit/scim/shared): hosts must not import it. A host's Store sorts through scim.Collector.
package sortkey

import (
	"cmp"
	"encoding/json"
	"time"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// Of returns the value a resource sorts by for path p (RFC 7644 §3.4.2.3): for a multi-valued attribute
// its primary value, else its first; for a complex one its "value" sub-attribute unless p names another.
// Strings of attributes with caseExact false are folded; nil means unassigned.
func Of(doc map[string]any, p schema.Path) any {
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

// Compare orders two sort keys; unassigned values sort last in ascending order and first in
// descending order, as if they were greater than every value.
func Compare(a, b any, descending bool) int {
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
