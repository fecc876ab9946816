package schema

import (
	elimity "github.com/elimity-com/scim/schema"
)

// Group returns the Group resource type: the RFC 7643 §4.2 core schema (displayName, members) with the common
// attributes id, externalId and meta, and no extension. Like User, each call builds a fresh value.
func Group() *ResourceType {
	rt := &ResourceType{
		Name:        "Group",
		Endpoint:    "/Groups",
		Description: "Group",
		Core:        convertSchema(elimity.CoreGroupSchema()),
	}
	for _, a := range elimity.CommonAttributes() {
		if a.Name() != "schemas" { // as in User: computed, never set
			rt.Common = append(rt.Common, convertAttr(a))
		}
	}
	return rt
}
