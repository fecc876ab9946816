package main

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	elim "github.com/elimity-com/scim"
	elimerrors "github.com/elimity-com/scim/errors"
	elimfilter "github.com/elimity-com/scim/filter"
	"github.com/elimity-com/scim/optional"
	elimschema "github.com/elimity-com/scim/schema"
	parser "github.com/scim2/filter-parser/v2"
)

// The peer: github.com/elimity-com/scim's Server with the best in-memory ResourceHandler one can fairly write
// for it. Users are indexed by id and by lowercased userName; `userName eq` filters (which the Server hands
// over parsed) are map lookups, lists are slices of the creation order; stored attribute maps are never
// modified once stored (PATCH copies what it changes), so readers only hold a read lock while they look up.

const coreUserURN = "urn:ietf:params:scim:schemas:core:2.0:User"

type elimUser struct {
	id       string
	attrs    elim.ResourceAttributes // never modified once stored
	created  time.Time
	modified time.Time
	version  int64
	pos      int // index in elimityHandler.order
}

type elimityHandler struct {
	mu     sync.RWMutex
	byID   map[string]*elimUser
	byName map[string]*elimUser // lowercased userName
	order  []*elimUser          // creation order
}

func newElimityHandler(n int) *elimityHandler {
	return &elimityHandler{
		byID:   make(map[string]*elimUser, n),
		byName: make(map[string]*elimUser, n),
		order:  make([]*elimUser, 0, n),
	}
}

// elimityAttrs is user i as elimity's Server hands a POST of it to Create (checked by TestSeedsMatchTheAPI).
func elimityAttrs(i int) elim.ResourceAttributes {
	return elim.ResourceAttributes{
		"externalId":  externalID(i),
		"userName":    userName(i),
		"active":      true,
		"displayName": displayName(i),
		"emails":      []interface{}{map[string]interface{}{"primary": true, "type": "work", "value": userName(i)}},
		"name":        map[string]interface{}{"formatted": displayName(i), "familyName": familyName(i), "givenName": givenName(i)},
		"roles":       nil, // what elimity's validation makes of Entra's "roles":[]
	}
}

// seedElimity stores users 0..n-1 directly in the handler's maps.
func seedElimity(n int) *elimityHandler {
	h := newElimityHandler(n)
	for i := range n {
		t := seedEpoch.Add(time.Duration(i) * time.Second)
		h.insert(&elimUser{id: userID(i), attrs: elimityAttrs(i), created: t, modified: t, version: 1})
	}
	return h
}

func (h *elimityHandler) insert(u *elimUser) {
	u.pos = len(h.order)
	h.order = append(h.order, u)
	h.byID[u.id] = u
	h.byName[strings.ToLower(stringAttr(u.attrs, "userName"))] = u
}

func stringAttr(a elim.ResourceAttributes, name string) string {
	s, _ := a[name].(string)
	return s
}

