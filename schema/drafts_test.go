package schema

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The shipped declarations are valid (MustDeclare would panic), fresh on every call, and carry the URNs,
// endpoints and required attributes of the revisions they cite.
func TestDraftDeclarations(t *testing.T) {
	for _, tc := range []struct {
		rt             func() *ResourceType
		name, endpoint string
		urn            string
		required       []string
		optional       []string
	}{
		{Role, "Role", "/Roles", RoleURN, []string{"value", "supported"},
			[]string{"display", "type", "limitedAssignmentsPermitted", "totalAssignmentsPermitted", "totalAssignmentsUsed", "containedBy", "contains"}},
		{Entitlement, "Entitlement", "/Entitlements", EntitlementURN, []string{"value"},
			[]string{"display", "type", "supported", "totalAssignmentsUsed", "contains"}},
		{OktaRole, "Role", "/Roles", OktaRoleURN, []string{"displayName"}, []string{"type", "description"}},
		{OktaEntitlement, "Entitlement", "/Entitlements", OktaEntitlementURN, []string{"displayName"}, []string{"type", "description"}},
		{Agent, "Agent", "/Agents", AgentURN, []string{"agentUserName"},
			[]string{"displayName", "description", "active", "owners", "owners.value", "owners.$ref", "owners.display"}},
	} {
		t.Run(tc.urn, func(t *testing.T) {
			rt := tc.rt()
			require.Equal(t, tc.name, rt.Name)
			require.Equal(t, tc.endpoint, rt.Endpoint)
			require.Equal(t, tc.urn, rt.Core.ID)
			require.Empty(t, rt.Extensions)
			for _, name := range tc.required {
				p, ok := rt.Resolve(name)
				require.True(t, ok, name)
				require.True(t, p.Target().Required, name)
			}
			for _, name := range tc.optional {
				p, ok := rt.Resolve(name)
				require.True(t, ok, name)
				require.False(t, p.Target().Required, name)
			}
			id, ok := rt.Resolve("id")
			require.True(t, ok, "id is the common attribute")
			require.Equal(t, ReadOnly, id.Attr.Mutability)
			p, _ := rt.Resolve(tc.required[0])
			require.False(t, p.Extension(), "core attributes sit at the top level")
			require.NotSame(t, tc.rt().Core, rt.Core, "a fresh value on every call")

			// Declare accepts it again as a host's own declaration (what a host adjusting its copy does).
			_, err := Declare(ResourceDeclaration{Name: rt.Name, Endpoint: rt.Endpoint, Schema: rt.Core})
			require.NoError(t, err)
		})
	}
	require.Equal(t, ReadOnly, Role().Core.Attr("value").Mutability, "the draft's catalogs are readOnly")
	require.Equal(t, UniqueServer, Agent().Core.Attr("agentUserName").Uniqueness)
	require.False(t, Agent().Core.Attr("agentUserName").CaseExact, "unique without case, as userName")
}

// Agent declares what the sources its comment cites show for draft-wzdk-scim-agent-resource-00 and no more:
// the five attributes, owners with abbey-00's value, $ref and display (no type), referring to Users or Groups.
func TestAgentDeclaration(t *testing.T) {
	core := Agent().Core
	var names []string
	for _, a := range core.Attributes {
		names = append(names, a.Name)
	}
	require.Subset(t, names, []string{"agentUserName", "displayName", "description", "active", "owners"})
	for _, name := range []string{"name", "agentType", "applications", "parent", "protocols", "subject"} {
		require.Nil(t, core.Attr(name), "%s is abbey-00's, not shown for -00", name)
	}
	require.Equal(t, Boolean, core.Attr("active").Type)
	owners := core.Attr("owners")
	require.Equal(t, Complex, owners.Type)
	require.True(t, owners.MultiValued)
	var subs []string
	for _, a := range owners.SubAttributes {
		subs = append(subs, a.Name)
	}
	require.ElementsMatch(t, []string{"value", "$ref", "display"}, subs)
	require.Equal(t, Reference, owners.Sub("$ref").Type)
	require.ElementsMatch(t, []string{"User", "Group"}, owners.Sub("$ref").ReferenceTypes)
}
