package schema

import (
	elimity "github.com/elimity-com/scim/schema"
)

// Group returns the Group resource type (RFC 7643 §4.2): displayName and members (value, $ref, type,
// display), with the common attributes id, externalId and meta. It is built from the same RFC table and by
// the same conversion as User, so path resolution, validation, projection and /Schemas serve it without a
// line of their own. Each call builds a fresh value.
func Group() *ResourceType {
	rt := &ResourceType{
		Name:        "Group",
		Endpoint:    "/Groups",
		Description: "Group",
		Core:        convertSchema(elimity.CoreGroupSchema()),
	}
	for _, a := range elimity.CommonAttributes() {
		if a.Name() != "schemas" {
			rt.Common = append(rt.Common, convertAttr(a))
		}
	}
	// Identity providers match groups by displayName (Entra ID's default), so a GroupStore keeps it unique
	// per tenant without case: /Schemas says so, as it does for userName.
	if a := rt.Core.Attr("displayName"); a != nil {
		a.Uniqueness = "server"
	}
	// A member's value is a user's id, and ids compare exactly (RFC 7643 §3.1 makes id caseExact): a filter
	// members[value eq "…"] must agree with the membership index that answers it.
	if a := rt.Core.Attr("members"); a != nil {
		if v := a.Sub("value"); v != nil {
			v.CaseExact = true
		}
		// Only users are members: nested groups are refused (RFC 7643 §4.2 leaves it to the service provider,
		// and Entra ID provisions none), so /Schemas advertises what is accepted, not the RFC table's
		// "User" and "Group".
		if t := a.Sub("type"); t != nil {
			t.CanonicalValues = []string{"User"}
			t.Description = "A label indicating the type of resource: 'User', the only type of member (groups cannot be members)."
		}
		if r := a.Sub("$ref"); r != nil {
			r.ReferenceTypes = []string{"User"}
			r.Description = "The URI of the user that is a member of this Group."
		}
	}
	return rt
}
