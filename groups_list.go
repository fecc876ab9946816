package scim

import (
	"errors"
	"net/http"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/project"
	"github.com/scimkit/scim/schema"
)

// answerGroups answers GET /Groups and POST /Groups/.search. Members are loaded only when the request names
// them (attributes=members): Entra ID and Okta page groups and never need them.
func (h *handler) answerGroups(w http.ResponseWriter, r *request, gs GroupStore, req searchRequest) error {
	if req.Cursor != nil {
		return errorf(http.StatusBadRequest, InvalidValue, "cursor pagination is not supported for groups: use startIndex")
	}
	proj, q, err := h.listRequest(groupType, req)
	if err != nil {
		return err
	}
	page, err := gs.ListGroups(r.Context(), q, GroupRead{MaxMembers: h.listMembersLimit(proj)})
	if err != nil {
		return err
	}
	items := make([]any, 0, len(page.Groups))
	for _, g := range page.Groups {
		items = append(items, h.renderGroup(r, g, proj))
	}
	h.writeList(w, page.TotalResults, q.StartIndex, "", items)
	return nil
}

// listMembersLimit is the maxMembers of a list of groups: none unless the request names members.
func (h *handler) listMembersLimit(proj project.Projection) int {
	if proj.Names(membersPath) && proj.Includes(membersPath) {
		return h.maxMembers
	}
	return 0
}

// searchAll answers POST /.search (RFC 7644 §3.4.3): Users, then Groups, then the declared types, as one list paged by startIndex
// and count. The filter is resolved against each resource type; a type whose attributes it does not name
// (userName, for groups) contributes nothing, and a filter no type can resolve is invalidFilter. sortBy
// orders within each type.
func (h *handler) searchAll(w http.ResponseWriter, r *request) error {
	var req searchRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		return err
	}
	if req.Cursor != nil {
		return errorf(http.StatusBadRequest, InvalidValue, "cursor pagination is not supported across resource types: use startIndex")
	}
	gs, hasGroups := h.groupStore()
	typed := func(rt *schema.ResourceType) (Query, bool, error) {
		r := req
		if p, ok := rt.Resolve(r.SortBy); r.SortBy != "" && (!ok || p.Attr == nil) {
			r.SortBy = "" // an attribute of another type: this one is not sorted
		}
		q, err := h.query(rt, r)
		if errors.Is(err, filter.ErrUnknownAttribute) {
			return q, false, nil
		}
		return q, err == nil, err
	}
	uq, users, err := typed(h.rt)
	if err != nil {
		return err
	}
	var gq Query
	groups := false
	if hasGroups {
		if gq, groups, err = typed(groupType); err != nil {
			return err
		}
	}
	decl := make([]Query, len(h.declared))
	declOK := make([]bool, len(h.declared))
	anyDecl := false
	for i, d := range h.declared {
		if decl[i], declOK[i], err = typed(d.Type); err != nil {
			return err
		}
		anyDecl = anyDecl || declOK[i]
	}
	if !users && !groups && !anyDecl {
		_, err := h.query(h.rt, req) // the users' error names what is unknown
		return err
	}
	start, count := uq.StartIndex, uq.Count
	if !users {
		start, count = gq.StartIndex, gq.Count
	}
	resp := listResponse{Schemas: []string{schema.ListResponseURN}, StartIndex: start, Resources: []any{}}
	before := 0 // users matched in all, before the groups
	if users {
		page, err := h.listUsers(r.Context(), uq)
		if err != nil {
			return err
		}
		proj, err := h.parseProjection(h.rt, req.Attributes, req.ExcludedAttributes)
		if err != nil {
			return err
		}
		us, err := h.withGroups(r, page.Users, proj)
		if err != nil {
			return err
		}
		items, _, err := h.renderPage(r.Context(), r, us, proj) // bounded by the page byte budget
		if err != nil {
			return err
		}
		resp.Resources = append(resp.Resources, items...)
		before = page.TotalResults
		resp.TotalResults = page.TotalResults
	}
	if groups {
		gq.StartIndex = max(start-before, 1)
		gq.Count = max(count-len(resp.Resources), 0)
		proj, err := h.parseProjection(groupType, req.Attributes, req.ExcludedAttributes)
		if err != nil {
			return err
		}
		page, err := gs.ListGroups(r.Context(), gq, GroupRead{MaxMembers: h.listMembersLimit(proj)})
		if err != nil {
			return err
		}
		for _, g := range page.Groups {
			resp.Resources = append(resp.Resources, h.renderGroup(r, g, proj))
		}
		resp.TotalResults += page.TotalResults
	}
	base := h.base(r)
	for i, d := range h.declared { // then each declared type, in its order
		if !declOK[i] {
			continue
		}
		q := decl[i]
		q.StartIndex = max(start-resp.TotalResults, 1)
		q.Count = max(count-len(resp.Resources), 0)
		proj, err := h.parseProjection(d.Type, req.Attributes, req.ExcludedAttributes)
		if err != nil {
			return err
		}
		page, err := d.Store.List(r.Context(), q)
		if err != nil {
			return err
		}
		for _, doc := range page.Documents {
			resp.Resources = append(resp.Resources, h.renderDoc(base, d, doc, proj))
		}
		resp.TotalResults += page.TotalResults
	}
	resp.ItemsPerPage = len(resp.Resources)
	h.writeJSON(w, http.StatusOK, resp)
	return nil
}
