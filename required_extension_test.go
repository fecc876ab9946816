package scim_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
)

// A declared type's required extension (RFC 7643 §6) must be present in every resource: a create or
// replace without it is 400 invalidValue, a PATCH removing it 400 mutability, and /ResourceTypes says so.
func TestDeclaredRequiredExtension(t *testing.T) {
	const ext = "urn:example:params:scim:schemas:extension:2.0:Badge"
	rt := schema.MustDeclare(schema.ResourceDeclaration{
		Name:   "Badge",
		Schema: &schema.Schema{ID: "urn:example:params:scim:schemas:2.0:Badge", Attributes: []*schema.Attribute{{Name: "serial", Type: schema.String, Required: true}}},
		Extensions: []*schema.Schema{{ID: ext, Attributes: []*schema.Attribute{
			{Name: "site", Type: schema.String}, {Name: "floor", Type: schema.Integer, Required: true}}}},
		RequiredExtensions: []string{ext},
	})
	require.True(t, rt.Extensions[0].Required)
	s := newTestServer(t, scim.WithResource(scim.Resource{Type: rt, Store: memstore.NewDocuments(rt)}))

	requireError(t, s.do("POST", "/Badges", `{"serial":"B-1"}`), http.StatusBadRequest, "invalidValue")
	requireError(t, s.do("POST", "/Badges", `{"serial":"B-1","`+ext+`":{"site":"Oslo"}}`), http.StatusBadRequest, "invalidValue")
	r := s.do("POST", "/Badges", `{"serial":"B-1","`+ext+`":{"floor":3}}`)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Raw)
	id := r.Body["id"].(string)
	requireError(t, s.do("PUT", "/Badges/"+id, `{"serial":"B-1"}`), http.StatusBadRequest, "invalidValue")
	requireError(t, s.do("PATCH", "/Badges/"+id, patchOp(`{"op":"remove","path":"`+ext+`"}`)), http.StatusBadRequest, "mutability")

	for _, r := range s.listAt("/ResourceTypes")["Resources"].([]any) {
		if r := r.(map[string]any); r["name"] == "Badge" {
			require.Equal(t, []any{map[string]any{"schema": ext, "required": true}}, r["schemaExtensions"])
		}
	}

	_, err := schema.Declare(schema.ResourceDeclaration{Name: "Bad", Schema: rt.Core, RequiredExtensions: []string{ext}})
	require.Error(t, err, "a required extension must be one of the declaration's Extensions")
}
