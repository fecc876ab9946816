package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
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
