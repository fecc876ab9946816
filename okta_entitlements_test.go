package scim_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/scimkit/scim"
	"github.com/scimkit/scim/memstore"
	"github.com/scimkit/scim/schema"
)

// newOktaEntitlementsServer serves Okta's Role and Entitlement catalogs (schema.OktaRole,
// schema.OktaEntitlement), read-only, each granted through the user attribute of its name, seeded with the
// catalog entries of Okta's guide "Build a SCIM 2.0 server with entitlements".
func newOktaEntitlementsServer(t *testing.T) *testServer {
	roleType, entType := schema.OktaRole(), schema.OktaEntitlement()
	roles, ents := memstore.NewDocuments(roleType), memstore.NewDocuments(entType)
	ctx := scim.ContextWithTenant(context.Background(), "")
	for _, r := range []struct {
		store *memstore.Documents
		id    string
		attrs map[string]any
	}{
		{roles, "role-1", map[string]any{"displayName": "First Role"}},
		{roles, "role-2", map[string]any{"displayName": "Second Role"}},
		{roles, "role123", map[string]any{"displayName": "First Role", "description": "the guide's user sample grants it"}},
		{ents, "entitlement123", map[string]any{"displayName": "First Entitlement", "type": "License"}},
		{ents, "profile123", map[string]any{"displayName": "First Profile", "type": "Profile"}},
	} {
		_, err := r.store.Create(ctx, &scim.Document{ID: r.id, Attributes: r.attrs})
		require.NoError(t, err)
	}
	return newTestServer(t,
		scim.WithResource(scim.Resource{Type: roleType, Store: roles, ReadOnly: true, Grants: "roles"}),
		scim.WithResource(scim.Resource{Type: entType, Store: ents, ReadOnly: true, Grants: "entitlements"}))
}

