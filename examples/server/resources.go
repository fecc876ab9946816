package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/schema"
)

// The resource types the server serves beside Users and Groups when its flags ask:
//
//	-okta-entitlements  Okta's Role and Entitlement catalogs at /Roles and /Entitlements (read-only; a user's
//	                    roles and entitlements must name their ids), listed by -roles and -entitlements
//	-agents             the Agent of draft-wzdk-scim-agent-resource-00 at /Agents, kept in memory
//	-test-resource      scim2/test-suite's TestResource at /TestResources, kept in memory

// The catalogs' entries unless -roles or -entitlements say otherwise: id=display name[:type], comma-separated.
const (
	defaultRoles        = "admin=Administrator,editor=Editor,viewer=Viewer"
	defaultEntitlements = "license-full=Full license:License,license-read=Read-only license:License,reports=Reports:Permission"
)

// catalog is a read-only scim.ResourceStore whose entries a host computes per tenant (from its plans, its
// configuration): entries returns the tenant's, and List answers over them with scim.ApplyDocuments. Writes
// never reach it (scim.Resource.ReadOnly); they are refused here too.
type catalog struct {
	entries func(tenant string) []*scim.Document
}

var errReadOnly = errors.New("the catalog is read-only")

func (c catalog) docs(ctx context.Context) ([]*scim.Document, error) {
	tenant, err := scim.Tenant(ctx)
	if err != nil {
		return nil, err
	}
	return c.entries(tenant), nil
}

