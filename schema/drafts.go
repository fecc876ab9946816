package schema

// Shipped declarations of resource types that Internet-Drafts and identity providers define beyond RFC 7643.
// Drafts change from one revision to the next (attributes appear, requirements move, URNs are renamed), so
// each declaration names the revision it follows, and a host enables it explicitly (scim.WithResource);
// nothing here is served by default. A later revision gets a declaration of its own rather than changing
// one a host already serves. Each function returns a fresh value, as User does, so a caller may adjust its
// copy.

// Schema URNs of the shipped declarations.
const (
	// RoleURN and EntitlementURN are the core schemas of draft-ietf-scim-roles-entitlements-01.
	RoleURN        = "urn:ietf:params:scim:schemas:core:2.0:Role"
	EntitlementURN = "urn:ietf:params:scim:schemas:core:2.0:Entitlement"
	// OktaRoleURN and OktaEntitlementURN are the schemas Okta Identity Governance recognises in
	// /ResourceTypes ("Build a SCIM 2.0 server with entitlements").
	OktaRoleURN        = "urn:okta:scim:schemas:core:1.0:Role"
	OktaEntitlementURN = "urn:okta:scim:schemas:core:1.0:Entitlement"
	// AgentURN is the core schema of the Agent resource of draft-wzdk-scim-agent-resource-00.
	AgentURN = "urn:ietf:params:scim:schemas:core:2.0:Agent"
)

// catalogAttrs are the attributes draft-ietf-scim-roles-entitlements-01 (§3.2 and §3.3) gives both a Role
// and an Entitlement; what is a "role" or an "entitlement" is in the descriptions. All are readOnly, as in
// the draft's sample schemas: the service provider keeps its catalog. id is the common attribute.
func catalogAttrs(kind string, supportedRequired bool) []*Attribute {
	ro := func(a *Attribute) *Attribute { a.Mutability = ReadOnly; return a }
	return []*Attribute{
		ro(&Attribute{Name: "value", Type: String, Required: true,
			Description: "The " + kind + "'s value, as a user's " + kind + "s attribute carries it."}),
		ro(&Attribute{Name: "display", Type: String, Description: "A human-readable name of the " + kind + "."}),
		ro(&Attribute{Name: "type", Type: String, Description: "A label for the " + kind + "'s function or kind."}),
		ro(&Attribute{Name: "supported", Type: Boolean, Required: supportedRequired,
			Description: "Whether the " + kind + " is enabled and usable in the service provider."}),
		ro(&Attribute{Name: "limitedAssignmentsPermitted", Type: Boolean,
			Description: "Whether only a limited number of users may be assigned the " + kind + "."}),
		ro(&Attribute{Name: "totalAssignmentsPermitted", Type: Integer,
			Description: "How many users may be assigned the " + kind + ", directly or inherited."}),
		ro(&Attribute{Name: "totalAssignmentsUsed", Type: Integer,
			Description: "How many users are assigned the " + kind + " now, directly or inherited."}),
		ro(&Attribute{Name: "containedBy", Type: String, MultiValued: true,
			Description: "The " + kind + "s whose permissions include this one's."}),
		ro(&Attribute{Name: "contains", Type: String, MultiValued: true,
			Description: "The " + kind + "s whose permissions this one grants."}),
	}
}

// Role returns the Role resource type of draft-ietf-scim-roles-entitlements-01 (Zollner, Vartak; 16 October
// 2025), §3.2: the roles a service provider accepts in a user's "roles", served at /Roles under RoleURN.
// It declares the attributes the section lists (value and supported required; display, type, the three
// assignment counters, containedBy and contains), readOnly as in the draft's sample schema. The sample
// schema also shows "primary", which the section's list does not define: it is left out. The draft's
// ServiceProviderConfig extension (§3.1) is not served.
//
// A user's roles carry a role's value, not its id (the draft's example user): a host that sets
// scim.Resource.Grants, which checks ids, gives each role the id it uses as value.
func Role() *ResourceType {
	return MustDeclare(ResourceDeclaration{
		Name:        "Role",
		Endpoint:    "/Roles",
		Description: "Roles the service provider accepts (draft-ietf-scim-roles-entitlements-01)",
		Schema:      &Schema{ID: RoleURN, Name: "Role", Description: "Role", Attributes: catalogAttrs("role", true)},
	})
}

// Entitlement returns the Entitlement resource type of draft-ietf-scim-roles-entitlements-01, §3.3: the
// entitlements a service provider accepts in a user's "entitlements", served at /Entitlements under
// EntitlementURN, with the attributes of Role but "supported" optional, as the section has it.
func Entitlement() *ResourceType {
	return MustDeclare(ResourceDeclaration{
		Name:        "Entitlement",
		Endpoint:    "/Entitlements",
		Description: "Entitlements the service provider accepts (draft-ietf-scim-roles-entitlements-01)",
		Schema: &Schema{ID: EntitlementURN, Name: "Entitlement", Description: "Entitlement",
			Attributes: catalogAttrs("entitlement", false)},
	})
}

