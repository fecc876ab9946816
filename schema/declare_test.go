package schema_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim/schema"
)

// Entra ID names custom attributes urn:ietf:params:scim:schemas:extension:<App>:2.0:User:<attr>: the version's
// dot is part of the URN, and paths through it resolve.
func TestDeclareExtensionURNWithVersion(t *testing.T) {
	const urn = "urn:ietf:params:scim:schemas:extension:CustomExtensionName:2.0:User"
	rt, err := schema.DeclareUser(schema.UserDeclaration{Extensions: []*schema.Schema{
		{ID: urn, Attributes: []*schema.Attribute{{Name: "tag", Type: schema.String}}},
	}})
	require.NoError(t, err)
	p, ok := rt.Resolve(urn + ":tag")
	require.True(t, ok)
	require.Equal(t, urn+":tag", p.String())
	for _, bad := range []string{"urn:x y", `urn:a"b`, "urn:a[b]", "urn:app:"} {
		_, err := schema.DeclareUser(schema.UserDeclaration{Extensions: []*schema.Schema{
			{ID: bad, Attributes: []*schema.Attribute{{Name: "tag", Type: schema.String}}},
		}})
		require.Error(t, err, bad)
	}
}
