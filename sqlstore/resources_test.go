package sqlstore

import (
	"testing"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/schema"
	"github.com/scimkit/scim/scimtest"
)

// deviceType is a declared type with every kind of attribute the kit generates values for: unique strings
// with and without case, plain strings, an integer, a boolean, a multi-valued string and an extension.
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

func TestResourceStoreKit(t *testing.T) {
	stores(t, func(t *testing.T, open func(t *testing.T) *Store) {
		scimtest.TestResourceStore(t, deviceType, func(t *testing.T) scim.ResourceStore { return open(t).Resources(deviceType) })
	})
}
