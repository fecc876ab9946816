package scim

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// jsonNames returns the JSON names of t's fields that encoding/json writes, in struct order.
func jsonNames(t reflect.Type) []string {
	var names []string
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		names = append(names, strings.Split(tag, ",")[0])
	}
	return names
}

func strNames[T any](fields []strField[T]) []string {
	var names []string
	for _, f := range fields {
		names = append(names, f.name)
	}
	return names
}

// TestFieldTablesMatchStructs: the field tables name every field of User and of its complex values, in
// struct order, and each row's accessor reaches the field its name says: a field added to a struct without
// its row, or a row whose accessor points elsewhere, fails here (and in every codec test after it).
func TestFieldTablesMatchStructs(t *testing.T) {
	var top []string
	for _, f := range userTable {
		top = append(top, f.name)
	}
	require.Equal(t, jsonNames(reflect.TypeFor[User]()), top)
	require.Equal(t, jsonNames(reflect.TypeFor[Name]()), strNames(nameFields))
	require.Equal(t, jsonNames(reflect.TypeFor[MultiValue]()), append(strNames(multiFields), "primary"))
	require.Equal(t, jsonNames(reflect.TypeFor[Address]()), append(strNames(addressFields), "primary"))
	require.Equal(t, jsonNames(reflect.TypeFor[GroupRef]()), strNames(groupRefFields))
	require.Equal(t, jsonNames(reflect.TypeFor[EnterpriseUser]()), append(strNames(enterpriseFields), "manager"))
	require.Equal(t, jsonNames(reflect.TypeFor[Manager]()), strNames(managerFields))

	// Each offset is the field of its name, of the type the row says.
	checkOffsets(t, userStrings(), reflect.TypeFor[User]())
	checkOffsets(t, nameFields, reflect.TypeFor[Name]())
	checkOffsets(t, multiFields, reflect.TypeFor[MultiValue]())
	checkOffsets(t, addressFields, reflect.TypeFor[Address]())
	checkOffsets(t, groupRefFields, reflect.TypeFor[GroupRef]())
	checkOffsets(t, enterpriseFields, reflect.TypeFor[EnterpriseUser]())
	checkOffsets(t, managerFields, reflect.TypeFor[Manager]())
	for _, f := range userTable {
		if f.kind == userMulti {
			sf := field(t, reflect.TypeFor[User](), f.name)
			require.Equal(t, sf.Offset, f.off, f.name)
			require.Equal(t, reflect.TypeFor[[]MultiValue](), sf.Type, f.name)
		}
	}
}

func userStrings() []strField[User] {
	var out []strField[User]
	for _, f := range userTable {
		if f.kind == userString {
			out = append(out, strField[User]{f.name, f.off})
		}
	}
	return out
}

func checkOffsets[T any](t *testing.T, fields []strField[T], typ reflect.Type) {
	t.Helper()
	for _, f := range fields {
		sf := field(t, typ, f.name)
		require.Equal(t, sf.Offset, f.off, "%s.%s", typ.Name(), f.name)
		require.Equal(t, reflect.TypeFor[string](), sf.Type, "%s.%s", typ.Name(), f.name)
	}
}

func field(t *testing.T, typ reflect.Type, name string) reflect.StructField {
	for f := range typ.Fields() {
		if strings.Split(f.Tag.Get("json"), ",")[0] == name {
			return f
		}
	}
	t.Fatalf("%s has no field %s", typ.Name(), name)
	return reflect.StructField{}
}

