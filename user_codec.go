package scim

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
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
	for i := range userTable {
		f := &userTable[i]
		switch f.kind {
		case userString:
			b = o.str(b, f.name, *f.str(u))
		case userMulti:
			b = o.multi(b, f.name, *f.multi(u))
		case userSchemas:
			if len(u.Schemas) > 0 {
				b = o.key(b, f.name)
				for i, s := range u.Schemas {
					b = append(b, "[,"[min(i, 1)])
					b = appendString(b, s)
				}
				b = append(b, ']')
			}
		case userName:
			if n := u.Name; n != nil {
				var no jsonObject
				b = append(appendStrs(&no, no.open(o.key(b, f.name)), n, nameFields), '}')
			}
		case userActive:
			if u.Active != nil {
				b = strconv.AppendBool(o.key(b, f.name), *u.Active)
			}
		case userAddresses:
			if len(u.Addresses) > 0 {
				b = o.key(b, f.name)
				for i := range u.Addresses {
					a := &u.Addresses[i]
					var ao jsonObject
					b = appendStrs(&ao, ao.open(append(b, "[,"[min(i, 1)])), a, addressFields)
					if a.Primary {
						b = append(ao.key(b, "primary"), "true"...)
					}
					b = append(b, '}')
				}
				b = append(b, ']')
			}
		case userGroups:
			if len(u.Groups) > 0 {
				b = o.key(b, f.name)
				for i := range u.Groups {
					var gobj jsonObject
					b = append(appendStrs(&gobj, gobj.open(append(b, "[,"[min(i, 1)])), &u.Groups[i], groupRefFields), '}')
				}
				b = append(b, ']')
			}
		case userEnterprise:
			if e := u.Enterprise; e != nil {
				var eo jsonObject
				b = appendStrs(&eo, eo.open(o.key(b, f.name)), e, enterpriseFields)
				if m := e.Manager; m != nil {
					var mo jsonObject
					b = append(appendStrs(&mo, mo.open(eo.key(b, "manager")), m, managerFields), '}')
				}
				b = append(b, '}')
			}
		case userMeta:
			var err error
			if b, err = appendMeta(&o, b, &u.Meta); err != nil {
				return nil, err
			}
		}
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

// appendMeta writes meta as a member of o, omitted when unset (omitzero).
func appendMeta(o *jsonObject, b []byte, m *Meta) ([]byte, error) {
	if *m == (Meta{}) {
		return b, nil
	}
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
	return b, nil
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
	for i := range list {
		var vo jsonObject
		b = appendStrs(&vo, vo.open(append(b, "[,"[min(i, 1)])), &list[i], multiFields)
		if list[i].Primary {
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

// Document returns u's canonical document: the map that decoding its JSON form gives (numbers as
// json.Number, each extension an object under its URN), built from the fields without JSON. It shares
// nothing with u. A Store that keeps a document beside its columns (a folded search copy, say) builds it
// from here rather than encoding u and decoding the result.
func (u *User) Document() map[string]any { return u.doc() }

// doc returns the canonical document of u: the map that decoding its JSON form (numbers as json.Number)
// gives, built directly. It shares nothing with u: PATCH and PUT change it in place.
func (u *User) doc() map[string]any {
	d := make(map[string]any, 12)
	for i := range userTable {
		f := &userTable[i]
		switch f.kind {
		case userString:
			putStr(d, f.name, *f.str(u))
		case userMulti:
			putMulti(d, f.name, *f.multi(u))
		case userSchemas:
			if len(u.Schemas) > 0 {
				s := make([]any, len(u.Schemas))
				for i, x := range u.Schemas {
					s[i] = x
				}
				d[f.name] = s
			}
		case userName:
			if n := u.Name; n != nil {
				m := make(map[string]any, 2)
				putStrs(m, n, nameFields)
				d[f.name] = m
			}
		case userActive:
			if u.Active != nil {
				d[f.name] = *u.Active
			}
		case userAddresses:
			if len(u.Addresses) > 0 {
				list := make([]any, len(u.Addresses))
				for i := range u.Addresses {
					m := make(map[string]any, 4)
					putStrs(m, &u.Addresses[i], addressFields)
					if u.Addresses[i].Primary {
						m["primary"] = true
					}
					list[i] = m
				}
				d[f.name] = list
			}
		case userGroups:
			if len(u.Groups) > 0 {
				list := make([]any, len(u.Groups))
				for i := range u.Groups {
					m := make(map[string]any, 4)
					putStrs(m, &u.Groups[i], groupRefFields)
					list[i] = m
				}
				d[f.name] = list
			}
		case userEnterprise:
			if e := u.Enterprise; e != nil {
				m := make(map[string]any, 2)
				putStrs(m, e, enterpriseFields)
				if mg := e.Manager; mg != nil {
					mm := make(map[string]any, 3)
					putStrs(mm, mg, managerFields)
					m["manager"] = mm
				}
				d[f.name] = m
			}
		case userMeta:
			if m := &u.Meta; *m != (Meta{}) {
				mm := make(map[string]any, 5)
				putStr(mm, "resourceType", m.ResourceType)
				putTime(mm, "created", m.Created)
				putTime(mm, "lastModified", m.LastModified)
				putStr(mm, "location", m.Location)
				putStr(mm, "version", m.Version)
				d[f.name] = mm
			}
		}
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
	for i := range list {
		m := make(map[string]any, 3)
		putStrs(m, &list[i], multiFields)
		if list[i].Primary {
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
