// Package document reads and writes attributes in the canonical JSON form of a resource (a map[string]any
// whose keys are the schema's spelling, extension attributes under their schema URN): what normalisation,
// PATCH, projection and filters all walk.
package document

import "github.com/scimkit/scim/schema"

// Get returns the value of p's attribute (ignoring p.Sub) in the canonical document doc, or nil.
func Get(doc map[string]any, p schema.Path) any {
	if c := Container(doc, p, false); c != nil && p.Attr != nil {
		return c[p.Attr.Name]
	}
	return nil
}

// Container returns the object of doc that holds p's attribute: doc itself for core attributes, the object
// under the extension's URN for extension attributes (created when create is set, else nil if absent).
func Container(doc map[string]any, p schema.Path, create bool) map[string]any {
	if !p.Extension() {
		return doc
	}
	m, _ := doc[p.Schema.ID].(map[string]any)
	if m == nil && create {
		m = map[string]any{}
		doc[p.Schema.ID] = m
	}
	return m
}
