// Package schema holds the SCIM resource schemas as data: what a host declares its resources keep
// (DeclareUser, its own extensions), attribute metadata (RFC 7643 §2, §7), case-insensitive path resolution,
// and the JSON that /Schemas serves.
//
// One table drives everything: the handler's validation, attribute names without case, PATCH paths, filter
// attribute resolution, projection and the discovery endpoints all read the same *Attribute values. The User and
// enterprise User definitions come from github.com/elimity-com/scim/schema, so the RFC tables are not retyped.
//
// A host declares the User resource it keeps with DeclareUser; the guide is [docs/schema.md].
//
// [docs/schema.md]: https://github.com/scimkit/scim/blob/main/docs/schema.md
package schema

import (
	"strings"
)

// Schema URNs defined by RFC 7643 and RFC 7644.
const (
	UserURN           = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupURN          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserURN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	SchemaURN         = "urn:ietf:params:scim:schemas:core:2.0:Schema"
	ResourceTypeURN   = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	ServiceConfigURN  = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	ListResponseURN   = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	PatchOpURN        = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SearchRequestURN  = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
	ErrorURN          = "urn:ietf:params:scim:api:messages:2.0:Error"
	BulkRequestURN    = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
	BulkResponseURN   = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
)

// Type is an attribute's data type (RFC 7643 §2.3).
type Type string

// The data types of RFC 7643 §2.3.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Binary    Type = "binary"
	Reference Type = "reference"
	Complex   Type = "complex"
)

// Mutability is whether and when a client may write an attribute (RFC 7643 §7).
type Mutability string

// The mutability values of RFC 7643 §7.
const (
	ReadOnly  Mutability = "readOnly"
	ReadWrite Mutability = "readWrite"
	Immutable Mutability = "immutable"
	WriteOnly Mutability = "writeOnly"
)

// Returned is when a response carries an attribute (RFC 7643 §7).
type Returned string

// The returned values of RFC 7643 §7.
const (
	Always    Returned = "always"
	Never     Returned = "never"
	ByDefault Returned = "default"
	Request   Returned = "request"
)

// Uniqueness is the scope in which an attribute's value is unique (RFC 7643 §7).
type Uniqueness string

// The uniqueness values of RFC 7643 §7.
const (
	UniqueNone   Uniqueness = "none"
	UniqueServer Uniqueness = "server"
	UniqueGlobal Uniqueness = "global"
)

// Attribute describes one attribute or sub-attribute (RFC 7643 §7).
type Attribute struct {
	Name            string       `json:"name"`
	Type            Type         `json:"type"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description"`
	Required        bool         `json:"required"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      Mutability   `json:"mutability"`
	Returned        Returned     `json:"returned"`
	Uniqueness      Uniqueness   `json:"uniqueness"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
	SubAttributes   []*Attribute `json:"subAttributes,omitempty"`
}

// Sub returns the sub-attribute called name, compared without case, or nil.
func (a *Attribute) Sub(name string) *Attribute {
	return find(a.SubAttributes, name)
}

// Schema is one schema of a resource type: its core schema or an extension (RFC 7643 §7).
type Schema struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Attributes  []*Attribute `json:"attributes"`
	// core marks the core schema of a declared resource type (Declare): its attributes sit at the top
	// level of a resource, as User's and Group's do.
	core bool
}

// Attr returns the attribute called name, compared without case, or nil.
func (s *Schema) Attr(name string) *Attribute {
	return find(s.Attributes, name)
}

func find(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}

// Extension is a schema extension of a resource type (RFC 7643 §6).
type Extension struct {
	Schema   *Schema
	Required bool
}

// ResourceType ties a core schema, its extensions and the common attributes (id, externalId, meta) together;
// it resolves attribute paths for every other part of the library.
type ResourceType struct {
	Name        string
	Endpoint    string
	Description string
	Core        *Schema
	Extensions  []Extension
	// Common holds the attributes of RFC 7643 §3.1 that every resource has: id, externalId and meta.
	Common []*Attribute
}

// Path is a resolved attribute path: an attribute of a schema with an optional sub-attribute. Schema is the
// schema the attribute belongs to (the core schema for common attributes). Attr is nil when the path names a
// whole extension (for example "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User").
type Path struct {
	Schema *Schema
	Attr   *Attribute
	Sub    *Attribute
}

