package scim

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"unsafe"
)

// The field table of User: each attribute's JSON name beside the field that holds it, in the struct's
// order (the order encoding/json writes). Every conversion of a User reads it (appendUser, doc,
// userFromDoc, userSource, equalUsers). The rows are read from the structs' json tags when the package
// loads, so the struct is the one place an attribute is named: a string field or a MultiValue list added
// to User, or a string field added to one of its complex values, is encoded, decoded, matched and compared
// with no other line. A field of a type the table has no kind for stops the package from loading (see
// tableOf), never a silent omission.

// strField is a string field of a T: its JSON name and its offset in a T. An offset, not an accessor
// function: a pointer given to a function value escapes to the heap, and appendUser must leave the
// caller's copy of a user on its stack.
type strField[T any] struct {
	name string
	off  uintptr
}

// at returns the field in v.
func (f *strField[T]) at(v *T) *string { return (*string)(unsafe.Add(unsafe.Pointer(v), f.off)) }

// userKind is the shape of a top-level User field, for the fields the table cannot give as a string or a
// MultiValue list.
type userKind uint8

const (
	userString userKind = iota // str
	userMulti                  // multi: a list of MultiValue
	userSchemas
	userName
	userActive
	userAddresses
	userGroups
	userEnterprise
	userMeta
)

// userKinds maps a User field's type to its kind.
var userKinds = map[reflect.Type]userKind{
	reflect.TypeFor[string]():          userString,
	reflect.TypeFor[[]MultiValue]():    userMulti,
	reflect.TypeFor[[]string]():        userSchemas,
	reflect.TypeFor[*Name]():           userName,
	reflect.TypeFor[*bool]():           userActive,
	reflect.TypeFor[[]Address]():       userAddresses,
	reflect.TypeFor[[]GroupRef]():      userGroups,
	reflect.TypeFor[*EnterpriseUser](): userEnterprise,
	reflect.TypeFor[Meta]():            userMeta,
}

// userField is one top-level field of User.
type userField struct {
	name string
	kind userKind
	off  uintptr // the field's offset in User (read for userString and userMulti)
}

// str returns the string field of a userString row in u.
func (f *userField) str(u *User) *string { return (*string)(unsafe.Add(unsafe.Pointer(u), f.off)) }

// multi returns the MultiValue list of a userMulti row in u.
func (f *userField) multi(u *User) *[]MultiValue {
	return (*[]MultiValue)(unsafe.Add(unsafe.Pointer(u), f.off))
}

// jsonFields calls fn with each field of struct type t that encoding/json writes, and its JSON name.
func jsonFields(t reflect.Type, fn func(name string, f reflect.StructField)) {
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fn(name, f)
	}
}

// tableOf returns the rows of struct type t (User, or a struct shaped like it in tests), or an error naming
// the first field whose type has no kind, or whose kind is one the codecs write by its field (Schemas,
// Name, Active, Addresses, Groups, Enterprise, Meta) and is taken: only strings and MultiValue lists are
// read by offset, so only those can be added without code.
func tableOf(t reflect.Type) ([]userField, error) {
	var rows []userField
	var err error
	taken := map[userKind]string{} // the kinds the codecs write by field name, not by offset: one field each
	jsonFields(t, func(name string, f reflect.StructField) {
		kind, ok := userKinds[f.Type]
		switch {
		case err != nil:
		case !ok:
			err = fmt.Errorf("scim: User.%s is a %s, a type the field table has no kind for", f.Name, f.Type)
		case kind != userString && kind != userMulti && taken[kind] != "":
			err = fmt.Errorf("scim: User.%s is a %s, a kind the codecs write only as User.%s", f.Name, f.Type, taken[kind])
		default:
			taken[kind] = f.Name
		}
		rows = append(rows, userField{name: name, kind: kind, off: f.Offset})
	})
	return rows, err
}

// strFieldsOf returns the string fields of T, in struct order; its other fields (a bool "primary",
// EnterpriseUser's Manager) are written by hand.
func strFieldsOf[T any]() []strField[T] {
	var rows []strField[T]
	jsonFields(reflect.TypeFor[T](), func(name string, f reflect.StructField) {
		if f.Type == reflect.TypeFor[string]() {
			rows = append(rows, strField[T]{name, f.Offset})
		}
	})
	return rows
}

// userTable is User's fields, in struct order.
var userTable = func() []userField {
	rows, err := tableOf(reflect.TypeFor[User]())
	if err != nil {
		panic(err) // a programming error in this package: every test fails on it
	}
	return rows
}()

