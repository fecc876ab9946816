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
func (u *User) setField(k string, v any) error {
	var err error
	switch userFieldName(k) {
	case "schemas":
		u.Schemas, err = stringList(k, v)
	case "id":
		u.ID, err = str(k, v)
	case "externalId":
		u.ExternalID, err = str(k, v)
	case "userName":
		u.UserName, err = str(k, v)
	case "name":
		var m map[string]any
		if m, err = obj(k, v); err == nil {
			n := new(Name)
			err = setFields(k, m, func(k string, v any) (err error) {
				switch fieldName(k, "formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix") {
				case "formatted":
					n.Formatted, err = str(k, v)
				case "familyName":
					n.FamilyName, err = str(k, v)
				case "givenName":
					n.GivenName, err = str(k, v)
				case "middleName":
					n.MiddleName, err = str(k, v)
				case "honorificPrefix":
					n.HonorificPrefix, err = str(k, v)
				case "honorificSuffix":
					n.HonorificSuffix, err = str(k, v)
				}
				return err
			})
			u.Name = n
		}
	case "displayName":
		u.DisplayName, err = str(k, v)
	case "nickName":
		u.NickName, err = str(k, v)
	case "profileUrl":
		u.ProfileURL, err = str(k, v)
	case "title":
		u.Title, err = str(k, v)
	case "userType":
		u.UserType, err = str(k, v)
	case "preferredLanguage":
		u.PreferredLanguage, err = str(k, v)
	case "locale":
		u.Locale, err = str(k, v)
	case "timezone":
		u.Timezone, err = str(k, v)
	case "active":
		b, ok := v.(bool)
		if !ok {
			return typeError(k, "a boolean")
		}
		u.Active = &b
	case "emails":
		u.Emails, err = multiValues(k, v)
	case "phoneNumbers":
		u.PhoneNumbers, err = multiValues(k, v)
	case "ims":
		u.IMs, err = multiValues(k, v)
	case "photos":
		u.Photos, err = multiValues(k, v)
	case "entitlements":
		u.Entitlements, err = multiValues(k, v)
	case "roles":
		u.Roles, err = multiValues(k, v)
	case "x509Certificates":
		u.X509Certificates, err = multiValues(k, v)
	case "addresses":
		u.Addresses, err = elementsOf(k, v, func(k string, m map[string]any) (a Address, err error) {
			err = setFields(k, m, func(k string, v any) (err error) {
				switch fieldName(k, "formatted", "streetAddress", "locality", "region", "postalCode", "country", "type", "primary") {
				case "formatted":
					a.Formatted, err = str(k, v)
				case "streetAddress":
					a.StreetAddress, err = str(k, v)
				case "locality":
					a.Locality, err = str(k, v)
				case "region":
					a.Region, err = str(k, v)
				case "postalCode":
					a.PostalCode, err = str(k, v)
				case "country":
					a.Country, err = str(k, v)
				case "type":
					a.Type, err = str(k, v)
				case "primary":
					a.Primary, err = boolean(k, v)
				}
				return err
			})
			return a, err
		})
	case "groups":
		u.Groups, err = elementsOf(k, v, func(k string, m map[string]any) (g GroupRef, err error) {
			err = setFields(k, m, func(k string, v any) (err error) {
				switch fieldName(k, "value", "$ref", "display", "type") {
				case "value":
					g.Value, err = str(k, v)
				case "$ref":
					g.Ref, err = str(k, v)
				case "display":
					g.Display, err = str(k, v)
				case "type":
					g.Type, err = str(k, v)
				}
				return err
			})
			return g, err
		})
	case schema.EnterpriseUserURN:
		var m map[string]any
		if m, err = obj(k, v); err == nil {
			e := new(EnterpriseUser)
			err = setFields(k, m, func(k string, v any) (err error) {
				switch fieldName(k, "employeeNumber", "costCenter", "organization", "division", "department", "manager") {
				case "employeeNumber":
					e.EmployeeNumber, err = str(k, v)
				case "costCenter":
					e.CostCenter, err = str(k, v)
				case "organization":
					e.Organization, err = str(k, v)
				case "division":
					e.Division, err = str(k, v)
				case "department":
					e.Department, err = str(k, v)
				case "manager":
					var mm map[string]any
					if mm, err = obj(k, v); err == nil {
						mg := new(Manager)
						err = setFields(k, mm, func(k string, v any) (err error) {
							switch fieldName(k, "value", "$ref", "displayName") {
							case "value":
								mg.Value, err = str(k, v)
							case "$ref":
								mg.Ref, err = str(k, v)
							case "displayName":
								mg.DisplayName, err = str(k, v)
							}
							return err
						})
						e.Manager = mg
					}
				}
				return err
			})
			u.Enterprise = e
		}
	case "meta":
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
	default: // a host extension: every other URN but the core schema's
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
	}
	return err
}

// userFields are the JSON names of User's fields.
var userFields = []string{"schemas", "id", "externalId", "userName", "name", "displayName", "nickName",
	"profileUrl", "title", "userType", "preferredLanguage", "locale", "timezone", "active", "emails",
	"phoneNumbers", "ims", "photos", "addresses", "groups", "entitlements", "roles", "x509Certificates",
	schema.EnterpriseUserURN, "meta"}

// userFieldName returns the field name k matches, k itself when none does.
func userFieldName(k string) string { return fieldName(k, userFields...) }

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
		err = setFields(k, m, func(k string, v any) (err error) {
			switch fieldName(k, "value", "display", "type", "primary") {
			case "value":
				mv.Value, err = str(k, v)
			case "display":
				mv.Display, err = str(k, v)
			case "type":
				mv.Type, err = str(k, v)
			case "primary":
				mv.Primary, err = boolean(k, v)
			}
			return err
		})
		return mv, err
	})
}
