package scim

import (
	"time"
	"unicode/utf8"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/schema"
)

// userSource is a filter.Source over a typed User: the attributes filters commonly name (the core strings,
// name, the enterprise strings, meta, the sub-attributes of the multi-valued attributes, a host extension's
// strings and booleans) are read straight from the struct, and anything else from the user's canonical
// document, built once on first need. Its values equal those of u.doc() at the same path: a string that JSON
// would not carry unchanged (invalid UTF-8) or a value whose encoding is in doubt falls back to the document.
//
// Matching on it costs a few allocations a user instead of a JSON round trip (some microseconds).
type userSource struct {
	u   *User
	rt  map[string]any // the canonical document, once built
	one [1]any
}

// newUserSource returns a Source over u. A user whose meta times JSON cannot encode (years outside 0–9999)
// has an empty document, which no filter on any attribute matches: it is read from that document.
func newUserSource(u *User) *userSource {
	s := &userSource{u: u}
	if !encodable(u.Meta.Created) || !encodable(u.Meta.LastModified) {
		s.rt = u.doc()
	}
	return s
}

func encodable(t time.Time) bool {
	y := t.Year()
	return y >= 0 && y <= 9999
}

// doc returns the user's canonical document, built on first call.
func (s *userSource) doc() map[string]any {
	if s.rt == nil {
		s.rt = s.u.doc()
	}
	return s.rt
}

// Values implements filter.Source.
func (s *userSource) Values(p schema.Path) []any {
	if s.rt == nil && p.Schema != nil && p.Attr != nil {
		if v, ok := s.fast(p); ok {
			return v
		}
	}
	return filter.Values(s.doc(), p)
}

// str returns the values of a single string: none when it is empty (omitempty), and false when JSON would
// change it.
func (s *userSource) str(v string) ([]any, bool) {
	if v == "" {
		return nil, true
	}
	if !utf8.ValidString(v) {
		return nil, false
	}
	s.one[0] = v
	return s.one[:], true
}

func (s *userSource) time(t time.Time) ([]any, bool) {
	if t.IsZero() { // omitzero
		return nil, true
	}
	b, err := t.MarshalJSON()
	if err != nil || len(b) < 2 {
		return nil, false
	}
	s.one[0] = string(b[1 : len(b)-1])
	return s.one[:], true
}

// fast returns the values at p read from the struct, or false when p is not one it reads.
func (s *userSource) fast(p schema.Path) ([]any, bool) {
	u := s.u
	switch p.Schema.ID {
	case schema.UserURN:
		// MarshalJSON writes each extension under its key after the struct's fields: a key that repeats a
		// field's (never a URN in practice) overrides it in the document.
		if _, clash := u.Extensions[p.Attr.Name]; clash {
			return nil, false
		}
	case schema.EnterpriseUserURN:
		if _, clash := u.Extensions[p.Schema.ID]; clash || p.Sub != nil && p.Attr.Name != "manager" {
			return nil, false
		}
		e := u.Enterprise
		if e == nil {
			return nil, true
		}
		if p.Attr.Name == "manager" {
			if p.Sub == nil {
				return nil, false
			}
			if e.Manager == nil {
				return nil, true
			}
			if f := strFieldNamed(managerFields, p.Sub.Name); f != nil {
				return s.str(*f.at(e.Manager))
			}
		} else if f := strFieldNamed(enterpriseFields, p.Attr.Name); f != nil {
			return s.str(*f.at(e))
		}
		return nil, false
	default:
		return s.extension(p)
	}
	if p.Sub != nil {
		return s.sub(p)
	}
	switch f := userIndex[p.Attr.Name]; {
	case f == nil:
	case f.kind == userString:
		return s.str(*f.str(u))
	case f.kind == userActive:
		if u.Active == nil {
			return nil, true
		}
		s.one[0] = *u.Active
		return s.one[:], true
	}
	return nil, false
}

// sub reads a sub-attribute of a core attribute: name's, meta's, and those of the multi-valued attributes
// whose elements are MultiValue.
func (s *userSource) sub(p schema.Path) ([]any, bool) {
	u := s.u
	f := userIndex[p.Attr.Name]
	switch {
	case f == nil:
		return nil, false
	case f.kind == userName:
		if u.Name == nil {
			return nil, true
		}
		if nf := strFieldNamed(nameFields, p.Sub.Name); nf != nil {
			return s.str(*nf.at(u.Name))
		}
	case f.kind == userMulti:
		return s.multi(*f.multi(u), p.Sub.Name)
	case f.kind == userMeta:
		m := &u.Meta
		switch p.Sub.Name {
		case "resourceType":
			return s.str(m.ResourceType)
		case "created":
			return s.time(m.Created)
		case "lastModified":
			return s.time(m.LastModified)
		case "location":
			return s.str(m.Location)
		case "version":
			return s.str(m.Version)
		}
	}
	return nil, false
}

// multi returns sub-attribute sub of every element of list, skipping the elements where it is unassigned.
func (s *userSource) multi(list []MultiValue, sub string) ([]any, bool) {
	var out []any
	for i := range list {
		e := &list[i]
		if sub == "primary" {
			if e.Primary {
				out = append(out, true)
			}
			continue
		}
		f := strFieldNamed(multiFields, sub)
		if f == nil {
			return nil, false
		}
		v := *f.at(e)
		if v == "" {
			continue
		}
		if !utf8.ValidString(v) {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// extension reads a top-level string or boolean attribute of a host extension; numbers, complex and
// multi-valued values come from the document, whose JSON round trip they may need.
func (s *userSource) extension(p schema.Path) ([]any, bool) {
	if p.Sub != nil {
		return nil, false
	}
	attrs, ok := s.u.Extensions[p.Schema.ID]
	if !ok || len(attrs) == 0 {
		return nil, true
	}
	switch v := attrs[p.Attr.Name].(type) {
	case nil:
		return nil, true
	case string:
		if !utf8.ValidString(v) {
			return nil, false
		}
		s.one[0] = v // "" is kept: an extension's map is encoded as it is
		return s.one[:], true
	case bool:
		s.one[0] = v
		return s.one[:], true
	}
	return nil, false
}
