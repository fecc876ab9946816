package schema

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// UserDeclaration says what a host's User resource keeps: which attributes of the RFC 7643 core and
// enterprise schemas, and the host's own extension schemas. Everything follows it: validation, PATCH paths,
// filters, sorting, projection, /Schemas, /ResourceTypes, SQL mapping and the scimtest kit. An attribute
// outside it is never stored and never returned; writes ignore it (and the handler reports its name), filters
// and sortBy on it are refused (RFC 7643 §7: a service provider defines what it supports).
type UserDeclaration struct {
	// Attributes lists the core and enterprise attributes kept, as paths: "userName", "emails",
	// "name.formatted" (only that sub-attribute of name), "externalId",
	// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", or the enterprise URN alone for
	// all of the extension. userName, id and meta are always kept. Empty keeps every core and enterprise
	// attribute (the behaviour without a declaration).
	Attributes []string
	// Extensions are the host's own extension schemas (RFC 7643 §3.3), such as the
	// "urn:ietf:params:scim:schemas:extension:<App>:2.0:User" attributes an Entra ID admin maps. Their
	// attributes may leave Mutability, Returned and Uniqueness empty for readWrite, default and none.
	Extensions []*Schema
}

// DeclareUser returns the User resource type the declaration describes, or an error naming what is wrong
// with it (an unknown attribute, an extension without a URN, an attribute without a type, ...).
func DeclareUser(d UserDeclaration) (*ResourceType, error) {
	full := User()
	rt := full
	if len(d.Attributes) > 0 {
		var err error
		if rt, err = keep(full, d.Attributes); err != nil {
			return nil, err
		}
	}
	for _, ext := range d.Extensions {
		s, err := checkExtension(ext)
		if err != nil {
			return nil, err
		}
		for _, e := range rt.Extensions {
			if strings.EqualFold(e.Schema.ID, s.ID) || strings.HasPrefix(strings.ToLower(s.ID), strings.ToLower(e.Schema.ID)+":") ||
				strings.HasPrefix(strings.ToLower(e.Schema.ID), strings.ToLower(s.ID)+":") {
				return nil, fmt.Errorf("schema: extension %s overlaps %s", s.ID, e.Schema.ID)
			}
		}
		rt.Extensions = append(rt.Extensions, Extension{Schema: s})
	}
	return rt, nil
}

// MustDeclareUser is DeclareUser for declarations fixed at compile time: it panics on an error.
func MustDeclareUser(d UserDeclaration) *ResourceType {
	rt, err := DeclareUser(d)
	if err != nil {
		panic(err)
	}
	return rt
}

// keep returns full cut down to the listed attributes (plus userName, id and meta).
func keep(full *ResourceType, paths []string) (*ResourceType, error) {
	type kept struct {
		all  bool
		subs []*Attribute
	}
	want := map[*Attribute]*kept{}
	wholeExt := map[*Schema]bool{}
	for _, name := range append([]string{"userName", "id", "meta"}, paths...) {
		p, ok := full.Resolve(name)
		if !ok {
			return nil, fmt.Errorf("schema: %q names no attribute of the core or enterprise User schema", name)
		}
		if p.Attr == nil {
			if p.Schema == full.Core {
				return nil, fmt.Errorf("schema: %q: list the core attributes kept, not the core schema", name)
			}
			wholeExt[p.Schema] = true
			continue
		}
		k := want[p.Attr]
		if k == nil {
			k = &kept{}
			want[p.Attr] = k
		}
		if p.Sub == nil {
			k.all = true
		} else if !slices.Contains(k.subs, p.Sub) {
			k.subs = append(k.subs, p.Sub)
		}
	}
	cut := func(attrs []*Attribute, whole bool) []*Attribute {
		var out []*Attribute
		for _, a := range attrs {
			k := want[a]
			switch {
			case whole || k != nil && k.all:
				out = append(out, a)
			case k != nil:
				c := *a
				c.SubAttributes = nil
				for _, s := range a.SubAttributes { // keep the schema's order
					if slices.Contains(k.subs, s) {
						c.SubAttributes = append(c.SubAttributes, s)
					}
				}
				out = append(out, &c)
			}
		}
		return out
	}
	rt := *full
	core := *full.Core
	core.Attributes = cut(full.Core.Attributes, false)
	rt.Core = &core
	rt.Common = cut(full.Common, false)
	rt.Extensions = nil
	for _, e := range full.Extensions {
		s := *e.Schema
		s.Attributes = cut(e.Schema.Attributes, wholeExt[e.Schema])
		if len(s.Attributes) > 0 {
			rt.Extensions = append(rt.Extensions, Extension{Schema: &s, Required: e.Required})
		}
	}
	return &rt, nil
}

