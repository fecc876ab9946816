package document

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/schema"
)

const ent = schema.EnterpriseUserURN

func TestGet(t *testing.T) {
	rt := schema.User()
	doc := map[string]any{
		"userName": "bjensen",
		"name":     map[string]any{"givenName": "Barbara"},
		ent:        map[string]any{"employeeNumber": "701984"},
	}
	get := func(path string) any {
		p, ok := rt.Resolve(path)
		require.True(t, ok, path)
		return Get(doc, p)
	}
	require.Equal(t, "bjensen", get("userName"))
	require.Equal(t, map[string]any{"givenName": "Barbara"}, get("name.givenName"), "Get ignores Sub")
	require.Equal(t, "701984", get(ent+":employeeNumber"))
	require.Nil(t, get(ent+":costCenter"))
	require.Nil(t, get("title"))
	require.Nil(t, get(ent), "a whole extension has no attribute")
	require.Nil(t, Get(map[string]any{}, schema.Path{Schema: rt.Extension(ent), Attr: rt.Extension(ent).Attr("costCenter")}))
}

func TestContainer(t *testing.T) {
	rt := schema.User()
	core, _ := rt.Resolve("userName")
	ext, _ := rt.Resolve(ent + ":employeeNumber")
	doc := map[string]any{}
	require.Equal(t, doc, Container(doc, core, false))
	require.Nil(t, Container(doc, ext, false))
	require.Empty(t, doc, "no create, no change")
	c := Container(doc, ext, true)
	require.NotNil(t, c)
	c["employeeNumber"] = "1"
	require.Equal(t, map[string]any{ent: map[string]any{"employeeNumber": "1"}}, doc)
	require.Equal(t, c, Container(doc, ext, false))
	require.Nil(t, Container(map[string]any{ent: "not an object"}, ext, false))
}