// String returns the canonical form of the path: core attributes without their URN, extension attributes with it.
func (p Path) String() string {
	if p.Attr == nil { // a whole schema: its URN
		if p.Schema == nil {
			return ""
		}
		return p.Schema.ID
	}
	var b strings.Builder
	ext := p.Schema != nil && p.Extension()
	if ext {
		b.WriteString(p.Schema.ID)
	}
	if p.Attr != nil {
		if ext {
			b.WriteByte(':')
		}
		b.WriteString(p.Attr.Name)
	}
	if p.Sub != nil {
		b.WriteByte('.')
		b.WriteString(p.Sub.Name)
	}
	return b.String()
}

// Extension reports whether the path is in an extension schema, whose attributes sit under the schema's URN
// in the JSON form of a resource.
func (p Path) Extension() bool {
	return p.Schema != nil && p.Schema.ID != UserURN && p.Schema.ID != GroupURN && !p.Schema.core
}

// Target returns the attribute the path ends at: Sub if set, else Attr.
func (p Path) Target() *Attribute {
	if p.Sub != nil {
		return p.Sub
	}
	return p.Attr
}

// Schemas returns the core schema followed by every extension schema.
func (rt *ResourceType) Schemas() []*Schema {
	out := make([]*Schema, 1, 1+len(rt.Extensions)) // one allocation: called on every request
	out[0] = rt.Core
	for _, e := range rt.Extensions {
		out = append(out, e.Schema)
	}
	return out
}

// Extension returns the extension schema whose URN is id (compared without case), or nil.
func (rt *ResourceType) Extension(id string) *Schema {
	for _, e := range rt.Extensions {
		if strings.EqualFold(e.Schema.ID, id) {
			return e.Schema
		}
	}
	return nil
}

// Resolve resolves an attribute path such as "userName", "NAME.givenName", "emails.value",
// "urn:ietf:params:scim:schemas:core:2.0:User:name.formatted" or
// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value" (RFC 7644 §3.10), with names
// compared without case. It reports false when the path names no attribute of the resource type.
func (rt *ResourceType) Resolve(path string) (Path, bool) {
	s, rest := rt.Core, path
	if len(path) > 4 && strings.EqualFold(path[:4], "urn:") {
		var ok bool
		if s, rest, ok = rt.splitURN(path); !ok {
			return Path{}, false
		}
		if rest == "" { // a whole schema: the core one, or an extension's object
			return Path{Schema: s}, true
		}
	}
	name, sub, dotted := strings.Cut(rest, ".")
	p := Path{Schema: s, Attr: s.Attr(name)}
	if p.Attr == nil && s == rt.Core {
		p.Attr = find(rt.Common, name)
	}
	if p.Attr == nil {
		return Path{}, false
	}
	if dotted {
		if p.Sub = p.Attr.Sub(sub); p.Sub == nil {
			return Path{}, false
		}
	}
	return p, true
}

// splitURN splits a URN-qualified path into its schema and the attribute part after the URN (empty when the
// path is the URN itself).
func (rt *ResourceType) splitURN(path string) (*Schema, string, bool) {
	for _, s := range rt.Schemas() {
		n := len(s.ID)
		if len(path) < n || !strings.EqualFold(path[:n], s.ID) {
			continue
		}
		if len(path) == n {
			return s, "", true
		}
		if path[n] == ':' && n+1 < len(path) {
			return s, path[n+1:], true
		}
	}
	return nil, "", false
}

// Attributes returns a path for every top-level attribute of the resource type: the core schema's, the
// common ones (id, externalId, meta), then each extension's.
func (rt *ResourceType) Attributes() []Path {
	n := len(rt.Core.Attributes) + len(rt.Common)
	for _, e := range rt.Extensions {
		n += len(e.Schema.Attributes)
	}
	out := make([]Path, 0, n) // one allocation: Validate and PUT call it on every write
	for _, s := range rt.Schemas() {
		for _, a := range s.Attributes {
			out = append(out, Path{Schema: s, Attr: a})
		}
		if s == rt.Core {
			for _, a := range rt.Common {
				out = append(out, Path{Schema: s, Attr: a})
			}
		}
	}
	return out
}
