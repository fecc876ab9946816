package schema

import (
	elimity "github.com/elimity-com/scim/schema"
)

// User returns the User resource type: the RFC 7643 §4.1 core schema with the §4.3 enterprise extension.
// Each call builds a fresh value, so callers may adjust their copy (descriptions, extra canonical values)
// without affecting anyone else.
func User() *ResourceType {
	core, ent := elimity.CoreUserSchema(), elimity.ExtensionEnterpriseUser()
	rt := &ResourceType{
		Name:        "User",
		Endpoint:    "/Users",
		Description: "User Account",
		Core:        convertSchema(core),
		Extensions:  []Extension{{Schema: convertSchema(ent)}},
	}
	for _, a := range elimity.CommonAttributes() {
		if a.Name() != "schemas" { // schemas is computed from the resource's content, never an attribute to set
			rt.Common = append(rt.Common, convertAttr(a))
		}
	}
	// RFC 7643 §7: externalId is caseExact true; userName uniqueness "server" and caseExact false come from the
	// table. The enterprise manager's displayName is readOnly: it is derived, not sent.
	return rt
}

func convertSchema(s elimity.Schema) *Schema {
	out := &Schema{ID: s.ID, Name: s.Name.Value(), Description: s.Description.Value()}
	for _, a := range s.Attributes {
		out.Attributes = append(out.Attributes, convertAttr(a))
	}
	return out
}

func convertAttr(a elimity.CoreAttribute) *Attribute {
	out := &Attribute{
		Name:            a.Name(),
		Type:            Type(a.AttributeType()),
		MultiValued:     a.MultiValued(),
		Description:     a.Description(),
		Required:        a.Required(),
		CanonicalValues: a.CanonicalValues(),
		CaseExact:       a.CaseExact(),
		Mutability:      Mutability(a.Mutability()),
		Returned:        Returned(a.Returned()),
		Uniqueness:      Uniqueness(a.Uniqueness()),
	}
	for _, r := range a.ReferenceTypes() {
		out.ReferenceTypes = append(out.ReferenceTypes, string(r))
	}
	for _, s := range a.SubAttributes() {
		sub := convertAttr(s)
		out.SubAttributes = append(out.SubAttributes, sub)
	}
	return out
}
