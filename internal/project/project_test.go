package project

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/internal/normalize"
	"github.com/scimkit/scim/schema"
)

const ent = schema.EnterpriseUserURN

const stored = `{
	"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
	"id": "2819c223",
	"externalId": "ext-1",
	"userName": "bjensen",
	"password": "t1meMa$heen",
	"name": {"givenName": "Barbara", "familyName": "Jensen"},
	"displayName": "Babs",
	"emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"type": "home"}],
	"groups": [{"value": "g1", "display": "Tour Guides"}],
	"meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "version": "W/\"1\""},
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "m1", "displayName": "Boss"}}
}`

func TestApply(t *testing.T) {
	rt := schema.User()
	doc := body(t, stored)
	schemas := `"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]`
	all := `"id": "2819c223", "externalId": "ext-1", "userName": "bjensen", "name": {"givenName": "Barbara", "familyName": "Jensen"},
		"displayName": "Babs", "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"type": "home"}],
		"groups": [{"value": "g1", "display": "Tour Guides"}],
		"meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z", "version": "W/\"1\""}`
	extAll := `"` + ent + `": {"employeeNumber": "701984", "manager": {"value": "m1", "displayName": "Boss"}}`
	tests := []struct {
		name               string
		attributes, except string // comma-separated, as in the query string
		want               string // without schemas (derived: core, plus the extension when present)
	}{
		{"default: all but never", "", "", all + "," + extAll},
		{"attributes keeps id", "userName", "", `"id": "2819c223", "userName": "bjensen"`},
		{"attributes any case", "USERNAME,DisplayName", "", `"id": "2819c223", "userName": "bjensen", "displayName": "Babs"`},
		{"attributes id only", "id", "", `"id": "2819c223"`},
		{"attributes sub-attribute", "name.givenName", "", `"id": "2819c223", "name": {"givenName": "Barbara"}`},
		{"emails.value selects only value", "emails.value", "", `"id": "2819c223", "emails": [{"value": "b@example.com"}]`},
		{"emails.value and emails.type", "emails.value,emails.type", "",
			`"id": "2819c223", "emails": [{"value": "b@example.com", "type": "work"}, {"type": "home"}]`},
		{"whole attribute wins over its sub-attribute", "emails.value,emails", "",
			`"id": "2819c223", "emails": [{"value": "b@example.com", "type": "work", "primary": true}, {"type": "home"}]`},
		{"meta sub-attribute", "meta.created", "", `"id": "2819c223", "meta": {"created": "2010-01-23T04:56:22Z"}`},
		{"core URN attribute", schema.UserURN + ":userName", "", `"id": "2819c223", "userName": "bjensen"`},
		{"whole extension", ent, "", `"id": "2819c223", ` + extAll},
		{"whole extension any case", strings.ToLower(ent), "", `"id": "2819c223", ` + extAll},
		{"extension attribute", ent + ":employeeNumber", "", `"id": "2819c223", "` + ent + `": {"employeeNumber": "701984"}`},
		{"extension sub-attribute", ent + ":manager.value", "", `"id": "2819c223", "` + ent + `": {"manager": {"value": "m1"}}`},
		{"password never", "password", "", `"id": "2819c223"`},
		{"password never with others", "userName,password", "", `"id": "2819c223", "userName": "bjensen"`},
		{"unknown attributes ignored", "foo,userName", "", `"id": "2819c223", "userName": "bjensen"`},
		{"only unknown attributes is the default", "foo", "", all + "," + extAll},
		{"excluded", "", "displayName,emails,groups,meta,externalId", `"id": "2819c223", "userName": "bjensen", "name": {"givenName": "Barbara", "familyName": "Jensen"}, ` + extAll},
		{"excluded cannot remove id", "", "id", all + "," + extAll},
		{"excluded sub-attributes", "", "name.givenName,emails.type,meta.version,displayName,groups,userName,externalId,emails.primary",
			`"id": "2819c223", "name": {"familyName": "Jensen"}, "emails": [{"value": "b@example.com"}],
			"meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z"}, ` + extAll},
		{"excluded whole extension", "", ent, all},
		{"excluded extension attribute", "", ent + ":manager", all + `, "` + ent + `": {"employeeNumber": "701984"}`},
		{"excluded every extension attribute", "", ent + ":manager," + ent + ":employeeNumber", all},
		{"excluded unknown ignored", "", "foo", all + "," + extAll},
	}
	split := func(s string) []string {
		if s == "" {
			return nil
		}
		return strings.Split(s, ",")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Parse(rt, split(tt.attributes), split(tt.except))
			got := Apply(rt, p, doc)
			want := body(t, "{"+schemas+","+tt.want+"}")
			if _, ok := want[ent]; !ok { // schemas names only the extensions the result still holds
				want["schemas"] = []any{schema.UserURN}
			}
			require.Equal(t, want, got)
			require.NotContains(t, got, "password")
		})
	}
	require.Equal(t, body(t, stored), doc, "Apply does not modify the document")
}

