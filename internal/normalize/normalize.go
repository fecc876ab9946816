// Package normalize turns request bodies into the canonical JSON form of a resource, as the declared
// schema has it, and checks what the schema requires of a whole resource: what the handler does to every
// write before a Store sees it.
package normalize

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim/internal/document"
	"github.com/scimkit/scim/schema"
)

// ErrInvalidValue is wrapped by every error that Resource, Put, Coerce and Validate return for a value that
// does not fit its attribute (RFC 7644 §3.12 scimType invalidValue).
var ErrInvalidValue = errors.New("invalid value")

// RequiredError is Validate's error for a required attribute that is unassigned. It wraps ErrInvalidValue
// (what POST and PUT answer); a PATCH that removes the attribute answers mutability (RFC 7644 §3.5.2.2).
type RequiredError struct{ Path schema.Path }

// Error names the unassigned attribute.
func (e *RequiredError) Error() string {
	return ErrInvalidValue.Error() + ": " + e.Path.String() + " is required"
}

// Unwrap makes a RequiredError an ErrInvalidValue.
func (e *RequiredError) Unwrap() error { return ErrInvalidValue }

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidValue, fmt.Sprintf(format, args...))
}

// Resource turns a decoded request body (numbers as json.Number) into the canonical JSON form of a resource:
// attribute names in their schema spelling, extension attributes under their schema URN, string booleans
// ("True", "false") as booleans, single values of multi-valued attributes wrapped in arrays. It drops what
// RFC 7643 §2.5 and real clients need dropped: nulls, empty strings and arrays, attributes outside the
// resource type, "schemas" (derived from content on output), and readOnly attributes (RFC 7643 §7: ignored
// when sent). Keys with dots or URN prefixes ("name.formatted", "urn:...:User:employeeNumber") are paths,
// never literal attribute names. It reports values of the wrong JSON type as ErrInvalidValue.
// ignored, when not nil, is called with the name of every attribute or sub-attribute dropped because the
// resource type does not have it: the name as sent, never its value.
func Resource(rt *schema.ResourceType, doc map[string]any, ignored func(name string)) (map[string]any, error) {
	out := make(map[string]any, len(doc))
	n := normalizer{rt: rt, ignored: ignored}
	for _, k := range sortedKeys(doc) {
		if err := n.put(out, k, doc[k]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Put sets the attribute at path key (resolved as rt.Resolve does) to value in the canonical document doc,
// coercing value to the attribute's type and merging complex values into what doc already holds. Unknown
// paths, readOnly attributes and nulls are ignored. A key that is an extension URN takes an object of that
// extension's attributes.
func Put(rt *schema.ResourceType, doc map[string]any, key string, value any) error {
	return normalizer{rt: rt}.put(doc, key, value)
}

// normalizer carries the resource type and the report of ignored names through a normalisation.
type normalizer struct {
	rt      *schema.ResourceType
	ignored func(name string)
}

func (n normalizer) report(name string) {
	if n.ignored != nil {
		n.ignored(name)
	}
}

func (n normalizer) put(doc map[string]any, key string, value any) error {
	rt := n.rt
	if strings.EqualFold(key, "schemas") || value == nil {
		return nil
	}
	p, ok := rt.Resolve(key)
	if !ok {
		n.report(key)
		return nil
	}
	if p.Attr == nil { // a whole extension: its attributes, qualified by its URN
		m, ok := value.(map[string]any)
		if !ok {
			return invalid("%s must be an object", p.Schema.ID)
		}
		for _, k := range sortedKeys(m) {
			if err := n.put(doc, p.Schema.ID+":"+k, m[k]); err != nil {
				return err
			}
		}
		return nil
	}
	if p.Attr.Mutability == schema.ReadOnly || (p.Sub != nil && p.Sub.Mutability == schema.ReadOnly) {
		return nil
	}
	if p.Sub != nil {
		if p.Attr.MultiValued { // "emails.value" names a sub-attribute of every element: no single place to put it
			return nil
		}
		value = map[string]any{p.Sub.Name: value}
	}
	v, err := coerce(p.Attr, value, func(sub string) { n.report(p.String() + "." + sub) })
	if err != nil || v == nil {
		return err
	}
	container := document.Container(doc, p, true)
	if old, ok := container[p.Attr.Name].(map[string]any); ok && !p.Attr.MultiValued {
		for k, sv := range v.(map[string]any) {
			old[k] = sv
		}
		return nil
	}
	container[p.Attr.Name] = v
	return nil
}

// Coerce converts value to the canonical form of attribute a, or returns nil when the value is unassigned
// (null, "", [] or {}). Multi-valued attributes accept a single value and wrap it. A value of the wrong JSON
// type is ErrInvalidValue; the tolerances real clients need are documented where they are made.
func Coerce(a *schema.Attribute, value any) (any, error) {
	return coerce(a, value, nil)
}

// coerce is Coerce that reports the names of sub-attributes it drops because a does not have them.
func coerce(a *schema.Attribute, value any, ignoredSub func(string)) (any, error) {
	if !a.MultiValued {
		// Entra sends a single complex value (the manager) as an array of one: its one element is the value.
		if list, ok := value.([]any); ok && len(list) == 1 && a.Type == schema.Complex {
			value = list[0]
		}
		return coerceSingle(a, value, ignoredSub)
	}
	list, ok := value.([]any)
	if !ok {
		list = []any{value}
	}
	out := make([]any, 0, len(list))
	for _, e := range list {
		v, err := coerceSingle(a, e, ignoredSub)
		if err != nil {
			return nil, err
		}
		if v != nil {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// coerceSingle converts one value of a (one element, when a is multi-valued).
func coerceSingle(a *schema.Attribute, value any, ignoredSub func(string)) (any, error) {
	if value == nil {
		return nil, nil
	}
	switch a.Type {
	case schema.Complex:
		m, ok := value.(map[string]any)
		if !ok {
			// Entra sends the enterprise manager as a bare id string: for a single-valued complex attribute
			// with a "value" sub-attribute, a string is that value. A multi-valued one takes objects only.
			s, isStr := value.(string)
			if !isStr || a.MultiValued || a.Sub("value") == nil {
				return nil, invalid("%s must be an object", a.Name)
			}
			m = map[string]any{"value": s}
		}
		m = expandStringified(a, m)
		out := make(map[string]any, len(m))
		for _, k := range sortedKeys(m) {
			sub := a.Sub(k)
			if sub == nil {
				if ignoredSub != nil && m[k] != nil {
					ignoredSub(k)
				}
				continue
			}
			if sub.Mutability == schema.ReadOnly {
				continue
			}
			v, err := coerceSingle(sub, m[k], nil)
			if err != nil {
				return nil, err
			}
			if v != nil {
				out[sub.Name] = v
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	case schema.Boolean:
		return coerceBool(a, value)
	case schema.Integer, schema.Decimal:
		return coerceNumber(a, value)
	case schema.DateTime:
		s, ok := value.(string)
		if !ok {
			return nil, invalid("%s must be a dateTime string", a.Name)
		}
		if s == "" {
			return nil, nil
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, invalid("%s must be an xsd:dateTime such as 2008-01-23T04:56:22Z", a.Name)
		}
		return s, nil
	default: // string, reference, binary
		if v, ok := value.(string); ok {
			if v == "" {
				return nil, nil
			}
			return v, checkIdentifier(a, v)
		}
		return nil, invalid("%s must be a string", a.Name)
	}
}

// expandStringified decodes Entra's app-role assignments: in its default mode a PATCH of roles carries each
// role as stringified JSON in "value" ({"value":"{\"id\":\"…\",\"value\":\"25\",\"displayName\":\"Role1234\"}"}).
// The object's value becomes the value and its displayName the display.
func expandStringified(a *schema.Attribute, m map[string]any) map[string]any {
	s, ok := m["value"].(string)
	if !ok || len(s) < 2 || s[0] != '{' || !a.MultiValued || a.Sub("display") == nil {
		return m
	}
	var inner map[string]any
	if json.Unmarshal([]byte(s), &inner) != nil {
		return m
	}
	v, ok := inner["value"].(string)
	if !ok {
		return m
	}
	out := make(map[string]any, len(m)+1)
	for k, x := range m {
		out[k] = x
	}
	out["value"] = v
	if d, ok := inner["displayName"].(string); ok && out["display"] == nil {
		out["display"] = d
	}
	return out
}

func coerceBool(a *schema.Attribute, value any) (any, error) {
	switch v := value.(type) {
	case bool:
		return v, nil
	case string: // Entra sends "True" and "False"
		switch {
		case strings.EqualFold(v, "true"):
			return true, nil
		case strings.EqualFold(v, "false"):
			return false, nil
		}
	}
	return nil, invalid("%s must be a boolean", a.Name)
}

func coerceNumber(a *schema.Attribute, value any) (any, error) {
	var s string
	switch v := value.(type) {
	case json.Number:
		s = v.String()
	case float64:
		s = strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		s = strings.TrimSpace(v)
	default:
		return nil, invalid("%s must be a number", a.Name)
	}
	if a.Type == schema.Integer {
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			return nil, invalid("%s must be an integer", a.Name)
		}
	} else if _, err := strconv.ParseFloat(s, 64); err != nil {
		return nil, invalid("%s must be a decimal number", a.Name)
	}
	return json.Number(s), nil
}

// Validate checks what Resource cannot see value by value: every required attribute (RFC 7643 §7) of the
// core schema and of the extensions present is assigned, every extension the resource type marks required
// is present (RFC 7643 §6), and no multi-valued attribute has more than one
// "primary": true value or the same value twice (RFC 7643 §2.4). Errors wrap ErrInvalidValue.
func Validate(rt *schema.ResourceType, doc map[string]any) error {
	for _, e := range rt.Extensions {
		if _, ok := doc[e.Schema.ID].(map[string]any); e.Required && !ok {
			return &RequiredError{Path: schema.Path{Schema: e.Schema}}
		}
	}
	for _, p := range rt.Attributes() {
		c := document.Container(doc, p, false)
		if c == nil {
			continue
		}
		v := c[p.Attr.Name]
		if p.Attr.Required && p.Attr.Mutability != schema.ReadOnly && v == nil {
			return &RequiredError{Path: p}
		}
		list, ok := v.([]any)
		if !ok {
			continue
		}
		primaries := 0
		var seen map[string]bool // one value (the common case) cannot repeat: no set
		if len(list) > 1 {
			seen = make(map[string]bool, len(list))
		}
		var key []byte
		for _, e := range list {
			if m, ok := e.(map[string]any); ok && m["primary"] == true {
				primaries++
			}
			if seen == nil {
				continue
			}
			// Key each value by its canonical form: linear, where comparing pairs is not.
			key = document.AppendKey(key[:0], e)
			if seen[string(key)] {
				return invalid("%s has the same value twice", p)
			}
			seen[string(key)] = true
		}
		if primaries > 1 {
			return invalid("%s has more than one primary value", p)
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