// oktaAttrs are the attributes of Okta's Role and Entitlement resources: the guide's samples show id (the
// common attribute, which Okta grants as a user's roles or entitlements value), displayName and, for an
// entitlement, type; the Okta Integration Wizard's schema mapping also reads a description.
func oktaAttrs(kind string) []*Attribute {
	return []*Attribute{
		{Name: "displayName", Type: String, Required: true, Description: "The " + kind + "'s name, as Okta's Governance tab shows it."},
		{Name: "type", Type: String, Description: "A label for the " + kind + "'s kind (License, Profile, ...)."},
		{Name: "description", Type: String, Description: "What the " + kind + " grants."},
	}
}

// OktaRole returns the Role resource type as Okta Identity Governance imports it, following Okta's
// developer guide "Build a SCIM 2.0 server with entitlements" (okta-developer-docs,
// docs/guides/scim-with-entitlements at commit 0a3f4f5): schema OktaRoleURN at /Roles, whose
// resources have an id (the value Okta grants in a user's roles) and a displayName. Okta knows this
// schema and does not read it from /Schemas.
func OktaRole() *ResourceType {
	return MustDeclare(ResourceDeclaration{
		Name:        "Role",
		Endpoint:    "/Roles",
		Description: "Role",
		Schema:      &Schema{ID: OktaRoleURN, Name: "Role", Description: "Role", Attributes: oktaAttrs("role")},
	})
}

// OktaEntitlement returns the Entitlement resource type as Okta Identity Governance imports it (the guide
// OktaRole follows): schema OktaEntitlementURN at /Entitlements. A host with more entitlement catalogs
// (Licenses, Profiles) declares each with this core schema under its own name and endpoint, as the
// guide's Profile example does.
func OktaEntitlement() *ResourceType {
	return MustDeclare(ResourceDeclaration{
		Name:        "Entitlement",
		Endpoint:    "/Entitlements",
		Description: "Entitlement resource",
		Schema: &Schema{ID: OktaEntitlementURN, Name: "Entitlement", Description: "Entitlement",
			Attributes: oktaAttrs("entitlement")},
	})
}

// Agent returns the Agent resource type of draft-wzdk-scim-agent-resource-00, "AI Agent Resource Extension for
// the System for Cross-domain Identity Management (SCIM)" (Wahl, Zollner, Dingle, Kazzouzi; Informational; 5 June
// 2026, expiring 7 December 2026): an AI agent's identity provisioned like a user, schema AgentURN at /Agents.
//
// What of -00 this follows, exactly. Only the draft's front matter and abstract could be read (the copies at
// ftp.registro.br and ftp.fi.xemacs.org in the stored corpus); its body (the resource type, the schema's
// attribute list and characteristics, examples, IANA section) was not available, so no section number is
// cited and no attribute characteristic below is confirmed by the draft itself. The sources are, attribute by
// attribute:
//
//   - AgentURN, the name Agent and the endpoint /Agents: the Agent records of -00 that
//     draft-mcguinness-scim-agent-federation and the governed-agent profiles show (POST /scim/v2/Agents,
//     schemas [AgentURN]); the same URN and endpoint as draft-abbey-scim-agent-extension-00.
//   - agentUserName, displayName, active: the attributes of -00 those profiles name and use. That
//     agentUserName is required and unique without case (server uniqueness, caseExact false) is this
//     library's reading by analogy with RFC 7643's userName, not the draft's text.
//   - description, owners: not corroborated for -00; taken from the Agent core schema of
//     draft-abbey-scim-agent-extension-00, one of the two drafts -00 is reported to consolidate (with
//     draft-wahl-scim-agent-schema). owners is multi-valued with the sub-attributes that
//     draft defines, value (the owner's id), $ref and display, and refers to Users or Groups.
//
// Not declared, because nothing read shows them in -00: abbey-00's agentType, entitlements, roles, groups,
// applications, subject, x509Certificates, protocols and parent, and its AgenticApplication resource type and
// User/Group extensions. Whether -00 defines an AgenticApplication or User extensions is unknown. Check this
// declaration against the draft's text before relying on it; a later revision gets its own declaration.
func Agent() *ResourceType {
	return MustDeclare(ResourceDeclaration{
		Name:        "Agent",
		Endpoint:    "/Agents",
		Description: "AI agent identities (draft-wzdk-scim-agent-resource-00)",
		Schema: &Schema{ID: AgentURN, Name: "Agent", Description: "Agent", Attributes: []*Attribute{
			{Name: "agentUserName", Type: String, Required: true, Uniqueness: UniqueServer,
				Description: "The agent's unique name in the service provider, as a user's userName."},
			{Name: "displayName", Type: String, Description: "The agent's name, for display."},
			{Name: "description", Type: String, Description: "What the agent is for."},
			{Name: "active", Type: Boolean, Description: "Whether the agent may act."},
			{Name: "owners", Type: Complex, MultiValued: true,
				Description: "The users or groups answerable for the agent.",
				SubAttributes: []*Attribute{
					{Name: "value", Type: String, Description: "The owner's id."},
					{Name: "$ref", Type: Reference, ReferenceTypes: []string{"User", "Group"},
						Description: "The owner's URI."},
					{Name: "display", Type: String, Description: "The owner's name, for display."},
				}},
		}},
	})
}
