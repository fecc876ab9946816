// Package stored holds the stored form of resources that the SQL stores (module github.com/scimkit/scim/sqlstore)
// and the benchmark's seeding share: the folded search copy of a document and the text form of times.
//
// It exists for the sibling modules of this repository and follows no compatibility promise (see package
// github.com/scimkit/scim/shared): hosts must not import it.
package stored

import (
	"strings"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// TimeLayout is the text form of a dateTime column: UTC with exactly nine fractional digits, so that the
// lexical order of two values is their time order (for years 0000 to 9999).
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// FoldDocument returns a deep copy of a canonical document with the strings of every caseExact false attribute
// and sub-attribute (of the types compared as strings: string, reference, binary) replaced by filter.Fold(s): the
// search copy SQL stores keep beside the document, so that SQL compares exactly as filter.Match does.
func FoldDocument(rt *schema.ResourceType, doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		if ext := rt.Extension(k); ext != nil {
			if m, ok := v.(map[string]any); ok {
				ex := make(map[string]any, len(m))
				for ek, ev := range m {
					ex[ek] = foldValue(ext.Attr(ek), ev)
				}
				out[k] = ex
				continue
			}
		}
		a := rt.Core.Attr(k)
		if a == nil {
			for _, ca := range rt.Common {
				if strings.EqualFold(ca.Name, k) {
					a = ca
				}
			}
		}
		out[k] = foldValue(a, v)
	}
	return out
}

func foldValue(a *schema.Attribute, v any) any {
	switch v := v.(type) {
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = foldValue(a, e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, sv := range v {
			var sub *schema.Attribute
			if a != nil && a.Type == schema.Complex {
				sub = a.Sub(k)
			}
			out[k] = foldValue(sub, sv)
		}
		return out
	case string:
		if a != nil && Folded(a) {
			return filter.Fold(v)
		}
	}
	return v
}

// Folded reports whether filter.Match folds the values of a: attributes compared as strings, caseExact false.
func Folded(a *schema.Attribute) bool {
	switch a.Type {
	case schema.Boolean, schema.Integer, schema.Decimal, schema.DateTime, schema.Complex:
		return false
	}
	return !a.CaseExact
}