// The string fields of User's complex values, in struct order.
var (
	nameFields       = strFieldsOf[Name]()
	multiFields      = strFieldsOf[MultiValue]()
	addressFields    = strFieldsOf[Address]()
	groupRefFields   = strFieldsOf[GroupRef]()
	enterpriseFields = strFieldsOf[EnterpriseUser]()
	managerFields    = strFieldsOf[Manager]()
)

// userIndex finds a row of userTable by its exact name (a resolved path's attribute name).
var userIndex = func() map[string]*userField {
	m := make(map[string]*userField, len(userTable))
	for i := range userTable {
		m[userTable[i].name] = &userTable[i]
	}
	return m
}()

// userFieldByKey returns the row whose name k matches as encoding/json matches object keys to fields:
// exactly, else the first without case; nil when none does.
func userFieldByKey(k string) *userField {
	if f := userIndex[k]; f != nil {
		return f
	}
	for i := range userTable {
		if strings.EqualFold(userTable[i].name, k) {
			return &userTable[i]
		}
	}
	return nil
}

// strFieldByKey is userFieldByKey for the string fields of a complex value.
func strFieldByKey[T any](fields []strField[T], k string) *strField[T] {
	if f := strFieldNamed(fields, k); f != nil {
		return f
	}
	for i := range fields {
		if strings.EqualFold(fields[i].name, k) {
			return &fields[i]
		}
	}
	return nil
}

// strFieldNamed returns the string field called name exactly (a resolved sub-attribute's name), or nil.
func strFieldNamed[T any](fields []strField[T], name string) *strField[T] {
	for i := range fields {
		if fields[i].name == name {
			return &fields[i]
		}
	}
	return nil
}

// appendStrs writes v's string fields, each omitted when empty.
func appendStrs[T any](o *jsonObject, b []byte, v *T, fields []strField[T]) []byte {
	for _, f := range fields {
		b = o.str(b, f.name, *f.at(v))
	}
	return b
}

// putStrs puts v's assigned string fields into m.
func putStrs[T any](m map[string]any, v *T, fields []strField[T]) {
	for _, f := range fields {
		putStr(m, f.name, *f.at(v))
	}
}

// setStrs sets v's string fields from a canonical object m; other keys are given to other (nil: ignored).
func setStrs[T any](k string, m map[string]any, v *T, fields []strField[T], other func(k string, val any) error) error {
	return setFields(k, m, func(k string, val any) (err error) {
		if f := strFieldByKey(fields, k); f != nil {
			*f.at(v), err = str(k, val)
			return err
		}
		if other != nil {
			return other(k, val)
		}
		return nil
	})
}

// equalUsers reports whether a and b have the same JSON form (appendUser's), compared field by field
// through the table rather than by encoding both: how update tells a change that changes nothing. Host
// extensions, whose values are any canonical JSON, compare by their encodings.
func equalUsers(a, b *User) bool {
	for i := range userTable {
		f := &userTable[i]
		var same bool
		switch f.kind {
		case userString:
			same = *f.str(a) == *f.str(b)
		case userMulti:
			same = slices.Equal(*f.multi(a), *f.multi(b)) // nil and empty are both omitted
		case userSchemas:
			same = slices.Equal(a.Schemas, b.Schemas)
		case userName:
			same = a.Name == b.Name || a.Name != nil && b.Name != nil && *a.Name == *b.Name
		case userActive:
			same = a.Active == b.Active || a.Active != nil && b.Active != nil && *a.Active == *b.Active
		case userAddresses:
			same = slices.Equal(a.Addresses, b.Addresses)
		case userGroups:
			same = slices.Equal(a.Groups, b.Groups)
		case userEnterprise:
			same = equalEnterprise(a.Enterprise, b.Enterprise)
		case userMeta:
			same = a.Meta.ResourceType == b.Meta.ResourceType && a.Meta.Created.Equal(b.Meta.Created) &&
				a.Meta.LastModified.Equal(b.Meta.LastModified) && a.Meta.Location == b.Meta.Location && a.Meta.Version == b.Meta.Version
		}
		if !same {
			return false
		}
	}
	return equalExtensions(a.Extensions, b.Extensions)
}

func equalEnterprise(a, b *EnterpriseUser) bool {
	if a == nil || b == nil {
		return a == b
	}
	for _, f := range enterpriseFields {
		if *f.at(a) != *f.at(b) {
			return false
		}
	}
	return a.Manager == b.Manager || a.Manager != nil && b.Manager != nil && *a.Manager == *b.Manager
}

// equalExtensions compares the non-empty extensions by their JSON, as appendUser writes them.
func equalExtensions(a, b map[string]Attributes) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	ea, err1 := appendUser(nil, &User{Extensions: a})
	eb, err2 := appendUser(nil, &User{Extensions: b})
	return err1 == nil && err2 == nil && string(ea) == string(eb)
}
