package scim

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scimkit/scim/filter"
	"github.com/scimkit/scim/internal/echo"
	"github.com/scimkit/scim/internal/project"
	"github.com/scimkit/scim/schema"
)

// searchRequest is the body of POST /.search (RFC 7644 §3.4.3); encoding/json matches its keys without case.
type searchRequest struct {
	Attributes         []string `json:"attributes"`
	ExcludedAttributes []string `json:"excludedAttributes"`
	Filter             string   `json:"filter"`
	SortBy             string   `json:"sortBy"`
	SortOrder          string   `json:"sortOrder"`
	StartIndex         *int     `json:"startIndex"`
	Count              *int     `json:"count"`
	// Cursor, when present (even empty), asks for cursor pagination (RFC 9865).
	Cursor *string `json:"cursor"`
}

func (h *handler) list(w http.ResponseWriter, r *request) error {
	req, err := listParams(r)
	if err != nil {
		return err
	}
	return h.answerList(w, r, req)
}

// listParams reads a list's query parameters into a searchRequest.
func listParams(r *request) (searchRequest, error) {
	q := r.URL.Query()
	req := searchRequest{
		Attributes:         splitList(q.Get("attributes")),
		ExcludedAttributes: splitList(q.Get("excludedAttributes")),
		Filter:             q.Get("filter"),
		SortBy:             q.Get("sortBy"),
		SortOrder:          q.Get("sortOrder"),
	}
	if q.Has("cursor") {
		c := q.Get("cursor")
		req.Cursor = &c
	}
	// In the order of the parameters' definition (RFC 7644 §3.4.2.4), so that a request with both wrong
	// always names startIndex: ranging over a map picked either at random.
	var err error
	if req.StartIndex, err = intParam(q, "startIndex"); err != nil {
		return req, err
	}
	if req.Count, err = intParam(q, "count"); err != nil {
		return req, err
	}
	return req, nil
}

// intParam reads an integer query parameter: nil when absent or empty.
func intParam(q url.Values, name string) (*int, error) {
	s := q.Get(name)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, errorf(http.StatusBadRequest, InvalidValue, name+" must be an integer")
	}
	return &n, nil
}

// query turns a list request into a Query over the resource type rt (Users, Groups): the filter and sortBy
// resolved against rt, the page and its work bounded by the cost model.
func (h *handler) query(rt *schema.ResourceType, req searchRequest) (Query, error) {
	q := Query{StartIndex: 1, Count: h.maxResults, MaxScan: h.maxScan, MaxBytes: h.maxPageBytes}
	if req.StartIndex != nil {
		q.StartIndex = max(*req.StartIndex, 1) // RFC 7644 §3.4.2.4: below 1 means 1
	}
	if req.Count != nil {
		q.Count = min(max(*req.Count, 0), h.maxResults)
	}
	if req.Filter != "" {
		f, err := h.limits.Parse(rt, req.Filter) // its length, depth and comparisons bounded
		if err != nil {
			return q, err
		}
		if p, why := unqueryableIn(f, nil); why != "" {
			return q, errorf(http.StatusBadRequest, InvalidFilter, p.String()+" cannot be filtered on: "+why)
		}
		q.Filter = f
	}
	if req.SortBy != "" {
		p, ok := rt.Resolve(req.SortBy)
		if !ok || p.Attr == nil {
			return q, errorf(http.StatusBadRequest, InvalidValue, "sortBy names no attribute: "+echo.Quote(req.SortBy))
		}
		if why := unqueryable(p); why != "" {
			return q, errorf(http.StatusBadRequest, InvalidValue, p.String()+" cannot be sorted by: "+why)
		}
		q.SortBy = p
	}
	switch strings.ToLower(req.SortOrder) {
	case "", "ascending":
	case "descending":
		q.Descending = true
	default:
		return q, errorf(http.StatusBadRequest, InvalidValue, `sortOrder must be "ascending" or "descending"`)
	}
	return q, nil
}

func (h *handler) search(w http.ResponseWriter, r *request) error {
	var req searchRequest
	if err := h.decodeBody(w, r, &req); err != nil {
		return err
	}
	return h.answerList(w, r, req)
}

type listResponse struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	ItemsPerPage int      `json:"itemsPerPage"`
	StartIndex   int      `json:"startIndex,omitempty"` // index pagination only
	NextCursor   string   `json:"nextCursor,omitempty"` // cursor pagination only, absent on the last page
	Resources    []any    `json:"Resources"`
}

// listRequest resolves a list's projection and query against rt: both refused, when wrong, before any
// Store works.
func (h *handler) listRequest(rt *schema.ResourceType, req searchRequest) (project.Projection, Query, error) {
	proj, err := h.parseProjection(rt, req.Attributes, req.ExcludedAttributes)
	if err != nil {
		return proj, Query{}, err
	}
	q, err := h.query(rt, req)
	return proj, q, err
}