func (c catalog) Get(ctx context.Context, id string) (*scim.Document, error) {
	docs, err := c.docs(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range docs {
		if d.ID == id {
			return d, nil
		}
	}
	return nil, scim.ErrNotFound
}

func (c catalog) List(ctx context.Context, q scim.Query) (*scim.DocumentPage, error) {
	docs, err := c.docs(ctx)
	if err != nil {
		return nil, err
	}
	return scim.ApplyDocuments(docs, q), nil
}

func (catalog) Create(context.Context, *scim.Document) (*scim.Document, error) {
	return nil, errReadOnly
}
func (catalog) Replace(context.Context, *scim.Document, string) (*scim.Document, error) {
	return nil, errReadOnly
}
func (catalog) Delete(context.Context, string, string) error { return errReadOnly }

// parseCatalog reads "id=display name[:type],..." into Okta catalog entries (displayName, type).
func parseCatalog(flag, list string) ([]*scim.Document, error) {
	var out []*scim.Document
	seen := map[string]bool{}
	for _, e := range strings.Split(list, ",") {
		id, rest, ok := strings.Cut(strings.TrimSpace(e), "=")
		name, typ, _ := strings.Cut(rest, ":")
		if !ok || id == "" || name == "" || seen[id] {
			return nil, fmt.Errorf("-%s: %q is not id=display name[:type] with a new id", flag, e)
		}
		seen[id] = true
		attrs := map[string]any{"displayName": name}
		if typ != "" {
			attrs["type"] = typ
		}
		out = append(out, &scim.Document{ID: id, Attributes: attrs, Meta: scim.Meta{Version: "1"}})
	}
	return out, nil
}

// resourceFlags are the flags that add resource types.
type resourceFlags struct {
	okta, agents, testResource bool
	roles, entitlements        string
}

// options returns the scim.Options serving the resource types the flags ask for; newDocs makes the store of
// a type whose resources clients write.
func (f resourceFlags) options(newDocs func(*schema.ResourceType) scim.ResourceStore) ([]scim.Option, error) {
	var opts []scim.Option
	if f.okta {
		roles, err := parseCatalog("roles", f.roles)
		if err != nil {
			return nil, err
		}
		ents, err := parseCatalog("entitlements", f.entitlements)
		if err != nil {
			return nil, err
		}
		// Every tenant has the same catalogs here (the server has one token); a host returns each tenant's.
		opts = append(opts,
			scim.WithResource(scim.Resource{Type: schema.OktaRole(), ReadOnly: true, Grants: "roles",
				Store: catalog{entries: func(string) []*scim.Document { return roles }}}),
			scim.WithResource(scim.Resource{Type: schema.OktaEntitlement(), ReadOnly: true, Grants: "entitlements",
				Store: catalog{entries: func(string) []*scim.Document { return ents }}}))
	}
	if f.agents {
		rt := schema.Agent()
		opts = append(opts, scim.WithResource(scim.Resource{Type: rt, Store: newDocs(rt)}))
	}
	if f.testResource {
		rt := testResourceType()
		opts = append(opts, scim.WithResource(scim.Resource{Type: rt, Store: newDocs(rt)}))
	}
	return opts, nil
}

// testResourceType declares the TestResource that scim2/test-suite probes at /TestResources: a core
// schema with one attribute of each type and of each mutability, returned and uniqueness characteristic
// its checks exercise, and an extension with a required attribute (the suite's own test server declares
// the same names; this is our declaration of them).
func testResourceType() *schema.ResourceType {
	str := func(name string) *schema.Attribute { return &schema.Attribute{Name: name, Type: schema.String} }
	with := func(a *schema.Attribute, f func(*schema.Attribute)) *schema.Attribute { f(a); return a }
	return schema.MustDeclare(schema.ResourceDeclaration{
		Name:        "TestResource",
		Endpoint:    "/TestResources",
		Description: "scim2/test-suite's synthetic resource",
		Schema: &schema.Schema{ID: "urn:ietf:params:scim:schemas:test:2.0:TestResource", Name: "TestResource",
			Attributes: []*schema.Attribute{
				with(str("identifier"), func(a *schema.Attribute) { a.Required, a.Uniqueness = true, schema.UniqueServer }),
				with(str("caseExactString"), func(a *schema.Attribute) { a.CaseExact = true }),
				str("caseInsensitiveString"),
				{Name: "integerAttr", Type: schema.Integer},
				{Name: "booleanAttr", Type: schema.Boolean},
				{Name: "dateTimeAttr", Type: schema.DateTime},
				{Name: "binaryAttr", Type: schema.Binary},
				{Name: "referenceAttr", Type: schema.Reference, ReferenceTypes: []string{"uri"}},
				with(str("readOnlyAttr"), func(a *schema.Attribute) { a.Mutability = schema.ReadOnly }),
				with(str("immutableAttr"), func(a *schema.Attribute) { a.Mutability = schema.Immutable }),
				with(str("writeOnlyAttr"), func(a *schema.Attribute) { a.Mutability, a.Returned = schema.WriteOnly, schema.Never }),
				with(str("requestOnlyAttr"), func(a *schema.Attribute) { a.Returned = schema.Request }),
				with(str("alwaysReturnedAttr"), func(a *schema.Attribute) { a.Returned = schema.Always }),
				with(str("multiStrings"), func(a *schema.Attribute) { a.MultiValued = true }),
				{Name: "complexAttr", Type: schema.Complex, SubAttributes: []*schema.Attribute{
					str("sub1"), {Name: "sub2", Type: schema.Integer}, {Name: "sub3", Type: schema.Boolean}}},
				{Name: "multiComplex", Type: schema.Complex, MultiValued: true, SubAttributes: []*schema.Attribute{
					str("value"), str("type"), {Name: "primary", Type: schema.Boolean}}},
				with(str("uniqueString"), func(a *schema.Attribute) { a.Uniqueness = schema.UniqueServer }),
			}},
		Extensions: []*schema.Schema{{ID: "urn:ietf:params:scim:schemas:extension:test:2.0:TestResource", Name: "TestExtension",
			Attributes: []*schema.Attribute{
				str("extString"),
				with(str("extRequired"), func(a *schema.Attribute) { a.Required = true }),
				{Name: "extInteger", Type: schema.Integer},
			}}},
		RequiredExtensions: []string{"urn:ietf:params:scim:schemas:extension:test:2.0:TestResource"},
	})
}
