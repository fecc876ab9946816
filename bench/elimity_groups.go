package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	elim "github.com/elimity-com/scim"
	elimerrors "github.com/elimity-com/scim/errors"
	"github.com/elimity-com/scim/optional"
	elimschema "github.com/elimity-com/scim/schema"
	parser "github.com/scim2/filter-parser/v2"
)

// The peer's Groups: elimity's Server has a Group schema and validates PATCH operations against it (it takes
// Entra's capitalised ops, "$ref": null and the value-list Remove), but what an operation means is the
// ResourceHandler's: this is the best in-memory one we could write. Members are a set per group (adding or
// removing K members is O(K) at any size); a member must be a user of the users' handler; displayName is
// unique without case and indexed for Entra's lookup; a Remove with a value list removes exactly the listed
// members (GROUPS.md's trap), one without a value removes all; a membership PATCH answers 204, as Entra asks;
// lists leave members out, as ours do.

type elimGroup struct {
	id, displayName, externalID string
	members                     map[string]struct{}
	created, modified           time.Time
	version                     int64
}

type elimityGroups struct {
	users *elimityHandler // members are its users
	mu    sync.RWMutex
	byID  map[string]*elimGroup
	byKey map[string]*elimGroup // lowercased displayName
	order []*elimGroup
}

func newElimityGroups(users *elimityHandler) *elimityGroups {
	return &elimityGroups{users: users, byID: map[string]*elimGroup{}, byKey: map[string]*elimGroup{}}
}