func (u *elimUser) resource() elim.Resource {
	created, modified := u.created, u.modified
	r := elim.Resource{
		ID:         u.id,
		Attributes: u.attrs,
		Meta:       elim.Meta{Created: &created, LastModified: &modified, Version: `W/"` + strconv.FormatInt(u.version, 10) + `"`},
	}
	if x := stringAttr(u.attrs, "externalId"); x != "" {
		r.ExternalID = optional.NewString(x)
	}
	return r
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Create implements elim.ResourceHandler.
func (h *elimityHandler) Create(_ *http.Request, attrs elim.ResourceAttributes) (elim.Resource, error) {
	now := time.Now().UTC()
	u := &elimUser{id: newUUID(), attrs: attrs, created: now, modified: now, version: 1}
	key := strings.ToLower(stringAttr(attrs, "userName"))
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, taken := h.byName[key]; taken {
		return elim.Resource{}, elimerrors.ScimErrorUniqueness
	}
	h.insert(u)
	return u.resource(), nil
}

// Get implements elim.ResourceHandler.
func (h *elimityHandler) Get(_ *http.Request, id string) (elim.Resource, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	u := h.byID[id]
	if u == nil {
		return elim.Resource{}, elimerrors.ScimErrorResourceNotFound(id)
	}
	return u.resource(), nil
}

// userNameEq returns x when e is `userName eq "x"`.
func userNameEq(e parser.Expression) (string, bool) {
	a, ok := e.(*parser.AttributeExpression)
	if !ok || a.Operator != parser.EQ || a.AttributePath.SubAttribute != nil ||
		!strings.EqualFold(a.AttributePath.AttributeName, "userName") ||
		(a.AttributePath.URIPrefix != nil && *a.AttributePath.URIPrefix != coreUserURN) {
		return "", false
	}
	s, ok := a.CompareValue.(string)
	return s, ok
}

// GetAll implements elim.ResourceHandler: `userName eq` is an index lookup, no filter is a slice of the
// creation order, and any other filter is evaluated by elimity's own filter code.
func (h *elimityHandler) GetAll(_ *http.Request, p elim.ListRequestParams) (elim.Page, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	page := elim.Page{Resources: []elim.Resource{}}
	var matched []*elimUser
	switch {
	case p.FilterValidator == nil:
		matched = h.order
	default:
		if name, ok := userNameEq(p.FilterValidator.GetFilter()); ok {
			if u := h.byName[strings.ToLower(name)]; u != nil {
				matched = []*elimUser{u}
			}
			break
		}
		for _, u := range h.order {
			if passes(p.FilterValidator, u) {
				matched = append(matched, u)
			}
		}
	}
	page.TotalResults = len(matched)
	from := max(p.StartIndex, 1) - 1
	if from < len(matched) && p.Count > 0 {
		for _, u := range matched[from:min(from+p.Count, len(matched))] {
			page.Resources = append(page.Resources, u.resource())
		}
	}
	return page, nil
}

func passes(v *elimfilter.Validator, u *elimUser) bool {
	doc := maps.Clone(u.attrs)
	doc["id"] = u.id
	return v.PassesFilter(doc) == nil
}

// Replace implements elim.ResourceHandler.
func (h *elimityHandler) Replace(_ *http.Request, id string, attrs elim.ResourceAttributes) (elim.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.byID[id]
	if u == nil {
		return elim.Resource{}, elimerrors.ScimErrorResourceNotFound(id)
	}
	if err := h.update(u, attrs); err != nil {
		return elim.Resource{}, err
	}
	return u.resource(), nil
}

// update replaces u's attributes (under the write lock), keeping the userName index right.
func (h *elimityHandler) update(u *elimUser, attrs elim.ResourceAttributes) error {
	oldKey, newKey := strings.ToLower(stringAttr(u.attrs, "userName")), strings.ToLower(stringAttr(attrs, "userName"))
	if oldKey != newKey {
		if _, taken := h.byName[newKey]; taken {
			return elimerrors.ScimErrorUniqueness
		}
		delete(h.byName, oldKey)
		h.byName[newKey] = u
	}
	u.attrs = attrs
	u.modified = time.Now().UTC()
	u.version++
	return nil
}

// Delete implements elim.ResourceHandler.
func (h *elimityHandler) Delete(_ *http.Request, id string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.byID[id]
	if u == nil {
		return elimerrors.ScimErrorResourceNotFound(id)
	}
	delete(h.byID, id)
	delete(h.byName, strings.ToLower(stringAttr(u.attrs, "userName")))
	h.order = slices.Delete(h.order, u.pos, u.pos+1)
	for _, o := range h.order[u.pos:] {
		o.pos--
	}
	return nil
}

// Patch implements elim.ResourceHandler: the operations (validated by the Server) are applied to a copy of
// the parts of the attributes they touch, and the copy replaces the stored attributes.
func (h *elimityHandler) Patch(_ *http.Request, id string, ops []elim.PatchOperation) (elim.Resource, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	u := h.byID[id]
	if u == nil {
		return elim.Resource{}, elimerrors.ScimErrorResourceNotFound(id)
	}
	attrs := maps.Clone(u.attrs)
	for _, op := range ops {
		if err := applyElimityOp(attrs, op); err != nil {
			return elim.Resource{}, err
		}
	}
	if err := h.update(u, attrs); err != nil {
		return elim.Resource{}, err
	}
	return u.resource(), nil
}

func applyElimityOp(attrs elim.ResourceAttributes, op elim.PatchOperation) error {
	if op.Path == nil { // a value object of attributes
		m, _ := op.Value.(map[string]interface{})
		for k, v := range m {
			if op.Op == elim.PatchOperationAdd {
				if list, ok := attrs[k].([]interface{}); ok {
					if more, ok := v.([]interface{}); ok {
						attrs[k] = append(slices.Clip(list), more...)
						continue
					}
				}
			}
			attrs[k] = v
		}
		return nil
	}
	p := op.Path
	container := map[string]interface{}(attrs)
	if uri := p.AttributePath.URI(); uri != "" && uri != coreUserURN { // an extension
		ext, _ := attrs[uri].(map[string]interface{})
		ext = maps.Clone(ext)
		if ext == nil {
			ext = map[string]interface{}{}
		}
		attrs[uri] = ext
		container = ext
	}
	name := p.AttributePath.AttributeName
	sub := p.AttributePath.SubAttributeName()
	if p.ValueExpression != nil {
		sub = p.SubAttributeName()
	}
	switch {
	case p.ValueExpression != nil: // emails[type eq "work"].value
		fa, fv, ok := eqFilter(p.ValueExpression)
		if !ok {
			return elimerrors.ScimErrorInvalidFilter
		}
		list, _ := container[name].([]interface{})
		list = slices.Clone(list)
		found := false
		for i, e := range list {
			m, _ := e.(map[string]interface{})
			if s, _ := m[fa].(string); m == nil || !strings.EqualFold(s, fv) {
				continue
			}
			found = true
			switch {
			case op.Op == elim.PatchOperationRemove && sub == "":
				list[i] = nil
			case sub == "":
				list[i] = op.Value
			default:
				m = maps.Clone(m)
				if op.Op == elim.PatchOperationRemove {
					delete(m, sub)
				} else {
					m[sub] = op.Value
				}
				list[i] = m
			}
		}
		list = slices.DeleteFunc(list, func(e interface{}) bool { return e == nil })
		if !found && op.Op != elim.PatchOperationRemove { // Entra: add/replace on no match creates the element
			m := map[string]interface{}{fa: fv}
			if sub != "" {
				m[sub] = op.Value
			} else if v, ok := op.Value.(map[string]interface{}); ok {
				maps.Copy(m, v)
			}
			list = append(list, m)
		}
		container[name] = list
	case sub != "": // name.formatted
		m, _ := container[name].(map[string]interface{})
		m = maps.Clone(m)
		if m == nil {
			m = map[string]interface{}{}
		}
		if op.Op == elim.PatchOperationRemove {
			delete(m, sub)
		} else {
			m[sub] = op.Value
		}
		container[name] = m
	case op.Op == elim.PatchOperationRemove:
		delete(container, name)
	case op.Op == elim.PatchOperationAdd:
		if list, ok := container[name].([]interface{}); ok {
			if more, ok := op.Value.([]interface{}); ok {
				container[name] = append(slices.Clip(list), more...)
				break
			}
		}
		container[name] = op.Value
	default:
		container[name] = op.Value
	}
	return nil
}

// eqFilter returns the attribute and value of a value filter `attr eq "value"`.
func eqFilter(e parser.Expression) (string, string, bool) {
	a, ok := e.(*parser.AttributeExpression)
	if !ok || a.Operator != parser.EQ {
		return "", "", false
	}
	s, ok := a.CompareValue.(string)
	return a.AttributePath.AttributeName, s, ok
}

// newElimityServer is elimity's Server for Users (core schema and the enterprise extension) over h, behind
// the same bearer-token check ours does (bearer).
func newElimityServer(h *elimityHandler, token string) (http.Handler, error) {
	srv, err := elim.NewServer(&elim.ServerArgs{
		ServiceProviderConfig: &elim.ServiceProviderConfig{MaxResults: 1000, SupportFiltering: true, SupportPatch: true},
		ResourceTypes: []elim.ResourceType{{
			ID:               optional.NewString("User"),
			Name:             "User",
			Endpoint:         "/Users",
			Description:      optional.NewString("User Account"),
			Schema:           elimschema.CoreUserSchema(),
			SchemaExtensions: []elim.SchemaExtension{{Schema: elimschema.ExtensionEnterpriseUser()}},
			Handler:          h,
		}},
	})
	if err != nil {
		return nil, err
	}
	return bearer(srv, token), nil
}