// TestApplySchemas: schemas is derived from what the projected resource holds, whatever the input said.
func TestApplySchemas(t *testing.T) {
	rt := schema.User()
	core := []any{schema.UserURN}
	got := Apply(rt, Parse(rt, []string{"userName"}, nil), map[string]any{"userName": "u", "id": "1"})
	require.Equal(t, map[string]any{"userName": "u", "id": "1", "schemas": core}, got)
	require.Equal(t, map[string]any{"schemas": core}, Apply(rt, Projection{}, nil))
	require.Equal(t, map[string]any{"schemas": core}, Apply(rt, Projection{}, map[string]any{ent: "not an object", "foo": 1}))
	doc := map[string]any{"userName": "u", "id": "1", ent: map[string]any{"department": "x"},
		"schemas": []any{schema.UserURN, schema.EnterpriseUserURN}}
	got = Apply(rt, Parse(rt, []string{"userName"}, nil), doc)
	require.Equal(t, core, got["schemas"], "the extension was projected away, so schemas no longer names it")
	got = Apply(rt, Projection{}, doc)
	require.Equal(t, []any{schema.UserURN, schema.EnterpriseUserURN}, got["schemas"])
}

func TestParseProjection(t *testing.T) {
	rt := schema.User()
	p := Parse(rt, []string{"userName", "NAME.givenName", "foo", ent}, []string{"emails", ""})
	require.Len(t, p.Attributes, 3)
	require.Equal(t, "userName", p.Attributes[0].String())
	require.Equal(t, "name.givenName", p.Attributes[1].String())
	require.Equal(t, ent, p.Attributes[2].String())
	require.Len(t, p.Excluded, 1)
	require.False(t, p.IsDefault())
	require.True(t, Parse(rt, nil, nil).IsDefault())
	require.True(t, Parse(rt, []string{"foo"}, []string{"bar"}).IsDefault())
}

func TestIncludesAndNames(t *testing.T) {
	rt := schema.User()
	groups, _ := rt.Resolve("groups")
	tests := []struct {
		attrs, excluded []string
		includes, names bool
	}{
		{nil, nil, true, false},
		{nil, []string{"groups"}, false, false},
		{nil, []string{"groups.display"}, true, false},
		{[]string{"userName"}, nil, false, false},
		{[]string{"groups"}, nil, true, true},
		{[]string{"groups.value"}, nil, true, true},
	}
	for _, tt := range tests {
		p := Parse(rt, tt.attrs, tt.excluded)
		require.Equal(t, tt.includes, p.Includes(groups), "%v %v", tt.attrs, tt.excluded)
		require.Equal(t, tt.names, p.Names(groups), "%v %v", tt.attrs, tt.excluded)
	}
}

// body decodes a request body the way the handler does: numbers as json.Number.
func body(t testing.TB, s string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	var m map[string]any
	require.NoError(t, d.Decode(&m))
	return m
}

// TestGroup: the Group resource type goes through the same machinery as User: normalisation, projection.
func TestGroup(t *testing.T) {
	rt := schema.Group()
	doc, err := normalize.Resource(rt, map[string]any{"DisplayName": "Eng", "members": []any{map[string]any{"value": "u1", "$ref": nil}},
		"schemas": []any{schema.GroupURN}, "id": "x"}, nil)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"displayName": "Eng", "members": []any{map[string]any{"value": "u1"}}}, doc)
	doc["id"] = "g1"
	out := Apply(rt, Parse(rt, nil, []string{"members"}), doc)
	require.Equal(t, map[string]any{"displayName": "Eng", "id": "g1", "schemas": []any{schema.GroupURN}}, out)
}
