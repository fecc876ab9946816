package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimkit/scim/schema"
)

// The conversions between a User and its two other forms, written out by hand because every request makes
// them: its JSON (appendUser, what MarshalJSON and the handler write) and its canonical document (doc and
// userFromDoc, what PATCH, PUT, projection and filters work on). They produce exactly what encoding/json
// produced through the struct tags (the tests compare both), without reflection and without the JSON round
// trip a document used to cost (about 40% of a POST's CPU).

// errTimeRange is what encoding/json reports for a time it cannot write.
var errTimeRange = errors.New("scim: a time outside the years 0 to 9999 has no JSON form")

// appendUser appends the JSON form of u (MarshalJSON's) to b. It keeps no reference to u, so a caller's
// copy of a user stays on its stack.
func appendUser(b []byte, u *User) ([]byte, error) {
	var o jsonObject
	b = o.open(b)
	if len(u.Schemas) > 0 {
		b = o.key(b, "schemas")
		b = append(b, '[')
		for i, s := range u.Schemas {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		b = append(b, ']')
	}
	b = o.str(b, "id", u.ID)
	b = o.str(b, "externalId", u.ExternalID)
	b = o.str(b, "userName", u.UserName)
	if n := u.Name; n != nil {
		b = o.key(b, "name")
		var no jsonObject
		b = no.open(b)
		b = no.str(b, "formatted", n.Formatted)
		b = no.str(b, "familyName", n.FamilyName)
		b = no.str(b, "givenName", n.GivenName)
		b = no.str(b, "middleName", n.MiddleName)
		b = no.str(b, "honorificPrefix", n.HonorificPrefix)
		b = no.str(b, "honorificSuffix", n.HonorificSuffix)
		b = append(b, '}')
	}
	b = o.str(b, "displayName", u.DisplayName)
	b = o.str(b, "nickName", u.NickName)
	b = o.str(b, "profileUrl", u.ProfileURL)
	b = o.str(b, "title", u.Title)
	b = o.str(b, "userType", u.UserType)
	b = o.str(b, "preferredLanguage", u.PreferredLanguage)
	b = o.str(b, "locale", u.Locale)
	b = o.str(b, "timezone", u.Timezone)
	if u.Active != nil {
		b = o.key(b, "active")
		b = strconv.AppendBool(b, *u.Active)
	}
	b = o.multi(b, "emails", u.Emails)
	b = o.multi(b, "phoneNumbers", u.PhoneNumbers)
	b = o.multi(b, "ims", u.IMs)
	b = o.multi(b, "photos", u.Photos)
	if len(u.Addresses) > 0 {
		b = o.key(b, "addresses")
		for i, a := range u.Addresses {
			b = append(b, "[,"[min(i, 1)])
			var ao jsonObject
			b = ao.open(b)
			b = ao.str(b, "formatted", a.Formatted)
			b = ao.str(b, "streetAddress", a.StreetAddress)
			b = ao.str(b, "locality", a.Locality)
			b = ao.str(b, "region", a.Region)
			b = ao.str(b, "postalCode", a.PostalCode)
			b = ao.str(b, "country", a.Country)
			b = ao.str(b, "type", a.Type)
			if a.Primary {
				b = append(ao.key(b, "primary"), "true"...)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if len(u.Groups) > 0 {
		b = o.key(b, "groups")
		for i, g := range u.Groups {
			b = append(b, "[,"[min(i, 1)])
			var gobj jsonObject
			b = gobj.open(b)
			b = gobj.str(b, "value", g.Value)
			b = gobj.str(b, "$ref", g.Ref)
			b = gobj.str(b, "display", g.Display)
			b = gobj.str(b, "type", g.Type)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = o.multi(b, "entitlements", u.Entitlements)
	b = o.multi(b, "roles", u.Roles)
	b = o.multi(b, "x509Certificates", u.X509Certificates)
	if e := u.Enterprise; e != nil {
		b = o.key(b, schema.EnterpriseUserURN)
		var eo jsonObject
		b = eo.open(b)
		b = eo.str(b, "employeeNumber", e.EmployeeNumber)
		b = eo.str(b, "costCenter", e.CostCenter)
		b = eo.str(b, "organization", e.Organization)
		b = eo.str(b, "division", e.Division)
		b = eo.str(b, "department", e.Department)
		if m := e.Manager; m != nil {
			b = eo.key(b, "manager")
			var mo jsonObject
			b = mo.open(b)
			b = mo.str(b, "value", m.Value)
			b = mo.str(b, "$ref", m.Ref)
			b = mo.str(b, "displayName", m.DisplayName)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	if m := &u.Meta; *m != (Meta{}) {
		b = o.key(b, "meta")
		var mo jsonObject
		b = mo.open(b)
		b = mo.str(b, "resourceType", m.ResourceType)
		var err error
		if b, err = mo.time(b, "created", m.Created); err != nil {
			return nil, err
		}
		if b, err = mo.time(b, "lastModified", m.LastModified); err != nil {
			return nil, err
		}
		b = mo.str(b, "location", m.Location)
		b = mo.str(b, "version", m.Version)
		b = append(b, '}')
	}
	if len(u.Extensions) > 0 {
		// Each host extension as an object under its URN, in URN order so that equal users encode to
		// equal bytes. Their values are canonical JSON values of any shape: encoding/json writes them.
		urns := make([]string, 0, len(u.Extensions))
		for urn, attrs := range u.Extensions {
			if len(attrs) > 0 {
				urns = append(urns, urn)
			}
		}
		slices.Sort(urns)
		for _, urn := range urns {
			v, err := json.Marshal(u.Extensions[urn])
			if err != nil {
				return nil, err
			}
			b = append(o.key(b, urn), v...)
		}
	}
	return append(b, '}'), nil
}

// jsonObject writes the members of one JSON object, the commas between them included.
type jsonObject struct{ n int }

func (o *jsonObject) open(b []byte) []byte { return append(b, '{') }

func (o *jsonObject) key(b []byte, k string) []byte {
	if o.n > 0 {
		b = append(b, ',')
	}
	o.n++
	b = appendString(b, k)
	return append(b, ':')
}

// str writes a string member, omitted when empty (omitempty).
func (o *jsonObject) str(b []byte, k, v string) []byte {
	if v == "" {
		return b
	}
	return appendString(o.key(b, k), v)
}

// time writes a time member as time.Time.MarshalJSON does, omitted when zero (omitzero).
func (o *jsonObject) time(b []byte, k string, t time.Time) ([]byte, error) {
	if t.IsZero() {
		return b, nil
	}
	if y := t.Year(); y < 0 || y >= 10000 {
		return nil, errTimeRange
	}
	b = append(o.key(b, k), '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), nil
}

// multi writes a multi-valued attribute of MultiValue elements, omitted when empty.
func (o *jsonObject) multi(b []byte, k string, list []MultiValue) []byte {
	if len(list) == 0 {
		return b
	}
	b = o.key(b, k)
	for i, v := range list {
		b = append(b, "[,"[min(i, 1)])
		var vo jsonObject
		b = vo.open(b)
		b = vo.str(b, "value", v.Value)
		b = vo.str(b, "display", v.Display)
		b = vo.str(b, "type", v.Type)
		if v.Primary {
			b = append(vo.key(b, "primary"), "true"...)
		}
		b = append(b, '}')
	}
	return append(b, ']')
}

// appendString appends s as a JSON string exactly as encoding/json writes it: HTML-safe (<, > and & escaped),
// U+2028 and U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// doc returns the canonical document of u: the map that decoding its JSON form (numbers as json.Number)
// gives, built directly. It shares nothing with u: PATCH and PUT change it in place.
func (u *User) doc() map[string]any {
	d := make(map[string]any, 12)
	if len(u.Schemas) > 0 {
		s := make([]any, len(u.Schemas))
		for i, x := range u.Schemas {
			s[i] = x
		}
		d["schemas"] = s
	}
	putStr(d, "id", u.ID)
	putStr(d, "externalId", u.ExternalID)
	putStr(d, "userName", u.UserName)
	if n := u.Name; n != nil {
		m := make(map[string]any, 2)
		putStr(m, "formatted", n.Formatted)
		putStr(m, "familyName", n.FamilyName)
		putStr(m, "givenName", n.GivenName)
		putStr(m, "middleName", n.MiddleName)
		putStr(m, "honorificPrefix", n.HonorificPrefix)
		putStr(m, "honorificSuffix", n.HonorificSuffix)
		d["name"] = m
	}
	putStr(d, "displayName", u.DisplayName)
	putStr(d, "nickName", u.NickName)
	putStr(d, "profileUrl", u.ProfileURL)
	putStr(d, "title", u.Title)
	putStr(d, "userType", u.UserType)
	putStr(d, "preferredLanguage", u.PreferredLanguage)
	putStr(d, "locale", u.Locale)
	putStr(d, "timezone", u.Timezone)
	if u.Active != nil {
		d["active"] = *u.Active
	}
	putMulti(d, "emails", u.Emails)
	putMulti(d, "phoneNumbers", u.PhoneNumbers)
	putMulti(d, "ims", u.IMs)
	putMulti(d, "photos", u.Photos)
	if len(u.Addresses) > 0 {
		list := make([]any, len(u.Addresses))
		for i, a := range u.Addresses {
			m := make(map[string]any, 4)
			putStr(m, "formatted", a.Formatted)
			putStr(m, "streetAddress", a.StreetAddress)
			putStr(m, "locality", a.Locality)
			putStr(m, "region", a.Region)
			putStr(m, "postalCode", a.PostalCode)
			putStr(m, "country", a.Country)
			putStr(m, "type", a.Type)
			if a.Primary {
				m["primary"] = true
			}
			list[i] = m
		}
		d["addresses"] = list
	}
	if len(u.Groups) > 0 {
		list := make([]any, len(u.Groups))
		for i, g := range u.Groups {
			m := make(map[string]any, 4)
			putStr(m, "value", g.Value)
			putStr(m, "$ref", g.Ref)
			putStr(m, "display", g.Display)
			putStr(m, "type", g.Type)
			list[i] = m
		}
		d["groups"] = list
	}
	putMulti(d, "entitlements", u.Entitlements)
	putMulti(d, "roles", u.Roles)
	putMulti(d, "x509Certificates", u.X509Certificates)
	if e := u.Enterprise; e != nil {
		m := make(map[string]any, 2)
		putStr(m, "employeeNumber", e.EmployeeNumber)
		putStr(m, "costCenter", e.CostCenter)
		putStr(m, "organization", e.Organization)
		putStr(m, "division", e.Division)
		putStr(m, "department", e.Department)
		if mg := e.Manager; mg != nil {
			mm := make(map[string]any, 3)
			putStr(mm, "value", mg.Value)
			putStr(mm, "$ref", mg.Ref)
			putStr(mm, "displayName", mg.DisplayName)
			m["manager"] = mm
		}
		d[schema.EnterpriseUserURN] = m
	}
	if m := &u.Meta; *m != (Meta{}) {
		mm := make(map[string]any, 5)
		putStr(mm, "resourceType", m.ResourceType)
		putTime(mm, "created", m.Created)
		putTime(mm, "lastModified", m.LastModified)
		putStr(mm, "location", m.Location)
		putStr(mm, "version", m.Version)
		d["meta"] = mm
	}
	for urn, attrs := range u.Extensions {
		if len(attrs) > 0 {
			d[urn] = canonicalCopy(map[string]any(attrs))
		}
	}
	return d
}

func putStr(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}

func putTime(m map[string]any, k string, t time.Time) {
	if !t.IsZero() {
		m[k] = t.Format(time.RFC3339Nano)
	}
}

func putMulti(d map[string]any, k string, list []MultiValue) {
	if len(list) == 0 {
		return
	}
	out := make([]any, len(list))
	for i, v := range list {
		m := make(map[string]any, 3)
		putStr(m, "value", v.Value)
		putStr(m, "display", v.Display)
		putStr(m, "type", v.Type)
		if v.Primary {
			m["primary"] = true
		}
		out[i] = m
	}
	d[k] = out
}

// canonicalCopy returns a deep copy of a canonical JSON value (strings, booleans, json.Number, nil, []any,
// map[string]any); any other value (a float64 a host set by hand, say) goes through encoding/json, as its
// JSON form would.
func canonicalCopy(v any) any {
	switch v := v.(type) {
	case nil, string, bool, json.Number:
		return v
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			out[k] = canonicalCopy(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = canonicalCopy(x)
		}
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	_ = d.Decode(&out)
	return out
}

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