func (h *handler) answerList(w http.ResponseWriter, r *request, req searchRequest) error {
	proj, q, err := h.listRequest(h.rt, req)
	if err != nil {
		return err
	}
	var page *Page
	if req.Cursor != nil {
		page, err = h.listCursor(r.Context(), q, req) // ErrTooMany: writeError names the limit
	} else {
		page, err = h.listUsers(r.Context(), q) // groups terms resolved here when the Store cannot
	}
	if err != nil {
		return err
	}
	users, err := h.withGroups(r, page.Users, proj) // one GroupsOf call a page, when groups are sent
	if err != nil {
		return err
	}
	items, short, err := h.renderPage(r.Context(), r, users, proj)
	if err != nil {
		return err
	}
	if short && req.Cursor != nil {
		// The next cursor must follow the last user sent: ask again for the users that fit.
		q.Count = len(items)
		if page, err = h.listCursor(r.Context(), q, req); err != nil {
			return err
		}
		if users, err = h.withGroups(r, page.Users[:min(len(page.Users), q.Count)], proj); err != nil {
			return err
		}
		if items, _, err = h.renderPage(r.Context(), r, users, proj); err != nil {
			return err
		}
	}
	if req.Cursor != nil {
		q.StartIndex = 0
	}
	h.writeList(w, page.TotalResults, q.StartIndex, page.NextCursor, items)
	return nil
}

// writeList answers a ListResponse of items (RFC 7644 §3.4.2): startIndex for index pages (0 omits it),
// nextCursor for cursor pages ("" on the last).
func (h *handler) writeList(w http.ResponseWriter, total, startIndex int, nextCursor string, items []any) {
	h.writeJSON(w, http.StatusOK, listResponse{Schemas: []string{schema.ListResponseURN}, TotalResults: total,
		ItemsPerPage: len(items), StartIndex: startIndex, NextCursor: nextCursor, Resources: items})
}

// unqueryable says why a filter or sortBy may not name p, or "" when it may:
//   - a "returned: never" attribute or sub-attribute (password): filtering or sorting on one would let a
//     client find its value by asking (password eq "guess" answers whether it is the password);
//   - meta.version: an opaque version that each Store keeps in its own form (memstore's documents hold
//     it, sqlstore's a column beside them) and the handler shows as an entity tag (W/"3"), so stores
//     answered the same filter differently, and a literal would have to guess the form; If-Match and
//     If-None-Match are how a client compares versions.
func unqueryable(p schema.Path) string {
	switch {
	case p.Attr != nil && p.Attr.Returned == schema.Never || p.Sub != nil && p.Sub.Returned == schema.Never:
		return "it is never returned"
	case p.Attr != nil && p.Attr.Name == "meta" && p.Sub != nil && p.Sub.Name == "version" && !p.Extension():
		return "versions are compared with If-Match"
	}
	return ""
}

// unqueryableIn returns an attribute the filter compares that unqueryable refuses, and why. Inside a value
// filter of the attribute at parent, paths name its sub-attributes (meta[version eq "1"] is meta.version).
func unqueryableIn(e filter.Expr, parent *schema.Path) (schema.Path, string) {
	switch e := e.(type) {
	case *filter.Logical:
		if p, why := unqueryableIn(e.Left, parent); why != "" {
			return p, why
		}
		return unqueryableIn(e.Right, parent)
	case *filter.Not:
		return unqueryableIn(e.X, parent)
	case *filter.ValuePath:
		if why := unqueryable(e.Path); why != "" {
			return e.Path, why
		}
		return unqueryableIn(e.Filter, &e.Path)
	case *filter.Compare:
		p := e.Path
		if parent != nil {
			p = schema.Path{Schema: parent.Schema, Attr: parent.Attr, Sub: e.Path.Attr}
		}
		return p, unqueryable(p)
	}
	return schema.Path{}, ""
}

// listCursor answers a cursor-paginated query (RFC 9865) from a Store that supports it.
func (h *handler) listCursor(ctx context.Context, q Query, req searchRequest) (*Page, error) {
	cl, ok := h.store.(CursorLister)
	switch {
	case !ok:
		return nil, errorf(http.StatusBadRequest, InvalidValue, "cursor pagination is not supported: use startIndex")
	case req.StartIndex != nil:
		return nil, errorf(http.StatusBadRequest, InvalidValue, "cursor and startIndex cannot be combined")
	case q.SortBy.Attr != nil:
		return nil, errorf(http.StatusBadRequest, InvalidValue, "cursor pagination returns users in creation order: sortBy needs startIndex")
	}
	if _, resolve := h.resolvesGroups(q); resolve {
		return nil, errCursorGroups
	}
	q.StartIndex = 0
	return cl.ListCursor(ctx, q, *req.Cursor)
}