// seedElimityGroups stores the big, small and list groups of sc directly in the handler's maps, in the order
// seedGroups creates ours.
func seedElimityGroups(users *elimityHandler, sc groupScale) (*elimityGroups, error) {
	h := newElimityGroups(users)
	now := time.Now().UTC()
	add := func(id, name string, n int) error {
		g := &elimGroup{id: id, displayName: name, members: make(map[string]struct{}, n), created: now, modified: now, version: 1}
		for i := range n {
			g.members[userID(i)] = struct{}{}
		}
		return h.insert(g)
	}
	if err := add(groupBigID, "Big group", sc.big); err != nil {
		return nil, err
	}
	if err := add(groupSmallID, "Small group", 100); err != nil {
		return nil, err
	}
	for i := range sc.listGroups {
		if err := add(listGroupID(i), listGroupName(i), sc.listMembers); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// insert indexes a new group (under the write lock, or before serving).
func (h *elimityGroups) insert(g *elimGroup) error {
	key := strings.ToLower(g.displayName)
	if _, taken := h.byKey[key]; taken {
		return elimerrors.ScimErrorUniqueness
	}
	h.byID[g.id], h.byKey[key] = g, g
	h.order = append(h.order, g)
	return nil
}

// resource is g as the Server renders it, with its members when withMembers.
func (g *elimGroup) resource(withMembers bool) elim.Resource {
	created, modified := g.created, g.modified
	attrs := elim.ResourceAttributes{"displayName": g.displayName}
	if withMembers {
		ms := make([]interface{}, 0, len(g.members))
		for id := range g.members {
			ms = append(ms, map[string]interface{}{"value": id})
		}
		attrs["members"] = ms
	}
	r := elim.Resource{ID: g.id, Attributes: attrs,
		Meta: elim.Meta{Created: &created, LastModified: &modified, Version: `W/"` + strconv.FormatInt(g.version, 10) + `"`}}
	if g.externalID != "" {
		r.ExternalID = optional.NewString(g.externalID)
	}
	return r
}

// memberIDs reads the member ids of a validated members value, checking each is a user.
func (h *elimityGroups) memberIDs(v interface{}) ([]string, error) {
	list, _ := v.([]interface{})
	ids := make([]string, 0, len(list))
	h.users.mu.RLock()
	defer h.users.mu.RUnlock()
	for _, m := range list {
		mm, _ := m.(map[string]interface{})
		id, _ := mm["value"].(string)
		if h.users.byID[id] == nil {
			return nil, elimerrors.ScimErrorBadRequest(fmt.Sprintf("no user with id %q can be a member", id))
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// Create implements elim.ResourceHandler.
func (h *elimityGroups) Create(_ *http.Request, attrs elim.ResourceAttributes) (elim.Resource, error) {
	ids, err := h.memberIDs(attrs["members"])
	if err != nil {
		return elim.Resource{}, err
	}
	now := time.Now().UTC()
	g := &elimGroup{id: newUUID(), displayName: stringAttr(attrs, "displayName"), externalID: stringAttr(attrs, "externalId"),
		members: make(map[string]struct{}, len(ids)), created: now, modified: now, version: 1}
	for _, id := range ids {
		g.members[id] = struct{}{}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.insert(g); err != nil {
		return elim.Resource{}, err
	}
	return g.resource(true), nil
}

// Get implements elim.ResourceHandler.
func (h *elimityGroups) Get(_ *http.Request, id string) (elim.Resource, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	g := h.byID[id]
	if g == nil {
		return elim.Resource{}, elimerrors.ScimErrorResourceNotFound(id)
	}
	return g.resource(true), nil
}

// GetAll implements elim.ResourceHandler: `displayName eq` (Entra's lookup) is an index lookup, no filter a
// slice of the creation order; other filters are refused (the benchmark sends none).
func (h *elimityGroups) GetAll(_ *http.Request, p elim.ListRequestParams) (elim.Page, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	matched := h.order
	if p.FilterValidator != nil {
		a, ok := p.FilterValidator.GetFilter().(*parser.AttributeExpression)
		if !ok || a.Operator != parser.EQ || !strings.EqualFold(a.AttributePath.AttributeName, "displayName") {
			return elim.Page{}, elimerrors.ScimErrorInvalidFilter
		}
		name, _ := a.CompareValue.(string)
		matched = nil
		if g := h.byKey[strings.ToLower(name)]; g != nil {
			matched = []*elimGroup{g}
		}
	}
	page := elim.Page{TotalResults: len(matched), Resources: []elim.Resource{}}
	from := max(p.StartIndex, 1) - 1
	if from < len(matched) && p.Count > 0 {
		for _, g := range matched[from:min(from+p.Count, len(matched))] {
			page.Resources = append(page.Resources, g.resource(false))
		}
	}
	return page, nil
}

// Replace implements elim.ResourceHandler: the attributes and the whole member list.
func (h *elimityGroups) Replace(_ *http.Request, id string, attrs elim.ResourceAttributes) (elim.Resource, error) {
	ids, err := h.memberIDs(attrs["members"])
	if err != nil {
		return elim.Resource{}, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.byID[id]
	if g == nil {
		return elim.Resource{}, elimerrors.ScimErrorResourceNotFound(id)
	}
	if err := h.rename(g, stringAttr(attrs, "displayName")); err != nil {
		return elim.Resource{}, err
	}
	g.externalID = stringAttr(attrs, "externalId")
	g.members = make(map[string]struct{}, len(ids))
	for _, m := range ids {
		g.members[m] = struct{}{}
	}
	g.modified, g.version = time.Now().UTC(), g.version+1
	return g.resource(true), nil
}

func (h *elimityGroups) rename(g *elimGroup, name string) error {
	oldKey, newKey := strings.ToLower(g.displayName), strings.ToLower(name)
	if oldKey != newKey {
		if _, taken := h.byKey[newKey]; taken {
			return elimerrors.ScimErrorUniqueness
		}
		delete(h.byKey, oldKey)
		h.byKey[newKey] = g
	}
	g.displayName = name
	return nil
}

// Delete implements elim.ResourceHandler.
func (h *elimityGroups) Delete(_ *http.Request, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.byID[id]
	if g == nil {
		return elimerrors.ScimErrorResourceNotFound(id)
	}
	delete(h.byID, id)
	delete(h.byKey, strings.ToLower(g.displayName))
	h.order = slices.DeleteFunc(h.order, func(o *elimGroup) bool { return o == g })
	return nil
}

// Patch implements elim.ResourceHandler: displayName/externalId replaced (with a path, or a value object
// without one, Okta's), members added, removed by value list (exactly those) or by members[value eq "…"],
// all removed by a remove without value, or replaced. It answers 204.
func (h *elimityGroups) Patch(_ *http.Request, id string, ops []elim.PatchOperation) (elim.Resource, error) {
	type memberOp struct {
		op  string
		ids []string
		all bool
	}
	var mops []memberOp
	attrs := map[string]interface{}{}
	for _, op := range ops {
		if op.Path == nil {
			if m, ok := op.Value.(map[string]interface{}); ok {
				for k, v := range m {
					attrs[strings.ToLower(k)] = v
				}
			}
			continue
		}
		name := strings.ToLower(op.Path.AttributePath.AttributeName)
		if name != "members" {
			attrs[name] = op.Value
			continue
		}
		switch {
		case op.Path.ValueExpression != nil: // members[value eq "…"]
			_, v, ok := eqFilter(op.Path.ValueExpression)
			if !ok || op.Op != elim.PatchOperationRemove {
				return elim.Resource{}, elimerrors.ScimErrorInvalidFilter
			}
			mops = append(mops, memberOp{op: op.Op, ids: []string{v}})
		case op.Op == elim.PatchOperationRemove && op.Value == nil:
			mops = append(mops, memberOp{op: op.Op, all: true})
		default:
			var ids []string
			if op.Op != elim.PatchOperationRemove {
				var err error
				if ids, err = h.memberIDs(op.Value); err != nil {
					return elim.Resource{}, err
				}
			} else {
				list, _ := op.Value.([]interface{})
				for _, m := range list {
					mm, _ := m.(map[string]interface{})
					s, _ := mm["value"].(string)
					ids = append(ids, s)
				}
			}
			mops = append(mops, memberOp{op: op.Op, ids: ids})
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	g := h.byID[id]
	if g == nil {
		return elim.Resource{}, elimerrors.ScimErrorResourceNotFound(id)
	}
	if v, ok := attrs["displayname"].(string); ok {
		if err := h.rename(g, v); err != nil {
			return elim.Resource{}, err
		}
	}
	if v, ok := attrs["externalid"].(string); ok {
		g.externalID = v
	}
	for _, m := range mops {
		if m.all || m.op == elim.PatchOperationReplace {
			clear(g.members)
		}
		for _, id := range m.ids {
			if m.op == elim.PatchOperationRemove {
				delete(g.members, id)
			} else {
				g.members[id] = struct{}{}
			}
		}
	}
	g.modified, g.version = time.Now().UTC(), g.version+1
	return elim.Resource{}, nil
}

// newElimityServerWithGroups is newElimityServer with a Group resource type over groups.
func newElimityServerWithGroups(users *elimityHandler, groups *elimityGroups, token string) (http.Handler, error) {
	srv, err := elim.NewServer(&elim.ServerArgs{
		ServiceProviderConfig: &elim.ServiceProviderConfig{MaxResults: 1000, SupportFiltering: true, SupportPatch: true},
		ResourceTypes: []elim.ResourceType{{
			ID:               optional.NewString("User"),
			Name:             "User",
			Endpoint:         "/Users",
			Description:      optional.NewString("User Account"),
			Schema:           elimschema.CoreUserSchema(),
			SchemaExtensions: []elim.SchemaExtension{{Schema: elimschema.ExtensionEnterpriseUser()}},
			Handler:          users,
		}, {
			ID:          optional.NewString("Group"),
			Name:        "Group",
			Endpoint:    "/Groups",
			Description: optional.NewString("Group"),
			Schema:      elimschema.CoreGroupSchema(),
			Handler:     groups,
		}},
	})
	if err != nil {
		return nil, err
	}
	return bearer(srv, token), nil
}

// bearer puts the same bearer-token check ours does (SHA-256 digests compared in constant time) in front
// of h: the work a host would have to add, so that both servers do it.
func bearer(h http.Handler, token string) http.Handler {
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		got := sha256.Sum256([]byte(strings.TrimSpace(tok)))
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"401"}`))
			return
		}
		h.ServeHTTP(w, r)
	})
}
