package scim

import (
	"slices"
	"strings"
	"unsafe"

	"github.com/scimkit/scim/schema"
)

// The field table of User: each attribute's JSON name beside the field that holds it, in the struct's
// order (the order encoding/json writes). Every conversion of a User reads it (appendUser, doc,
// userFromDoc, userSource), so an attribute is named here and in its struct tag, nowhere else;
// TestFieldTablesMatchStructs fails when a struct field has no row or a row names no field.

// strField is a string field of a T: its JSON name and its offset in a T. An offset, not an accessor
// function: a pointer given to a function value escapes to the heap, and appendUser must leave the
// caller's copy of a user on its stack. The test checks every offset against the struct by reflection.
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

// userField is one top-level field of User.
type userField struct {
	name string
	kind userKind
	off  uintptr // userString, userMulti: the field's offset in User
}

// str returns the string field of a userString row in u.
func (f *userField) str(u *User) *string { return (*string)(unsafe.Add(unsafe.Pointer(u), f.off)) }

// multi returns the MultiValue list of a userMulti row in u.
func (f *userField) multi(u *User) *[]MultiValue {
	return (*[]MultiValue)(unsafe.Add(unsafe.Pointer(u), f.off))
}

func ustr(name string, off uintptr) userField {
	return userField{name: name, kind: userString, off: off}
}
func umulti(name string, off uintptr) userField {
	return userField{name: name, kind: userMulti, off: off}
}

// userTable is User's fields, in struct order.
var userTable = [...]userField{
	{name: "schemas", kind: userSchemas},
	ustr("id", unsafe.Offsetof(User{}.ID)),
	ustr("externalId", unsafe.Offsetof(User{}.ExternalID)),
	ustr("userName", unsafe.Offsetof(User{}.UserName)),
	{name: "name", kind: userName},
	ustr("displayName", unsafe.Offsetof(User{}.DisplayName)),
	ustr("nickName", unsafe.Offsetof(User{}.NickName)),
	ustr("profileUrl", unsafe.Offsetof(User{}.ProfileURL)),
	ustr("title", unsafe.Offsetof(User{}.Title)),
	ustr("userType", unsafe.Offsetof(User{}.UserType)),
	ustr("preferredLanguage", unsafe.Offsetof(User{}.PreferredLanguage)),
	ustr("locale", unsafe.Offsetof(User{}.Locale)),
	ustr("timezone", unsafe.Offsetof(User{}.Timezone)),
	{name: "active", kind: userActive},
	umulti("emails", unsafe.Offsetof(User{}.Emails)),
	umulti("phoneNumbers", unsafe.Offsetof(User{}.PhoneNumbers)),
	umulti("ims", unsafe.Offsetof(User{}.IMs)),
	umulti("photos", unsafe.Offsetof(User{}.Photos)),
	{name: "addresses", kind: userAddresses},
	{name: "groups", kind: userGroups},
	umulti("entitlements", unsafe.Offsetof(User{}.Entitlements)),
	umulti("roles", unsafe.Offsetof(User{}.Roles)),
	umulti("x509Certificates", unsafe.Offsetof(User{}.X509Certificates)),
	{name: schema.EnterpriseUserURN, kind: userEnterprise},
	{name: "meta", kind: userMeta},
}

// The string fields of User's complex values, in struct order; a bool "primary" (MultiValue, Address)
// and Manager under EnterpriseUser are written after them by hand.
var (
	nameFields = []strField[Name]{
		{"formatted", unsafe.Offsetof(Name{}.Formatted)},
		{"familyName", unsafe.Offsetof(Name{}.FamilyName)},
		{"givenName", unsafe.Offsetof(Name{}.GivenName)},
		{"middleName", unsafe.Offsetof(Name{}.MiddleName)},
		{"honorificPrefix", unsafe.Offsetof(Name{}.HonorificPrefix)},
		{"honorificSuffix", unsafe.Offsetof(Name{}.HonorificSuffix)},
	}
	multiFields = []strField[MultiValue]{
		{"value", unsafe.Offsetof(MultiValue{}.Value)},
		{"display", unsafe.Offsetof(MultiValue{}.Display)},
		{"type", unsafe.Offsetof(MultiValue{}.Type)},
	}
	addressFields = []strField[Address]{
		{"formatted", unsafe.Offsetof(Address{}.Formatted)},
		{"streetAddress", unsafe.Offsetof(Address{}.StreetAddress)},
		{"locality", unsafe.Offsetof(Address{}.Locality)},
		{"region", unsafe.Offsetof(Address{}.Region)},
		{"postalCode", unsafe.Offsetof(Address{}.PostalCode)},
		{"country", unsafe.Offsetof(Address{}.Country)},
		{"type", unsafe.Offsetof(Address{}.Type)},
	}
	groupRefFields = []strField[GroupRef]{
		{"value", unsafe.Offsetof(GroupRef{}.Value)},
		{"$ref", unsafe.Offsetof(GroupRef{}.Ref)},
		{"display", unsafe.Offsetof(GroupRef{}.Display)},
		{"type", unsafe.Offsetof(GroupRef{}.Type)},
	}
	enterpriseFields = []strField[EnterpriseUser]{
		{"employeeNumber", unsafe.Offsetof(EnterpriseUser{}.EmployeeNumber)},
		{"costCenter", unsafe.Offsetof(EnterpriseUser{}.CostCenter)},
		{"organization", unsafe.Offsetof(EnterpriseUser{}.Organization)},
		{"division", unsafe.Offsetof(EnterpriseUser{}.Division)},
		{"department", unsafe.Offsetof(EnterpriseUser{}.Department)},
	}
	managerFields = []strField[Manager]{
		{"value", unsafe.Offsetof(Manager{}.Value)},
		{"$ref", unsafe.Offsetof(Manager{}.Ref)},
		{"displayName", unsafe.Offsetof(Manager{}.DisplayName)},
	}
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
	for i := range fields {
		if fields[i].name == k {
			return &fields[i]
		}
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