// TestOktaEntitlementsSequence replays what Okta Identity Governance sends an app with entitlements, in the
// order and shapes of its guide (developer.okta.com, guides/scim-with-entitlements) and, for the user writes,
// of its SCIM 2.0 reference (docs/reference/scim/scim-20: create, GET by filter, PATCH with add by path,
// remove by a value filter, path-less replace). The guide shows no grant request; a grant is a change of the
// user's roles or entitlements, sent in those documented operation shapes.
func TestOktaEntitlementsSequence(t *testing.T) {
	s := newOktaEntitlementsServer(t)

	// 1. GET /ResourceTypes: Okta learns the Role and Entitlement types by their Okta URNs, and the User's
	// extension URNs.
	rts := s.listAt("/ResourceTypes")
	byName := map[string]map[string]any{}
	var names []string
	for _, r := range rts["Resources"].([]any) {
		rt := r.(map[string]any)
		names = append(names, rt["name"].(string))
		byName[rt["name"].(string)] = rt
	}
	require.Equal(t, []string{"User", "Group", "Role", "Entitlement"}, names)
	require.Equal(t, map[string]any{"id": "Role", "name": "Role", "endpoint": "/Roles", "description": "Role",
		"schema": "urn:okta:scim:schemas:core:1.0:Role"},
		pick(byName["Role"], "id", "name", "endpoint", "description", "schema"))
	require.Equal(t, "urn:okta:scim:schemas:core:1.0:Entitlement", byName["Entitlement"]["schema"])
	require.Equal(t, "/Entitlements", byName["Entitlement"]["endpoint"])
	require.Equal(t, []any{"urn:ietf:params:scim:schemas:core:2.0:ResourceType"}, byName["Role"]["schemas"])
	require.Equal(t, "ResourceType", byName["Role"]["meta"].(map[string]any)["resourceType"])
	require.Equal(t, schema.EnterpriseUserURN, byName["User"]["schemaExtensions"].([]any)[0].(map[string]any)["schema"])

	// 2. GET /Schemas only for extensions Okta does not know: there are none here, but the Role schema is
	// served all the same, every attribute readOnly (a catalog).
	sch := s.do("GET", "/Schemas/"+schema.OktaRoleURN, "")
	require.Equal(t, http.StatusOK, sch.Status, "%s", sch.Raw)
	for _, a := range sch.Body["attributes"].([]any) {
		require.Equal(t, "readOnly", a.(map[string]any)["mutability"])
	}

	// 3. Each catalog, paged as Okta pages (startIndex and count; integers, the same order every time).
	page1 := s.listAt("/Roles?startIndex=1&count=2")
	require.Equal(t, []any{schema.ListResponseURN}, page1["schemas"])
	require.EqualValues(t, 3, page1["totalResults"])
	require.EqualValues(t, 1, page1["startIndex"])
	require.EqualValues(t, 2, page1["itemsPerPage"])
	first := page1["Resources"].([]any)[0].(map[string]any)
	require.Equal(t, []any{"urn:okta:scim:schemas:core:1.0:Role"}, first["schemas"])
	require.Equal(t, "role-1", first["id"])
	require.Equal(t, "First Role", first["displayName"])
	page2 := s.listAt("/Roles?startIndex=3&count=2")
	require.EqualValues(t, 3, page2["totalResults"])
	require.EqualValues(t, 3, page2["startIndex"])
	require.EqualValues(t, 1, page2["itemsPerPage"])
	require.Equal(t, "role123", page2["Resources"].([]any)[0].(map[string]any)["id"])
	ents := s.listAt("/Entitlements?startIndex=1&count=100")
	require.EqualValues(t, 2, ents["totalResults"])
	lic := ents["Resources"].([]any)[0].(map[string]any)
	require.Equal(t, map[string]any{"id": "entitlement123", "displayName": "First Entitlement", "type": "License",
		"schemas": []any{"urn:okta:scim:schemas:core:1.0:Entitlement"}}, without(lic, "meta"))
	// The catalog is the app's: Okta never writes it, and a write says why.
	requireError(t, s.do("POST", "/Roles", `{"schemas":["urn:okta:scim:schemas:core:1.0:Role"],"displayName":"x"}`),
		http.StatusMethodNotAllowed, "mutability")

	// 4. Users: Okta checks by userName, then creates (its SCIM 2.0 reference's shape, without password:
	// Sync password is off).
	none := s.listAt("/Users?filter=" + url.QueryEscape(`userName eq "test.user@okta.local"`) + "&startIndex=1&count=100")
	require.EqualValues(t, 0, none["totalResults"])
	created := s.create(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"test.user@okta.local",
		"name":{"givenName":"Test","familyName":"User"},
		"emails":[{"primary":true,"value":"test.user@okta.local","type":"work"}],
		"displayName":"Test User","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],"active":true}`)
	id := created["id"].(string)

	// 5. Grants: add by path with a value list, as Okta adds group members.
	r := s.patch(id, `{"op":"add","path":"roles","value":[{"value":"role123","display":"First Role"}]}`,
		`{"op":"add","path":"entitlements","value":[{"value":"entitlement123","display":"First Entitlement","type":"License"}]}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	user := s.get(id)
	require.Equal(t, []any{map[string]any{"value": "role123", "display": "First Role"}}, user["roles"])
	require.Equal(t, []any{map[string]any{"value": "entitlement123", "display": "First Entitlement", "type": "License"}}, user["entitlements"])

	// A value the tenant's catalog lacks is refused, whatever the operation's shape, and nothing changes.
	for _, op := range []string{
		`{"op":"add","path":"roles","value":[{"value":"role-unknown","display":"Nope"}]}`,
		`{"op":"replace","value":{"entitlements":[{"value":"entitlement123"},{"value":"license-unknown","type":"License"}]}}`,
		`{"op":"add","path":"entitlements","value":[{"value":"role-1"}]}`, // a role is not an entitlement
	} {
		requireError(t, s.patch(id, op), http.StatusBadRequest, "invalidValue")
	}
	require.Equal(t, user["meta"], s.get(id)["meta"], "a refused grant writes nothing")
	bad := s.patch(id, `{"op":"add","path":"roles","value":[{"value":"root"}]}`)
	require.Equal(t, `roles: "root" is not the id of one of the tenant's Role resources (/Roles)`, bad.Body["detail"], "as docs/okta.md shows it")

	// A path-less replace, as Okta's PATCHes often are, granting a second entitlement.
	r = s.patch(id, `{"op":"replace","value":{"entitlements":[{"value":"entitlement123","display":"First Entitlement","type":"License"},
		{"value":"profile123","display":"First Profile","type":"Profile"}]}}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	require.Len(t, r.Body["entitlements"], 2)

	// 6. Revoking a grant: remove by a value filter, as Okta removes a group member.
	r = s.patch(id, `{"op":"remove","path":"roles[value eq \"role123\"]"}`,
		`{"op":"remove","path":"entitlements[value eq \"entitlement123\"]"}`)
	require.Equal(t, http.StatusOK, r.Status, "%s", r.Raw)
	require.NotContains(t, r.Body, "roles")
	require.Equal(t, []any{map[string]any{"value": "profile123", "display": "First Profile", "type": "Profile"}}, s.get(id)["entitlements"])

	// Import: Okta lists users and reads each one's grants.
	all := s.listAt("/Users?startIndex=1&count=100")
	require.EqualValues(t, 1, all["totalResults"])
	require.Len(t, all["Resources"].([]any)[0].(map[string]any)["entitlements"], 1)
}

// The shipped draft declarations are served like any declared type: /ResourceTypes and /Schemas show them,
// and an Agent is provisioned with its owners (value, $ref, display).
func TestShippedDeclarationsServed(t *testing.T) {
	agents := memstore.NewDocuments(schema.Agent())
	s := newTestServer(t,
		scim.WithResource(scim.Resource{Type: schema.Role(), Store: memstore.NewDocuments(schema.Role()), ReadOnly: true}),
		scim.WithResource(scim.Resource{Type: schema.Entitlement(), Store: memstore.NewDocuments(schema.Entitlement()), ReadOnly: true}),
		scim.WithResource(scim.Resource{Type: schema.Agent(), Store: agents}))
	var ids []string
	for _, r := range s.listAt("/Schemas")["Resources"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	require.Subset(t, ids, []string{schema.RoleURN, schema.EntitlementURN, schema.AgentURN})
	for urn, required := range map[string]string{schema.RoleURN: "value", schema.EntitlementURN: "value", schema.AgentURN: "agentUserName"} {
		sch := s.do("GET", "/Schemas/"+urn, "")
		require.Equal(t, http.StatusOK, sch.Status, "%s", sch.Raw)
		found := false
		for _, a := range sch.Body["attributes"].([]any) {
			if a := a.(map[string]any); a["name"] == required {
				found = a["required"] == true
			}
		}
		require.True(t, found, "%s declares %s required", urn, required)
	}
	require.Len(t, s.listAt("/ResourceTypes")["Resources"], 5)

	owner := s.createUser("owner@example.com")
	r := s.do("POST", "/Agents", `{"schemas":["`+schema.AgentURN+`"],"agentUserName":"support-agent","displayName":"Support Agent",
		"active":true,"owners":[{"value":"`+owner+`","$ref":"`+s.URL+`/Users/`+owner+`","display":"Owner"}]}`)
	require.Equal(t, http.StatusCreated, r.Status, "%s", r.Raw)
	require.Equal(t, owner, r.Body["owners"].([]any)[0].(map[string]any)["value"])
	requireError(t, s.do("POST", "/Agents", `{"agentUserName":"SUPPORT-agent"}`), http.StatusConflict, "uniqueness")
	requireError(t, s.do("POST", "/Agents", `{"displayName":"no name"}`), http.StatusBadRequest, "invalidValue")
	eq := s.listAt("/Agents?filter=" + url.QueryEscape(`owners.value eq "`+owner+`"`))
	require.EqualValues(t, 1, eq["totalResults"])
}

// pick returns the entries of m with the keys.
func pick(m map[string]any, keys ...string) map[string]any {
	out := map[string]any{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}
