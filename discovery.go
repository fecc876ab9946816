package scim

import (
	"net/http"
	"strings"

	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/schema"
)

// Discovery endpoints (RFC 7644 §4): what the service provider supports, its resource types and schemas.
// Their content comes from the handler's configuration and the schema table, so it is always truthful.

type supported struct {
	Supported bool `json:"supported"`
}

type discoveryMeta struct {
	ResourceType string `json:"resourceType"`
	Location     string `json:"location"`
}

func (h *handler) serviceProviderConfig(r *request) any {
	_, cursorOK := h.store.(CursorLister)
	type bulk struct {
		Supported      bool  `json:"supported"`
		MaxOperations  int   `json:"maxOperations"`
		MaxPayloadSize int64 `json:"maxPayloadSize"`
	}
	type filterSupport struct {
		Supported  bool `json:"supported"`
		MaxResults int  `json:"maxResults"`
	}
	type pagination struct {
		Cursor                  bool   `json:"cursor"`
		Index                   bool   `json:"index"`
		DefaultPaginationMethod string `json:"defaultPaginationMethod"`
		DefaultPageSize         int    `json:"defaultPageSize"`
		MaxPageSize             int    `json:"maxPageSize"`
	}
	type authScheme struct {
		Type        string `json:"type"`
		Name        string `json:"name"`
		Description string `json:"description"`
		SpecURI     string `json:"specUri"`
		Primary     bool   `json:"primary"`
	}
	return struct {
		Schemas               []string      `json:"schemas"`
		DocumentationURI      string        `json:"documentationUri"`
		Patch                 supported     `json:"patch"`
		Bulk                  bulk          `json:"bulk"`
		Filter                filterSupport `json:"filter"`
		ChangePassword        supported     `json:"changePassword"`
		Sort                  supported     `json:"sort"`
		ETag                  supported     `json:"etag"`
		Pagination            pagination    `json:"pagination"`
		AuthenticationSchemes []authScheme  `json:"authenticationSchemes"`
		Meta                  discoveryMeta `json:"meta"`
	}{
		Schemas:          []string{schema.ServiceConfigURN},
		DocumentationURI: "https://github.com/scimkit/scim/blob/main/docs/limits.md",
		Patch:            supported{true},
		Bulk:             bulk{Supported: true, MaxOperations: h.maxBulkOps, MaxPayloadSize: h.maxBulkPayload},
		Filter:           filterSupport{Supported: true, MaxResults: h.maxResults},
		ChangePassword:   supported{h.passwords == PasswordsHashed},
		Sort:             supported{true},
		ETag:             supported{true},
		// RFC 9865: cursors where the Store can keep them (they never expire, so no cursorTimeout).
		Pagination: pagination{Cursor: cursorOK, Index: true, DefaultPaginationMethod: "index",
			DefaultPageSize: h.maxResults, MaxPageSize: h.maxResults},
		AuthenticationSchemes: []authScheme{{
			Type:        "oauthbearertoken",
			Name:        "OAuth Bearer Token",
			Description: "Authentication with a bearer token in the Authorization header",
			SpecURI:     "https://www.rfc-editor.org/info/rfc6750",
			Primary:     true,
		}},
		Meta: discoveryMeta{ResourceType: "ServiceProviderConfig", Location: h.base(r) + "/ServiceProviderConfig"},
	}
}

type schemaExtension struct {
	Schema   string `json:"schema"`
	Required bool   `json:"required"`
}

type resourceType struct {
	Schemas          []string          `json:"schemas"`
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Endpoint         string            `json:"endpoint"`
	Description      string            `json:"description"`
	Schema           string            `json:"schema"`
	SchemaExtensions []schemaExtension `json:"schemaExtensions"`
	Meta             discoveryMeta     `json:"meta"`
}

// types returns the resource types served, as discovery describes them: User, Group when the Store keeps
// groups, and the declared ones.
func (h *handler) types() []*schema.ResourceType {
	types := []*schema.ResourceType{h.shown}
	if _, ok := h.groupStore(); ok {
		types = append(types, groupType)
	}
	for _, d := range h.declared {
		types = append(types, d.shown)
	}
	return types
}

// resourceTypes answers /ResourceTypes (rest empty) or /ResourceTypes/{name}.
func (h *handler) resourceTypes(r *request, rest []string) (any, error) {
	var all []any
	for _, t := range h.types() {
		rt := resourceType{
			Schemas:     []string{schema.ResourceTypeURN},
			ID:          t.Name,
			Name:        t.Name,
			Endpoint:    t.Endpoint,
			Description: t.Description,
			Schema:      t.Core.ID,
			// Group has no extension: an empty list, never null (Entra's discovery rejects nulls).
			SchemaExtensions: []schemaExtension{},
			Meta:             discoveryMeta{ResourceType: "ResourceType", Location: h.base(r) + "/ResourceTypes/" + t.Name},
		}
		for _, e := range t.Extensions {
			rt.SchemaExtensions = append(rt.SchemaExtensions, schemaExtension{Schema: e.Schema.ID, Required: e.Required})
		}
		if len(rest) == 1 && strings.EqualFold(rest[0], t.Name) {
			return rt, nil
		}
		all = append(all, rt)
	}
	if len(rest) == 1 {
		return nil, errorf(http.StatusNotFound, "", "no such resource type: "+echo.Clip(rest[0]))
	}
	return listOf(all), nil
}

type schemaResource struct {
	Schemas []string `json:"schemas"`
	*schema.Schema
	Meta discoveryMeta `json:"meta"`
}

// schemas answers /Schemas (rest empty) or /Schemas/{urn}.
func (h *handler) schemas(r *request, rest []string) (any, error) {
	var all []any
	var schemas []*schema.Schema
	for _, t := range h.types() {
		schemas = append(schemas, t.Schemas()...)
	}
	for _, s := range schemas {
		res := schemaResource{
			Schemas: []string{schema.SchemaURN},
			Schema:  s,
			Meta:    discoveryMeta{ResourceType: "Schema", Location: h.base(r) + "/Schemas/" + s.ID},
		}
		if len(rest) == 1 && strings.EqualFold(rest[0], s.ID) {
			return res, nil
		}
		all = append(all, res)
	}
	if len(rest) == 1 {
		return nil, errorf(http.StatusNotFound, "", "no such schema: "+echo.Clip(rest[0]))
	}
	return listOf(all), nil
}

func listOf(items []any) listResponse {
	return listResponse{
		Schemas:      []string{schema.ListResponseURN},
		TotalResults: len(items),
		ItemsPerPage: len(items),
		StartIndex:   1,
		Resources:    items,
	}
}
