package scim

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/scimkit/scim/schema"
)

// Attributes are the attributes of one extension schema in their canonical JSON form: names as the schema
// spells them, strings, booleans, json.Number for numbers, []any and map[string]any for multi-valued and
// complex values.
type Attributes map[string]any

// userJSON is User without its methods, for the default encoding of its fields.
type userJSON User

// MarshalJSON encodes the user in its SCIM form: the struct's fields, then each host extension as an object
// under its URN, in URN order so that equal users encode to equal bytes.
func (u User) MarshalJSON() ([]byte, error) {
	return appendUser(make([]byte, 0, 512), &u)
}

// UnmarshalJSON decodes the SCIM form of a user: the struct's fields, and every other key that is a schema
// URN as a host extension (numbers kept exact as json.Number).
func (u *User) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, (*userJSON)(u)); err != nil {
		return err
	}
	u.Extensions = nil
	// Most users have no host extension: look for a URN key (in any case, as URNs compare) before decoding a
	// second time.
	if countURNs(b) <= bytes.Count(b, []byte(`"`+schema.EnterpriseUserURN+`"`)) {
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for k, v := range raw {
		if len(k) < 5 || !strings.EqualFold(k[:4], "urn:") || strings.EqualFold(k, schema.EnterpriseUserURN) ||
			strings.EqualFold(k, schema.UserURN) {
			continue
		}
		var attrs Attributes
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		if err := d.Decode(&attrs); err != nil {
			return err
		}
		if len(attrs) > 0 {
			if u.Extensions == nil {
				u.Extensions = map[string]Attributes{}
			}
			u.Extensions[k] = attrs
		}
	}
	return nil
}

// countURNs counts the JSON strings in b that start with "urn:" in any case.
func countURNs(b []byte) int {
	n := 0
	for i := bytes.IndexByte(b, '"'); i >= 0 && i+5 <= len(b); {
		if (b[i+1]|0x20) == 'u' && (b[i+2]|0x20) == 'r' && (b[i+3]|0x20) == 'n' && b[i+4] == ':' {
			n++
		}
		j := bytes.IndexByte(b[i+1:], '"')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return n
}

// ExtensionValue is the Go type of a single-valued extension attribute: string (string, reference, binary),
// bool, int64 (integer), float64 (decimal) or time.Time (dateTime).
type ExtensionValue interface {
	string | bool | int64 | float64 | time.Time
}

// ExtensionAttr names one single-valued attribute of a host extension schema, for typed access from a
// Store: a Store keeping a custom attribute in a column of its own reads and writes it in one line. URN and
// Name are spelled as the declaration spells them: that is how the handler keys User.Extensions.
//
//	var costCode = scim.ExtensionAttr[string]{URN: "urn:ietf:params:scim:schemas:extension:MyApp:2.0:User", Name: "costCode"}
//	row.CostCode, _ = costCode.Get(u)   // Store.Create, Store.Replace
//	costCode.Set(u, row.CostCode)       // Store.Get, Store.List
type ExtensionAttr[T ExtensionValue] struct {
	URN  string
	Name string
}

// Get returns the attribute's value in u, and whether it is assigned with a value of type T.
func (a ExtensionAttr[T]) Get(u *User) (T, bool) {
	var zero T
	raw, ok := u.Extensions[a.URN][a.Name]
	if !ok {
		return zero, false
	}
	var out any
	switch any(zero).(type) {
	case string:
		s, ok := raw.(string)
		if !ok {
			return zero, false
		}
		out = s
	case bool:
		b, ok := raw.(bool)
		if !ok {
			return zero, false
		}
		out = b
	case int64:
		n, ok := raw.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil {
			return zero, false
		}
		out = i
	case float64:
		n, ok := raw.(json.Number)
		f, err := n.Float64()
		if !ok || err != nil {
			return zero, false
		}
		out = f
	case time.Time:
		s, ok := raw.(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if !ok || err != nil {
			return zero, false
		}
		out = t
	}
	return out.(T), true
}

// Set assigns the attribute in u. A zero string or time unassigns it, as SCIM treats "" (RFC 7643 §2.5).
func (a ExtensionAttr[T]) Set(u *User, v T) {
	var canon any
	switch x := any(v).(type) {
	case string:
		if x != "" {
			canon = x
		}
	case bool:
		canon = x
	case int64:
		canon = json.Number(strconv.FormatInt(x, 10))
	case float64:
		canon = json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case time.Time:
		if !x.IsZero() {
			canon = x.UTC().Format(time.RFC3339Nano)
		}
	}
	if canon == nil {
		a.Clear(u)
		return
	}
	if u.Extensions == nil {
		u.Extensions = map[string]Attributes{}
	}
	attrs := u.Extensions[a.URN]
	if attrs == nil {
		attrs = Attributes{}
		u.Extensions[a.URN] = attrs
	}
	attrs[a.Name] = canon
}

// Clear unassigns the attribute in u.
func (a ExtensionAttr[T]) Clear(u *User) {
	attrs := u.Extensions[a.URN]
	if attrs == nil {
		return
	}
	delete(attrs, a.Name)
	if len(attrs) == 0 {
		delete(u.Extensions, a.URN)
	}
}
