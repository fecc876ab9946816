package schema

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestUser(t *testing.T) {
	rt := User()
	require.Equal(t, "User", rt.Name)
	require.Equal(t, "/Users", rt.Endpoint)
	require.Equal(t, UserURN, rt.Core.ID)
	require.Len(t, rt.Extensions, 1)
	require.Equal(t, EnterpriseUserURN, rt.Extensions[0].Schema.ID)
	require.Equal(t, []*Schema{rt.Core, rt.Extensions[0].Schema}, rt.Schemas())

	var common []string
	for _, a := range rt.Common {
		common = append(common, a.Name)
	}
	require.Equal(t, []string{"id", "externalId", "meta"}, common, "schemas is derived, never an attribute")

	attr := func(path string) *Attribute {
		p, ok := rt.Resolve(path)
		require.True(t, ok, path)
		return p.Target()
	}
	require.True(t, attr("userName").Required)
	require.False(t, attr("userName").CaseExact)
	require.Equal(t, UniqueServer, attr("userName").Uniqueness)
	require.True(t, attr("externalId").CaseExact)
	require.True(t, attr("id").CaseExact)
	require.Equal(t, ReadOnly, attr("id").Mutability)
	require.Equal(t, Always, attr("id").Returned)
	require.Equal(t, ReadOnly, attr("meta").Mutability)
	require.Equal(t, DateTime, attr("meta.created").Type)
	require.Equal(t, ReadOnly, attr("groups").Mutability)
	require.Equal(t, Never, attr("password").Returned)
	require.Equal(t, WriteOnly, attr("password").Mutability)
	require.Equal(t, Boolean, attr("active").Type)
	require.Equal(t, Boolean, attr("emails.primary").Type)
	require.True(t, attr("emails").MultiValued)
	require.Equal(t, Complex, attr("emails").Type)
	require.Equal(t, Binary, attr("x509Certificates.value").Type)
	require.Equal(t, Reference, attr("profileUrl").Type)
	require.Equal(t, ReadOnly, attr(EnterpriseUserURN+":manager.displayName").Mutability)
	require.Equal(t, ReadWrite, attr(EnterpriseUserURN+":manager.value").Mutability)
}

func TestUserIsFresh(t *testing.T) {
	a, b := User(), User()
	a.Core.Attr("userName").Description = "changed"
	a.Extensions[0].Schema.Attributes = nil
	require.NotEqual(t, "changed", b.Core.Attr("userName").Description)
	require.NotEmpty(t, b.Extensions[0].Schema.Attributes)
	require.NotEmpty(t, User().Extensions[0].Schema.Attributes)
}

func TestSchemaJSON(t *testing.T) {
	b, err := json.Marshal(User().Core)
	require.NoError(t, err)
	var got struct {
		ID         string `json:"id"`
		Attributes []struct {
			Name          string `json:"name"`
			Type          string `json:"type"`
			SubAttributes []struct {
				Name string `json:"name"`
			} `json:"subAttributes"`
		} `json:"attributes"`
	}
	require.NoError(t, json.Unmarshal(b, &got))
	require.Equal(t, UserURN, got.ID)
	require.Equal(t, "userName", got.Attributes[0].Name)
	require.Equal(t, "string", got.Attributes[0].Type)
	require.Equal(t, "name", got.Attributes[1].Name)
	require.NotEmpty(t, got.Attributes[1].SubAttributes)
}

func TestResolve(t *testing.T) {
	rt := User()
	ent := rt.Extension(EnterpriseUserURN)
	require.NotNil(t, ent)
	tests := []struct {
		path string
		want string // Path.String of the result
		ext  bool   // Path.Extension
	}{
		{"userName", "userName", false},
		{"USERNAME", "userName", false},
		{"username", "userName", false},
		{"name", "name", false},
		{"name.familyName", "name.familyName", false},
		{"Name.FamilyName", "name.familyName", false},
		{"emails", "emails", false},
		{"emails.value", "emails.value", false},
		{"EMAILS.TYPE", "emails.type", false},
		{"groups.$ref", "groups.$ref", false},
		{"id", "id", false},
		{"ID", "id", false},
		{"externalId", "externalId", false},
		{"externalid", "externalId", false},
		{"meta", "meta", false},
		{"meta.created", "meta.created", false},
		{"meta.LASTMODIFIED", "meta.lastModified", false},
		{UserURN + ":userName", "userName", false},
		{strings.ToLower(UserURN) + ":username", "userName", false},
		{UserURN + ":name.givenName", "name.givenName", false},
		{UserURN + ":id", "id", false},
		{UserURN + ":meta.version", "meta.version", false},
		{EnterpriseUserURN, EnterpriseUserURN, true},
		{strings.ToUpper(EnterpriseUserURN), EnterpriseUserURN, true},
		{EnterpriseUserURN + ":employeeNumber", EnterpriseUserURN + ":employeeNumber", true},
		{EnterpriseUserURN + ":EMPLOYEENUMBER", EnterpriseUserURN + ":employeeNumber", true},
		{EnterpriseUserURN + ":manager", EnterpriseUserURN + ":manager", true},
		{EnterpriseUserURN + ":manager.value", EnterpriseUserURN + ":manager.value", true},
		{EnterpriseUserURN + ":manager.displayName", EnterpriseUserURN + ":manager.displayName", true},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			p, ok := rt.Resolve(tt.path)
			require.True(t, ok)
			require.Equal(t, tt.want, p.String())
			require.Equal(t, tt.ext, p.Extension())
			if tt.ext {
				require.Same(t, ent, p.Schema)
			} else {
				require.Same(t, rt.Core, p.Schema)
			}
			again, ok := rt.Resolve(p.String())
			require.True(t, ok)
			require.Equal(t, p, again)
		})
	}
}

