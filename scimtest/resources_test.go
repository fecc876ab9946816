package scimtest_test

import (
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/scimtest"
)

// deviceType is the kit's own sample type (scimtest.DeviceType).
var deviceType = scimtest.DeviceType()

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