// TestAddingAFieldIsOneLine: the rows come from the struct alone. A struct like User with one more string
// field and one more MultiValue list gets their rows (name from the tag, offset from the struct);
// a field of a type the table has no kind for is an error naming it, so it cannot be dropped silently. A
// complex value's new string field is encoded, decoded and put into the canonical document by the same
// generic functions the real ones use.
func TestAddingAFieldIsOneLine(t *testing.T) {
	type user2 struct {
		ID       string       `json:"id,omitempty"`
		Pronouns string       `json:"pronouns,omitempty"`
		Badges   []MultiValue `json:"badges,omitempty"`
		Secret   string       `json:"-"`
	}
	rows, err := tableOf(reflect.TypeFor[user2]())
	require.NoError(t, err)
	require.Equal(t, []userField{
		{name: "id", kind: userString, off: unsafe.Offsetof(user2{}.ID)},
		{name: "pronouns", kind: userString, off: unsafe.Offsetof(user2{}.Pronouns)},
		{name: "badges", kind: userMulti, off: unsafe.Offsetof(user2{}.Badges)},
	}, rows)

	type odd struct {
		ID    string `json:"id"`
		Level int    `json:"level"`
	}
	_, err = tableOf(reflect.TypeFor[odd]())
	require.ErrorContains(t, err, "User.Level is a int")

	type twoLists struct { // a second []string would be written as Schemas: refused, not mis-encoded
		Schemas []string `json:"schemas,omitempty"`
		Aliases []string `json:"aliases,omitempty"`
	}
	_, err = tableOf(reflect.TypeFor[twoLists]())
	require.ErrorContains(t, err, "User.Aliases is a []string, a kind the codecs write only as User.Schemas")

	type value2 struct {
		Value   string `json:"value,omitempty"`
		Label   string `json:"label,omitempty"`
		Primary bool   `json:"primary,omitempty"`
	}
	fields := strFieldsOf[value2]()
	require.Equal(t, []string{"value", "label"}, strNames(fields))
	v := value2{Value: "v", Label: "l"}
	var o jsonObject
	b := appendStrs(&o, []byte("{"), &v, fields)
	require.JSONEq(t, `{"value":"v","label":"l"}`, string(b)+"}")
	m := map[string]any{}
	putStrs(m, &v, fields)
	require.Equal(t, map[string]any{"value": "v", "label": "l"}, m)
	var back value2
	require.NoError(t, setStrs("x", m, &back, fields, nil))
	require.Equal(t, v, back)
}

// TestEqualUsersIsEqualEncoding: equalUsers says two users are equal exactly when their JSON forms are,
// over users differing in one field of every kind (and in nil against empty, which both omit).
func TestEqualUsersIsEqualEncoding(t *testing.T) {
	yes, no := true, false
	base := func() *User {
		return &User{UserName: "a", Name: &Name{GivenName: "A"}, Active: &yes,
			Emails:     []MultiValue{{Value: "a@x", Primary: true}},
			Addresses:  []Address{{Locality: "Oslo"}},
			Groups:     []GroupRef{{Value: "g"}},
			Enterprise: &EnterpriseUser{Department: "d", Manager: &Manager{Value: "m"}},
			Meta:       Meta{Version: "1", Created: time.Unix(1, 0).UTC()},
			Extensions: map[string]Attributes{"urn:x:ext": {"k": json.Number("1")}}}
	}
	changes := []func(u *User){
		func(u *User) {},
		func(u *User) { u.NickName = "n" },
		func(u *User) { u.Name = nil },
		func(u *User) { u.Name = &Name{GivenName: "B"} },
		func(u *User) { u.Active = &no },
		func(u *User) { u.Active = nil },
		func(u *User) { u.Emails[0].Primary = false },
		func(u *User) { u.Emails = nil },
		func(u *User) { u.Roles = []MultiValue{} }, // empty: omitted as nil is
		func(u *User) { u.Addresses[0].Primary = true },
		func(u *User) { u.Groups = nil },
		func(u *User) { u.Enterprise.Manager = nil },
		func(u *User) { u.Enterprise.CostCenter = "c" },
		func(u *User) { u.Meta.Version = "2" },
		func(u *User) { u.Meta.Created = time.Unix(2, 0).UTC() },
		func(u *User) { u.Extensions["urn:x:ext"]["k"] = json.Number("2") },
		func(u *User) { u.Extensions = nil },
		func(u *User) { u.Schemas = []string{"urn:x"} },
	}
	for i, change := range changes {
		a, b := base(), base()
		change(b)
		ea, err := appendUser(nil, a)
		require.NoError(t, err)
		eb, err := appendUser(nil, b)
		require.NoError(t, err)
		require.Equal(t, string(ea) == string(eb), equalUsers(a, b), "change %d: %s / %s", i, ea, eb)
	}
}