func TestResolveUnknown(t *testing.T) {
	rt := User()
	for _, path := range []string{
		"",
		"foo",
		"urn:",
		"urn:foo",
		"name.",
		".name",
		"name.foo",
		"name.givenName.x",
		"userName.x",
		"employeeNumber", // an extension attribute needs its URN
		"manager.value",
		"schemas",
		"members",
		"emails[type eq \"work\"]",
		" userName",
		"userName ",
		UserURN + ":",
		UserURN + ":foo",
		UserURN + "x:userName",
		UserURN + ".userName",
		UserURN + ":employeeNumber",
		EnterpriseUserURN + "x",
		EnterpriseUserURN + ":userName",
		EnterpriseUserURN + ":id",
		EnterpriseUserURN + ":foo",
		EnterpriseUserURN + ":manager.foo",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:Usr:employeeNumber",
		"urn:ietf:params:scim:schemas:extensions:enterprise:2.0:User",
	} {
		t.Run(path, func(t *testing.T) {
			_, ok := rt.Resolve(path)
			require.False(t, ok)
		})
	}
}

func TestResolveTrailingColon(t *testing.T) {
	_, ok := User().Resolve(EnterpriseUserURN + ":")
	require.False(t, ok)
}

func TestPath(t *testing.T) {
	rt := User()
	ent := rt.Extension(EnterpriseUserURN)
	name, emails, mgr := rt.Core.Attr("name"), rt.Core.Attr("emails"), ent.Attr("manager")
	tests := []struct {
		p      Path
		s      string
		ext    bool
		target *Attribute
	}{
		{Path{Schema: rt.Core, Attr: name}, "name", false, name},
		{Path{Schema: rt.Core, Attr: name, Sub: name.Sub("givenName")}, "name.givenName", false, name.Sub("givenName")},
		{Path{Schema: ent, Attr: mgr, Sub: mgr.Sub("value")}, EnterpriseUserURN + ":manager.value", true, mgr.Sub("value")},
		{Path{Schema: ent}, EnterpriseUserURN, true, nil},
		{Path{Attr: emails.Sub("type")}, "type", false, emails.Sub("type")}, // inside a value filter
		{Path{}, "", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.s, func(t *testing.T) {
			require.Equal(t, tt.s, tt.p.String())
			require.Equal(t, tt.ext, tt.p.Extension())
			require.Same(t, tt.target, tt.p.Target())
		})
	}
}

func TestExtensionLookup(t *testing.T) {
	rt := User()
	require.NotNil(t, rt.Extension(EnterpriseUserURN))
	require.NotNil(t, rt.Extension(strings.ToLower(EnterpriseUserURN)))
	require.Nil(t, rt.Extension(UserURN))
	require.Nil(t, rt.Extension("urn:example"))
	require.NotNil(t, rt.Core.Attr("USERNAME"))
	require.Nil(t, rt.Core.Attr("id"), "common attributes are not in the core schema")
	require.NotNil(t, rt.Core.Attr("name").Sub("GIVENNAME"))
	require.Nil(t, rt.Core.Attr("name").Sub("value"))
}

func TestAttributes(t *testing.T) {
	rt := User()
	var names []string
	for _, p := range rt.Attributes() {
		names = append(names, p.String())
	}
	require.Contains(t, names, "userName")
	require.Contains(t, names, "id")
	require.Contains(t, names, "meta")
	require.Contains(t, names, EnterpriseUserURN+":manager")
	require.NotContains(t, names, "schemas")
	require.Equal(t, len(rt.Core.Attributes)+len(rt.Common)+len(rt.Extensions[0].Schema.Attributes), len(names))
}

// TestResolveWholeSchema: a schema URN alone names the whole schema (a PATCH path or a nested object key).
func TestResolveWholeSchema(t *testing.T) {
	rt := User()
	for _, urn := range []string{UserURN, EnterpriseUserURN, strings.ToUpper(EnterpriseUserURN)} {
		p, ok := rt.Resolve(urn)
		require.True(t, ok, urn)
		require.Nil(t, p.Attr)
		require.True(t, strings.EqualFold(urn, p.Schema.ID))
	}
}

func TestGroup(t *testing.T) {
	rt := Group()
	require.Equal(t, "Group", rt.Name)
	require.Equal(t, "/Groups", rt.Endpoint)
	require.Equal(t, GroupURN, rt.Core.ID)
	require.Empty(t, rt.Extensions)
	attr := func(path string) *Attribute {
		p, ok := rt.Resolve(path)
		require.True(t, ok, path)
		return p.Target()
	}
	require.True(t, attr("displayName").Required)
	require.False(t, attr("displayName").CaseExact)
	require.Equal(t, UniqueServer, attr("displayName").Uniqueness)
	require.True(t, attr("members").MultiValued)
	for _, sub := range []string{"value", "display", "$ref", "type"} {
		attr("members." + sub)
	}
	require.Equal(t, Reference, attr("MEMBERS.$ref").Type)
	require.Equal(t, ReadOnly, attr("id").Mutability)
	attr("externalId")
	attr("meta.lastModified")
	attr(GroupURN + ":displayName")
	_, ok := rt.Resolve("userName")
	require.False(t, ok)
	p, _ := rt.Resolve("members.value")
	require.False(t, p.Extension())

	require.NotSame(t, Group().Core, rt.Core)
}