// checkExtension validates a host's extension schema and returns a copy with every default filled in, so
// that later changes to the host's value change nothing.
func checkExtension(s *Schema) (*Schema, error) {
	if s == nil {
		return nil, errors.New("schema: nil extension")
	}
	if len(s.ID) < 5 || !strings.EqualFold(s.ID[:4], "urn:") || strings.HasSuffix(s.ID, ":") || strings.ContainsAny(s.ID, " \"'\\[]()") {
		return nil, fmt.Errorf("schema: extension id %q must be a URN such as urn:ietf:params:scim:schemas:extension:MyApp:2.0:User", s.ID)
	}
	if len(s.Attributes) == 0 {
		return nil, fmt.Errorf("schema: extension %s declares no attribute", s.ID)
	}
	out := *s
	if out.Name == "" {
		out.Name = s.ID[strings.LastIndexByte(s.ID, ':')+1:]
	}
	attrs, err := checkAttrs(s.ID, s.Attributes, false)
	if err != nil {
		return nil, err
	}
	out.Attributes = attrs
	return &out, nil
}

func checkAttrs(where string, attrs []*Attribute, sub bool) ([]*Attribute, error) {
	out := make([]*Attribute, 0, len(attrs))
	seen := map[string]bool{}
	for _, a := range attrs {
		if a == nil || a.Name == "" || !validName(a.Name) {
			return nil, fmt.Errorf("schema: %s: an attribute name must be letters, digits, '_' or '-', starting with a letter", where)
		}
		key := strings.ToLower(a.Name)
		if seen[key] {
			return nil, fmt.Errorf("schema: %s: %s is declared twice (names compare without case)", where, a.Name)
		}
		seen[key] = true
		c := *a
		switch c.Type {
		case String, Boolean, Decimal, Integer, DateTime, Binary, Reference:
			if len(c.SubAttributes) > 0 {
				return nil, fmt.Errorf("schema: %s:%s: only complex attributes have sub-attributes", where, c.Name)
			}
		case Complex:
			if sub {
				return nil, fmt.Errorf("schema: %s:%s: a sub-attribute cannot be complex (RFC 7643 §2.3.8)", where, c.Name)
			}
			if len(c.SubAttributes) == 0 {
				return nil, fmt.Errorf("schema: %s:%s: a complex attribute needs sub-attributes", where, c.Name)
			}
			subs, err := checkAttrs(where+":"+c.Name, c.SubAttributes, true)
			if err != nil {
				return nil, err
			}
			c.SubAttributes = subs
		default:
			return nil, fmt.Errorf("schema: %s:%s: unknown type %q", where, c.Name, c.Type)
		}
		if c.Mutability == "" {
			c.Mutability = ReadWrite
		}
		if c.Returned == "" {
			c.Returned = ByDefault
		}
		if c.Uniqueness == "" {
			c.Uniqueness = UniqueNone
		}
		if !slices.Contains([]Mutability{ReadOnly, ReadWrite, Immutable, WriteOnly}, c.Mutability) ||
			!slices.Contains([]Returned{Always, Never, ByDefault, Request}, c.Returned) ||
			!slices.Contains([]Uniqueness{UniqueNone, UniqueServer, UniqueGlobal}, c.Uniqueness) {
			return nil, fmt.Errorf("schema: %s:%s: mutability, returned or uniqueness is not an RFC 7643 §7 value", where, c.Name)
		}
		if c.Type == Reference && len(c.ReferenceTypes) == 0 {
			c.ReferenceTypes = []string{"external"}
		}
		c.CanonicalValues = slices.Clone(c.CanonicalValues)
		out = append(out, &c)
	}
	return out, nil
}

// validName reports whether s is an ATTRNAME of RFC 7644 §3.10: ALPHA *(nameChar), nameChar = "-" / "_" /
// DIGIT / ALPHA. ('$' is allowed too, for "$ref".)
func validName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if i == 0 && !letter && c != '$' {
			return false
		}
		if !letter && !(c >= '0' && c <= '9') && c != '_' && c != '-' && c != '$' {
			return false
		}
	}
	return true
}

// Without returns a copy of rt without the named core attribute (rt itself when it has none).
func (rt *ResourceType) Without(name string) *ResourceType {
	i := slices.IndexFunc(rt.Core.Attributes, func(a *Attribute) bool { return strings.EqualFold(a.Name, name) })
	if i < 0 {
		return rt
	}
	c, core := *rt, *rt.Core
	core.Attributes = slices.Delete(slices.Clone(core.Attributes), i, i+1)
	c.Core = &core
	return &c
}
