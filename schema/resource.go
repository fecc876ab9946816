package schema

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	elimity "github.com/elimity-com/scim/schema"
)

// ResourceDeclaration says what a resource type beyond User and Group is: its name and endpoint, its core
// schema and any extensions (RFC 7643 §6). The common attributes id, externalId and meta are added, as for
// every resource type; the handler then serves it with the code that serves users (validation, PATCH,
// filters, sort, projection, /Schemas, /ResourceTypes).
type ResourceDeclaration struct {
	// Name is the resource type's name ("Role", "Entitlement", "Agent"): letters and digits.
	Name string
	// Endpoint is its path below the mount point, "/Roles" say. Empty means "/" + Name + "s".
	Endpoint string
	// Description is what /ResourceTypes says of it.
	Description string
	// Schema is the core schema: a URN id and its attributes. Attributes may leave Mutability, Returned and
	// Uniqueness empty for readWrite, default and none.
	Schema *Schema
	// Extensions are further schemas of the resource type, each with a URN id of its own.
	Extensions []*Schema
	// RequiredExtensions names (by URN) the Extensions every resource of the type must carry (RFC 7643 §6
	// "required": true): a write without one is refused as one without a required attribute is.
	RequiredExtensions []string
}

// Declare returns the resource type the declaration describes, or an error naming what is wrong with it.
func Declare(d ResourceDeclaration) (*ResourceType, error) {
	if d.Name == "" || !validName(d.Name) || strings.ContainsAny(d.Name, "$-_") {
		return nil, fmt.Errorf("schema: resource type name %q must be letters and digits, starting with a letter", d.Name)
	}
	ep := d.Endpoint
	if ep == "" {
		ep = "/" + d.Name + "s"
	}
	if !strings.HasPrefix(ep, "/") || strings.Count(ep, "/") != 1 || !validName(ep[1:]) {
		return nil, fmt.Errorf("schema: %s: endpoint %q must be one path segment such as /Roles", d.Name, ep)
	}
	if d.Schema == nil {
		return nil, errors.New("schema: " + d.Name + ": no core schema")
	}
	core, err := checkExtension(d.Schema) // a core schema is checked as an extension is: a URN and attributes
	if err != nil {
		return nil, err
	}
	for _, a := range core.Attributes {
		switch strings.ToLower(a.Name) {
		case "id", "externalid", "meta", "schemas":
			return nil, fmt.Errorf("schema: %s: %s is a common attribute (RFC 7643 §3.1), added to every resource type", d.Name, a.Name)
		}
	}
	core.core = true
	rt := &ResourceType{Name: d.Name, Endpoint: ep, Description: d.Description, Core: core}
	if rt.Description == "" {
		rt.Description = d.Name
	}
	for _, a := range elimity.CommonAttributes() {
		if a.Name() != "schemas" {
			rt.Common = append(rt.Common, convertAttr(a))
		}
	}
	for _, ext := range d.Extensions {
		s, err := checkExtension(ext)
		if err != nil {
			return nil, err
		}
		for _, e := range rt.Schemas() {
			if strings.EqualFold(e.ID, s.ID) {
				return nil, fmt.Errorf("schema: %s: schema %s is declared twice", d.Name, s.ID)
			}
		}
		rt.Extensions = append(rt.Extensions, Extension{Schema: s, Required: slices.ContainsFunc(d.RequiredExtensions,
			func(urn string) bool { return strings.EqualFold(urn, s.ID) })})
	}
	for _, urn := range d.RequiredExtensions {
		if rt.Extension(urn) == nil || strings.EqualFold(urn, core.ID) {
			return nil, fmt.Errorf("schema: %s: required extension %s is not one of its Extensions", d.Name, urn)
		}
	}
	return rt, nil
}

// MustDeclare is Declare for declarations fixed at compile time: it panics on an error.
func MustDeclare(d ResourceDeclaration) *ResourceType {
	rt, err := Declare(d)
	if err != nil {
		panic(err)
	}
	return rt
}
