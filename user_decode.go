package scim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimkit/scim/schema"
)

// userFromDoc builds a User from a canonical document, as normalize.Resource produces it: what decoding
// the document's JSON into a User gave, without the JSON. Keys that are no field of User are ignored (the
// core schema's URN, attributes a Store kept from an earlier declaration); a value of the wrong JSON type is
// an error. The user takes over the document's host-extension objects: the caller discards doc.
func userFromDoc(doc map[string]any) (*User, error) {
	u := new(User)
	var err error
	for k, v := range doc {
		if v == nil {
			continue
		}
		if err = u.setField(k, v); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// setField sets the field whose JSON name is k (matched as encoding/json matches: exactly, else without case).
func (u *User) setField(k string, v any) (err error) {
	f := userFieldByKey(k)
	if f == nil { // a host extension: every other URN but the core schema's
		if len(k) < 5 || !strings.EqualFold(k[:4], "urn:") || strings.EqualFold(k, schema.UserURN) {
			return nil
		}
		m, ok := v.(map[string]any)
		if !ok {
			return typeError(k, "an object")
		}
		if len(m) > 0 {
			if u.Extensions == nil {
				u.Extensions = map[string]Attributes{}
			}
			u.Extensions[k] = m
		}
		return nil
	}
	switch f.kind {
	case userString:
		*f.str(u), err = str(k, v)
	case userMulti:
		*f.multi(u), err = multiValues(k, v)
	case userSchemas:
		u.Schemas, err = stringList(k, v)
	case userName:
		var m map[string]any
		if m, err = obj(k, v); err == nil {
			u.Name = new(Name)
			err = setStrs(k, m, u.Name, nameFields, nil)
		}
	case userActive:
		var b bool
		if b, err = boolean(k, v); err == nil {
			u.Active = &b
		}
	case userAddresses:
		u.Addresses, err = elementsOf(k, v, func(k string, m map[string]any) (a Address, err error) {
			err = setStrs(k, m, &a, addressFields, func(k string, v any) (err error) {
				if fieldName(k, "primary") == "primary" {
					a.Primary, err = boolean(k, v)
				}
				return err
			})
			return a, err
		})
	case userGroups:
		u.Groups, err = elementsOf(k, v, func(k string, m map[string]any) (g GroupRef, err error) {
			return g, setStrs(k, m, &g, groupRefFields, nil)
		})
	case userEnterprise:
		var m map[string]any
		if m, err = obj(k, v); err == nil {
			e := new(EnterpriseUser)
			err = setStrs(k, m, e, enterpriseFields, func(k string, v any) error {
				if fieldName(k, "manager") != "manager" {
					return nil
				}
				mm, err := obj(k, v)
				if err == nil {
					e.Manager = new(Manager)
					err = setStrs(k, mm, e.Manager, managerFields, nil)
				}
				return err
			})
			u.Enterprise = e
		}
	case userMeta:
		var m map[string]any
		if m, err = obj(k, v); err == nil {
			err = setFields(k, m, func(k string, v any) (err error) {
				switch fieldName(k, "resourceType", "created", "lastModified", "location", "version") {
				case "resourceType":
					u.Meta.ResourceType, err = str(k, v)
				case "created":
					u.Meta.Created, err = timeOf(k, v)
				case "lastModified":
					u.Meta.LastModified, err = timeOf(k, v)
				case "location":
					u.Meta.Location, err = str(k, v)
				case "version":
					u.Meta.Version, err = str(k, v)
				}
				return err
			})
		}
	}
	return err
}

// fieldName returns the one of names that k equals, else the first that k equals without case (how
// encoding/json matches object keys to fields), else k.
func fieldName(k string, names ...string) string {
	if slices.Contains(names, k) {
		return k
	}
	for _, n := range names {
		if strings.EqualFold(n, k) {
			return n
		}
	}
	return k
}

// setFields calls set for every assigned member of m.
func setFields(_ string, m map[string]any, set func(k string, v any) error) error {
	for k, v := range m {
		if v == nil {
			continue
		}
		if err := set(k, v); err != nil {
			return err
		}
	}
	return nil
}

func typeError(k, want string) error {
	return fmt.Errorf("scim: %s must be %s", k, want)
}

func str(k string, v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", typeError(k, "a string")
	}
	return s, nil
}

func boolean(k string, v any) (bool, error) {
	b, ok := v.(bool)
	if !ok {
		return false, typeError(k, "a boolean")
	}
	return b, nil
}

func obj(k string, v any) (map[string]any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, typeError(k, "an object")
	}
	return m, nil
}

func timeOf(k string, v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, typeError(k, "a dateTime string")
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, typeError(k, "an RFC 3339 dateTime")
	}
	return t, nil
}

func stringList(k string, v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, typeError(k, "an array of strings")
	}
	out := make([]string, 0, len(list))
	for _, e := range list {
		if e == nil {
			out = append(out, "")
			continue
		}
		s, ok := e.(string)
		if !ok {
			return nil, typeError(k, "an array of strings")
		}
		out = append(out, s)
	}
	return out, nil
}

// elementsOf decodes an array of objects with one.
func elementsOf[T any](k string, v any, one func(k string, m map[string]any) (T, error)) ([]T, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, typeError(k, "an array")
	}
	out := make([]T, len(list))
	for i, e := range list {
		if e == nil {
			continue
		}
		m, ok := e.(map[string]any)
		if !ok {
			return nil, typeError(k, "an array of objects")
		}
		var err error
		if out[i], err = one(k, m); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func multiValues(k string, v any) ([]MultiValue, error) {
	return elementsOf(k, v, func(k string, m map[string]any) (mv MultiValue, err error) {
		err = setStrs(k, m, &mv, multiFields, func(k string, v any) (err error) {
			if fieldName(k, "primary") == "primary" {
				mv.Primary, err = boolean(k, v)
			}
			return err
		})
		return mv, err
	})
}
