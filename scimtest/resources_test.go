package scimtest_test

import (
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/scimtest"
)

// deviceType has what the kit generates values for: a unique string without case, a caseExact unique one,
// plain strings, an integer, a boolean, a multi-valued attribute (left alone) and an extension.
var deviceType = schema.MustDeclare(schema.ResourceDeclaration{
	Name: "Device",
	Schema: &schema.Schema{ID: "urn:example:params:scim:schemas:2.0:Device", Attributes: []*schema.Attribute{
		{Name: "serial", Type: schema.String, Required: true, Uniqueness: schema.UniqueServer},
		{Name: "assetTag", Type: schema.String, CaseExact: true, Uniqueness: schema.UniqueGlobal},
		{Name: "label", Type: schema.String},
		{Name: "model", Type: schema.String, CaseExact: true},
		{Name: "rank", Type: schema.Integer},
		{Name: "active", Type: schema.Boolean},
		{Name: "tags", Type: schema.String, MultiValued: true},
	}},
	Extensions: []*schema.Schema{{ID: "urn:example:params:scim:schemas:extension:2.0:Device", Attributes: []*schema.Attribute{
		{Name: "site", Type: schema.String},
	}}},
})

// roleType is a catalog entry: one plain string, nothing unique.
var roleType = schema.MustDeclare(schema.ResourceDeclaration{
	Name: "Role",
	Schema: &schema.Schema{ID: "urn:example:params:scim:schemas:2.0:Role", Attributes: []*schema.Attribute{
		{Name: "displayName", Type: schema.String, Required: true},
	}},
})

func TestResourceStoreMemstore(t *testing.T) {
	for _, rt := range []*schema.ResourceType{deviceType, roleType} {
		t.Run(rt.Name, func(t *testing.T) {
			scimtest.TestResourceStore(t, rt, func(t *testing.T) scim.ResourceStore { return memstore.NewDocuments(rt) })
		})
	}
}
